import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closing, delayed } from '#test/support/erp-events.ts';
import type { TestSystem } from '#test/support/local-system.ts';
import {
  captureLogs,
  dynamoDbEndpoint,
  linesWith,
  newTally,
  PERSONAL,
  personalData,
  saveTally,
  startDynamoDbFaults,
  startSystemOn,
} from './support.ts';

/*
 * Faults: SES and SNS throttling for a while (injected at the embedded services), SES refusing an
 * address for good, DynamoDB failing the timer step's write after it sent (a Lambda step that
 * crashes once), and a delay report landing while a failed send is being undone. Every promised
 * notice and escalation must still happen exactly once, or its failure must reach the owner.
 */

// Tuesday 2026-03-10, 09:00 in Chicago.
const START = '2026-03-10T14:00:00Z';
const tally = newTally('faults');
const logs = captureLogs();
let system: TestSystem;
let faults: Awaited<ReturnType<typeof startDynamoDbFaults>>;

beforeAll(async () => {
  faults = await startDynamoDbFaults(await dynamoDbEndpoint());
  system = await startSystemOn(faults.endpoint, START);
}, 180_000);

afterAll(async () => {
  logs.restore();
  tally.faultsInjected += faults?.injected() ?? 0;
  await system?.stop();
  await faults?.close();
  saveTally(tally);
});

const customer = {
  id: 'C-REL',
  name: 'Reliability Fabrication',
  email: PERSONAL.customerEmail,
  phone: PERSONAL.customerPhone,
};
const owner = { id: 'U-17', name: 'Dana Ortiz', email: PERSONAL.ownerEmail, phone: PERSONAL.ownerPhone };
const line = (orderId: string, extra: Record<string, unknown> = {}) => ({
  orderId,
  lineId: '1',
  originalShipDate: '2026-03-20',
  customer,
  owner,
  ...extra,
});
const now = () => system.local.clock.now().toISOString();

async function post(event: Parameters<TestSystem['post']>[0], id?: string) {
  const answer = await system.post(event, id ? { id } : {});
  tally.eventsSent += 1;
  tally.deliveries += 1;
  if (answer.status >= 500) tally.serverErrors += 1;
  return answer;
}

async function customerEmails(orderId: string) {
  return (await system.outbox()).emails.filter(
    (email) => email.to.includes(PERSONAL.customerEmail) && email.subject.includes(`${orderId} line`),
  );
}

/** Counts promised messages: `expected` distinct ones, found `count` times in all. */
function account(count: number, expected = 1): void {
  tally.noticesExpected += expected;
  tally.noticesSent += count;
  tally.noticesSentTwice += Math.max(0, count - expected);
  tally.noticesMissing += Math.max(0, expected - count);
}

type RecordItem = { sk?: { S?: string }; record?: { M?: Record<string, { S?: string }> } };

/**
 * The backorder record the timer step writes (a PutItem, or a Put inside TransactWriteItems when
 * the insight counters change with it), as DynamoDB Local's request body shows it. Writes that
 * add a timeline entry (an ERP event, a decision) are someone else's and are left alone.
 */
function recordWrite(
  operation: string,
  body: Record<string, unknown>,
): { orderId?: string; inFlight: boolean } | undefined {
  const items: RecordItem[] = [];
  if (operation === 'PutItem') items.push(body.Item as RecordItem);
  if (operation === 'TransactWriteItems') {
    for (const action of (body.TransactItems ?? []) as Array<{ Put?: { Item: RecordItem } }>) {
      if (action.Put) items.push(action.Put.Item);
    }
    if (items.some((item) => item?.sk?.S?.startsWith('EVENT#'))) return undefined;
  }
  const item = items.find((candidate) => candidate?.sk?.S === 'RECORD' && candidate.record?.M);
  const fields = item?.record?.M;
  if (!fields) return undefined;
  return { orderId: fields.orderId?.S, inFlight: 'inFlight' in fields };
}

