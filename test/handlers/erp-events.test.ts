import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSecrets } from '#adapters/webhook-signature.ts';
import { WorkflowStarter } from '#adapters/workflow-starter.ts';
import { localClientConfig } from '#local/http-service.ts';
import { closing, delayed } from '#test/support/erp-events.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';
import { SAMPLE_CONFIG_FILE } from '#test/support/organisation.ts';
import { signedHeaders, TEST_SECRET } from '#test/support/signing.ts';

/*
 * CONTRACT §1 over HTTP against the whole local system: the HTTP API routes from the synthesized
 * template, the ingest handler, DynamoDB Local and the local Step Functions.
 */

const START = '2026-03-10T19:10:00Z';
let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem(START);
}, 180_000);

afterAll(async () => {
  await system?.stop();
});

const line = (orderId: string) => ({ orderId, lineId: '1' });
const at = (minutes: number) => new Date(Date.parse('2026-03-10T18:00:00Z') + minutes * 60_000).toISOString();

async function itemCount(): Promise<number> {
  const page = await system.dynamo.send(
    new ScanCommand({ TableName: system.local.tableName, Select: 'COUNT' }),
  );
  return page.Count ?? 0;
}

async function timeline(orderId: string) {
  const { body } = await system.get(`/v1/backorders/${orderId}/1`);
  return body.timeline as { result: string; id: string }[];
}

describe('accepted events', () => {
  it('answers opened, slipped, improved, unchanged and closed as the line changes', async () => {
    const key = line('SO-RESULTS');
    const results = [];
    for (const event of [
      delayed(at(0), '2026-03-22', key),
      delayed(at(1), '2026-03-29', key),
      delayed(at(2), '2026-03-25', key),
      delayed(at(3), '2026-03-25', key),
      closing('backorder.shipped', at(4), key),
    ]) {
      results.push(await system.post(event));
    }

    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(results.map((r) => r.body.result)).toEqual([
      'opened',
      'slipped',
      'improved',
      'unchanged',
      'closed',
    ]);
    expect(results[0]?.body.backorderId).toBe('SO-RESULTS/1');
    const { body } = await system.get('/v1/backorders/SO-RESULTS/1');
    expect(body).toMatchObject({
      status: 'closed',
      expectedShipDate: '2026-03-25',
      slipCount: 2,
      escalationLevel: 'manager',
    });
  });

  it('keeps an older report in the timeline as stale and changes nothing', async () => {
    const key = line('SO-STALE');
    await system.post(delayed(at(0), '2026-03-22', key));
    await system.post(delayed(at(10), '2026-03-29', key));
    const stale = await system.post(delayed(at(5), '2026-04-05', key));

    expect(stale).toEqual({ status: 202, body: { backorderId: 'SO-STALE/1', result: 'stale' } });
    const { body } = await system.get('/v1/backorders/SO-STALE/1');
    expect(body.expectedShipDate).toBe('2026-03-29');
    // The timeline reads in business order: the late report sits where it happened.
    expect((body.timeline as { result: string }[]).map((entry) => entry.result)).toEqual([
      'opened',
      'stale',
      'slipped',
    ]);
  });

  it('answers a repeated message id with the first answer and does nothing twice', async () => {
    const event = delayed(at(0), '2026-03-22', line('SO-DUPLICATE'));
    const first = await system.post(event, { id: 'msg_duplicate' });
    // The ERP's retry may even carry a different body: the first answer stands.
    const again = await system.post(
      { ...event, data: { ...event.data, expectedShipDate: '2026-04-30' } },
      { id: 'msg_duplicate' },
    );

    expect(again).toEqual(first);
    expect(await timeline('SO-DUPLICATE')).toHaveLength(1);
    await system.advance();
    const notices = (await system.outbox()).emails.filter((email) => email.subject.includes('SO-DUPLICATE'));
    expect(notices).toHaveLength(1);
  });

  it('processes a message delivered ten times at once exactly once', async () => {
    const event = delayed(at(0), '2026-03-22', line('SO-RACE'));
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => system.post(event, { id: 'msg_race' })),
    );

    for (const response of responses) {
      expect(response).toEqual({ status: 202, body: { backorderId: 'SO-RACE/1', result: 'opened' } });
    }
    expect(await timeline('SO-RACE')).toHaveLength(1);
  });

  it('loses none of 20 concurrent events for one line, and the newest wins', async () => {
    const key = line('SO-CONCURRENT');
    await system.post(delayed(at(0), '2026-03-22', key));
    const events = Array.from({ length: 20 }, (_, index) =>
      delayed(at(index + 1), `2026-04-${String(index + 1).padStart(2, '0')}`, key),
    );
    const responses = await Promise.all(events.map((event) => system.post(event)));

    expect(responses.every((r) => r.status === 202)).toBe(true);
    const { body } = await system.get('/v1/backorders/SO-CONCURRENT/1');
    expect(body.expectedShipDate).toBe('2026-04-20');
    expect((body.timeline as unknown[]).length).toBe(21);
    const applied = responses.filter((r) => r.body.result !== 'stale').length;
    expect(body.slipCount).toBe(1 + responses.filter((r) => r.body.result === 'slipped').length);
    expect(applied).toBeGreaterThan(0);
  });
});

