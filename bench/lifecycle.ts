import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { loadOrganisation } from '#adapters/organisation.ts';
import { localClientConfig } from '#local/http-service.ts';
import { LocalFunctions } from '#local/stepfunctions/lambda.ts';
import { closing, delayed } from '#test/support/erp-events.ts';
import { type DynamoDbMeter, type Item, itemSize, meterDelta, startDynamoDbMeter } from './dynamodb-meter.ts';
import { smsParts } from './prices.ts';
import { BenchSystem, bundledConfigFile, median, waitLink } from './support.ts';

/**
 * Section 1: what one backorder costs, counted on scripted lifecycles run on the whole local
 * system (the synthesized state machine, the real handlers, DynamoDB Local behind the metering
 * proxy, the SES and SNS emulators), one lifecycle at a time so every count belongs to it.
 */

export type LifecycleKind = 'simple' | 'typical' | 'long';

/** Counts for one lifecycle (medians over the repetitions). */
export interface LifecycleCounts {
  kind: LifecycleKind;
  repetitions: number;
  /** Days from open to shipped, in virtual time. */
  openDays: number;
  executions: number;
  stateTransitions: number;
  /** Wait states of the backorder timer that woke (not those stopped while asleep). */
  wakeUps: number;
  /** State transitions of the backorder timer from a wake-up to the next wait or the end, per wake-up. */
  transitionsPerWakeUp: number;
  apiRequests: number;
  /** Median wall-clock ms per API request (client-side: the handler plus loopback HTTP). */
  apiMs: number[];
  stepInvocations: number;
  stepMs: number[];
  /** Lambda GB-seconds, each invocation rounded up to the millisecond as Lambda bills. */
  lambdaGbSeconds: number;
  readUnits: number;
  writeUnits: number;
  dynamoDbRequests: number;
  failedWrites: number;
  emails: number;
  texts: number;
  smsParts: number;
  textsByAudience: Record<string, number>;
  /** Worst lateness of a timer, ms: a Wait state that woke after the instant it waited for. */
  worstLatenessMs: number;
  /** Worst delay of a manager or VP text after it fell due, ms (includes the text-grouping window). */
  worstTextDelayMs: number;
  /** Executions by state machine name (the backorder timer, text batches, …). */
  executionsByMachine: Record<string, number>;
  /** Bytes of the backorder's record item at the end (AWS item-size rules). */
  recordBytes: number;
}

export interface LifecycleResult {
  lifecycles: LifecycleCounts[];
  /** The metering proxy checked against AWS's rules on known items. */
  meterSelfCheck: Array<{ case: string; expected: number; counted: number }>;
}

