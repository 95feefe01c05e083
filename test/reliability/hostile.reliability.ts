import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '#local/http-service.ts';
import { delayed } from '#test/support/erp-events.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';
import { signedHeaders, TEST_SECRET } from '#test/support/signing.ts';
import {
  captureLogs,
  DECISION_SECRET,
  linesWith,
  newTally,
  PERSONAL,
  personalData,
  saveTally,
} from './support.ts';

/*
 * Hostile input: fuzzed bodies, headers and signatures, huge and deeply nested JSON, replayed and
 * future timestamps, forged, expired, reused and superseded decision tokens. Only 4xx answers,
 * nothing stored, nothing sent, and no secret or contact detail in any answer or log line.
 */

// Wednesday 2026-03-11, 10:00 in Chicago.
const START = '2026-03-11T15:00:00Z';
const tally = newTally('hostile');
const logs = captureLogs();
const SECRETS = [
  TEST_SECRET,
  TEST_SECRET.replace('whsec_', ''),
  Buffer.from(TEST_SECRET.replace('whsec_', ''), 'base64').toString('utf8'),
  DECISION_SECRET,
];
let system: TestSystem;
let dynamo: DynamoDBClient;

beforeAll(async () => {
  system = await startTestSystem(START);
  dynamo = new DynamoDBClient(localClientConfig(system.local.dynamoDbEndpoint));
}, 180_000);

afterAll(async () => {
  logs.restore();
  dynamo?.destroy();
  await system?.stop();
  saveTally(tally);
});

const customer = {
  id: 'C-REL',
  name: 'Reliability Fabrication',
  email: PERSONAL.customerEmail,
  phone: PERSONAL.customerPhone,
};
const owner = { id: 'U-17', name: 'Dana Ortiz', email: PERSONAL.ownerEmail, phone: PERSONAL.ownerPhone };
const validEvent = (orderId: string, expected = '2026-03-27') =>
  delayed(system.local.clock.now().toISOString(), expected, {
    orderId,
    lineId: '1',
    originalShipDate: '2026-03-20',
    customer,
    owner,
  });

async function itemCount(): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: system.local.tableName,
        Select: 'COUNT',
        ExclusiveStartKey: start as never,
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

async function outboxSize(): Promise<number> {
  const outbox = await system.outbox();
  return outbox.emails.length + outbox.texts.length;
}

