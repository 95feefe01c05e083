import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { BackorderStore, VersionConflictError } from '#adapters/backorder-store.ts';
import { now } from '#adapters/clock.ts';
import { requireEnv } from '#adapters/environment.ts';
import { createLogger } from '#adapters/logger.ts';
import { Mailer, PermanentDeliveryError } from '#adapters/mailer.ts';
import { loadOrganisation, type Organisation } from '#adapters/organisation.ts';
import { loadSecrets } from '#adapters/secrets.ts';
import { TextBatches, waitTimestamp } from '#adapters/text-batches.ts';
import { TextQueue } from '#adapters/text-queue.ts';
import type { Audience } from '#adapters/texter.ts';
import { type TimerInput, WorkflowStarter } from '#adapters/workflow-starter.ts';
import { type Backorder, backorderId, type Notice } from '#domain/backorder.ts';
import { decisionLinks } from '#domain/decision.ts';
import { daysBetween } from '#domain/messages/format.ts';
import {
  customerNotice,
  escapeHtml,
  managerAutoSentNotice,
  managerSlipText,
  ownerDecisionEmail,
  ownerDeliveryFailure,
  ownerReminderText,
  ownerReviewRequest,
  ownerReviewWarning,
  type RenderedEmail,
  vpText,
} from '#domain/messages.ts';
import { reviewLink } from '#domain/notice-review.ts';
import { managerOf, type Person } from '#domain/organisation.ts';
import { actionId, type DueAction, fulfil, plan } from '#domain/planner.ts';

const logger = createLogger({ service: 'timer-step' });

/** What the state machine carries between wake-ups: the input, and when to wake next if anything is owed. */
export interface TimerState extends TimerInput {
  /** UTC, whole seconds, `Z` suffix: what a Wait state's TimestampPath accepts. */
  wakeAt?: string;
}

/** The step's input: the timer, and the execution it runs in (from the context object). */
export interface TimerStepInput extends TimerInput {
  startedAt: string;
  stateMachineArn: string;
}

/** Standard executions end after 365 days; a timer continues as a new execution before then. */
const CONTINUE_AFTER_MS = 360 * 86_400_000;

export interface TimerStepDependencies {
  store: BackorderStore;
  mailer: Mailer;
  textQueue: TextQueue;
  textBatches: TextBatches;
  organisation: Organisation;
  decisionSecret: Buffer;
  publicBaseUrl: string;
  now: () => Date;
  /** Starts a continuation of this timer as a new execution (see CONTINUE_AFTER_MS). */
  continueAsNew: (input: TimerStepInput, at: Date) => Promise<void>;
}

/**
 * One wake-up of a backorder's timer: re-read the record, stop if a newer generation owns it,
 * perform every action due now (each recorded before the next), and answer when to wake next.
 */
export function createTimerStep(deps: TimerStepDependencies) {
  return async (input: TimerStepInput): Promise<TimerState> => {
    const state: TimerState = { orderId: input.orderId, lineId: input.lineId, generation: input.generation };
    let record = await deps.store.get(input);
    while (record && record.generation === input.generation) {
      const next = plan(record, deps.organisation.policy, deps.now());
      const action = next.due[0];
      if (action) {
        record = await performOnce(record, action, deps);
        continue;
      }
      if (!next.wakeAt) return state;
      const continueAt = new Date(Date.parse(input.startedAt) + CONTINUE_AFTER_MS);
      if (next.wakeAt <= continueAt) return { ...state, wakeAt: waitTimestamp(next.wakeAt) };
      if (deps.now() < continueAt) return { ...state, wakeAt: waitTimestamp(continueAt) };
      await deps.continueAsNew(input, deps.now());
      logger.info('timer continued as a new execution', { generation: input.generation });
      return state;
    }
    // Superseded or gone: the newer generation's execution owns the timers now.
    return state;
  };
}

/**
 * Claim → send → record. The claim is written first, so a retry after a crash between sending
 * and recording finds it and records the action as possibly sent instead of sending it twice.
 */
