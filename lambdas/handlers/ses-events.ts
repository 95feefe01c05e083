import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import * as z from 'zod';
import { type BackorderKey, BackorderStore, VersionConflictError } from '#adapters/backorder-store.ts';
import { now } from '#adapters/clock.ts';
import { requireEnv } from '#adapters/environment.ts';
import { createLogger, type Logger, logRequests } from '#adapters/logger.ts';
import { Mailer } from '#adapters/mailer.ts';
import { loadOrganisation, type Organisation } from '#adapters/organisation.ts';
import { type Backorder, backorderId, lineLabel, type Notice } from '#domain/backorder.ts';
import { type DeliveryOutcome, recordDelivery, sentAfterDeadline } from '#domain/delivery.ts';
import { ownerDeliveryFailure } from '#domain/messages.ts';
import { managerOf } from '#domain/organisation.ts';

/**
 * SES delivery feedback (bounce, complaint, delivery) for customer notices, from the
 * configuration set's EventBridge destination. Each report is written on the notice it is about;
 * a bounce makes the owner and their manager call the customer, so a missed notice is never
 * silent. EventBridge invokes this asynchronously: a thrown error is retried by Lambda, then
 * lands in the dead-letter queue, which raises an alarm.
 */

const MAX_WRITE_ATTEMPTS = 8;

const instant = z.iso.datetime({ offset: true });
const Recipient = z.object({
  emailAddress: z.string(),
  status: z.string().optional(),
  diagnosticCode: z.string().optional(),
});