interface Run {
  invocations: Array<{ name: string; ms: number; memoryMb: number }>;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Tuesday 2026-04-07, 09:00 in Chicago (CDT): every lifecycle starts on a Tuesday morning. */
const FIRST_START = Date.parse('2026-04-07T14:00:00Z');

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export async function lifecycleBench(options: {
  dynamoDbEndpoint: string;
  repetitions: number;
}): Promise<LifecycleResult> {
  const meter = await startDynamoDbMeter(options.dynamoDbEndpoint);
  const meterSelfCheck = await selfCheck(meter);
  const system = await BenchSystem.start({
    dynamoDbEndpoint: meter.endpoint,
    tablePrefix: `bench-life-${process.pid}-`,
    clockStart: new Date(FIRST_START - HOUR).toISOString(),
  });
  const sfn = new SFNClient(localClientConfig(system.local.stepFunctions.endpoint));
  // Reads for the bench's own bookkeeping go straight to DynamoDB Local, past the meter.
  const direct = new DynamoDBClient(localClientConfig(options.dynamoDbEndpoint));
  const { policy } = loadOrganisation(bundledConfigFile(new Date(FIRST_START)));

  // Lambda duration of Step Functions tasks: the local runtime's invoke, timed around the handler.
  const run: Run = { invocations: [] };
  const invoke = LocalFunctions.prototype.invoke;
  LocalFunctions.prototype.invoke = async function timed(this: LocalFunctions, fn, payload) {
    const started = performance.now();
    try {
      return await invoke.call(this, fn, payload);
    } finally {
      run.invocations.push({ name: fn.name, ms: performance.now() - started, memoryMb: fn.memorySizeMb });
    }
  };

  const apiMemoryMb = 512;
  const results: LifecycleCounts[] = [];
  let start = FIRST_START;
  let sequence = 0;
  try {
    for (const kind of ['simple', 'typical', 'long'] as const) {
      const samples: LifecycleCounts[] = [];
      for (let repetition = 0; repetition < options.repetitions; repetition++) {
        sequence += 1;
        const key = { orderId: `SO-BENCH-${kind.toUpperCase()}-${sequence}`, lineId: '1' };
        await system.advanceTo(new Date(start));
        const startedAt = system.local.clock.now().getTime();
        run.invocations = [];
        system.apiCalls.length = 0;
        const meterBefore = meter.totals();
        const emailsBefore = system.local.ses.records().length;
        const textsBefore = system.local.sns.records().length;

        const due = await script(kind, key, start, system, policy);

        const used = meterDelta(meter.totals(), meterBefore);
        const emails = system.local.ses.records().slice(emailsBefore);
        const texts = system.local.sns.records().slice(textsBefore);
        const history = await histories(sfn, startedAt);
        let worstTextDelayMs = 0;
        for (const { audience, dueAt } of due.texts) {
          const sent = texts.find((text) => text.audience === audience);
          if (!sent) throw new Error(`${kind}: no ${audience} text for ${key.orderId}`);
          worstTextDelayMs = Math.max(worstTextDelayMs, Date.parse(sent.at) - dueAt.getTime());
        }
        const stepRuns = run.invocations;
        const api = system.apiCalls;
        const gbSeconds =
          stepRuns.reduce((sum, call) => sum + (Math.ceil(call.ms) * call.memoryMb) / 1024 / 1000, 0) +
          api.reduce((sum, call) => sum + (Math.ceil(call.ms) * apiMemoryMb) / 1024 / 1000, 0);
        const byAudience: Record<string, number> = {};
        for (const text of texts) {
          const audience = text.audience ?? 'unaddressed';
          byAudience[audience] = (byAudience[audience] ?? 0) + text.to.length;
        }
        const raw = await direct.send(
          new GetItemCommand({
            TableName: system.local.tableName,
            Key: {
              pk: { S: `BACKORDER#${encodeURIComponent(key.orderId)}#${encodeURIComponent(key.lineId)}` },
              sk: { S: 'RECORD' },
            },
          }),
        );
        samples.push({
          kind,
          repetitions: 1,
          openDays: due.openDays,
          executions: history.executions,
          stateTransitions: history.transitions,
          wakeUps: history.wakeUps,
          transitionsPerWakeUp: history.wakeUps ? history.wakeUpTransitions / history.wakeUps : 0,
          apiRequests: api.length,
          apiMs: api.map((call) => call.ms),
          stepInvocations: history.lambdaInvocations,
          stepMs: stepRuns.map((call) => call.ms),
          lambdaGbSeconds: gbSeconds,
          readUnits: used.readUnits,
          writeUnits: used.writeUnits,
          dynamoDbRequests: used.requests,
          failedWrites: used.failedWrites,
          emails: emails.reduce((sum, email) => sum + email.to.length, 0),
          texts: texts.reduce((sum, text) => sum + text.to.length, 0),
          smsParts: texts.reduce((sum, text) => sum + text.to.length * smsParts(text.message), 0),
          textsByAudience: byAudience,
          worstLatenessMs: history.worstLatenessMs,
          worstTextDelayMs,
          executionsByMachine: history.byMachine,
          recordBytes: raw.Item ? itemSize(raw.Item as Item) : 0,
        });
        // The next lifecycle starts on the Tuesday after this one ended.
        const ended = system.local.clock.now().getTime();
        start = FIRST_START + Math.ceil((ended - FIRST_START + DAY) / (7 * DAY)) * 7 * DAY;
      }
      results.push(medianCounts(kind, samples));
    }
  } finally {
    LocalFunctions.prototype.invoke = invoke;
    sfn.destroy();
    direct.destroy();
    await system.stop();
    await meter.close();
  }
  return { lifecycles: results, meterSelfCheck };
}

/**
 * The scripted lifecycles. Each starts on a Tuesday at 09:00 in Chicago with a line promised for
 * the Monday after next and now expected a week later.
 * - simple: open → notice → shipped the next day.
 * - typical: open → notice → the customer chooses to wait (2 h later) → the date slips again on
 *   Friday → manager text and an updated notice → shipped 10 days after opening.
 * - long: as typical, then 14 days past the original date → VP text → shipped 22 days after opening.
 * Owner reminders fire whenever 18 business hours pass without news, as configured.
 */
async function script(
  kind: LifecycleKind,
  key: { orderId: string; lineId: string },
  start: number,
  system: BenchSystem,
  policy: ReturnType<typeof loadOrganisation>['policy'],
): Promise<{ openDays: number; texts: Array<{ audience: string; dueAt: Date }> }> {
  const original = isoDate(start + 6 * DAY);
  const at = (offset: number) => new Date(start + offset).toISOString();
  const expect = (status: number, what: string) => {
    if (status !== 202 && status !== 200)
      throw new Error(`${kind} ${key.orderId}: ${what} answered ${status}`);
  };
  const texts: Array<{ audience: string; dueAt: Date }> = [];

  expect(
    (await system.post(delayed(at(0), isoDate(start + 13 * DAY), { ...key, originalShipDate: original })))
      .status,
    'open',
  );
  await system.settle();
  let shippedAfter = DAY;
  if (kind !== 'simple') {
    await system.advanceTo(new Date(start + 2 * HOUR));
    const notice = system.local.ses
      .records()
      .find(
        (email) => email.subject.includes(key.orderId) && email.to.includes('purchasing@lonestarfab.example'),
      );
    const link = notice?.text ? waitLink(notice.text) : undefined;
    if (!link) throw new Error(`${kind} ${key.orderId}: no decision link in the notice`);
    expect(await system.decide(link), 'decision');
    await system.settle();

    const slipAt = start + 3 * DAY;
    await system.advanceTo(new Date(slipAt));
    expect(
      (
        await system.post(
          delayed(at(3 * DAY), isoDate(start + 20 * DAY), { ...key, originalShipDate: original }),
        )
      ).status,
      'slip',
    );
    await system.settle();
    texts.push({ audience: 'manager', dueAt: policy.textSlot(new Date(slipAt)) });
    shippedAfter = 10 * DAY;
  }
  if (kind === 'long') {
    texts.push({ audience: 'vp', dueAt: policy.textSlot(policy.vpDueAt(original)) });
    shippedAfter = 22 * DAY;
  }
  await system.advanceTo(new Date(start + shippedAfter));
  expect((await system.post(closing('backorder.shipped', at(shippedAfter), key))).status, 'shipped');
  await system.settle();
  return { openDays: shippedAfter / DAY, texts };
}

interface HistoryCounts {
  executions: number;
  transitions: number;
  wakeUps: number;
  wakeUpTransitions: number;
  lambdaInvocations: number;
  worstLatenessMs: number;
  byMachine: Record<string, number>;
}

/**
 * State transitions as AWS bills them: every state entered, and every retry of a task (a task
 * scheduled again without entering its state again). From GetExecutionHistory of every execution
 * of every state machine started since the lifecycle began (the backorder's timers, superseded
 * and stopped ones included, and the text batches its texts went out in): lifecycles run one at
 * a time, so all of them belong to it.
 */
async function histories(sfn: SFNClient, since: number): Promise<HistoryCounts> {
  const counts: HistoryCounts = {
    executions: 0,
    transitions: 0,
    wakeUps: 0,
    wakeUpTransitions: 0,
    lambdaInvocations: 0,
    worstLatenessMs: 0,
    byMachine: {},
  };
  const machines = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? [];
  const arns: Array<{ machine: string; executionArn: string }> = [];
  for (const machine of machines) {
    let token: string | undefined;
    do {
      const page = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: machine.stateMachineArn, nextToken: token }),
      );
      for (const execution of page.executions ?? []) {
        const started = execution.startDate?.getTime() ?? 0;
        if (started >= since && execution.executionArn) {
          arns.push({ machine: machine.name ?? 'unknown', executionArn: execution.executionArn });
        }
      }
      token = page.nextToken;
    } while (token);
  }
  for (const { machine, executionArn } of arns) {
    counts.executions += 1;
    counts.byMachine[machine] = (counts.byMachine[machine] ?? 0) + 1;
    const events = [];
    let next: string | undefined;
    do {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, nextToken: next, maxResults: 1000 }),
      );
      events.push(...(page.events ?? []));
      next = page.nextToken;
    } while (next);
    // Wake-ups are counted on the backorder timer; a text batch waits once, for its window.
    const timer = machine.includes('BackorderTimer');
    let entered = 0;
    let scheduled = 0;
    let inWakeUp = false;
    let waitingFor: number | undefined;
    for (const event of events) {
      const type = event.type ?? '';
      const transition =
        type.endsWith('StateEntered') ||
        ((type === 'LambdaFunctionScheduled' || type === 'TaskScheduled') && scheduled++ >= entered);
      if (type === 'TaskStateEntered') entered += 1;
      if (type === 'LambdaFunctionScheduled') counts.lambdaInvocations += 1;
      if (type === 'WaitStateEntered') {
        inWakeUp = false;
        const input = JSON.parse(event.stateEnteredEventDetails?.input ?? '{}') as {
          wakeAt?: string;
          flushAt?: string;
        };
        const until = input.wakeAt ?? input.flushAt;
        waitingFor = until ? Date.parse(until) : undefined;
      }
      if (type === 'WaitStateExited' && timer) {
        counts.wakeUps += 1;
        counts.wakeUpTransitions += 1; // the Wait state itself
        inWakeUp = true;
        if (waitingFor !== undefined && event.timestamp) {
          counts.worstLatenessMs = Math.max(counts.worstLatenessMs, event.timestamp.getTime() - waitingFor);
        }
        continue;
      }
      if (!transition) continue;
      counts.transitions += 1;
      if (inWakeUp && type !== 'WaitStateEntered') counts.wakeUpTransitions += 1;
    }
  }
  return counts;
}

