import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHILD_ADMIN_TOKEN,
  type ChildSystem,
  dynamoDbJvmsOf,
  isAlive,
  runStartUntilExit,
  startChildSystem,
  stopAllChildren,
} from '#test/support/child-system.ts';
import { localTemplate } from '#test/support/dynamodb.ts';
import { closing, delayed } from '#test/support/erp-events.ts';
import { eventually } from '#test/support/eventually.ts';
import type { Outbox } from '#test/support/local-system.ts';

/*
 * CONTRACT §1–§5 end to end: `node local/start.ts` in a child process, exactly as `npm start` runs
 * it (free port, temporary DATA_DIR, fixed LOCAL_CLOCK_START), driven only over HTTP as an ERP, a
 * customer and an operator would, and restarted on its data in the middle of a pending 14-day
 * timer. Each boot is a DynamoDB Local JVM and a CDK synthesis: seconds, so the tests here share
 * one system, in order, and wait generously.
 */

// Monday 2026-04-06, 08:00 in Chicago (CDT).
const CLOCK_START = '2026-04-06T13:00:00Z';
const CUSTOMER = 'purchasing@lonestarfab.example';
const OWNER = 'dana.ortiz@svc.example';
const MANAGER_PHONE = '+15125550101';
const VP_PHONE = '+15125550100';
const BOOT_MS = 150_000;

const dataDir = mkdtempSync(join(tmpdir(), 'backorder-watch-e2e-'));
let system: ChildSystem;

beforeAll(async () => {
  system = await startChildSystem({ dataDir, clockStart: CLOCK_START });
}, BOOT_MS);