async function performOnce(
  record: Backorder,
  action: DueAction,
  deps: TimerStepDependencies,
): Promise<Backorder> {
  const id = actionId(action);
  const at = deps.now();
  if (record.inFlight?.action === id) {
    logger.error('delivery uncertain after a crash', { action: id });
    return recordDone(record, action, { at, messageId: 'uncertain' }, deps);
  }
  const claimed: Backorder = {
    ...record,
    inFlight: { action: id, claimedAt: at.toISOString() },
    version: record.version + 1,
  };
  await deps.store.update(claimed, record.version, record);
  let messageId: string;
  try {
    messageId = await send(claimed, action, deps);
  } catch (error) {
    if (error instanceof PermanentDeliveryError) return recordFailure(claimed, action, error, deps);
    // Nothing went out: release the claim so the retry sends cleanly.
    await releaseClaim(claimed, id, deps);
    throw error;
  }
  return recordDone(claimed, action, { at, messageId }, deps);
}

/**
 * Clears our claim after a send that failed cleanly. The record may have changed meanwhile (an ERP
 * report keeps the claim), so on a conflict it re-reads and clears again: a claim left behind
 * would make the retry believe the notice went out.
 */
async function releaseClaim(record: Backorder, id: string, deps: TimerStepDependencies): Promise<void> {
  let current: Backorder | undefined = record;
  for (let attempt = 0; current?.inFlight?.action === id && attempt < 10; attempt++) {
    try {
      await deps.store.update(
        { ...current, inFlight: undefined, version: current.version + 1 },
        current.version,
        current,
      );
      return;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      current = await deps.store.get(record);
    }
  }
}

/** Records a fulfilment; on a concurrent change it re-reads and records again, never re-sends. */
async function recordDone(
  record: Backorder,
  action: DueAction,
  done: { at: Date; messageId: string },
  deps: TimerStepDependencies,
): Promise<Backorder> {
  let current = record;
  for (let attempt = 0; attempt < 10; attempt++) {
    const fulfilled = fulfil(current, action, done, deps.organisation.policy) ?? current;
    const next = { ...fulfilled, inFlight: undefined, version: current.version + 1 };
    try {
      await deps.store.update(next, current.version, current);
      return next;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      const fresh = await deps.store.get(record);
      if (!fresh) throw error;
      current = fresh;
    }
  }
  throw new VersionConflictError(`could not record ${actionId(action)}`);
}

/** A customer notice SES refused for good: marked failed, and its owner told to call the customer. */
async function recordFailure(
  record: Backorder,
  action: DueAction,
  error: PermanentDeliveryError,
  deps: TimerStepDependencies,
): Promise<Backorder> {
  logger.error('delivery failed for good', { action: actionId(action) });
  if (action.kind === 'customerNotice') {
    const failed: Backorder = {
      ...record,
      notices: record.notices.map((notice) =>
        notice.revision === action.revision
          ? { ...notice, status: 'failed' as const, failure: error.message }
          : notice,
      ),
      inFlight: undefined,
      version: record.version + 1,
    };
    await deps.store.update(failed, record.version, record);
    const notice = failed.notices.find((candidate) => candidate.revision === action.revision);
    if (notice)
      await emailOwner(
        failed,
        ownerDeliveryFailure(failed, notice, error.message, deps.organisation.config.company),
        deps,
      );
    return failed;
  }
  // A person's own address failing must not stall the customer's timers: record it as done.
  return recordDone(record, action, { at: deps.now(), messageId: `failed: ${error.message}` }, deps);
}

