import type { Backorder, Notice } from '#domain/backorder.ts';
import type { Policy } from '#domain/policy.ts';

/**
 * What a backorder is owed, and when. A pure function of the record and the policy: the
 * workflow wakes at the earliest `dueAt`, performs what is due, records it, and plans again.
 */
export type DueAction =
  | { kind: 'customerNotice'; revision: number; dueAt: Date; autoSent: boolean }
  | { kind: 'noticeReview'; revision: number; dueAt: Date }
  | { kind: 'noticeReviewWarning'; revision: number; dueAt: Date }
  | { kind: 'managerAlert'; trigger: string; dueAt: Date }
  | { kind: 'vpAlert'; dueAt: Date }
  | { kind: 'ownerReminder'; nextActionAt: string; dueAt: Date }
  | { kind: 'decisionToOwner'; revision: number; dueAt: Date };

export type ActionKind = DueAction['kind'];

/** Every outstanding action of the record, earliest first. Nothing once closed. */
export function outstandingActions(record: Backorder, policy: Policy): DueAction[] {
  if (record.status === 'closed') return [];
  const actions: DueAction[] = [];
  const notice = record.notices.find((candidate) => candidate.status === 'pending');
  if (notice) actions.push(...noticeActions(notice, policy));

  for (const escalation of record.escalations) {
    if (escalation.status === 'pending') {
      actions.push({
        kind: 'managerAlert',
        trigger: escalation.trigger,
        dueAt: policy.textSlot(new Date(escalation.raisedAt)),
      });
    }
  }
  if (!record.escalations.some((escalation) => escalation.trigger === 'vp')) {
    actions.push({ kind: 'vpAlert', dueAt: policy.textSlot(policy.vpDueAt(record.originalShipDate)) });
  }
  if (record.nextActionAt) {
    actions.push({
      kind: 'ownerReminder',
      nextActionAt: record.nextActionAt,
      dueAt: policy.textSlot(new Date(record.nextActionAt)),
    });
  }
  const decision = record.customerDecision;
  if (decision && !decision.ownerToldAt) {
    actions.push({
      kind: 'decisionToOwner',
      revision: decision.revision,
      dueAt: new Date(decision.decidedAt),
    });
  }
  return actions.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
}

function noticeActions(notice: Notice, policy: Policy): DueAction[] {
  const learnedAt = new Date(notice.learnedAt);
  const deadline = new Date(notice.deadline);
  if (policy.noticeMode === 'immediate') {
    return [{ kind: 'customerNotice', revision: notice.revision, dueAt: learnedAt, autoSent: false }];
  }
  if (notice.approvedAt) {
    return [
      {
        kind: 'customerNotice',
        revision: notice.revision,
        dueAt: new Date(notice.approvedAt),
        autoSent: false,
      },
    ];
  }
  const actions: DueAction[] = [
    { kind: 'customerNotice', revision: notice.revision, dueAt: deadline, autoSent: true },
  ];
  if (!notice.reviewRequestedAt)
    actions.push({ kind: 'noticeReview', revision: notice.revision, dueAt: learnedAt });
  const warnAt = policy.reviewWarningAt(learnedAt);
  if (!notice.reviewWarnedAt && warnAt < deadline) {
    actions.push({ kind: 'noticeReviewWarning', revision: notice.revision, dueAt: warnAt });
  }
  return actions;
}

export interface Plan {
  /** Due now, earliest first. */
  due: DueAction[];
  /** When to wake next, or none: nothing more is owed. */
  wakeAt?: Date;
}

/** Splits outstanding actions into those due at `now` and the instant the next one falls due. */
export function plan(record: Backorder, policy: Policy, now: Date): Plan {
  const actions = outstandingActions(record, policy);
  const due = actions.filter((action) => action.dueAt <= now);
  const later = actions.find((action) => action.dueAt > now);
  return later ? { due, wakeAt: later.dueAt } : { due };
}

export interface Fulfilment {
  at: Date;
  /** The provider's id for what was sent (SES message id, SNS message id). */
  messageId?: string;
}

/**
 * Records an action as done. Returns undefined when the record no longer owes it (a retry of an
 * action already recorded, or news that superseded it), so the caller never sends twice.
 */
export function fulfil(
  record: Backorder,
  action: DueAction,
  done: Fulfilment,
  policy: Policy,
): Backorder | undefined {
  const at = done.at.toISOString();
  if (action.kind === 'customerNotice') {
    // What the customer received is recorded whatever happened meanwhile: newer news may have
    // superseded this notice, or the line closed, while it was on its way.
    const notice = record.notices.find((n) => n.revision === action.revision);
    if (!notice || notice.status === 'sent' || notice.status === 'failed') return undefined;
    const sent: Notice = {
      ...notice,
      status: 'sent',
      sentAt: at,
      messageId: done.messageId,
      autoSent: action.autoSent || undefined,
    };
    return { ...record, notices: record.notices.map((n) => (n === notice ? sent : n)) };
  }
  if (record.status === 'closed') return undefined;
  switch (action.kind) {
    case 'noticeReview':
    case 'noticeReviewWarning': {
      const notice = record.notices.find((n) => n.revision === action.revision && n.status === 'pending');
      if (!notice) return undefined;
      const updated: Notice =
        action.kind === 'noticeReview'
          ? { ...notice, reviewRequestedAt: at }
          : { ...notice, reviewWarnedAt: at };
      return { ...record, notices: record.notices.map((n) => (n === notice ? updated : n)) };
    }
    case 'managerAlert': {
      const escalation = record.escalations.find(
        (e) => e.trigger === action.trigger && e.status === 'pending',
      );
      if (!escalation) return undefined;
      return {
        ...record,
        escalations: record.escalations.map((e) =>
          e === escalation ? { ...e, status: 'sent' as const, sentAt: at } : e,
        ),
      };
    }
    case 'vpAlert': {
      if (record.escalations.some((e) => e.trigger === 'vp')) return undefined;
      return {
        ...record,
        escalationLevel: 'vp',
        escalations: [
          ...record.escalations,
          { trigger: 'vp', audience: 'vp', raisedAt: at, status: 'sent', sentAt: at },
        ],
      };
    }
    case 'ownerReminder': {
      if (record.nextActionAt !== action.nextActionAt) return undefined;
      // The owner is reminded again after the same interval while nothing changes.
      return { ...record, nextActionAt: policy.nextActionAfter(done.at).toISOString() };
    }
    case 'decisionToOwner': {
      const decision = record.customerDecision;
      if (!decision || decision.revision !== action.revision || decision.ownerToldAt) return undefined;
      return { ...record, customerDecision: { ...decision, ownerToldAt: at } };
    }
  }
}

/** A stable identity for an action, for idempotent sends and logs: `customerNotice:3`. */
export function actionId(action: DueAction): string {
  switch (action.kind) {
    case 'customerNotice':
    case 'noticeReview':
    case 'noticeReviewWarning':
    case 'decisionToOwner':
      return `${action.kind}:${action.revision}`;
    case 'managerAlert':
      return `${action.kind}:${action.trigger}`;
    case 'vpAlert':
      return action.kind;
    case 'ownerReminder':
      return `${action.kind}:${action.nextActionAt}`;
  }
}
