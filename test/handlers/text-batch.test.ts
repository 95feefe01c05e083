import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Mailer } from '#adapters/mailer.ts';
import { loadOrganisation } from '#adapters/organisation.ts';
import { TextQueue } from '#adapters/text-queue.ts';
import { Texter } from '#adapters/texter.ts';
import { LAST_TEXT_NOTE } from '#domain/text-allowance.ts';
import type { TextBatchDependencies } from '#handlers/text-batch.ts';
import { localClientConfig } from '#local/http-service.ts';
import { createTestTables, type TestTables } from '#test/support/dynamodb.ts';
import { startTestMessaging, type TestMessaging } from '#test/support/messaging.ts';
import { SAMPLE_CONFIG_FILE } from '#test/support/organisation.ts';

/*
 * The text batch against DynamoDB Local (the queue and the day's counter), the local SNS (texts)
 * and the local SES (the email past the daily allowance): a day with more grouping windows than
 * the allowance texts exactly the allowance, and every further alert goes by email exactly once,
 * however often and however concurrently the batches run.
 */

// Tuesday 2026-03-10, 09:00 in Chicago.
const MORNING = Date.parse('2026-03-10T14:00:00Z');
const WINDOW = 2 * 60_000;
const MANAGER = { id: 'M-1', phone: '+15125550101', email: 'priya.raman@svc.example' };
const RETRIED = new Set(['TransientDeliveryError', 'TransactionCanceledException']);

type Handler = (input: { recipient: string; flushAt: string }) => Promise<{ sent: number }>;

let tables: TestTables;
let messaging: TestMessaging;
let queue: TextQueue;
let clock = MORNING;
let createHandler: (deps: TextBatchDependencies) => Handler;
let deps: (allowance: number) => TextBatchDependencies;

beforeAll(async () => {
  [tables, messaging] = await Promise.all([
    createTestTables(),
    startTestMessaging({ now: () => new Date(clock) }),
  ]);
  const tableName = tables.tableName('StoreTable');
  const alerts = [...messaging.topicArns].find(([logicalId]) => logicalId.startsWith('MessagingAlerts'))?.[1];
  if (!alerts) throw new Error('no alerts topic in the template');
  // The module builds its own `handler` from the environment when it loads: give it a real one.
  for (const [name, value] of Object.entries(messaging.env)) vi.stubEnv(name, value);
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', tables.endpoint);
  vi.stubEnv('TABLE_NAME', tableName);
  vi.stubEnv('ALERTS_TOPIC_ARN', alerts);
  vi.stubEnv('ORGANISATION_CONFIG_FILE', SAMPLE_CONFIG_FILE);
  createHandler = (await import('#handlers/text-batch.ts')).createTextBatch;

  queue = new TextQueue(tables.client, tableName);
  const organisation = loadOrganisation(SAMPLE_CONFIG_FILE);
  // One attempt per call: a fault the test injects reaches the batch instead of an SDK retry.
  const texter = new Texter(
    new SNSClient({ ...localClientConfig(messaging.sns.endpoint), maxAttempts: 1 }),
    alerts,
  );
  const mailer = new Mailer(
    new SESv2Client(localClientConfig(messaging.ses.endpoint)),
    organisation.config.company.senderEmail,
  );
  deps = (allowance) => ({
    queue,
    texter,
    mailer,
    organisation: {
      calendar: organisation.calendar,
      config: {
        ...organisation.config,
        escalation: { ...organisation.config.escalation, maxTextsPerPersonPerDay: allowance },
      },
    },
    now: () => new Date(clock),
  });
  // The first file to ask starts DynamoDB Local and synthesizes the stack: slow on a busy machine.
}, 180_000);

afterAll(async () => {
  tables?.close();
  await messaging?.stop();
});

beforeEach(() => {
  messaging.outbox.clear();
});

/** What the state machine does with a batch: retry what its Retry lists, give up on the rest. */
async function asTheStateMachine(handler: Handler, recipient: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await handler({ recipient, flushAt: new Date(clock).toISOString() });
      return;
    } catch (error) {
      if (attempt >= 8 || !RETRIED.has((error as Error).name)) throw error;
    }
  }
}

/** Queues `count` alerts for a person at the clock's now; each names its own order line. */
async function queueAlerts(recipient: string, prefix: string, count: number): Promise<string[]> {
  const orders = Array.from({ length: count }, (_, index) => `${prefix}-${index + 1}`);
  for (const order of orders) {
    await queue.enqueue(
      {
        recipient,
        audience: 'manager',
        email: MANAGER.email,
        message: `Backorder ${order} line 1 slipped again: Mar 22 -> Mar 29, 14 days late. Owner: Dana Ortiz.`,
        trigger: `${order}/1#managerAlert:slip-2`,
      },
      new Date(clock),
    );
  }
  return orders;
}

/** Every text queued for a person, sent or not, as the table holds it. */
async function recorded(recipient: string) {
  const page = await DynamoDBDocumentClient.from(tables.client).send(
    new QueryCommand({
      TableName: tables.tableName('StoreTable'),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :queued)',
      ExpressionAttributeValues: { ':pk': `TEXTS#${recipient}`, ':queued': 'QUEUED#' },
      ConsistentRead: true,
    }),
  );
  return (page.Items ?? []).map((item) => ({
    status: item.status,
    sentBy: item.sentBy,
    messageId: item.messageId,
  }));
}

