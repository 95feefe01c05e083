import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type BackorderKey, BackorderStore } from '#adapters/backorder-store.ts';
import { useClock } from '#adapters/clock.ts';
import { executionName, WorkflowStarter } from '#adapters/workflow-starter.ts';
import { applyEvent, type Backorder, type CustomerChoice, type RuleContext } from '#domain/backorder.ts';
import { decisionLinks } from '#domain/decision.ts';
import { signDecisionToken } from '#domain/decision-token.ts';
import type { DecisionsDependencies } from '#handlers/decisions.ts';
import { VirtualClock } from '#local/clock.ts';
import { localClientConfig } from '#local/http-service.ts';
import { type StepFunctionsLocal, startStepFunctions } from '#local/stepfunctions.ts';
import { createTestTables, type TestTables } from '#test/support/dynamodb.ts';
import { closing, delayed } from '#test/support/erp-events.ts';
import { SAMPLE_CONFIG_FILE } from '#test/support/organisation.ts';

/*
 * The decisions handler against the real local services: DynamoDB Local for the store and the
 * local Step Functions (behind the real SFN protocol) for the workflow it hands records to. The
 * state machine here only sleeps: these tests are about what the handler records and starts.
 */

const HOUR = 3_600_000;
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};
const START = '2026-03-11T15:00:00.000Z';
const LINK_EXPIRY = new Date('2026-03-25T15:00:00.000Z');
const secret = Buffer.from('decision-secret-for-tests-0123456789');
const retiredSecret = Buffer.from('the-previous-decision-secret-0123456789');
const strangerSecret = Buffer.from('a-secret-this-service-never-had-000');
const SLEEPER = { StartAt: 'Sleep', States: { Sleep: { Type: 'Wait', Seconds: 30 * 86_400, End: true } } };

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

let tables: TestTables;
let clock: VirtualClock;
let restoreClock: () => void;
let sfn: StepFunctionsLocal;
let sfnClient: SFNClient;
let stateMachineArn: string;
let store: BackorderStore;
let deps: DecisionsDependencies;
let handler: Handler;
let createHandler: (deps: DecisionsDependencies) => Handler;

beforeAll(async () => {
  tables = await createTestTables();
  clock = new VirtualClock({ start: START, followRealTime: false });
  restoreClock = useClock(clock);
  sfn = await startStepFunctions({ clock });
  stateMachineArn = sfn.registerStateMachine('DecisionsTestTimer', SLEEPER);
  sfnClient = new SFNClient(localClientConfig(sfn.endpoint));
  store = new BackorderStore(tables.client, tables.tableName('StoreTable'));

  // The module builds its own `handler` from the environment when it loads: give it a real one.
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', tables.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_SFN', sfn.endpoint);
  vi.stubEnv('TABLE_NAME', tables.tableName('StoreTable'));
  vi.stubEnv('STATE_MACHINE_ARN', stateMachineArn);
  vi.stubEnv(
    'DECISION_SECRET',
    `whsec_${secret.toString('base64')} whsec_${retiredSecret.toString('base64')}`,
  );
  vi.stubEnv('ORGANISATION_CONFIG_FILE', SAMPLE_CONFIG_FILE);
  const module = await import('#handlers/decisions.ts');
  createHandler = module.createDecisionsHandler;
  deps = {
    store,
    workflow: new WorkflowStarter(sfnClient, stateMachineArn),
    secrets: [secret, retiredSecret],
    now: () => clock.now(),
  };
  handler = createHandler(deps);
  // The first file to ask starts DynamoDB Local and synthesizes the stack: slow on a busy machine.
}, 180_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  sfnClient?.destroy();
  await sfn?.stop();
  restoreClock?.();
  tables?.close();
});

// ---------------------------------------------------------------------------------------------
// Helpers

let lines = 0;

/**
 * A backorder of its own (a fresh order id per test), opened by the contract's example, its
 * first notice sent and its timer running: the state a customer's first link finds.
 */