function medianCounts(kind: LifecycleKind, samples: LifecycleCounts[]): LifecycleCounts {
  const pick = <K extends keyof LifecycleCounts>(name: K) =>
    median(samples.map((sample) => sample[name] as number));
  const first = samples[0];
  if (!first) throw new Error(`no ${kind} lifecycle ran`);
  return {
    kind,
    repetitions: samples.length,
    openDays: pick('openDays'),
    executions: pick('executions'),
    stateTransitions: pick('stateTransitions'),
    wakeUps: pick('wakeUps'),
    transitionsPerWakeUp: pick('transitionsPerWakeUp'),
    apiRequests: pick('apiRequests'),
    apiMs: samples.flatMap((sample) => sample.apiMs),
    stepInvocations: pick('stepInvocations'),
    stepMs: samples.flatMap((sample) => sample.stepMs),
    lambdaGbSeconds: pick('lambdaGbSeconds'),
    readUnits: pick('readUnits'),
    writeUnits: pick('writeUnits'),
    dynamoDbRequests: pick('dynamoDbRequests'),
    failedWrites: pick('failedWrites'),
    emails: pick('emails'),
    texts: pick('texts'),
    smsParts: pick('smsParts'),
    textsByAudience: first.textsByAudience,
    worstLatenessMs: Math.max(...samples.map((sample) => sample.worstLatenessMs)),
    worstTextDelayMs: Math.max(...samples.map((sample) => sample.worstTextDelayMs)),
    executionsByMachine: first.executionsByMachine,
    recordBytes: pick('recordBytes'),
  };
}

