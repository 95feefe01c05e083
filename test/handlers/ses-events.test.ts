import { readFileSync } from 'node:fs';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BackorderStore } from '#adapters/backorder-store.ts';
import { createLogger } from '#adapters/logger.ts';
import { Mailer } from '#adapters/mailer.ts';
import { loadOrganisation } from '#adapters/organisation.ts';
import { applyEvent, type Backorder, backorderId, type RuleContext } from '#domain/backorder.ts';
import type { SesEvent, SesEventResult, SesEventsDependencies } from '#handlers/ses-events.ts';
import { localClientConfig } from '#local/http-service.ts';
import { createTestTables, type TestTables } from '#test/support/dynamodb.ts';
import { delayed } from '#test/support/erp-events.ts';
import { startTestMessaging, type TestMessaging } from '#test/support/messaging.ts';
import { SAMPLE_CONFIG_FILE } from '#test/support/organisation.ts';

/*
 * The SES delivery-feedback handler against DynamoDB Local (the record it writes) and the local
 * SES (the email that asks the owner to call), fed SES events as EventBridge delivers them.
 */

const HOUR = 3_600_000;
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};
const NOW = new Date('2026-03-10T19:07:00.000Z');
const CUSTOMER = 'purchasing@lonestarfab.example';
const OWNER = 'dana.ortiz@svc.example';
// U-17 reports to M-1 in the sample configuration.
const MANAGER = 'priya.raman@svc.example';

type Handler = (event: SesEvent) => Promise<SesEventResult>;
type Fixture = 'email-bounced' | 'email-delivered' | 'email-complaint-received';

let tables: TestTables;
let messaging: TestMessaging;
let ses: SESv2Client;
let store: BackorderStore;
let logLines: string[];
let createHandler: (deps: SesEventsDependencies) => Handler;
let deps: SesEventsDependencies;
let handler: Handler;

beforeAll(async () => {
  [tables, messaging] = await Promise.all([createTestTables(), startTestMessaging({ now: () => NOW })]);
  store = new BackorderStore(tables.client, tables.tableName('StoreTable'));
  ses = new SESv2Client(localClientConfig(messaging.ses.endpoint));

  // The module builds its own `handler` from the environment when it loads: give it a real one.
  for (const [name, value] of Object.entries(messaging.env)) vi.stubEnv(name, value);
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', tables.endpoint);
  vi.stubEnv('TABLE_NAME', tables.tableName('StoreTable'));
  vi.stubEnv('ORGANISATION_CONFIG_FILE', SAMPLE_CONFIG_FILE);
  createHandler = (await import('#handlers/ses-events.ts')).createSesEventsHandler;
  // The first file to ask starts DynamoDB Local and synthesizes the stack: slow on a busy machine.
}, 180_000);

beforeEach(() => {
  messaging.outbox.clear();
  logLines = [];
  const organisation = loadOrganisation(SAMPLE_CONFIG_FILE);
  deps = {
    store,
    mailer: new Mailer(ses, organisation.config.company.senderEmail, 'Notices'),
    organisation,
    logger: createLogger({ service: 'ses-events', write: (line) => logLines.push(line), now: () => NOW }),
    now: () => NOW,
  };
  handler = createHandler(deps);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  ses?.destroy();
  await messaging?.stop();
  tables?.close();
});

// ---------------------------------------------------------------------------------------------
// Helpers

let lines = 0;

/** A backorder of its own whose first notice SES accepted as `messageId`. */
async function notifiedBackorder(
  options: { orderId?: string; messageId?: string; recorded?: boolean } = {},
): Promise<Backorder> {
  lines += 1;
  const orderId = options.orderId ?? `SO-S${lines}`;
  const event = delayed('2026-03-10T14:05:00-05:00', '2026-03-22', { orderId, lineId: '3' });
  const opened = applyEvent(undefined, event, rules).record;
  const recorded = options.recorded ?? true;
  const record: Backorder = {
    ...opened,
    notices: opened.notices.map((notice) =>
      recorded
        ? {
            ...notice,
            status: 'sent' as const,
            sentAt: '2026-03-10T19:06:01.000Z',
            messageId: options.messageId ?? `msg-${lines}`,
          }
        : notice,
    ),
    ...(recorded ? {} : { inFlight: { action: 'customerNotice:1', claimedAt: '2026-03-10T19:06:00.000Z' } }),
  };
  await store.save({
    record,
    changed: true,
    timeline: {
      occurredAt: record.openedAt,
      receivedAt: record.openedAt,
      type: 'backorder.delayed',
      result: 'opened',
      id: `seed-${lines}`,
      summary: 'seeded',
    },
  });
  return record;
}