afterAll(async () => {
  await stopAllChildren();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

const mentions = (orderId: string) => (message: { subject?: string; message?: string }) =>
  (message.subject ?? message.message ?? '').includes(orderId);

async function about(orderId: string): Promise<Outbox> {
  const outbox = await system.outbox();
  return { emails: outbox.emails.filter(mentions(orderId)), texts: outbox.texts.filter(mentions(orderId)) };
}

/** Lets what an event started settle: the clock answers once the work it ran is over. */
const settle = () => system.advance('PT1S');

/** An ERP's `occurredAt`: a minute before the service's now. */
async function justNow(): Promise<string> {
  return new Date((await system.now()).getTime() - 60_000).toISOString();
}

describe('§1 ERP webhooks', () => {
  it('accepts a signed delay and opens the backorder', async () => {
    const event = delayed(await justNow(), '2026-04-17', {
      orderId: 'SO-E2E-1',
      lineId: '1',
      originalShipDate: '2026-04-10',
    });

    const response = await system.post(event);

    expect(response).toMatchObject({ status: 202, body: { backorderId: 'SO-E2E-1/1', result: 'opened' } });
  });

  it('answers a redelivery with the first answer and does nothing twice', async () => {
    const event = delayed(await justNow(), '2026-04-27', {
      orderId: 'SO-E2E-2',
      lineId: '1',
      originalShipDate: '2026-04-20',
    });
    const first = await system.post(event, { id: 'msg_e2e_redelivered' });
    const again = await system.post(event, { id: 'msg_e2e_redelivered' });
    await settle();

    expect(first).toMatchObject({ status: 202, body: { result: 'opened' } });
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect((await about('SO-E2E-2')).emails).toHaveLength(1);
    const { body } = await system.get<{ timeline: unknown[] }>('/v1/backorders/SO-E2E-2/1');
    expect(body.timeline).toHaveLength(1);
  });

  it('refuses a wrong signature or a stale timestamp with 401 and stores nothing', async () => {
    const event = delayed(await justNow(), '2026-04-30', {
      orderId: 'SO-E2E-401',
      lineId: '1',
      originalShipDate: '2026-04-20',
    });
    const otherSecret = `whsec_${Buffer.from('not-the-secret-of-this-service-0123').toString('base64')}`;
    const tenMinutesAgo = new Date((await system.now()).getTime() - 10 * 60_000);

    const forged = await system.post(event, { secret: otherSecret });
    const stale = await system.post(event, { at: tenMinutesAgo });

    expect(forged).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(stale).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect((await system.get('/v1/backorders/SO-E2E-401/1')).status).toBe(404);
  });
});

describe('§2 the customer notice', () => {
  it('emails the customer at once with the reason, both dates, the alternative, the choices and the owner', async () => {
    await settle();

    const { emails } = await about('SO-E2E-1');

    expect(emails).toHaveLength(1);
    const [notice] = emails;
    expect(notice?.to).toEqual([CUSTOMER]);
    expect(notice?.subject).toContain('SO-E2E-1 line 1');
    expect(notice?.text).toContain('Mill production schedule change');
    expect(notice?.text).toContain('April 10, 2026');
    expect(notice?.text).toContain('April 17, 2026');
    expect(notice?.text).toContain('ALT-1');
    expect(notice?.text).toContain('+$12.00/ton');
    expect(notice?.text).toContain('Dana Ortiz');
    expect(notice?.text.match(/\/v1\/decisions\/[\w.-]+/g)).toHaveLength(2);
  });
});

describe('§3 customer decisions', () => {
  const alternativeLink = async () => {
    const [notice] = (await about('SO-E2E-2')).emails;
    const link = /Ship ALT-1 instead:\s+(http:\/\/\S+\/v1\/decisions\/[\w.-]+)/.exec(notice?.text ?? '')?.[1];
    if (!link) throw new Error(`no ALT-1 link in: ${notice?.text}`);
    return link;
  };

  it('shows the choice on a GET and changes nothing', async () => {
    const before = await system.outbox();

    const page = await fetch(await alternativeLink());
    await settle();

    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Confirm your choice');
    expect((await system.get('/v1/backorders/SO-E2E-2/1')).body.customerDecision).toBeNull();
    expect(await system.outbox()).toEqual(before);
  });

  it('records a confirmed choice, tells the owner, and answers 409 to a second one', async () => {
    const link = await alternativeLink();

    const confirmed = await fetch(link, { method: 'POST' });
    const again = await fetch(link, { method: 'POST' });
    await settle();

    expect(confirmed.status).toBe(200);
    expect(again.status).toBe(409);
    expect((await system.get('/v1/backorders/SO-E2E-2/1')).body.customerDecision).toMatchObject({
      revision: 1,
      choice: { kind: 'alternative', alternativeId: 'ALT-1' },
    });
    const toOwner = (await about('SO-E2E-2')).emails.filter((email) => email.to.includes(OWNER));
    expect(toOwner).toHaveLength(1);
  });

  it('refuses a forged link with a page and status 400', async () => {
    const link = await alternativeLink();
    const forged = `${link.slice(0, -4)}${link.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;

    const response = await fetch(forged, { method: 'POST' });

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('text/html');
  });
});

describe('§4 operators’ read API', () => {
  it('lists backorders for the bearer of the admin token, and nobody else', async () => {
    const open = await system.get<{ items: { orderId: string }[] }>('/v1/backorders?status=open');
    const anonymous = await system.get('/v1/backorders?status=open', null);
    const wrongToken = await system.get('/v1/backorders?status=open', `${CHILD_ADMIN_TOKEN}-not`);

    expect(open.status).toBe(200);
    expect(open.body.items.map((item) => item.orderId)).toEqual(
      expect.arrayContaining(['SO-E2E-1', 'SO-E2E-2']),
    );
    expect(anonymous.status).toBe(401);
    expect(wrongToken.status).toBe(401);
    expect((await system.get('/v1/backorders/SO-E2E-1/1', null)).status).toBe(401);
  });

  it('shows one backorder with its status, dates, owner, next action, escalation, decision, notices and timeline', async () => {
    const { status, body } = await system.get('/v1/backorders/SO-E2E-1/1');

    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'open',
      originalShipDate: '2026-04-10',
      expectedShipDate: '2026-04-17',
      slipCount: 1,
      owner: expect.objectContaining({ name: 'Dana Ortiz' }),
      nextActionAt: expect.any(String),
      escalationLevel: 'none',
      customerDecision: null,
      notices: [expect.objectContaining({ revision: 1, status: 'sent' })],
      timeline: [expect.objectContaining({ result: 'opened' })],
    });
  });
});

describe('§5 the local runtime', () => {
  it('tells the time and moves it forward by a duration or to an instant', async () => {
    const before = await system.now();

    const byDuration = await system.clock({ advanceBy: 'PT1H' });
    // Monday 11:00 in Chicago, where the escalations below begin.
    const target = '2026-04-06T16:00:00.000Z';
    const toInstant = await system.clock({ to: target });

    expect(byDuration.status).toBe(200);
    const movedBy = Date.parse(byDuration.body.now) - before.getTime();
    // The clock also follows real time between requests: allow it a minute of that.
    expect(movedBy).toBeGreaterThanOrEqual(3_600_000);
    expect(movedBy).toBeLessThan(3_600_000 + 60_000);
    expect(toInstant.status).toBe(200);
    expect(Date.parse(toInstant.body.now) - Date.parse(target)).toBeGreaterThanOrEqual(0);
    expect(Date.parse(toInstant.body.now) - Date.parse(target)).toBeLessThan(60_000);
  });

  it('answers 400 to a request it cannot follow, and stays where it was', async () => {
    const before = await system.now();

    const answers = await Promise.all([
      system.clock({ advanceBy: 'five hours' }),
      system.clock({ advanceBy: 'P1M' }),
      system.clock({ to: 'next Tuesday' }),
      system.clock({ to: '2020-01-01T00:00:00Z' }),
      system.clock('{ not json'),
      system.clock({}),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual([400, 400, 400, 400, 400, 400]);
    expect((await system.now()).getTime() - before.getTime()).toBeLessThan(60_000);
  });

  it('shows what SES and SNS delivered, oldest first, in the contract’s shape', async () => {
    const outbox = await system.outbox();

    expect(outbox.emails.length).toBeGreaterThanOrEqual(3);
    for (const email of outbox.emails) {
      expect(email).toEqual({
        id: expect.any(String),
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        from: 'backorders@gulfplains-steel.example',
        to: [expect.any(String)],
        subject: expect.any(String),
        text: expect.any(String),
        html: expect.stringContaining('<html'),
      });
    }
    for (const text of outbox.texts) {
      expect(text).toEqual({
        id: expect.any(String),
        at: expect.any(String),
        to: [expect.stringMatching(/^\+\d+$/)],
        audience: expect.stringMatching(/^(owner|manager|vp)$/),
        message: expect.any(String),
      });
    }
    const oldestFirst = (messages: { at: string }[]) =>
      messages.every((message, index) => index === 0 || (messages[index - 1]?.at ?? '') <= message.at);
    expect(oldestFirst(outbox.emails)).toBe(true);
    expect(oldestFirst(outbox.texts)).toBe(true);
  });

  it('serves /_local/* here but never deploys them: the synthesized stack has no such route', async () => {
    const template = await localTemplate();
    const resources = Object.values((template.Resources ?? {}) as Record<string, { Type: string }>);
    const routeKeys = resources
      .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
      .map((resource) => String((resource as { Properties?: { RouteKey?: string } }).Properties?.RouteKey));

    expect(routeKeys).toContain('POST /v1/erp/events');
    expect(routeKeys.filter((key) => key.includes('/_local'))).toEqual([]);
    expect((await fetch(`${system.url}/_local/clock`)).status).toBe(200);
  });
});

describe('§2 escalations and closing', () => {
  it('texts the manager at once and updates the customer when the date slips again', async () => {
    // Monday 11:00 in Chicago, where §5 left the clock: within business hours.
    const now = await system.now();
    const response = await system.post(
      delayed(await justNow(), '2026-04-24', {
        orderId: 'SO-E2E-1',
        lineId: '1',
        originalShipDate: '2026-04-10',
      }),
    );
    // Texts to one person are grouped over a two-minute window before they go.
    await system.advance('PT3M');

    expect(response.body.result).toBe('slipped');
    const { emails, texts } = await about('SO-E2E-1');
    const manager = texts.filter((text) => text.audience === 'manager');
    expect(manager).toHaveLength(1);
    expect(manager[0]?.to).toEqual([MANAGER_PHONE]);
    expect(manager[0]?.message).toContain('SO-E2E-1 line 1');
    expect(Date.parse(manager[0]?.at ?? '') - now.getTime()).toBeLessThanOrEqual(2 * 60_000);
    const customer = emails.filter((email) => email.to.includes(CUSTOMER));
    expect(customer).toHaveLength(2);
    expect(customer[1]?.subject).toContain('Apr 24');
  });

  it('texts the VP once, at the first business hour of the 14th day past the original date', async () => {
    // 14 days past Friday 2026-04-10 is Friday the 24th: 08:00 in Chicago.
    await system.advanceTo('2026-04-24T18:00:00Z');
    await system.advance('P3D');

    const vp = (await about('SO-E2E-1')).texts.filter((text) => text.audience === 'vp');
    // The first business hour, plus the two-minute grouping window.
    expect(vp).toEqual([expect.objectContaining({ to: [VP_PHONE], at: '2026-04-24T13:02:00.000Z' })]);
    expect(vp[0]?.message).toContain('SO-E2E-1 line 1');
    expect((await system.get('/v1/backorders/SO-E2E-1/1')).body.escalationLevel).toBe('vp');
  });

  it('goes silent once shipped', async () => {
    const response = await system.post(
      closing('backorder.shipped', await justNow(), { orderId: 'SO-E2E-1', lineId: '1' }),
    );
    await settle();
    const before = await about('SO-E2E-1');

    await system.advance('P7D');

    expect(response.body.result).toBe('closed');
    expect(await about('SO-E2E-1')).toEqual(before);
    expect((await system.get('/v1/backorders/SO-E2E-1/1')).body).toMatchObject({
      status: 'closed',
      nextActionAt: null,
    });
  });
});

describe('a restart in the middle of a pending 14-day timer', () => {
  const key = { orderId: 'SO-E2E-R', lineId: '1' };

  it(
    'keeps the timer: the VP is texted once after the restart and the customer was told only once',
    async () => {
      // Wednesday 2026-05-06, 13:00 in Chicago. 14 days past Friday the 8th is Friday the 22nd.
      await system.advanceTo('2026-05-06T18:00:00Z');
      await system.post(delayed(await justNow(), '2026-05-15', { ...key, originalShipDate: '2026-05-08' }));
      await settle();
      await system.advance('P3D');
      expect((await about('SO-E2E-R')).emails).toHaveLength(1);
      const savedNow = await system.now();
      const jvms = dynamoDbJvmsOf(system.pid);
      expect(jvms).toHaveLength(existsSync('/proc') ? 1 : 0);

      const exit = await system.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      // DynamoDB Local's JVM is a grandchild: it must go with its parent.
      await eventually(() => expect(jvms.filter(isAlive)).toEqual([]), { timeoutMs: 10_000 });

      system = await startChildSystem({ dataDir, clockStart: CLOCK_START });
      expect((await system.now()).getTime()).toBeGreaterThanOrEqual(savedNow.getTime());
      await system.advanceTo('2026-05-23T00:00:00Z');
      await system.advance('P3D');

      const { emails, texts } = await about('SO-E2E-R');
      expect(texts.filter((text) => text.audience === 'vp')).toEqual([
        expect.objectContaining({ to: [VP_PHONE], at: '2026-05-22T13:02:00.000Z' }),
      ]);
      // The outbox of the new process would show a notice sent again on resume.
      expect(emails.filter((email) => email.to.includes(CUSTOMER))).toEqual([]);
      const { body } = await system.get('/v1/backorders/SO-E2E-R/1');
      expect(body).toMatchObject({
        escalationLevel: 'vp',
        notices: [expect.objectContaining({ revision: 1, status: 'sent' })],
      });
    },
    BOOT_MS + 60_000,
  );
});

describe('configurations it refuses', () => {
  let occupied: Server | undefined;

  afterAll(() => {
    occupied?.close();
  });

  it('ends with exit code 1 and one line naming the invalid field of the configuration', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'backorder-watch-e2e-config-'));
    const configFile = join(directory, 'organisation.json');
    const config = JSON.parse(readFileSync('config/organisation.sample.json', 'utf8')) as {
      company: { timeZone: string };
    };
    config.company.timeZone = 'America/Chicagoo';
    writeFileSync(configFile, JSON.stringify(config));

    const result = await runStartUntilExit({
      BACKORDER_CONFIG: configFile,
      DATA_DIR: join(directory, 'data'),
    }).finally(() => rmSync(directory, { recursive: true, force: true }));

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('company.timeZone');
  }, 60_000);

  it('ends with exit code 1 and one line when the port is taken', async () => {
    occupied = createServer();
    const port = await new Promise<number>((resolve) => {
      occupied?.listen(0, '127.0.0.1', () => {
        const address = occupied?.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
    const directory = mkdtempSync(join(tmpdir(), 'backorder-watch-e2e-port-'));

    const result = await runStartUntilExit({ PORT: String(port), DATA_DIR: directory }).finally(() =>
      rmSync(directory, { recursive: true, force: true }),
    );

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      `npm start: port ${port} is in use: stop what runs there or set PORT=<another port>`,
    ]);
  }, 60_000);
});