async function notifiedBackorder(
  change: (record: Backorder) => Backorder = (record) => record,
): Promise<Backorder> {
  lines += 1;
  const event = delayed('2026-03-10T14:05:00-05:00', '2026-03-22', { orderId: `SO-D${lines}`, lineId: '3' });
  const opened = applyEvent(undefined, event, rules).record;
  const record = change(sent(opened));
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
  await deps.workflow.handOver(record);
  return record;
}

function sent(record: Backorder): Backorder {
  return {
    ...record,
    notices: record.notices.map((notice) =>
      notice.status === 'pending' ? { ...notice, status: 'sent' as const, sentAt: notice.learnedAt } : notice,
    ),
  };
}

const ALT_1: CustomerChoice = { kind: 'alternative', alternativeId: 'ALT-1' };
const WAIT: CustomerChoice = { kind: 'wait' };

function tokenFor(
  record: Backorder,
  choice: CustomerChoice,
  options: { revision?: number; expiresAt?: Date; secret?: Buffer } = {},
): string {
  return signDecisionToken(
    {
      orderId: record.orderId,
      lineId: record.lineId,
      revision: options.revision ?? record.noticeRevision,
      choice,
      expiresAt: options.expiresAt ?? LINK_EXPIRY,
    },
    options.secret ?? secret,
  );
}

function request(method: 'GET' | 'POST' | 'HEAD' | 'PUT', token: string | undefined): APIGatewayProxyEventV2 {
  const path = `/v1/decisions/${token ?? ''}`;
  return {
    version: '2.0',
    routeKey: `${method} /v1/decisions/{token}`,
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'api.example', 'user-agent': 'vitest' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'api.example',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'request-1',
      routeKey: `${method} /v1/decisions/{token}`,
      stage: '$default',
      time: '11/Mar/2026:15:00:00 +0000',
      timeEpoch: Date.parse(START),
    },
    ...(token === undefined ? {} : { pathParameters: { token } }),
    isBase64Encoded: false,
  };
}

const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'Decisions',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:Decisions',
  memoryLimitInMB: '512',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/Decisions',
  logStreamName: 'local',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

async function call(method: 'GET' | 'POST' | 'HEAD' | 'PUT', token: string | undefined, using = handler) {
  const response = await using(request(method, token), lambdaContext);
  return {
    status: response.statusCode,
    headers: response.headers ?? {},
    body: typeof response.body === 'string' ? response.body : '',
  };
}

async function current(record: Backorder): Promise<Backorder> {
  const stored = await store.get(record);
  if (!stored) throw new Error(`${record.orderId} is gone`);
  return stored;
}

async function decisionEntries(record: Backorder) {
  return (await store.timeline(record)).filter((entry) => entry.type === 'customer.decided');
}

