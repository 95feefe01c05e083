import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionName } from '#adapters/workflow-starter.ts';
import { closing, delayed } from '#test/support/erp-events.ts';
import { eventually } from '#test/support/eventually.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';

/*
 * CONTRACT §2 and §3 on the whole local system: the CDK-synthesized state machine running the
 * timer step on the virtual clock, SES and SNS emulators, and the customer's decision pages.
 */

// Tuesday 2026-03-10, 14:10 in Chicago.
const START = '2026-03-10T19:10:00Z';
const MANAGER_PHONE = '+15125550101';
const VP_PHONE = '+15125550100';
let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem(START);
}, 180_000);

afterAll(async () => {
  await system?.stop();
});

const aboutOrder = (orderId: string) => (message: { subject?: string; message?: string }) =>
  (message.subject ?? message.message ?? '').includes(orderId);

async function mail(orderId: string) {
  const outbox = await system.outbox();
  return {
    emails: outbox.emails.filter(aboutOrder(orderId)),
    texts: outbox.texts.filter(aboutOrder(orderId)),
  };
}

describe('a backorder from delay to shipment', () => {
  const key = { orderId: 'SO-10042', lineId: '3' };

  it('emails the customer at once with the dates, the alternative and a choice', async () => {
    const response = await system.post(delayed('2026-03-10T14:05:00-05:00', '2026-03-22', key));
    await system.advance();

    expect(response.body.result).toBe('opened');
    const { emails } = await mail('SO-10042');
    expect(emails).toHaveLength(1);
    const [notice] = emails;
    expect(notice).toMatchObject({ to: ['purchasing@lonestarfab.example'], at: '2026-03-10T19:10:00.000Z' });
    expect(notice?.subject).toContain('SO-10042 line 3');
    expect(notice?.subject).toContain('Mar 22');
    expect(notice?.text).toContain('Mill production schedule change');
    expect(notice?.text).toContain('Dana Ortiz');
    expect(notice?.text.match(/\/v1\/decisions\/[\w.-]+/g)).toHaveLength(2);
    const { body } = await system.get('/v1/backorders/SO-10042/3');
    expect(body.notices).toEqual([
      expect.objectContaining({ revision: 1, status: 'sent', sentAt: '2026-03-10T19:10:00.000Z' }),
    ]);
  });

  it('records the customer’s choice from the link, changes nothing on a GET, and tells the owner', async () => {
    const [notice] = (await mail('SO-10042')).emails;
    const link = notice?.text.match(/http:\/\/[^\s]+\/v1\/decisions\/[\w.-]+/g)?.find((url) => url) ?? '';
    const before = (await system.outbox()).emails.length;

    const page = await fetch(link);
    await system.advance();
    expect(page.status).toBe(200);
    expect((await system.outbox()).emails).toHaveLength(before);

    const confirmed = await fetch(link, { method: 'POST' });
    const again = await fetch(link, { method: 'POST' });
    await system.advance();

    expect(confirmed.status).toBe(200);
    expect(again.status).toBe(409);
    const { body } = await system.get('/v1/backorders/SO-10042/3');
    expect(body.customerDecision).toMatchObject({
      revision: 1,
      choice: { kind: 'alternative', alternativeId: 'ALT-1' },
    });
    const toOwner = (await system.outbox()).emails.filter((email) =>
      email.to.includes('dana.ortiz@svc.example'),
    );
    expect(toOwner).toHaveLength(1);
  });

  it('texts the manager at once and updates the customer when the date slips again', async () => {
    await system.advanceTo('2026-03-11T14:00:00Z');
    await system.post(delayed('2026-03-11T09:00:00-05:00', '2026-03-29', key));
    await system.advance('PT5M');

    const { emails, texts } = await mail('SO-10042');
    const manager = texts.filter((text) => text.audience === 'manager');
    expect(manager).toEqual([
      expect.objectContaining({ to: [MANAGER_PHONE], at: '2026-03-11T14:02:00.000Z' }),
    ]);
    expect(manager[0]?.message).toContain('SO-10042 line 3');
    const customer = emails.filter((email) => email.to.includes('purchasing@lonestarfab.example'));
    expect(customer).toHaveLength(2);
    expect(customer[1]?.subject).toContain('Mar 29');
    const { body } = await system.get('/v1/backorders/SO-10042/3');
    expect(body).toMatchObject({ slipCount: 2, escalationLevel: 'manager' });
  });

  it('texts the VP once, at the first business hour of the 14th day past the original date', async () => {
    // 14 days past 2026-03-15 is Sunday the 29th: the text waits for Monday 08:00 in Chicago
    // (and its two-minute grouping window).
    await system.advance('P25D');

    const vp = (await mail('SO-10042')).texts.filter((text) => text.audience === 'vp');
    expect(vp).toEqual([expect.objectContaining({ to: [VP_PHONE], at: '2026-03-30T13:02:00.000Z' })]);
    const { body } = await system.get('/v1/backorders/SO-10042/3');
    expect(body.escalationLevel).toBe('vp');
  });

  it('goes silent once shipped', async () => {
    await system.post(closing('backorder.shipped', '2026-04-04T10:00:00-05:00', key));
    await system.advance();
    const before = await mail('SO-10042');

    await system.advance('P30D');

    const after = await mail('SO-10042');
    expect(after.emails).toHaveLength(before.emails.length);
    expect(after.texts).toHaveLength(before.texts.length);
    expect((await system.get('/v1/backorders/SO-10042/3')).body).toMatchObject({
      status: 'closed',
      nextActionAt: null,
    });
  });
});