/** The SES tag value the mailer writes for a backorder id. */
function tagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_.@-]/g, '_');
}

/** A fixture event about `record`'s notice, as EventBridge delivers it. */
function sesEvent(
  fixture: Fixture,
  record: Backorder,
  options: { revision?: string | null; messageId?: string; sentAt?: string } = {},
): SesEvent {
  const event = JSON.parse(readFileSync(`test/fixtures/ses/${fixture}.json`, 'utf8')) as {
    'detail-type': string;
    detail: { mail: { messageId: string; timestamp: string; tags: Record<string, string[]> } };
  };
  const notice = record.notices[0];
  const tags: Record<string, string[]> = {
    ...event.detail.mail.tags,
    backorder: [tagValue(backorderId(record))],
  };
  if (options.revision === null) delete tags.revision;
  else tags.revision = [options.revision ?? '1'];
  return {
    ...event,
    detail: {
      ...event.detail,
      mail: {
        ...event.detail.mail,
        messageId: options.messageId ?? notice?.messageId ?? 'never-sent',
        timestamp: options.sentAt ?? event.detail.mail.timestamp,
        tags,
      },
    },
  };
}

async function noticeOf(record: Backorder) {
  const stored = await store.get(record);
  return { stored, notice: stored?.notices[0] };
}

function metricsWritten(): Record<string, unknown>[] {
  return logLines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => '_aws' in entry);
}

// ---------------------------------------------------------------------------------------------

describe('a delivery report', () => {
  it('is recorded on the notice it is about, with a timeline entry', async () => {
    const record = await notifiedBackorder();

    const result = await handler(sesEvent('email-delivered', record));

    expect(result).toEqual({ outcome: 'recorded', delivery: 'delivered' });
    const { stored, notice } = await noticeOf(record);
    expect(notice?.delivery).toBe('delivered');
    expect(stored?.version).toBe(record.version + 1);
    const timeline = await store.timeline(record);
    expect(timeline.map((entry) => entry.type)).toContain('notice.delivered');
    expect(messaging.outbox.read().emails).toEqual([]);
  });

  it('never hides an earlier bounce', async () => {
    const record = await notifiedBackorder();
    await handler(sesEvent('email-bounced', record));
    messaging.outbox.clear();

    const result = await handler(sesEvent('email-delivered', record));

    expect(result).toEqual({ outcome: 'unchanged', delivery: 'delivered' });
    expect((await noticeOf(record)).notice?.delivery).toBe('bounced');
    expect(messaging.outbox.read().emails).toEqual([]);
  });
});

describe('a bounce of a customer notice', () => {
  it('is recorded and asks the owner and their manager to call the customer', async () => {
    const record = await notifiedBackorder();

    const result = await handler(sesEvent('email-bounced', record));

    expect(result).toEqual({ outcome: 'recorded', delivery: 'bounced' });
    expect((await noticeOf(record)).notice?.delivery).toBe('bounced');
    const [email, ...others] = messaging.outbox.read().emails;
    expect(others).toEqual([]);
    expect(email?.to).toEqual([OWNER, MANAGER]);
    expect(email?.subject).toBe(
      `Call Lone Star Fabrication: the notice about ${record.orderId} line 3 was not delivered`,
    );
    expect(email?.text).toContain('Permanent (General) bounce');
    expect(email?.text).toContain('User unknown');
  });

  it('tells the owner once, however often SES reports it', async () => {
    const record = await notifiedBackorder();

    await handler(sesEvent('email-bounced', record));
    const again = await handler(sesEvent('email-bounced', record));

    expect(again).toEqual({ outcome: 'unchanged', delivery: 'bounced' });
    expect(messaging.outbox.read().emails).toHaveLength(1);
  });

  it('turns a delivered notice into a bounced one (a late asynchronous bounce)', async () => {
    const record = await notifiedBackorder();
    await handler(sesEvent('email-delivered', record));

    await handler(sesEvent('email-bounced', record));

    expect((await noticeOf(record)).notice?.delivery).toBe('bounced');
    expect(messaging.outbox.read().emails).toHaveLength(1);
  });

  it('is recorded after a concurrent change to the backorder, re-read at its new version', async () => {
    const record = await notifiedBackorder();
    let raced = false;
    const racing = Object.create(store) as BackorderStore;
    racing.save = async (change) => {
      if (!raced) {
        raced = true;
        // Someone else (the ERP, the timer) writes first.
        await store.update({ ...record, version: record.version + 1 }, record.version);
      }
      return store.save(change);
    };

    await createHandler({ ...deps, store: racing })(sesEvent('email-bounced', record));

    const { stored, notice } = await noticeOf(record);
    expect(notice?.delivery).toBe('bounced');
    expect(stored?.version).toBe(record.version + 2);
    expect(messaging.outbox.read().emails).toHaveLength(1);
  });
});