/** The part of an SES event (EventBridge `detail`) this handler reads. */
export const SesEventDetail = z.object({
  eventType: z.enum(['Bounce', 'Complaint', 'Delivery']),
  mail: z.object({
    messageId: z.string().min(1),
    timestamp: instant,
    tags: z.record(z.string(), z.array(z.string())).default({}),
  }),
  bounce: z
    .object({
      bounceType: z.string(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: z.array(Recipient).default([]),
      timestamp: instant,
    })
    .optional(),
  complaint: z.object({ complaintFeedbackType: z.string().optional(), timestamp: instant }).optional(),
  delivery: z.object({ timestamp: instant }).optional(),
});
export type SesEventDetail = z.infer<typeof SesEventDetail>;

/** An EventBridge event from `aws.ses` ("Email Bounced", "Email Complaint Received", "Email Delivered"). */
export interface SesEvent {
  readonly 'detail-type': string;
  readonly time?: string;
  readonly detail: unknown;
}

export type SesEventResult =
  | { readonly outcome: 'recorded' | 'unchanged'; readonly delivery: DeliveryOutcome }
  | { readonly outcome: 'ignored'; readonly reason: string };

/** The event could not be read: retrying will not help, so it goes to the dead-letter queue for a person. */
export class UnreadableSesEventError extends Error {
  override readonly name = 'UnreadableSesEventError';
}

/** SES reported on a notice before the timer recorded sending it (they race by milliseconds): retried. */
export class NoticeNotRecordedYetError extends Error {
  override readonly name = 'NoticeNotRecordedYetError';
}

export interface SesEventsDependencies {
  store: BackorderStore;
  mailer: Mailer;
  organisation: Organisation;
  logger: Logger;
  now: () => Date;
}

const OUTCOME: Record<SesEventDetail['eventType'], DeliveryOutcome> = {
  Bounce: 'bounced',
  Complaint: 'complained',
  Delivery: 'delivered',
};

const METRIC: Record<DeliveryOutcome, string> = {
  delivered: 'CustomerNoticesDelivered',
  bounced: 'CustomerNoticesBounced',
  complained: 'CustomerNoticesComplained',
};

export function createSesEventsHandler(deps: SesEventsDependencies) {
  return async (event: SesEvent): Promise<SesEventResult> => {
    const parsed = SesEventDetail.safeParse(event.detail);
    if (!parsed.success) {
      throw new UnreadableSesEventError(
        `unreadable SES event (${event['detail-type']}): ${parsed.error.issues.map((issue) => issue.path.join('.')).join(', ')}`,
      );
    }
    const detail = parsed.data;
    const log = deps.logger.child({ messageId: detail.mail.messageId, eventType: detail.eventType });
    const revision = Number(firstTag(detail, 'revision'));
    // Only customer notices carry a revision; alerts to staff are tagged with the backorder alone.
    if (!Number.isInteger(revision) || revision < 1) {
      log.info('not a customer notice: nothing to record');
      return { outcome: 'ignored', reason: 'not a customer notice' };
    }

    const found = await findNotice(detail, revision, deps.store);
    if (!found) {
      log.warn('no backorder notice matches this SES event', { revision });
      return { outcome: 'ignored', reason: 'no matching notice' };
    }
    const outcome = OUTCOME[detail.eventType];
    return record(found, revision, outcome, detail, deps, log.child({ backorder: backorderId(found) }));
  };
}

/** Writes the outcome (re-reading on a concurrent change), telling the owner first when it is a bounce. */
async function record(
  current: Backorder,
  revision: number,
  outcome: DeliveryOutcome,
  detail: SesEventDetail,
  deps: SesEventsDependencies,
  log: Logger,
): Promise<SesEventResult> {
  let latest = current;
  let ownerTold = false;
  for (let attempt = 1; ; attempt++) {
    const result = recordDelivery(latest, revision, outcome);
    if (!result.changed) {
      log.info('delivery outcome already recorded', { delivery: result.notice.delivery, revision });
      return { outcome: 'unchanged', delivery: outcome };
    }
    // Told before the write: if the write then fails, the retry tells them again rather than never.
    if (result.ownerMustCall && !ownerTold) {
      await tellOwner(result.record, result.notice, bounceReason(detail), deps);
      ownerTold = true;
    }
    const at = deps.now();
    try {
      await deps.store.save({
        record: { ...result.record, version: latest.version + 1 },
        changed: true,
        expectedVersion: latest.version,
        timeline: {
          occurredAt: outcomeTime(detail),
          receivedAt: at.toISOString(),
          type: `notice.${outcome}`,
          result: outcome,
          id: `ses:${detail.mail.messageId}:${detail.eventType}`,
          summary: summary(revision, outcome, detail),
        },
      });
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= MAX_WRITE_ATTEMPTS) throw error;
      await sleep(Math.random() * 10 * 2 ** attempt);
      const fresh = await deps.store.get(latest);
      if (!fresh) throw error;
      latest = fresh;
      continue;
    }

    const sentAt = new Date(detail.mail.timestamp);
    const late = sentAfterDeadline(result.notice, sentAt);
    log.info('delivery outcome recorded', {
      revision,
      delivery: outcome,
      previous: result.previous ?? null,
      ownerTold,
      ...(result.previous === undefined ? { sentAfterDeadline: late } : {}),
    });
    deps.logger.metrics({
      [METRIC[outcome]]: { value: 1, unit: 'Count' },
      // Counted once per notice, on its first report, so the sum is the number of late notices.
      ...(result.previous === undefined
        ? { NoticesSentAfterDeadline: { value: late ? 1 : 0, unit: 'Count' as const } }
        : {}),
    });
    return { outcome: 'recorded', delivery: outcome };
  }
}

/**
 * Finds the backorder whose notice SES reports on. The `backorder` tag is the backorder id with
 * every character SES forbids in tag values turned into `_`, so it can name more than one line:
 * each reading is tried, and the one whose notice has this SES message id is the match.
 */
async function findNotice(
  detail: SesEventDetail,
  revision: number,
  store: BackorderStore,
): Promise<Backorder | undefined> {
  for (const key of candidateKeys(detail)) {
    const candidate = await store.get(key);
    const notice = candidate?.notices.find((entry) => entry.revision === revision);
    if (!candidate || !notice) continue;
    if (notice.messageId === detail.mail.messageId) return candidate;
    // Sent, but the crash-recovery path could only record that it may have been.
    if (notice.messageId === 'uncertain') return candidate;
    if (notice.messageId === undefined && notice.status === 'pending') {
      throw new NoticeNotRecordedYetError(
        `notice ${revision} of ${lineLabel(candidate)} is not recorded yet`,
      );
    }
  }
  return undefined;
}