/** Every hostile answer: a 4xx, and nothing in it that is a secret or a contact detail. */
function checkAnswer(what: string, status: number, text: string, options: { personal?: boolean } = {}) {
  tally.deliveries += 1;
  if (status >= 500) tally.serverErrors += 1;
  expect(status, `${what}: ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(status, `${what}: ${text.slice(0, 200)}`).toBeLessThan(500);
  expect(linesWith([text], SECRETS), what).toEqual([]);
  if (options.personal !== false) expect(linesWith([text], personalData), what).toEqual([]);
}

async function sendRaw(body: string | Buffer, headers: Record<string, string>) {
  const response = await fetch(`${system.url}/v1/erp/events`, { method: 'POST', body, headers });
  return { status: response.status, text: await response.text() };
}

const signed = (body: string, options: { at?: Date; id?: string } = {}) =>
  signedHeaders(body, {
    at: options.at ?? system.local.clock.now(),
    ...(options.id ? { id: options.id } : {}),
  });

describe('the webhook endpoint under fuzzed input', () => {
  let items = 0;
  let sent = 0;
  beforeAll(async () => {
    items = await itemCount();
    sent = await outboxSize();
  });

  it('answers fuzzed bodies, correctly signed, with a 4xx', async () => {
    const bodies = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 6 }),
      fc
        .record({
          type: fc.constantFrom('backorder.delayed', 'backorder.shipped', 'backorder.cancelled', 'other'),
          occurredAt: fc.oneof(
            fc.string(),
            fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
          ),
          data: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })),
        })
        .map((value) => JSON.stringify(value)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        tally.eventsSent += 1;
        const answer = await sendRaw(body, signed(body));
        checkAnswer(`body ${body.slice(0, 80)}`, answer.status, answer.text);
      }),
      { numRuns: 200, seed: 1101 },
    );
  });

  it('answers fuzzed headers and signatures with a 4xx', async () => {
    const body = JSON.stringify(validEvent('SO-HOSTILE-HEADERS'));
    const printable = fc.string({ maxLength: 120 });
    const mutation = fc.oneof(
      fc.record({
        drop: fc.constantFrom('webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type'),
      }),
      fc.record({
        header: fc.constantFrom('webhook-timestamp', 'webhook-signature'),
        value: fc.oneof(
          printable,
          fc.constantFrom('', '0', '-1', '1e10', '9999999999999', '17732412000.5', ' 17', 'NaN', '0x69b1'),
          fc.base64String({ maxLength: 88 }).map((mac) => `v1,${mac}`),
          fc
            .array(fc.base64String({ minLength: 44, maxLength: 44 }), { maxLength: 20 })
            .map((macs) => macs.map((mac) => `v1,${mac}`).join(' ')),
        ),
      }),
      fc.record({
        header: fc.constant('content-type'),
        value: fc.constantFrom('text/plain', 'application/xml', '', 'json'),
      }),
      fc.record({ header: fc.constant('webhook-id'), value: printable }),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (change) => {
        tally.eventsSent += 1;
        const headers = signed(body);
        if ('drop' in change) delete headers[change.drop];
        else headers[change.header] = change.value;
        const answer = await sendRaw(body, headers);
        checkAnswer(`headers ${JSON.stringify(change).slice(0, 120)}`, answer.status, answer.text);
      }),
      { numRuns: 200, seed: 1102 },
    );
  });

  it('refuses signatures by another key, for another body, and replayed or future timestamps', async () => {
    const body = JSON.stringify(validEvent('SO-HOSTILE-SIG'));
    const other = JSON.stringify(validEvent('SO-HOSTILE-SIG', '2026-04-30'));
    const now = system.local.clock.now();
    const cases: Array<[string, string, Record<string, string>]> = [
      [
        'another key',
        body,
        signedHeaders(body, {
          at: now,
          secret: `whsec_${Buffer.from('another-secret-0123456789abcdef').toString('base64')}`,
        }),
      ],
      ['another body', body, signed(other)],
      ['six minutes old', body, signed(body, { at: new Date(now.getTime() - 6 * 60_000) })],
      ['six minutes ahead', body, signed(body, { at: new Date(now.getTime() + 6 * 60_000) })],
      ['a year ahead', body, signed(body, { at: new Date(now.getTime() + 365 * 86_400_000) })],
    ];
    for (const [what, payload, headers] of cases) {
      tally.eventsSent += 1;
      const answer = await sendRaw(payload, headers);
      expect(answer.status, what).toBe(401);
      checkAnswer(what, answer.status, answer.text);
    }
  });

  it('refuses huge and deeply nested JSON with a 4xx', async () => {
    const deepArray = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const deepObject = `${'{"a":'.repeat(40_000)}1${'}'.repeat(40_000)}`;
    const nestedInData = JSON.stringify({ ...validEvent('SO-HOSTILE-DEEP'), data: 'x' }).replace(
      '"data":"x"',
      `"data":{"orderId":"SO-HOSTILE-DEEP","lineId":"1","customer":${deepObject}}`,
    );
    const bigString = JSON.stringify({ ...validEvent('SO-HOSTILE-HUGE'), padding: 'x'.repeat(300 * 1024) });
    const manyKeys = JSON.stringify(
      Object.fromEntries(Array.from({ length: 20_000 }, (_, index) => [`k${index}`, index])),
    );
    const tenMegabytes = `{"type":"backorder.delayed","padding":"${'y'.repeat(10.5 * 1024 * 1024)}"}`;
    const pollution =
      '{"type":"backorder.delayed","__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}';
    for (const [what, body] of [
      ['100,000 nested arrays', deepArray],
      ['40,000 nested objects', deepObject],
      ['40,000 nested objects in a field', nestedInData],
      ['a 300 KiB string', bigString],
      ['20,000 keys', manyKeys],
      ['10.5 MB', tenMegabytes],
      ['prototype keys', pollution],
    ] as const) {
      tally.eventsSent += 1;
      const answer = await sendRaw(body, signed(body));
      checkAnswer(what, answer.status, answer.text);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stored nothing and sent nothing for any of them', async () => {
    await system.advance('PT1M');
    expect(await itemCount()).toBe(items);
    expect(await outboxSize()).toBe(sent);
    for (const orderId of ['SO-HOSTILE-HEADERS', 'SO-HOSTILE-SIG', 'SO-HOSTILE-DEEP', 'SO-HOSTILE-HUGE']) {
      expect((await system.get(`/v1/backorders/${orderId}/1`)).status, orderId).toBe(404);
    }
  });
});

describe('decision links under attack', () => {
  const links = { wait: '', alternative: '' };

  async function noticeLinks(orderId: string) {
    const notice = (await system.outbox()).emails
      .filter(
        (email) => email.to.includes(PERSONAL.customerEmail) && email.subject.includes(`${orderId} line`),
      )
      .at(-1);
    const found = notice?.text.match(/https?:\/\/[^\s"<>]+\/v1\/decisions\/[\w.-]+/g) ?? [];
    const kindOf = (link: string) => {
      const payload = link.split('/').pop()?.split('.')[1] ?? '';
      return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[])[3] === null
        ? 'wait'
        : 'alternative';
    };
    return {
      wait: found.find((link) => kindOf(link) === 'wait') ?? '',
      alternative: found.find((link) => kindOf(link) === 'alternative') ?? '',
    };
  }

  async function decide(link: string, method: 'GET' | 'POST') {
    const response = await fetch(link, { method });
    return { status: response.status, text: await response.text() };
  }

  beforeAll(async () => {
    const answer = await system.post(validEvent('SO-HOSTILE-DECIDE'));
    expect(answer.status).toBe(202);
    await system.advance();
    Object.assign(links, await noticeLinks('SO-HOSTILE-DECIDE'));
    expect(links.wait).toMatch(/\/v1\/decisions\//);
    expect(links.alternative).toMatch(/\/v1\/decisions\//);
  });

  it('refuses forged tokens with a 4xx and records nothing', async () => {
    const before = (await system.get('/v1/backorders/SO-HOSTILE-DECIDE/1')).body;
    const sent = await outboxSize();
    const base = links.wait.slice(0, links.wait.lastIndexOf('/') + 1);
    const genuine = links.wait.slice(links.wait.lastIndexOf('/') + 1);
    const [version = '', payload = '', mac = ''] = genuine.split('.');
    const fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
    const reencoded = (changed: unknown[]) => Buffer.from(JSON.stringify(changed)).toString('base64url');
    const crafted = [
      `${version}.${payload}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`,
      `${version}.${reencoded([fields[0], fields[1], 99, fields[3], fields[4]])}.${mac}`,
      `${version}.${reencoded([fields[0], fields[1], fields[2], 'ALT-1', fields[4]])}.${mac}`,
      `${version}.${reencoded([fields[0], fields[1], fields[2], fields[3], 4_102_444_800])}.${mac}`,
      `v2.${payload}.${mac}`,
      `${version}.${payload}`,
      `${version}.${payload}.${mac}.extra`,
      'x'.repeat(2_000),
      '',
    ];
    const random = fc.sample(fc.string({ minLength: 1, maxLength: 300 }), { numRuns: 60, seed: 1103 });
    for (const token of [...crafted, ...random]) {
      for (const method of ['GET', 'POST'] as const) {
        tally.eventsSent += 1;
        const answer = await decide(`${base}${encodeURIComponent(token)}`, method);
        checkAnswer(`${method} forged ${token.slice(0, 40)}`, answer.status, answer.text);
      }
    }
    await system.advance();
    expect((await system.get('/v1/backorders/SO-HOSTILE-DECIDE/1')).body).toEqual(before);
    expect(await outboxSize()).toBe(sent);
  });

  it('refuses a superseded notice’s link with 410, and a reused one with 409, recording one decision', async () => {
    await system.advance('PT10M');
    await system.post(validEvent('SO-HOSTILE-DECIDE', '2026-04-03'));
    await system.advance('PT5M');
    const fresh = await noticeLinks('SO-HOSTILE-DECIDE');
    const before = (await system.get('/v1/backorders/SO-HOSTILE-DECIDE/1')).body;
    const sent = await outboxSize();
    for (const method of ['GET', 'POST'] as const) {
      tally.eventsSent += 1;
      const old = await decide(links.wait, method);
      expect(old.status, `${method} superseded`).toBe(410);
      checkAnswer(`${method} superseded`, old.status, old.text, { personal: false });
    }
    expect((await system.get('/v1/backorders/SO-HOSTILE-DECIDE/1')).body).toEqual(before);
    expect(await outboxSize()).toBe(sent);

    expect((await decide(fresh.wait, 'POST')).status).toBe(200);
    for (const link of [fresh.wait, fresh.alternative]) {
      tally.eventsSent += 1;
      const again = await decide(link, 'POST');
      expect(again.status).toBe(409);
      checkAnswer('reused', again.status, again.text, { personal: false });
    }
    await system.advance('PT5M');
    const { body } = await system.get('/v1/backorders/SO-HOSTILE-DECIDE/1');
    expect(body.customerDecision).toMatchObject({ revision: 2, choice: { kind: 'wait' } });
    const toOwner = (await system.outbox()).emails.filter(
      (email) => email.to.includes(PERSONAL.ownerEmail) && email.subject.includes('SO-HOSTILE-DECIDE'),
    );
    tally.noticesExpected += 1;
    tally.noticesSent += toOwner.length;
    tally.noticesSentTwice += Math.max(0, toOwner.length - 1);
    tally.noticesMissing += toOwner.length === 0 ? 1 : 0;
    expect(toOwner).toHaveLength(1);
  });

  it('refuses an expired link with 410 and records nothing', async () => {
    const answer = await system.post(validEvent('SO-HOSTILE-EXPIRE'));
    expect(answer.status).toBe(202);
    await system.advance();
    const expiring = await noticeLinks('SO-HOSTILE-EXPIRE');
    await system.advance('P15D');
    const before = (await system.get('/v1/backorders/SO-HOSTILE-EXPIRE/1')).body;
    const sent = await outboxSize();
    for (const method of ['GET', 'POST'] as const) {
      tally.eventsSent += 1;
      const expired = await decide(expiring.alternative, method);
      expect(expired.status, method).toBe(410);
      checkAnswer(`${method} expired`, expired.status, expired.text, { personal: false });
    }
    await system.advance();
    expect((await system.get('/v1/backorders/SO-HOSTILE-EXPIRE/1')).body).toEqual(before);
    expect(await outboxSize()).toBe(sent);
  });
});

describe('logs', () => {
  it('carry no customer or owner contact detail and no secret', () => {
    const lines = logs.lines();
    tally.logLines += lines.length;
    expect(linesWith(lines, personalData)).toEqual([]);
    expect(linesWith(lines, SECRETS)).toEqual([]);
    expect(tally.serverErrors).toBe(0);
  });
});