describe('rejected requests', () => {
  const body = JSON.stringify(delayed(at(0), '2026-03-22', line('SO-REJECTED')));

  async function send(payload: string, headers: Record<string, string>) {
    const response = await fetch(`${system.url}/v1/erp/events`, { method: 'POST', body: payload, headers });
    return { status: response.status, body: await response.json().catch(() => undefined) };
  }

  it('refuses a bad signature or a stale timestamp with 401', async () => {
    const forged = signedHeaders(body, {
      at: new Date(START),
      secret: `whsec_${Buffer.from('not-our-secret-0000000000').toString('base64')}`,
    });
    const old = signedHeaders(body, { at: new Date(Date.parse(START) - 6 * 60_000) });
    expect(await send(body, forged)).toEqual({ status: 401, body: { error: 'unauthorized' } });
    expect(await send(body, old)).toEqual({ status: 401, body: { error: 'unauthorized' } });
  });

  it('refuses what is not JSON with 415 or 400', async () => {
    const text = await send(body, {
      ...signedHeaders(body, { at: new Date(START) }),
      'content-type': 'text/plain',
    });
    const broken = await send('{"type":', signedHeaders('{"type":', { at: new Date(START) }));
    expect(text).toMatchObject({ status: 415, body: { error: 'unsupported_media_type' } });
    expect(broken).toMatchObject({ status: 400, body: { error: 'invalid_json' } });
  });

  it('names the offending field of a schema violation', async () => {
    const response = await system.post(delayed(at(0), 'next week', line('SO-REJECTED')));
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: 'invalid_event',
      issues: [{ path: 'data.expectedShipDate', message: 'expected a date as YYYY-MM-DD' }],
    });
  });

  it('refuses a new backorder that is not late with 422, and closing an unknown line with 404', async () => {
    const early = await system.post(delayed(at(0), '2026-03-15', line('SO-REJECTED')));
    const unknown = await system.post(closing('backorder.cancelled', at(0), line('SO-NEVER')));
    expect(early).toMatchObject({ status: 422, body: { error: 'not_a_delay' } });
    expect(unknown).toMatchObject({ status: 404, body: { error: 'unknown_backorder' } });
  });

  it('refuses a body over 256 KiB with 413', async () => {
    const huge = JSON.stringify({ ...JSON.parse(body), padding: 'x'.repeat(256 * 1024) });
    expect((await send(huge, signedHeaders(huge, { at: new Date(START) }))).status).toBe(413);
  });

  it('stores nothing for any of them', async () => {
    expect((await system.get('/v1/backorders/SO-REJECTED/1')).status).toBe(404);
    expect((await system.get('/v1/backorders/SO-NEVER/1')).status).toBe(404);
  });
});