async function executionStatus(record: Backorder, generation: number): Promise<string> {
  const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName(record, generation)}`;
  try {
    const execution = await sfnClient.send(new DescribeExecutionCommand({ executionArn }));
    expect(JSON.parse(execution.input ?? '{}')).toEqual({
      orderId: record.orderId,
      lineId: record.lineId,
      generation,
    });
    return execution.status ?? 'UNKNOWN';
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return 'NONE';
    throw error;
  }
}

function title(body: string): string {
  return /<h1>([^<]*)<\/h1>/.exec(body)?.[1] ?? '';
}

/** Captures the handler's structured logs for a test that provokes an error on purpose. */
function quietly() {
  const lines: string[] = [];
  const keep = (line: unknown) => {
    lines.push(String(line));
  };
  const error = vi.spyOn(console, 'error').mockImplementation(keep);
  const info = vi.spyOn(console, 'info').mockImplementation(keep);
  return {
    logged: () => lines.join('\n'),
    restore: () => {
      error.mockRestore();
      info.mockRestore();
    },
  };
}

// ---------------------------------------------------------------------------------------------

describe('GET /v1/decisions/{token}', () => {
  it('shows the confirm page for the chosen option', async () => {
    const record = await notifiedBackorder();
    const response = await call('GET', tokenFor(record, ALT_1));

    expect(response.status).toBe(200);
    expect(title(response.body)).toBe('Confirm your choice');
    expect(response.body).toContain(`${record.orderId} line 3`);
    expect(response.body).toContain('Price difference: +$12.00/ton');
    expect(response.body).toContain('<form method="post">');
  });

  it('changes nothing: no decision, no version, no timeline entry, no new execution', async () => {
    const record = await notifiedBackorder();
    for (const choice of [ALT_1, WAIT]) await call('GET', tokenFor(record, choice));

    expect(await current(record)).toEqual(record);
    expect(await decisionEntries(record)).toEqual([]);
    expect(await executionStatus(record, 1)).toBe('RUNNING');
    expect(await executionStatus(record, 2)).toBe('NONE');
  });

  it('answers HEAD like GET, changing nothing', async () => {
    const record = await notifiedBackorder();
    expect((await call('HEAD', tokenFor(record, WAIT))).status).toBe(200);
    expect(await current(record)).toEqual(record);
  });

  it('shows what was already chosen, with 200, once a decision is on record', async () => {
    const record = await notifiedBackorder();
    await call('POST', tokenFor(record, ALT_1));
    const response = await call('GET', tokenFor(record, WAIT));

    expect(response.status).toBe(200);
    expect(title(response.body)).toBe('You already chose: 3/16&quot; HRC from alternate source');
    expect(response.body).not.toContain('<form');
  });

  it('answers with an HTML page that is never cached and runs no script', async () => {
    const record = await notifiedBackorder();
    const { headers } = await call('GET', tokenFor(record, WAIT));
    expect(headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    expect(headers['content-security-policy']).toContain("default-src 'none'");
  });
});

describe('POST /v1/decisions/{token}', () => {
  it('records the decision, confirms it, and hands the new generation to the workflow', async () => {
    const record = await notifiedBackorder();
    const response = await call('POST', tokenFor(record, ALT_1));

    expect(response.status).toBe(200);
    expect(title(response.body)).toBe('Thank you: your choice is recorded');
    expect(response.body).toContain('Dana Ortiz will be told right away');

    const stored = await current(record);
    expect(stored.customerDecision).toEqual({ revision: 1, choice: ALT_1, decidedAt: START });
    expect(stored.version).toBe(record.version + 1);
    expect(stored.generation).toBe(record.generation + 1);
    // The workflow of the new generation owns the timers (and tells the owner); the old one is stopped.
    expect(await executionStatus(record, 2)).toBe('RUNNING');
    expect(await executionStatus(record, 1)).toBe('ABORTED');
  });

  it('puts the decision on the backorder’s timeline', async () => {
    const record = await notifiedBackorder();
    await call('POST', tokenFor(record, WAIT));

    const entries = await decisionEntries(record);
    expect(entries).toEqual([
      {
        occurredAt: START,
        receivedAt: START,
        type: 'customer.decided',
        result: 'recorded',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        summary: 'chose to wait (notice 1)',
      },
    ]);
  });

  it('answers a second decision for the same notice with 409 and what was already chosen', async () => {
    const record = await notifiedBackorder();
    await call('POST', tokenFor(record, ALT_1));
    const decided = await current(record);
    const response = await call('POST', tokenFor(record, WAIT));

    expect(response.status).toBe(409);
    expect(title(response.body)).toBe('You already chose: 3/16&quot; HRC from alternate source');
    expect(await current(record)).toEqual(decided);
    expect(await decisionEntries(record)).toHaveLength(1);
  });

  it('records exactly one of several simultaneous decisions, and answers the others 409', async () => {
    const record = await notifiedBackorder();
    const tokens = [ALT_1, WAIT, ALT_1, WAIT, ALT_1].map((choice) => tokenFor(record, choice));
    const responses = await Promise.all(tokens.map((token) => call('POST', token)));

    expect(responses.map((response) => response.status).sort()).toEqual([200, 409, 409, 409, 409]);
    const stored = await current(record);
    expect(stored.version).toBe(record.version + 1);
    expect(stored.generation).toBe(record.generation + 1);
    expect(await decisionEntries(record)).toHaveLength(1);
    const winner = responses.findIndex((response) => response.status === 200);
    expect(stored.customerDecision?.choice).toEqual([ALT_1, WAIT, ALT_1, WAIT, ALT_1][winner]);
  });

  it('re-reads and records when the backorder changed since it was read', async () => {
    const record = await notifiedBackorder();
    // Another writer (the workflow's bookkeeping) moves the record on under the handler.
    const moved: Backorder = {
      ...record,
      nextActionAt: '2026-03-12T15:00:00.000Z',
      version: record.version + 1,
    };
    const racing = createHandler({
      ...deps,
      store: Object.assign(Object.create(store) as BackorderStore, {
        get: async (key: BackorderKey) => {
          const read = await store.get(key);
          if (read?.version === record.version) await store.update(moved, record.version);
          return read;
        },
      }),
    });

    const response = await call('POST', tokenFor(record, WAIT), racing);

    expect(response.status).toBe(200);
    const stored = await current(record);
    expect(stored.version).toBe(record.version + 2);
    expect(stored.nextActionAt).toBe(moved.nextActionAt);
    expect(stored.customerDecision?.choice).toEqual(WAIT);
  });

  it('records a decision made with a link signed by the previous secret while it is still active', async () => {
    const record = await notifiedBackorder();
    const response = await call('POST', tokenFor(record, ALT_1, { secret: retiredSecret }));
    expect(response.status).toBe(200);
    expect((await current(record)).customerDecision?.choice).toEqual(ALT_1);
  });

  it('accepts the links the notice sends', async () => {
    const record = await notifiedBackorder();
    const links = decisionLinks(record, 1, secret, 'https://api.example', LINK_EXPIRY);
    const token = links.wait.split('/').at(-1);
    expect((await call('POST', token)).status).toBe(200);
  });
});

describe('a link that records nothing', () => {
  async function expectNothingRecorded(record: Backorder): Promise<void> {
    const stored = await current(record);
    expect(stored.version).toBe(record.version);
    expect(stored.customerDecision).toEqual(record.customerDecision);
    expect(await decisionEntries(record)).toEqual([]);
  }

  it('is superseded (410) when a newer notice was sent', async () => {
    const record = await notifiedBackorder((opened) =>
      sent(applyEvent(opened, delayed('2026-03-11T09:00:00-05:00', '2026-03-29'), rules).record),
    );
    const oldLink = tokenFor(record, ALT_1, { revision: 1 });
    for (const method of ['GET', 'POST'] as const) {
      const response = await call(method, oldLink);
      expect(response.status).toBe(410);
      expect(title(response.body)).toBe('A newer notice replaced this link');
    }
    await expectNothingRecorded(record);
  });

  it('is expired (410) from the instant it expires', async () => {
    const record = await notifiedBackorder();
    const expired = tokenFor(record, ALT_1, { expiresAt: new Date(START) });
    for (const method of ['GET', 'POST'] as const) {
      const response = await call(method, expired);
      expect(response.status).toBe(410);
      expect(title(response.body)).toBe('This link has expired');
      expect(response.body).toContain(`${record.orderId} line 3`);
    }
    await expectNothingRecorded(record);
  });

  it('is forged (400) when tampered with, signed with an unknown secret, or not a token at all', async () => {
    const record = await notifiedBackorder();
    const genuine = tokenFor(record, ALT_1);
    const tampered = `${genuine.slice(0, -1)}${genuine.endsWith('A') ? 'B' : 'A'}`;
    const tokens = [
      tampered,
      tokenFor(record, ALT_1, { secret: strangerSecret }),
      'not-a-token',
      '%3Cscript%3E',
    ];
    for (const token of tokens) {
      for (const method of ['GET', 'POST'] as const) {
        const response = await call(method, token);
        expect(response.status, `${method} ${token}`).toBe(400);
        expect(title(response.body)).toBe('This link is not valid');
      }
    }
    await expectNothingRecorded(record);
  });

  it('is invalid (400) without a token', async () => {
    expect((await call('GET', undefined)).status).toBe(400);
    expect((await call('POST', '')).status).toBe(400);
  });

  it('is refused (410) once the order line shipped', async () => {
    const record = await notifiedBackorder(
      (opened) =>
        applyEvent(opened, closing('backorder.shipped', '2026-03-11T08:00:00-05:00', opened), rules).record,
    );
    for (const method of ['GET', 'POST'] as const) {
      const response = await call(method, tokenFor(record, WAIT));
      expect(response.status).toBe(410);
      expect(title(response.body)).toBe('This order line has shipped');
    }
    await expectNothingRecorded(record);
  });

  it('is refused (410) for an alternative that is no longer offered', async () => {
    const record = await notifiedBackorder();
    const gone = tokenFor(record, { kind: 'alternative', alternativeId: 'ALT-7' });
    for (const method of ['GET', 'POST'] as const) {
      const response = await call(method, gone);
      expect(response.status).toBe(410);
      expect(title(response.body)).toBe('This option is no longer available');
    }
    await expectNothingRecorded(record);
  });

  it('is not found (404) when the backorder is not on record', async () => {
    const token = signDecisionToken(
      { orderId: 'SO-NOPE', lineId: '1', revision: 1, choice: WAIT, expiresAt: LINK_EXPIRY },
      secret,
    );
    for (const method of ['GET', 'POST'] as const) {
      const response = await call(method, token);
      expect(response.status).toBe(404);
      expect(title(response.body)).toBe('We cannot find this order line');
    }
    expect(await store.get({ orderId: 'SO-NOPE', lineId: '1' })).toBeUndefined();
  });

  it('is refused (405) for another method', async () => {
    const record = await notifiedBackorder();
    const response = await call('PUT', tokenFor(record, WAIT));
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, POST');
    await expectNothingRecorded(record);
  });
});

describe('when a service fails', () => {
  it('keeps the decision and offers to finish when the workflow cannot be started, then finishes', async () => {
    const record = await notifiedBackorder();
    const missingMachine = stateMachineArn.replace('DecisionsTestTimer', 'NoSuchMachine');
    const broken = createHandler({ ...deps, workflow: new WorkflowStarter(sfnClient, missingMachine) });
    const log = quietly();
    let first: Awaited<ReturnType<typeof call>>;
    try {
      first = await call('POST', tokenFor(record, ALT_1), broken);
    } finally {
      log.restore();
    }

    expect(first.status).toBe(503);
    expect(title(first.body)).toBe('Your choice is saved: one more step');
    expect(first.body).toContain('<button type="submit">Finish</button>');
    expect((await current(record)).customerDecision?.choice).toEqual(ALT_1);
    expect(log.logged()).toContain('workflow hand-off failed');
    expect(log.logged()).not.toContain(tokenFor(record, ALT_1));

    // The Finish button posts again: the decision stands (409) and the workflow is handed the record.
    const second = await call('POST', tokenFor(record, ALT_1));
    expect(second.status).toBe(409);
    expect(await executionStatus(record, 2)).toBe('RUNNING');
    expect(await executionStatus(record, 1)).toBe('ABORTED');
  });

  it('answers 500 with an HTML page, and logs without the token, when the store fails', async () => {
    const record = await notifiedBackorder();
    const missingTable = new BackorderStore(
      new DynamoDBClient(localClientConfig(tables.endpoint)),
      'no-such-table',
    );
    const broken = createHandler({ ...deps, store: missingTable });
    const token = tokenFor(record, ALT_1);
    const log = quietly();
    let response: Awaited<ReturnType<typeof call>>;
    try {
      response = await call('POST', token, broken);
    } finally {
      log.restore();
    }

    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(title(response.body)).toBe('Something went wrong');
    expect(log.logged()).toContain('ResourceNotFoundException');
    expect(log.logged()).not.toContain(token);
  });
});

describe('the handler built from the environment', () => {
  it('reads the table, the state machine and the rotating secrets from its variables', async () => {
    const { handler: fromEnvironment } = await import('#handlers/decisions.ts');
    const record = await notifiedBackorder();

    const page = await call('GET', tokenFor(record, ALT_1, { secret: retiredSecret }), fromEnvironment);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Gulf Plains Steel Service');

    const log = quietly();
    try {
      expect((await call('POST', tokenFor(record, ALT_1), fromEnvironment)).status).toBe(200);
    } finally {
      log.restore();
    }
    expect(await executionStatus(record, 2)).toBe('RUNNING');
  });
});