async function send(record: Backorder, action: DueAction, deps: TimerStepDependencies): Promise<string> {
  const { config } = deps.organisation;
  switch (action.kind) {
    case 'customerNotice': {
      const notice = noticeOf(record, action.revision);
      const expiresAt = new Date(deps.now().getTime() + config.notices.decisionLinkDays * 86_400_000);
      const links = decisionLinks(
        record,
        notice.revision,
        deps.decisionSecret,
        deps.publicBaseUrl,
        expiresAt,
      );
      const email = customerNotice({ record, notice, company: config.company, links });
      const messageId = await deps.mailer.send({
        to: [record.details.customer.email],
        email,
        tags: {
          backorder: backorderId(record),
          revision: String(notice.revision),
          // SES tag values allow few characters: the exact key travels base64url-encoded.
          backorderKey: Buffer.from(JSON.stringify([record.orderId, record.lineId])).toString('base64url'),
        },
      });
      if (action.autoSent) {
        const manager = managerOf(config, record.details.owner.id);
        await deps.mailer.send({
          to: [manager.email],
          email: managerAutoSentNotice(record, notice, config.company),
          tags: {},
        });
      }
      return messageId;
    }
    case 'noticeReview': {
      const notice = noticeOf(record, action.revision);
      return emailOwner(
        record,
        ownerReviewRequest(record, notice, reviewUrl(record, notice, deps), notice.deadline, config.company),
        deps,
      );
    }
    case 'noticeReviewWarning': {
      const notice = noticeOf(record, action.revision);
      return emailOwner(
        record,
        ownerReviewWarning(record, notice, reviewUrl(record, notice, deps), config.company),
        deps,
      );
    }
    case 'managerAlert': {
      const manager = managerOf(config, record.details.owner.id);
      return textOrEmail(
        manager,
        'manager',
        managerSlipText(record, slipNumber(action.trigger)),
        triggerOf(record, action),
        deps,
      );
    }
    case 'vpAlert': {
      const days = daysBetween(record.originalShipDate, deps.organisation.calendar.localDate(deps.now()));
      const ids = await Promise.all(
        config.people.vps.map((vp) =>
          textOrEmail(vp, 'vp', vpText(record, days), `${triggerOf(record, action)}#${vp.id}`, deps),
        ),
      );
      return ids.join(',');
    }
    case 'ownerReminder': {
      const owner = record.details.owner;
      // Only configured phones have an SMS subscription; a phone the ERP sends could never be reached.
      const phone = config.people.ownerPhones[owner.id];
      return textOrEmail(
        { ...owner, phone },
        'owner',
        ownerReminderText(record),
        triggerOf(record, action),
        deps,
      );
    }
    case 'decisionToOwner': {
      const decision = record.customerDecision;
      if (!decision) return 'no decision';
      return emailOwner(record, ownerDecisionEmail(record, decision, config.company), deps);
    }
  }
}

function emailOwner(record: Backorder, email: RenderedEmail, deps: TimerStepDependencies): Promise<string> {
  return deps.mailer.send({
    to: [record.details.owner.email],
    email,
    tags: { backorder: backorderId(record) },
  });
}

/**
 * Texts reach people whose phone the configuration lists (each has an SMS subscription), through
 * their queue, so a burst to one person goes out as one summary; the rest get email.
 */
async function textOrEmail(
  person: Person,
  audience: Audience,
  message: string,
  trigger: string,
  deps: TimerStepDependencies,
): Promise<string> {
  if (person.phone) {
    const at = deps.now();
    await deps.textQueue.enqueue(
      { recipient: person.id, audience, message, trigger, email: person.email },
      at,
    );
    await deps.textBatches.schedule(person.id, trigger, at);
    return `queued:${trigger}`;
  }
  return deps.mailer.send({
    to: [person.email],
    email: { subject: message.slice(0, 120), text: message, html: `<p>${escapeHtml(message)}</p>` },
    tags: {},
  });
}

function reviewUrl(record: Backorder, notice: Notice, deps: TimerStepDependencies): string {
  return reviewLink(record, notice, deps.decisionSecret, deps.publicBaseUrl);
}

/** One text per trigger per backorder: the queue refuses a second one with the same trigger. */
function triggerOf(record: Backorder, action: DueAction): string {
  return `${backorderId(record)}#${actionId(action)}`;
}

function noticeOf(record: Backorder, revision: number): Notice {
  const notice = record.notices.find((candidate) => candidate.revision === revision);
  if (!notice) throw new Error(`no notice revision ${revision}`);
  return notice;
}

function slipNumber(trigger: string): number {
  return Number(trigger.replace('slip-', ''));
}

async function fromEnvironment(): Promise<TimerStepDependencies> {
  const organisation = loadOrganisation(requireEnv('ORGANISATION_CONFIG_FILE'));
  const [decisionSecret] = await loadSecrets('DECISION_SECRET');
  if (!decisionSecret) throw new Error('DECISION_SECRET holds no secret');
  const dynamo = new DynamoDBClient({});
  const sfn = new SFNClient({});
  const tableName = requireEnv('TABLE_NAME');
  return {
    store: new BackorderStore(dynamo, tableName, organisation.counterChanges),
    mailer: Mailer.fromEnvironment(organisation.config.company.senderEmail),
    textQueue: new TextQueue(dynamo, tableName),
    textBatches: new TextBatches(
      sfn,
      requireEnv('TEXT_BATCH_STATE_MACHINE_ARN'),
      organisation.config.escalation.textGroupingMinutes,
    ),
    organisation,
    decisionSecret,
    publicBaseUrl: requireEnv('PUBLIC_BASE_URL'),
    now,
    continueAsNew: (input, at) => new WorkflowStarter(sfn, input.stateMachineArn).continueAsNew(input, at),
  };
}

export const handler = middy<TimerStepInput, TimerState>().handler(createTimerStep(await fromEnvironment()));