describe('texts and business hours', () => {
  it('holds a manager text raised at night until 08:00', async () => {
    const key = { orderId: 'SO-NIGHT', lineId: '1', originalShipDate: '2026-05-25' };
    await system.advanceTo('2026-05-19T20:00:00Z');
    await system.post(delayed('2026-05-19T15:00:00-05:00', '2026-06-01', key));
    // Tuesday 22:00 in Chicago.
    await system.advanceTo('2026-05-20T03:00:00Z');
    await system.post(delayed('2026-05-19T22:00:00-05:00', '2026-06-08', key));
    await system.advance('PT12H');

    const manager = (await mail('SO-NIGHT')).texts.filter((text) => text.audience === 'manager');
    expect(manager).toEqual([expect.objectContaining({ at: '2026-05-20T13:02:00.000Z' })]);
  });
});

describe('no storms', () => {
  it('texts the manager one summary when one mill delay slips many lines at once', async () => {
    await system.advanceTo('2026-05-26T14:00:00Z');
    const lines = ['1', '2', '3', '4', '5'].map((lineId) => ({
      orderId: 'SO-MILL',
      lineId,
      originalShipDate: '2026-06-01',
    }));
    await Promise.all(
      lines.map((key) => system.post(delayed('2026-05-26T09:00:00-05:00', '2026-06-08', key))),
    );
    await system.advance('PT10M');
    await Promise.all(
      lines.map((key) => system.post(delayed('2026-05-26T09:10:00-05:00', '2026-06-15', key))),
    );
    // The ERP retries one of them: still one text per trigger per backorder.
    await system.post(
      delayed('2026-05-26T09:10:00-05:00', '2026-06-15', lines[0] ?? { orderId: '', lineId: '' }),
    );
    await system.advance('PT10M');

    const manager = (await mail('SO-MILL')).texts.filter((text) => text.audience === 'manager');
    expect(manager).toHaveLength(1);
    expect(manager[0]?.message).toMatch(/^5 backorder alerts/);
    for (const line of lines) expect(manager[0]?.message).toContain(`SO-MILL line ${line.lineId}`);
  });
});

describe('delivery faults', () => {
  it('retries a throttled SES and sends the notice exactly once', async () => {
    system.local.ses.failNext(4);
    await system.post(
      delayed(system.local.clock.now().toISOString(), '2026-07-10', {
        orderId: 'SO-THROTTLED',
        lineId: '1',
        originalShipDate: '2026-07-01',
      }),
    );
    await system.advance('PT5M');

    const { body } = await system.get('/v1/backorders/SO-THROTTLED/1');
    expect((await mail('SO-THROTTLED')).emails).toHaveLength(1);
    expect(body.notices).toEqual([expect.objectContaining({ status: 'sent' })]);
  });

  it('tells the owner when the customer’s address is refused for good', async () => {
    const customer = { id: 'C-9', name: 'Gone Fabrication', email: 'buyer@bounce.example' };
    await system.post(
      delayed(system.local.clock.now().toISOString(), '2026-07-10', {
        orderId: 'SO-BOUNCE',
        lineId: '1',
        originalShipDate: '2026-07-01',
        customer,
      }),
    );
    await system.advance();

    const { body } = await system.get('/v1/backorders/SO-BOUNCE/1');
    expect(body.notices).toEqual([expect.objectContaining({ status: 'failed' })]);
    const toOwner = (await system.outbox()).emails.filter(
      (email) => email.to.includes('dana.ortiz@svc.example') && email.subject.includes('SO-BOUNCE'),
    );
    expect(toOwner).toHaveLength(1);
  });

  it('lets a superseded execution do nothing', async () => {
    const key = { orderId: 'SO-SUPERSEDED', lineId: '1' };
    const now = system.local.clock.now().toISOString();
    await system.post(delayed(now, '2026-08-10', { ...key, originalShipDate: '2026-08-01' }));
    await system.post(
      delayed(now.replace(/\.\d+Z$/, '.500Z'), '2026-08-20', { ...key, originalShipDate: '2026-08-01' }),
    );
    await system.advance();
    const before = await mail('SO-SUPERSEDED');
    const record = await system.store.get(key);

    const stale = await system.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: system.timerArn,
        name: `${executionName(key, 1)}-replayed`,
        input: JSON.stringify({ ...key, generation: 1 }),
      }),
    );
    await system.advance();

    await eventually(async () => {
      const described = await system.sfn.send(
        new DescribeExecutionCommand({ executionArn: stale.executionArn }),
      );
      expect(described.status).toBe('SUCCEEDED');
    });
    expect(record?.generation).toBe(2);
    expect(await mail('SO-SUPERSEDED')).toEqual(before);
  });
});
