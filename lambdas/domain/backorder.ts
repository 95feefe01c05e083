import * as z from 'zod';
import { Alternative, type BackorderEvent, DelayedData, type IngestResult } from '#domain/events.ts';

/**
 * A backorder: one order line that will not ship on time, identified by (orderId, lineId).
 * The record is the truth; everything owed to someone (a notice, a text) is written on it as
 * an obligation and marked fulfilled, so the workflow can always re-derive what is due.
 */

const instant = z.iso.datetime();

export const NoticeKind = z.enum(['opened', 'slipped', 'improved']);
export type NoticeKind = z.infer<typeof NoticeKind>;

export const Notice = z
  .object({
    revision: z.number().int().positive(),
    kind: NoticeKind,
    /** When the business learned what this notice tells (the SLA clock starts here). */
    learnedAt: instant,
    /** The latest instant the notice may go out: SLA business hours after the earliest unsent news. */
    deadline: instant,
    previousShipDate: z.string(),
    expectedShipDate: z.string(),
    status: z.enum(['pending', 'sent', 'superseded', 'failed']),
    sentAt: instant.optional(),
    messageId: z.string().optional(),
    failure: z.string().optional(),
    /** Review mode: when the owner was asked to review, warned, and approved. */
    reviewRequestedAt: instant.optional(),
    reviewWarnedAt: instant.optional(),
    approvedAt: instant.optional(),
    /** Review mode: the alternatives as the owner edited them for this notice, offered instead of the ERP's. */
    alternatives: z.array(Alternative).max(20).optional(),
    /** Review mode: sent at the deadline without the owner's approval. */
    autoSent: z.boolean().optional(),
    delivery: z.enum(['delivered', 'bounced', 'complained']).optional(),
  })
  .meta({ id: 'Notice' });
export type Notice = z.infer<typeof Notice>;

export const Escalation = z
  .object({
    /** One text per trigger per backorder: `slip-2`, `slip-3`, … or `vp`. */
    trigger: z.string(),
    audience: z.enum(['manager', 'vp']),
    /** When the trigger happened; the text itself waits for business hours. */
    raisedAt: instant,
    status: z.enum(['pending', 'sent']),
    sentAt: instant.optional(),
  })
  .meta({ id: 'Escalation' });
export type Escalation = z.infer<typeof Escalation>;

export const CustomerChoice = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('wait') }),
  z.object({ kind: z.literal('alternative'), alternativeId: z.string() }),
]);
export type CustomerChoice = z.infer<typeof CustomerChoice>;

export const CustomerDecision = z
  .object({
    revision: z.number().int().positive(),
    choice: CustomerChoice,
    decidedAt: instant,
    ownerToldAt: instant.optional(),
  })
  .meta({ id: 'CustomerDecision' });
export type CustomerDecision = z.infer<typeof CustomerDecision>;

export const Backorder = z
  .object({
    orderId: z.string(),
    lineId: z.string(),
    status: z.enum(['open', 'closed']),
    closedAs: z.enum(['shipped', 'cancelled']).optional(),
    closedAt: instant.optional(),
    /** The latest details the ERP sent (customer, item, owner, alternatives, …). */
    details: DelayedData,
    originalShipDate: z.string(),
    expectedShipDate: z.string(),
    openedAt: instant,
    /** `occurredAt` of the newest delay report applied: older reports are stale. */
    lastEventAt: instant,
    /** How many times the expected date moved later, counting the delay that opened it. */
    slipCount: z.number().int().nonnegative(),
    noticeRevision: z.number().int().positive(),
    notices: z.array(Notice),
    escalations: z.array(Escalation),
    escalationLevel: z.enum(['none', 'manager', 'vp']),
    nextActionAt: instant.optional(),
    customerDecision: CustomerDecision.optional(),
    /** An action being sent right now; found on a retry, it means the send may have happened. */
    inFlight: z.object({ action: z.string(), claimedAt: instant }).optional(),
    /** Bumped whenever what is due may have changed: the workflow execution for it is the live one. */
    generation: z.number().int().positive(),
    /** Optimistic concurrency: bumped on every write. */
    version: z.number().int().positive(),
  })
  .meta({ id: 'Backorder' });
export type Backorder = z.infer<typeof Backorder>;

/** The business rules the reducer needs from the organisation configuration. */
export interface RuleContext {
  /** `learnedAt` + the notice SLA in business hours. */
  noticeDeadline(learnedAt: Date): Date;
  /** When a fresh update's next action falls due. */
  nextActionAfter(updatedAt: Date): Date;
}

export class NotADelayError extends Error {
  override readonly name = 'NotADelayError';
}
export class UnknownBackorderError extends Error {
  override readonly name = 'UnknownBackorderError';
}

export interface Applied {
  record: Backorder;
  result: IngestResult;
  /** False when the record is exactly as before (stale or a no-op): nothing to write but the timeline. */
  changed: boolean;
}

const iso = (date: Date) => date.toISOString();

/**
 * Applies one ERP event. The newest `occurredAt` wins for the dates; shipping or cancelling is a
 * fact no delay report can undo, so a closing event closes whatever order it arrives in. This is
 * what makes any delivery order of the same events end in the same status and date.
 */
