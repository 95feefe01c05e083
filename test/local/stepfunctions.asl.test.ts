import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  InvalidExecutionInput,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { now, useClock } from '#adapters/clock.ts';
import { VirtualClock } from '#local/clock.ts';
import {
  type StepFunctionsLocal,
  startStepFunctions,
  type TaskResourceHandler,
} from '#local/stepfunctions.ts';
import type { JsonObject, JsonValue } from '#local/template.ts';

const START = Date.parse('2026-03-02T14:00:00Z');
const MINUTE = 60_000;
const DAY = 86_400_000;
/** Resources the tests run through caller-supplied handlers. */
const RECORD = 'arn:aws:states:::aws-sdk:sesv2:sendEmail';
const BLOCK = 'arn:aws:states:::sns:publish';
const START_CHILD = 'arn:aws:states:::aws-sdk:sfn:startExecution';

interface Harness {
  readonly clock: VirtualClock;
  readonly sfn: StepFunctionsLocal;
  readonly client: SFNClient;
  /** What the RECORD resource got, with the virtual time it got it. */
  readonly recorded: Array<{ at: string; input: JsonValue }>;
  run(definition: JsonObject, input?: JsonValue): Promise<string>;
  describe(executionArn: string): Promise<DescribeExecutionCommandOutput>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let machines = 0;

async function boot(
  options: {
    followRealTime?: boolean;
    handlers?: Record<string, TaskResourceHandler>;
    template?: Record<string, unknown>;
    random?: () => number;
  } = {},
): Promise<Harness> {
  const clock = new VirtualClock({ start: START, followRealTime: options.followRealTime ?? false });
  const restore = useClock(clock);
  const recorded: Array<{ at: string; input: JsonValue }> = [];
  const sfn = await startStepFunctions({
    clock,
    ...(options.template ? { template: options.template } : {}),
    ...(options.random ? { random: options.random } : {}),
    resourceHandlers: {
      [RECORD]: (input) => {
        recorded.push({ at: now().toISOString(), input });
        return { recorded: recorded.length };
      },
      ...options.handlers,
    },
  });
  const client = new SFNClient({
    endpoint: sfn.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  cleanups.push(async () => {
    client.destroy();
    await sfn.stop();
    clock.dispose();
    restore();
  });
  return {
    clock,
    sfn,
    client,
    recorded,
    async run(definition, input = {}) {
      const stateMachineArn = sfn.registerStateMachine(`Machine${++machines}`, definition);
      const { executionArn } = await client.send(
        new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
      );
      if (!executionArn) throw new Error('no executionArn');
      await clock.settled();
      return executionArn;
    },
    describe: (executionArn) => client.send(new DescribeExecutionCommand({ executionArn })),
  };
}

function output(described: DescribeExecutionCommandOutput): unknown {
  return JSON.parse(described.output ?? 'null');
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe('the local Step Functions running ASL', () => {
  it('runs Map iterations that each wait on the virtual clock', async () => {
    const harness = await boot();
    const arn = await harness.run(
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.delays',
            ItemProcessor: {
              StartAt: 'Pause',
              States: {
                Pause: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'Note' },
                Note: { Type: 'Task', Resource: RECORD, End: true },
              },
            },
            End: true,
          },
        },
      },
      { delays: [{ seconds: 120 }, { seconds: 60 }] },
    );
    expect(harness.recorded).toEqual([]);

    await harness.clock.advanceBy(10 * MINUTE);

    expect(harness.recorded).toEqual([
      { at: iso(START + MINUTE), input: { seconds: 60 } },
      { at: iso(START + 2 * MINUTE), input: { seconds: 120 } },
    ]);
    const described = await harness.describe(arn);
    expect(described.status).toBe('SUCCEEDED');
    expect(output(described)).toEqual([{ recorded: 2 }, { recorded: 1 }]);
  });

  it('runs Parallel branches, one waiting and one working', async () => {
    const harness = await boot();
    const arn = await harness.run({
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Later', States: { Later: { Type: 'Wait', Seconds: 3600, End: true } } },
            { StartAt: 'Now', States: { Now: { Type: 'Task', Resource: RECORD, End: true } } },
          ],
          End: true,
        },
      },
    });
    expect(harness.recorded.map((entry) => entry.at)).toEqual([iso(START)]);
    expect((await harness.describe(arn)).status).toBe('RUNNING');