/** The meter against AWS's published rules, on items of known size, in a table of its own. */
async function selfCheck(meter: DynamoDbMeter): Promise<LifecycleResult['meterSelfCheck']> {
  const client = new DynamoDBClient(localClientConfig(meter.endpoint));
  const TableName = `bench-meter-check-${process.pid}`;
  const checks: LifecycleResult['meterSelfCheck'] = [];
  const check = async (name: string, expected: number, work: () => Promise<unknown>) => {
    const before = meter.totals();
    await work();
    const used = meterDelta(meter.totals(), before);
    checks.push({ case: name, expected, counted: used.readUnits + used.writeUnits });
  };
  const key = { pk: { S: 'a' }, sk: { S: '1' } };
  const big = 'x'.repeat(2500);
  try {
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'g', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byG',
            KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    await check('PutItem of a 2.5 KB item into the table and an index (3 + 3 WCU)', 6, () =>
      client.send(new PutItemCommand({ TableName, Item: { ...key, g: { S: 'x' }, v: { S: big } } })),
    );
    await check('PutItem of it again with a new index key (3 + 3 out + 3 in)', 9, () =>
      client.send(new PutItemCommand({ TableName, Item: { ...key, g: { S: 'y' }, v: { S: big } } })),
    );
    await check('GetItem of it, strongly consistent (1 RCU)', 1, () =>
      client.send(new GetItemCommand({ TableName, Key: key, ConsistentRead: true })),
    );
    await check('GetItem of it, eventually consistent (0.5 RCU)', 0.5, () =>
      client.send(new GetItemCommand({ TableName, Key: key })),
    );
    await check('Query of the index (0.5 RCU)', 0.5, () =>
      client.send(
        new QueryCommand({
          TableName,
          IndexName: 'byG',
          KeyConditionExpression: 'g = :g',
          ExpressionAttributeValues: { ':g': { S: 'y' } },
        }),
      ),
    );
    await check(
      'TransactWriteItems: a small Put and a ConditionCheck of the 2.5 KB item (2 + 6 WCU)',
      8,
      () =>
        client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName, Item: { pk: { S: 'b' }, sk: { S: '1' } } } },
              { ConditionCheck: { TableName, Key: key, ConditionExpression: 'attribute_exists(pk)' } },
            ],
          }),
        ),
    );
  } finally {
    await client.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
    client.destroy();
  }
  return checks;
}