describe('a complaint', () => {
  it('is recorded on the notice without emailing anyone', async () => {
    const record = await notifiedBackorder();

    await handler(sesEvent('email-complaint-received', record));

    expect((await noticeOf(record)).notice?.delivery).toBe('complained');
    expect(messaging.outbox.read().emails).toEqual([]);
  });
});

describe('finding the notice', () => {
  it('finds a line whose ids hold characters SES turns into "_" in tags', async () => {
    const record = await notifiedBackorder({ orderId: `SO 10/${lines + 1}_B` });

    const result = await handler(sesEvent('email-bounced', record));

    expect(result).toEqual({ outcome: 'recorded', delivery: 'bounced' });
    expect((await noticeOf(record)).notice?.delivery).toBe('bounced');
  });

  it('ignores a report on a message the notice was not sent as', async () => {
    const record = await notifiedBackorder();

    const result = await handler(sesEvent('email-bounced', record, { messageId: 'someone-elses-message' }));

    expect(result).toEqual({ outcome: 'ignored', reason: 'no matching notice' });
    expect((await noticeOf(record)).notice?.delivery).toBeUndefined();
    expect(messaging.outbox.read().emails).toEqual([]);
  });

  it('ignores emails to staff, which carry no notice revision', async () => {
    const record = await notifiedBackorder();

    const result = await handler(sesEvent('email-bounced', record, { revision: null }));

    expect(result).toEqual({ outcome: 'ignored', reason: 'not a customer notice' });
  });

  it('asks for a retry when SES reports before the timer recorded the send', async () => {
    const record = await notifiedBackorder({ recorded: false });

    await expect(handler(sesEvent('email-delivered', record, { messageId: 'in-flight' }))).rejects.toThrow(
      expect.objectContaining({ name: 'NoticeNotRecordedYetError' }),
    );
  });

  it('sends an event it cannot read to the dead-letter queue (by throwing)', async () => {
    await expect(
      handler({ 'detail-type': 'Email Bounced', detail: { eventType: 'Bounce' } }),
    ).rejects.toThrow(expect.objectContaining({ name: 'UnreadableSesEventError' }));
  });
});

describe('what it reports', () => {
  it('counts a notice SES accepted after its deadline, once', async () => {
    const record = await notifiedBackorder();
    const late = new Date(Date.parse(record.notices[0]?.deadline ?? '') + 60_000).toISOString();

    await handler(sesEvent('email-delivered', record, { sentAt: late }));
    await handler(sesEvent('email-bounced', record, { sentAt: late }));

    const counted = metricsWritten().map((entry) => entry.NoticesSentAfterDeadline);
    expect(counted).toEqual([1, undefined]);
  });

  it('counts a notice sent in time as zero late', async () => {
    const record = await notifiedBackorder();

    await handler(sesEvent('email-delivered', record));

    expect(metricsWritten()).toEqual([
      expect.objectContaining({ NoticesSentAfterDeadline: 0, CustomerNoticesDelivered: 1 }),
    ]);
  });

  it("never writes the customer's address to the log", async () => {
    const record = await notifiedBackorder();

    await handler(sesEvent('email-bounced', record));

    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(CUSTOMER);
    expect(logLines.join('\n')).not.toContain(OWNER);
  });
});