    await harness.clock.advanceBy(DAY);

    expect(output(await harness.describe(arn))).toEqual([{}, { recorded: 1 }]);
  });

  it('keeps InputPath and OutputPath of a Wait state, and truncates its timestamp to the second', async () => {
    const harness = await boot();
    const arn = await harness.run(
      {
        StartAt: 'Until',
        States: {
          Until: {
            Type: 'Wait',
            InputPath: '$.inner',
            TimestampPath: '$.at',
            OutputPath: '$.keep',
            Next: 'Note',
          },
          Note: { Type: 'Task', Resource: RECORD, ResultPath: null, End: true },
        },
      },
      { inner: { at: iso(START + DAY + 900), keep: { kept: true } }, dropped: true },
    );
    await harness.clock.advanceBy(2 * DAY);

    expect(harness.recorded).toEqual([{ at: iso(START + DAY), input: { kept: true } }]);
    expect(output(await harness.describe(arn))).toEqual({ kept: true });
  });

  it('catches a task error by name and hands Error and Cause to the next state', async () => {
    const harness = await boot({
      handlers: {
        [BLOCK]: () => {
          const error = new Error('mailbox does not exist');
          error.name = 'SesV2.MessageRejected';
          throw error;
        },
      },
    });
    const arn = await harness.run({
      StartAt: 'Send',
      States: {
        Send: {
          Type: 'Task',
          Resource: BLOCK,
          Catch: [{ ErrorEquals: ['SesV2.MessageRejected'], ResultPath: '$.failure', Next: 'Alert owner' }],
          End: true,
        },
        'Alert owner': { Type: 'Task', Resource: RECORD, InputPath: '$.failure', End: true },
      },
    });

    expect(harness.recorded).toEqual([
      { at: iso(START), input: { Error: 'SesV2.MessageRejected', Cause: 'mailbox does not exist' } },
    ]);
    expect((await harness.describe(arn)).status).toBe('SUCCEEDED');
  });

  it('waits the retry intervals with backoff and full jitter on the virtual clock', async () => {
    let attempts = 0;
    const harness = await boot({
      random: () => 0.5,
      handlers: {
        [BLOCK]: () => {
          attempts++;
          harness.recorded.push({ at: now().toISOString(), input: attempts });
          if (attempts < 4) throw new Error('throttled');
          return { ok: true };
        },
      },
    });
    const arn = await harness.run({
      StartAt: 'Send',
      States: {
        Send: {
          Type: 'Task',
          Resource: BLOCK,
          Retry: [
            { ErrorEquals: ['Nope'], MaxAttempts: 5 },
            {
              ErrorEquals: ['States.TaskFailed'],
              IntervalSeconds: 60,
              BackoffRate: 2,
              MaxAttempts: 3,
              JitterStrategy: 'FULL',
            },
          ],
          End: true,
        },
      },
    });
    await harness.clock.advanceBy(DAY);

    // 60 s, 120 s, 240 s, each halved by the jitter.
    expect(harness.recorded.map((entry) => entry.at)).toEqual([
      iso(START),
      iso(START + 30_000),
      iso(START + 90_000),
      iso(START + 210_000),
    ]);
    expect((await harness.describe(arn)).status).toBe('SUCCEEDED');
  });

  it('fails the execution once the retries are used up', async () => {
    const harness = await boot({
      handlers: {
        [BLOCK]: () => {
          throw new RangeError('still down');
        },
      },
    });
    const arn = await harness.run({
      StartAt: 'Send',
      States: {
        Send: {
          Type: 'Task',
          Resource: BLOCK,
          Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }],
          End: true,
        },
      },
    });
    await harness.clock.advanceBy(MINUTE);

    expect(await harness.describe(arn)).toMatchObject({
      status: 'FAILED',
      error: 'RangeError',
      cause: 'still down',
    });
    const { events = [] } = await harness.client.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    expect(events.filter((event) => event.type === 'TaskFailed')).toHaveLength(3);
  });

  it('forgets the execution timeout once the execution is over', async () => {
    const harness = await boot();
    const arn = await harness.run({
      TimeoutSeconds: 3600,
      StartAt: 'Note',
      States: { Note: { Type: 'Task', Resource: RECORD, End: true } },
    });

    expect((await harness.describe(arn)).status).toBe('SUCCEEDED');
    expect(harness.clock.pendingTimers).toBe(0);
  });

  it('times the execution out after its TimeoutSeconds of virtual time', async () => {
    const harness = await boot();
    const arn = await harness.run({
      TimeoutSeconds: 3600,
      StartAt: 'Long',
      States: {
        Long: { Type: 'Wait', Seconds: 7200, Next: 'Note' },
        Note: { Type: 'Task', Resource: RECORD, End: true },
      },
    });
    await harness.clock.advanceBy(DAY);

    expect(await harness.describe(arn)).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect((await harness.describe(arn)).stopDate).toEqual(new Date(START + 3600_000));
    expect(harness.recorded).toEqual([]);
    expect(harness.clock.pendingTimers).toBe(0);
  });

  it('times a task out after its TimeoutSeconds', async () => {
    // A task in flight keeps the clock busy, so only time passing can time it out: follow real time.
    const harness = await boot({
      followRealTime: true,
      handlers: { [BLOCK]: () => new Promise<never>(() => {}) },
    });
    const arn = await harness.sfn.registerStateMachine('Slow', {
      StartAt: 'Send',
      States: { Send: { Type: 'Task', Resource: BLOCK, TimeoutSeconds: 1, End: true } },
    });
    const { executionArn = '' } = await harness.client.send(
      new StartExecutionCommand({ stateMachineArn: arn }),
    );

    const described = await poll(
      () => harness.describe(executionArn),
      (found) => found.status !== 'RUNNING',
    );
    expect(described).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
  });

  it('gives the context object the virtual start time and the execution ids', async () => {
    const harness = await boot();
    await harness.clock.advanceBy(5 * MINUTE);
    const arn = await harness.run({
      StartAt: 'Context',
      States: {
        Context: {
          Type: 'Pass',
          Parameters: {
            'started.$': '$$.Execution.StartTime',
            'id.$': '$$.Execution.Id',
            'machine.$': '$$.StateMachine.Name',
          },
          End: true,
        },
      },
    });
    const described = await harness.describe(arn);

    expect(output(described)).toEqual({
      started: iso(START + 5 * MINUTE),
      id: arn,
      machine: expect.any(String),
    });
    expect(described.startDate).toEqual(new Date(START + 5 * MINUTE));
  });

  it('never runs the next state after a stop that came while a task was in flight', async () => {
    let release: (value: JsonValue) => void = () => {};
    let signal: AbortSignal | undefined;
    const harness = await boot({
      handlers: {
        [BLOCK]: (_input, context) => {
          signal = context.signal;
          return new Promise<JsonValue>((resolve) => {
            release = resolve;
          });
        },
      },
    });
    const stateMachineArn = harness.sfn.registerStateMachine('Blocking', {
      StartAt: 'Send',
      States: {
        Send: { Type: 'Task', Resource: BLOCK, Next: 'Note' },
        Note: { Type: 'Task', Resource: RECORD, End: true },
      },
    });
    const { executionArn = '' } = await harness.client.send(new StartExecutionCommand({ stateMachineArn }));
    await poll(
      async () => signal,
      (found) => found !== undefined,
    );

    await harness.client.send(new StopExecutionCommand({ executionArn }));
    expect(signal?.aborted).toBe(true);
    release({ sent: true });
    await harness.clock.settled();

    expect(harness.recorded).toEqual([]);
    expect((await harness.describe(executionArn)).status).toBe('ABORTED');
  });

  it('settles only once follow-on executions started by a task have settled too', async () => {
    const harness = await boot({
      handlers: {
        [START_CHILD]: async (input) => {
          const client = new SFNClient({
            endpoint: harness.sfn.endpoint,
            region: 'us-east-1',
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          });
          try {
            const started = await client.send(
              new StartExecutionCommand({
                stateMachineArn: harness.sfn.stateMachineArn('Child'),
                input: JSON.stringify(input),
              }),
            );
            return { child: started.executionArn ?? null };
          } finally {
            client.destroy();
          }
        },
      },
    });
    harness.sfn.registerStateMachine('Child', {
      StartAt: 'Note',
      States: { Note: { Type: 'Task', Resource: RECORD, End: true } },
    });
    await harness.run({
      StartAt: 'Wait a day',
      States: {
        'Wait a day': { Type: 'Wait', Seconds: 86_400, Next: 'Spawn' },
        Spawn: { Type: 'Task', Resource: START_CHILD, End: true },
      },
    });

    await harness.clock.advanceBy(DAY);

    expect(harness.recorded).toEqual([{ at: iso(START + DAY), input: {} }]);
  });

  it('runs Lambda functions from template metadata, by ARN and through lambda:invoke', async () => {
    const harness = await boot({ template: lambdaTemplate() });
    const arn = await harness.run(
      {
        StartAt: 'Direct',
        States: {
          Direct: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:000000000000:function:ActFunction',
            ResultPath: '$.direct',
            Next: 'Invoke',
          },
          Invoke: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: 'ActFunction', 'Payload.$': '$' },
            ResultSelector: {
              'payload.$': '$.Payload',
              'status.$': '$.StatusCode',
              'version.$': '$.ExecutedVersion',
            },
            End: true,
          },
        },
      },
      { id: 'lambda-shapes' },
    );

    expect(output(await harness.describe(arn))).toEqual({
      payload: { message: 'backorder lambda-shapes is due' },
      status: 200,
      version: '$LATEST',
    });
  });

  it('keeps an execution RUNNING when its clock goes away first (the runtime shutting down)', async () => {
    const harness = await boot();
    const arn = await harness.run({
      StartAt: 'Long',
      States: { Long: { Type: 'Wait', Seconds: 3600, End: true } },
    });

    harness.clock.dispose();
    await new Promise((resolve) => setImmediate(resolve));

    expect((await harness.describe(arn)).status).toBe('RUNNING');
  });

  it('refuses an input that is not JSON', async () => {
    const harness = await boot();
    const stateMachineArn = harness.sfn.registerStateMachine('Plain', {
      StartAt: 'Done',
      States: { Done: { Type: 'Succeed' } },
    });
    await expect(
      harness.client.send(new StartExecutionCommand({ stateMachineArn, input: '{not json' })),
    ).rejects.toBeInstanceOf(InvalidExecutionInput);
  });

  it('refuses to register a task resource that has no local handler', async () => {
    const harness = await boot();
    expect(() =>
      harness.sfn.registerStateMachine('Unrunnable', {
        StartAt: 'Queue',
        States: { Queue: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } },
      }),
    ).toThrow('arn:aws:states:::sqs:sendMessage');
  });
});

/** A hand-written template: one function with `Local::Handler` metadata. */
function lambdaTemplate(): Record<string, unknown> {
  return {
    Resources: {
      ActFunction: {
        Type: 'AWS::Lambda::Function',
        Properties: { Environment: { Variables: { FIXTURE_STAGE: 'asl' } } },
        Metadata: {
          'Local::Handler': { entry: 'test/local/fixtures/stepfunctions.handlers.ts', export: 'act' },
        },
      },
    },
  };
}

/** Polls `read` until `done` holds, for at most 5 s of real time. */
async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error('timed out polling');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