export function applyEvent(
  current: Backorder | undefined,
  event: BackorderEvent,
  rules: RuleContext,
): Applied {
  const occurredAt = new Date(event.occurredAt);
  if (event.type !== 'backorder.delayed') {
    if (!current)
      throw new UnknownBackorderError(`no backorder for ${event.data.orderId} line ${event.data.lineId}`);
    return close(current, event.type === 'backorder.shipped' ? 'shipped' : 'cancelled', occurredAt);
  }
  if (!current) return open(event.data, occurredAt, rules);
  if (iso(occurredAt) < current.lastEventAt) return { record: current, result: 'stale', changed: false };
  return update(current, event.data, occurredAt, rules);
}

function open(data: DelayedData, occurredAt: Date, rules: RuleContext): Applied {
  if (data.expectedShipDate <= data.originalShipDate) {
    throw new NotADelayError(
      `expectedShipDate ${data.expectedShipDate} is not after originalShipDate ${data.originalShipDate}`,
    );
  }
  const learnedAt = iso(occurredAt);
  const record: Backorder = {
    orderId: data.orderId,
    lineId: data.lineId,
    status: 'open',
    details: data,
    originalShipDate: data.originalShipDate,
    expectedShipDate: data.expectedShipDate,
    openedAt: learnedAt,
    lastEventAt: learnedAt,
    slipCount: 1,
    noticeRevision: 1,
    notices: [
      {
        revision: 1,
        kind: 'opened',
        learnedAt,
        deadline: iso(rules.noticeDeadline(occurredAt)),
        previousShipDate: data.originalShipDate,
        expectedShipDate: data.expectedShipDate,
        status: 'pending',
      },
    ],
    escalations: [],
    escalationLevel: 'none',
    nextActionAt: iso(rules.nextActionAfter(occurredAt)),
    generation: 1,
    version: 1,
  };
  return { record, result: 'opened', changed: true };
}

function update(current: Backorder, data: DelayedData, occurredAt: Date, rules: RuleContext): Applied {
  const learnedAt = iso(occurredAt);
  const base: Backorder = {
    ...current,
    // The original date is the customer's promise: later reports never move it.
    details: { ...data, originalShipDate: current.originalShipDate },
    lastEventAt: learnedAt,
  };
  if (current.status === 'closed') {
    // Recorded so the final date does not depend on delivery order; a closed line tells no one.
    return {
      record: { ...base, expectedShipDate: data.expectedShipDate },
      result: 'unchanged',
      changed: true,
    };
  }
  const previous = current.expectedShipDate;
  const next = data.expectedShipDate;
  const updated: Backorder = { ...base, nextActionAt: iso(rules.nextActionAfter(occurredAt)) };
  if (next === previous) return { record: updated, result: 'unchanged', changed: true };

  const slipped = next > previous;
  const revision = current.noticeRevision + 1;
  // Unsent news is folded into this notice, and the customer is still owed it by the earliest deadline.
  const deadlines = current.notices
    .filter((notice) => notice.status === 'pending')
    .map((notice) => notice.deadline);
  const [deadline = iso(rules.noticeDeadline(occurredAt))] = [
    ...deadlines,
    iso(rules.noticeDeadline(occurredAt)),
  ].sort();
  const notices: Notice[] = [
    ...current.notices.map((notice) =>
      notice.status === 'pending' ? { ...notice, status: 'superseded' as const } : notice,
    ),
    {
      revision,
      kind: slipped ? 'slipped' : 'improved',
      learnedAt,
      deadline,
      previousShipDate: previous,
      expectedShipDate: next,
      status: 'pending',
    },
  ];
  const record: Backorder = {
    ...updated,
    expectedShipDate: next,
    noticeRevision: revision,
    notices,
    generation: current.generation + 1,
  };
  if (!slipped) return { record, result: 'improved', changed: true };

  const slipCount = current.slipCount + 1;
  return {
    record: {
      ...record,
      slipCount,
      escalations: [
        ...current.escalations,
        { trigger: `slip-${slipCount}`, audience: 'manager', raisedAt: learnedAt, status: 'pending' },
      ],
      escalationLevel: current.escalationLevel === 'vp' ? 'vp' : 'manager',
    },
    result: 'slipped',
    changed: true,
  };
}

function close(current: Backorder, closedAs: 'shipped' | 'cancelled', occurredAt: Date): Applied {
  if (current.status === 'closed') return { record: current, result: 'unchanged', changed: false };
  const record: Backorder = {
    ...current,
    status: 'closed',
    closedAs,
    closedAt: iso(occurredAt),
    nextActionAt: undefined,
    notices: current.notices.map((notice) =>
      notice.status === 'pending' ? { ...notice, status: 'superseded' as const } : notice,
    ),
    escalations: current.escalations.filter((escalation) => escalation.status === 'sent'),
    generation: current.generation + 1,
  };
  return { record, result: 'closed', changed: true };
}

/**
 * What a notice offers the customer: the owner's reviewed list when they edited one, else the
 * ERP's latest. The ERP's list stays the source for every new notice: an owner's edit belongs to
 * the news it was made for.
 */
export function offeredAlternatives(record: Backorder, revision: number | undefined): Alternative[] {
  const notice = record.notices.find((candidate) => candidate.revision === revision);
  return notice?.alternatives ?? record.details.alternatives ?? [];
}

/** A short human label for logs, texts and subjects: `SO-10042 line 3`. */
export function lineLabel(key: { orderId: string; lineId: string }): string {
  return `${key.orderId} line ${key.lineId}`;
}

/** The id the read API knows a backorder by: `/v1/backorders/{backorderId}`. */
export function backorderId(key: { orderId: string; lineId: string }): string {
  return `${encodeURIComponent(key.orderId)}/${encodeURIComponent(key.lineId)}`;
}