describe('the workflow hand-off', () => {
  it('answers 503 when the timer cannot be started, and the ERP retry leaves exactly one live execution', async () => {
    const { createErpEventsHandler } = await import('#handlers/erp-events.ts');
    const { store } = system;
    const stateMachineArn = system.timerArn;
    const unreachable = new WorkflowStarter(
      new SFNClient({ ...localClientConfig('http://127.0.0.1:9'), maxAttempts: 1 }),
      stateMachineArn,
    );
    const failing = createErpEventsHandler({
      store,
      workflow: unreachable,
      secrets: parseSecrets(TEST_SECRET),
      rules: (await import('#adapters/organisation.ts')).loadOrganisation(SAMPLE_CONFIG_FILE).policy,
      now: () => system.local.clock.now(),
    });
    const event = delayed(at(0), '2026-03-22', line('SO-HANDOFF'));
    const payload = JSON.stringify(event);
    const headers = signedHeaders(payload, { id: 'msg_handoff', at: system.local.clock.now() });

    const first = (await failing(
      { headers, body: payload, isBase64Encoded: false } as unknown as APIGatewayProxyEventV2,
      {} as Context,
    )) as APIGatewayProxyStructuredResultV2;
    const retry = await system.post(event, { id: 'msg_handoff' });

    expect(first.statusCode).toBe(503);
    expect(retry).toEqual({ status: 202, body: { backorderId: 'SO-HANDOFF/1', result: 'opened' } });
    const running = await system.sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING' }),
    );
    expect(running.executions?.filter((execution) => execution.name?.startsWith('SO-HANDOFF'))).toHaveLength(
      1,
    );
  });
});

describe('hostile input', () => {
  it('answers thousands of malformed bodies and headers with a 4xx and stores nothing', async () => {
    const { createErpEventsHandler } = await import('#handlers/erp-events.ts');
    const handler = createErpEventsHandler({
      store: system.store,
      workflow: new WorkflowStarter(system.sfn, system.timerArn),
      secrets: parseSecrets(TEST_SECRET),
      rules: (await import('#adapters/organisation.ts')).loadOrganisation(SAMPLE_CONFIG_FILE).policy,
      now: () => system.local.clock.now(),
    });
    const invoke = (body: string, headers: Record<string, string>) =>
      handler(
        { headers, body, isBase64Encoded: false } as unknown as APIGatewayProxyEventV2,
        {} as Context,
      ) as Promise<APIGatewayProxyStructuredResultV2>;
    const valid = delayed(at(0), '2026-03-22', line('SO-FUZZ'));
    const requiredPaths = [
      ['type'],
      ['occurredAt'],
      ['data', 'orderId'],
      ['data', 'customer', 'email'],
      ['data', 'quantity', 'amount'],
      ['data', 'originalShipDate'],
      ['data', 'expectedShipDate'],
      ['data', 'reason', 'code'],
      ['data', 'owner'],
    ];
    // Each of these is wrong for every path above: no mutation can stay valid by chance.
    const wrongValue = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.constant(''),
      fc.array(fc.string()),
      fc.object(),
    );
    const brokenEvent = fc.tuple(fc.constantFrom(...requiredPaths), wrongValue).map(([path, value]) => {
      const copy = structuredClone(valid) as unknown as Record<string, unknown>;
      let target = copy;
      for (const step of path.slice(0, -1)) target = target[step] as Record<string, unknown>;
      target[path.at(-1) as string] = value;
      return JSON.stringify(copy);
    });
    const body = fc.oneof(
      fc.string(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      brokenEvent,
    );
    // Timers of earlier tests may still be recording what they sent: let them finish first.
    await system.advance();
    const before = await itemCount();

    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const response = await invoke(payload, signedHeaders(payload, { at: system.local.clock.now() }));
        expect(response.statusCode).toBeGreaterThanOrEqual(400);
        expect(response.statusCode).toBeLessThan(500);
      }),
      { numRuns: 2000 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type'),
          fc.string(),
        ),
        async (headers) => {
          const response = await invoke(JSON.stringify(valid), headers);
          expect(response.statusCode).toBe(401);
        },
      ),
      { numRuns: 1000 },
    );
    expect(await itemCount()).toBe(before);
  });
});