/** The write that records an action done or releases its claim (no `inFlight` left on the record). */
const settlesClaimOf = (orderId: string) => (operation: string, body: Record<string, unknown>) => {
  const record = recordWrite(operation, body);
  return record?.orderId === orderId && !record.inFlight;
};

describe('transient faults', () => {
  it('sends each of five notices once while SES throttles the first eight attempts', async () => {
    system.local.ses.failNext(8);
    tally.faultsInjected += 8;
    const orders = ['SO-F-SES-1', 'SO-F-SES-2', 'SO-F-SES-3', 'SO-F-SES-4', 'SO-F-SES-5'];
    await Promise.all(orders.map((orderId) => post(delayed(now(), '2026-03-27', line(orderId)))));
    await system.advance('PT30M');

    for (const orderId of orders) {
      const emails = await customerEmails(orderId);
      account(emails.length);
      expect(emails, orderId).toHaveLength(1);
      const { body } = await system.get(`/v1/backorders/${orderId}/1`);
      expect(body.notices, orderId).toEqual([expect.objectContaining({ status: 'sent' })]);
    }
  });

  it('texts the manager once about a slip while SNS throttles the first four attempts', async () => {
    const orderId = 'SO-F-SNS';
    await post(delayed(now(), '2026-03-27', line(orderId)));
    await system.advance('PT5M');
    system.local.sns.failNext(4);
    tally.faultsInjected += 4;
    await post(delayed(now(), '2026-04-03', line(orderId)));
    await system.advance('PT30M');

    const texts = (await system.outbox()).texts.filter(
      (text) => text.audience === 'manager' && text.message.includes(`${orderId} line`),
    );
    account(texts.length);
    expect(texts).toHaveLength(1);
    account((await customerEmails(orderId)).length - 1);
    expect(await customerEmails(orderId)).toHaveLength(2);
  });
});

describe('failures that retries cannot mend', () => {
  it('tells the owner, once, that a notice could not be sent when SES outlasts every retry', async () => {
    const orderId = 'SO-F-OUTAGE';
    // Nine attempts of the timer step (one and eight retries) of three SDK attempts each, and the
    // first attempt of the failure handler: SES answers again only for the handler's retry.
    system.local.ses.failNext(30);
    tally.faultsInjected += 30;
    await post(delayed(now(), '2026-03-27', line(orderId)));
    await system.advance('PT2H');

    expect(await customerEmails(orderId)).toHaveLength(0);
    const toOwner = (await system.outbox()).emails.filter(
      (email) => email.to.includes(PERSONAL.ownerEmail) && email.subject.includes(orderId),
    );
    account(toOwner.length);
    expect(toOwner).toHaveLength(1);
    const { body } = await system.get(`/v1/backorders/${orderId}/1`);
    expect((body.timeline as Array<{ type: string }>).map((entry) => entry.type)).toContain('timer.failed');
  });

  it('tells the owner once, and retries nothing, when SES refuses the customer’s address', async () => {
    const orderId = 'SO-F-BOUNCE';
    const bounced = { ...customer, email: 'buyer@bounce.example' };
    await post(delayed(now(), '2026-03-27', line(orderId, { customer: bounced })));
    await system.advance('PT30M');

    const outbox = await system.outbox();
    expect(outbox.emails.filter((email) => email.to.includes('buyer@bounce.example'))).toHaveLength(0);
    const toOwner = outbox.emails.filter(
      (email) => email.to.includes(PERSONAL.ownerEmail) && email.subject.includes(orderId),
    );
    account(toOwner.length);
    expect(toOwner).toHaveLength(1);
    const { body } = await system.get(`/v1/backorders/${orderId}/1`);
    expect(body.notices).toEqual([expect.objectContaining({ status: 'failed' })]);
  });
});