/** Where each order went: the texts and emails that name it. */
function deliveries(orders: string[]) {
  const { texts, emails } = messaging.outbox.read();
  const naming = (body: string, order: string) => body.includes(`${order} line 1`);
  return orders.map((order) => ({
    order,
    texts: texts.filter((text) => naming(text.message, order)).length,
    emails: emails.filter((email) => naming(email.text ?? '', order)).length,
  }));
}

describe('the daily text allowance', () => {
  it('texts the allowance and emails every further window of the day, each alert once', async () => {
    clock = MORNING;
    const handler = createHandler(deps(3));
    const orders: string[] = [];
    // Six windows of alerts, two of them bursts: three texts, then three emails.
    for (const [window, count] of [1, 3, 1, 1, 2, 1].entries()) {
      orders.push(...(await queueAlerts(MANAGER.id, `SO-DAY${window}`, count)));
      clock += WINDOW;
      await asTheStateMachine(handler, MANAGER.id);
      clock += 10 * 60_000;
    }

    const { texts, emails } = messaging.outbox.read();
    expect(texts.map((text) => text.to)).toEqual([[MANAGER.phone], [MANAGER.phone], [MANAGER.phone]]);
    expect(texts[1]?.message).toMatch(/^3 backorder alerts/);
    expect(texts[2]?.message.endsWith(LAST_TEXT_NOTE)).toBe(true);
    expect(emails.map((email) => email.to)).toEqual([[MANAGER.email], [MANAGER.email], [MANAGER.email]]);
    expect(emails.map((email) => email.subject)).toEqual([
      expect.stringMatching(/^Backorder SO-DAY3-1 line 1/),
      '2 backorder alerts',
      expect.stringMatching(/^Backorder SO-DAY5-1 line 1/),
    ]);
    for (const delivery of deliveries(orders)) {
      expect(delivery.texts + delivery.emails, delivery.order).toBe(1);
    }
    expect(await queue.unsent(MANAGER.id)).toEqual([]);
    expect((await recorded(MANAGER.id)).map((record) => record.sentBy)).toEqual([
      ...Array(5).fill('sms'),
      ...Array(4).fill('email'),
    ]);
  });

  it('starts afresh on the next day in the company’s time zone', async () => {
    // Wednesday 08:00 in Chicago: Tuesday's allowance was spent above.
    clock = Date.parse('2026-03-11T13:00:00Z');
    const handler = createHandler(deps(3));
    const orders = await queueAlerts(MANAGER.id, 'SO-WED', 1);
    clock += WINDOW;
    await asTheStateMachine(handler, MANAGER.id);

    expect(messaging.outbox.read().texts).toHaveLength(1);
    expect(messaging.outbox.read().emails).toHaveLength(0);
    expect(deliveries(orders)).toEqual([{ order: 'SO-WED-1', texts: 1, emails: 0 }]);
  });

  it('holds under duplicate and concurrent batches: exactly the allowance by text, the rest by email once', async () => {
    clock = Date.parse('2026-03-12T14:00:00Z');
    const recipient = 'VP-1';
    const handler = createHandler(deps(2));
    const orders: string[] = [];
    for (let window = 0; window < 6; window++) {
      orders.push(...(await queueAlerts(recipient, `SO-DUP${window}`, 1 + (window % 3))));
      clock += WINDOW;
      // Three copies of the window's batch at once (an at-least-once start), and one more after.
      await Promise.all([1, 2, 3].map(() => asTheStateMachine(handler, recipient)));
      await asTheStateMachine(handler, recipient);
      clock += 5 * 60_000;
    }

    const { texts, emails } = messaging.outbox.read();
    expect(texts).toHaveLength(2);
    expect(emails).toHaveLength(4);
    for (const delivery of deliveries(orders)) {
      expect(delivery.texts + delivery.emails, delivery.order).toBe(1);
    }
    // A duplicate that saw the texts mid-send never leaves them recorded as uncertain.
    const records = await recorded(recipient);
    expect(records).toHaveLength(orders.length);
    for (const record of records) {
      expect(record).toEqual({
        status: 'sent',
        sentBy: expect.stringMatching(/^(sms|email)$/),
        messageId: expect.any(String),
      });
      expect(record.messageId).not.toBe('uncertain');
    }
  });

  it('gives the slot back when a text fails cleanly, so the retry still texts', async () => {
    clock = Date.parse('2026-03-13T14:00:00Z');
    const handler = createHandler(deps(1));
    const first = await queueAlerts(MANAGER.id, 'SO-FAIL', 1);
    clock += WINDOW;
    messaging.sns.failNext(1);
    await expect(
      handler({ recipient: MANAGER.id, flushAt: new Date(clock).toISOString() }),
    ).rejects.toThrow();
    expect(messaging.outbox.read().texts).toHaveLength(0);
    await asTheStateMachine(handler, MANAGER.id);

    const second = await queueAlerts(MANAGER.id, 'SO-AFTER', 1);
    clock += WINDOW;
    await asTheStateMachine(handler, MANAGER.id);

    const { texts, emails } = messaging.outbox.read();
    expect(texts).toEqual([expect.objectContaining({ message: expect.stringContaining(LAST_TEXT_NOTE) })]);
    expect(emails).toHaveLength(1);
    expect(deliveries([...first, ...second])).toEqual([
      { order: 'SO-FAIL-1', texts: 1, emails: 0 },
      { order: 'SO-AFTER-1', texts: 0, emails: 1 },
    ]);
  });
});