/** Every (orderId, lineId) the tags can stand for, most likely first, at most 32. */
export function candidateKeys(detail: Pick<SesEventDetail, 'mail'>): BackorderKey[] {
  const keys: BackorderKey[] = [];
  const exact = firstTag(detail, 'backorderKey');
  if (exact) {
    try {
      const [orderId, lineId] = z
        .tuple([z.string(), z.string()])
        .parse(JSON.parse(Buffer.from(exact, 'base64url').toString('utf8')));
      keys.push({ orderId, lineId });
    } catch {
      // Not one of ours: fall back to the backorder tag.
    }
  }
  const tag = firstTag(detail, 'backorder');
  if (tag) {
    for (let at = tag.indexOf('_'); at >= 0 && keys.length < 32; at = tag.indexOf('_', at + 1)) {
      for (const orderId of readings(tag.slice(0, at))) {
        for (const lineId of readings(tag.slice(at + 1))) keys.push({ orderId, lineId });
      }
    }
  }
  const seen = new Set<string>();
  return keys
    .filter((key) => {
      const id = `${key.orderId}\u0000${key.lineId}`;
      if (seen.has(id) || !key.orderId || !key.lineId) return false;
      seen.add(id);
      return true;
    })
    .slice(0, 32);
}

/** A part as written, and with `_XX` read back as the percent-escape it replaced. */
function readings(part: string): string[] {
  const values = [part];
  if (/_[0-9A-F]{2}/.test(part)) {
    try {
      values.push(decodeURIComponent(part.replace(/_([0-9A-F]{2})/g, '%$1')));
    } catch {
      // Not an escape after all.
    }
  }
  return values;
}

function firstTag(detail: Pick<SesEventDetail, 'mail'>, name: string): string | undefined {
  return detail.mail.tags[name]?.[0];
}

async function tellOwner(record: Backorder, notice: Notice, reason: string, deps: SesEventsDependencies) {
  const { config } = deps.organisation;
  const owner = record.details.owner;
  const manager = managerOf(config, owner.id);
  const to = [...new Set([owner.email, manager.email])];
  await deps.mailer.send({
    to,
    email: ownerDeliveryFailure(record, notice, reason, config.company),
    tags: { backorder: backorderId(record) },
  });
}

/** The bounce as the owner reads it: its kind and the receiving server's own words. */
function bounceReason(detail: SesEventDetail): string {
  const bounce = detail.bounce;
  if (!bounce) return 'the message bounced';
  const [recipient] = bounce.bouncedRecipients;
  const kind = `${bounce.bounceType}${bounce.bounceSubType ? ` (${bounce.bounceSubType})` : ''} bounce`;
  const words = recipient?.diagnosticCode ?? recipient?.status;
  return words ? `${kind}: ${words}` : kind;
}

function outcomeTime(detail: SesEventDetail): string {
  const at = detail.bounce?.timestamp ?? detail.complaint?.timestamp ?? detail.delivery?.timestamp;
  return new Date(at ?? detail.mail.timestamp).toISOString();
}

function summary(revision: number, outcome: DeliveryOutcome, detail: SesEventDetail): string {
  if (outcome === 'bounced' && detail.bounce) {
    return `Notice ${revision} bounced (${detail.bounce.bounceType}${detail.bounce.bounceSubType ? `/${detail.bounce.bounceSubType}` : ''}); the owner was asked to call.`;
  }
  if (outcome === 'complained') return `Notice ${revision} was marked as spam by the recipient.`;
  return `Notice ${revision} was delivered.`;
}

function fromEnvironment(logger: Logger): SesEventsDependencies {
  const organisation = loadOrganisation(requireEnv('ORGANISATION_CONFIG_FILE'));
  return {
    store: new BackorderStore(new DynamoDBClient({}), requireEnv('TABLE_NAME'), organisation.counterChanges),
    mailer: Mailer.fromEnvironment(organisation.config.company.senderEmail),
    organisation,
    logger,
    now,
  };
}

const logger = createLogger({ service: 'ses-events' });

export const handler = middy<SesEvent, SesEventResult>()
  .use(logRequests(logger))
  .handler(createSesEventsHandler(fromEnvironment(logger)));