describe('a timer step that crashes once', () => {
  it('does not send again when it crashed after sending, before recording', async () => {
    const orderId = 'SO-F-CRASH';
    // The write that records the sent notice fails three times (every SDK attempt): the step
    // crashes with InternalServerError after SES accepted the email.
    const injectedBefore = faults.injected();
    faults.inject({
      matches: settlesClaimOf(orderId),
      remaining: 3,
      status: 500,
      type: 'InternalServerError',
    });
    await post(delayed(now(), '2026-03-27', line(orderId)));
    await system.advance('PT30M');
    expect(faults.injected() - injectedBefore).toBe(3);

    const emails = await customerEmails(orderId);
    account(emails.length);
    expect(emails).toHaveLength(1);
    const { body } = await system.get(`/v1/backorders/${orderId}/1`);
    expect(body.notices).toEqual([expect.objectContaining({ status: 'sent' })]);
    await post(closing('backorder.shipped', now(), line(orderId)));
  });

  /*
   * Regression: when a send fails transiently the step releases its claim; if the ERP changed the
   * record meanwhile (an "unchanged" report keeps the generation and the claim), the release must
   * re-read and clear it, or the retry would take its own leftover claim for a crash after sending
   * and record the notice as sent without sending it.
   */
  const releaseScenario = { held: false, report: '' };
  it('still sends the notice when a report lands while a failed send is being undone', async () => {
    const orderId = 'SO-F-RELEASE';
    system.local.ses.failNext(3);
    tally.faultsInjected += 3;
    const release = faults.hold(settlesClaimOf(orderId));
    const reportedAt = now();
    await post(delayed(reportedAt, '2026-03-27', line(orderId)));
    // The step claimed the notice, SES refused three times, and its release of the claim is held.
    releaseScenario.held = await Promise.race([
      release.held.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000)),
    ]);
    const later = new Date(Date.parse(reportedAt) + 60_000).toISOString();
    releaseScenario.report = String((await post(delayed(later, '2026-03-27', line(orderId)))).body.result);
    release.release();
    await system.advance('PT30M');

    const emails = await customerEmails(orderId);
    account(emails.length);
    expect(emails).toHaveLength(1);
  });

  it('set that scenario up as described: the release was held, the report changed nothing', () => {
    expect(releaseScenario).toEqual({ held: true, report: 'unchanged' });
  });

  /*
   * Regression: a customer notice sent while newer news superseded it is recorded as sent (with
   * its SES message id), since the customer has it; the newer notice still follows.
   */
  const supersededScenario = { held: false, report: '' };
  it('records a notice as sent when newer news arrived while it was being sent', async () => {
    const orderId = 'SO-F-SUPERSEDED';
    const recording = faults.hold(settlesClaimOf(orderId));
    const reportedAt = now();
    await post(delayed(reportedAt, '2026-03-27', line(orderId)));
    // SES accepted the first notice; the step's write recording it is held while the date slips.
    supersededScenario.held = await Promise.race([
      recording.held.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000)),
    ]);
    const later = new Date(Date.parse(reportedAt) + 60_000).toISOString();
    supersededScenario.report = String((await post(delayed(later, '2026-04-03', line(orderId)))).body.result);
    recording.release();
    await system.advance('PT30M');

    const emails = await customerEmails(orderId);
    account(emails.length, 2);
    expect(emails).toHaveLength(2);
    const { body } = await system.get(`/v1/backorders/${orderId}/1`);
    expect(body.notices).toEqual([
      expect.objectContaining({ revision: 1, status: 'sent' }),
      expect.objectContaining({ revision: 2, status: 'sent' }),
    ]);
  });

  it('set that scenario up as described: the recording was held, the report slipped the date', () => {
    expect(supersededScenario).toEqual({ held: true, report: 'slipped' });
  });
});

describe('logs', () => {
  it('carry no customer or owner contact detail', () => {
    const lines = logs.lines();
    tally.logLines += lines.length;
    expect(linesWith(lines, personalData)).toEqual([]);
    expect(tally.serverErrors).toBe(0);
  });
});
