import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidName,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useClock } from '#adapters/clock.ts';
import { VirtualClock } from '#local/clock.ts';
import { type StepFunctionsLocal, startStepFunctions } from '#local/stepfunctions.ts';
import type { JsonValue } from '#local/template.ts';
import { calls, type TimerInput } from '#test/local/fixtures/stepfunctions.handlers.ts';
import { synthesizeFixture } from '#test/local/fixtures/stepfunctions.stack.ts';

const START = Date.parse('2026-03-02T14:00:00Z');
const SECOND = 1000;
const DAY = 86_400_000;
const SNS_PUBLISH = 'arn:aws:states:::sns:publish';
/** The fixture topic's local ARN: its CDK logical id is `Texts` plus a hash. */
const TOPIC_ARN = expect.stringMatching(/^arn:aws:sns:us-east-1:000000000000:Texts[0-9A-F]{8}$/);

let template: Record<string, unknown>;
beforeAll(() => {
  template = synthesizeFixture();
});

interface Harness {
  readonly clock: VirtualClock;
  readonly sfn: StepFunctionsLocal;
  readonly client: SFNClient;
  readonly machineArn: string;
  /** What the SNS task published, in order. */
  readonly published: JsonValue[];
  close(): Promise<void>;
}

const open: Harness[] = [];
const directories: string[] = [];

afterEach(async () => {
  for (const harness of open.splice(0)) await harness.close();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

async function boot(options: { clock?: VirtualClock; dataDir?: string } = {}): Promise<Harness> {
  const clock = options.clock ?? new VirtualClock({ start: START, followRealTime: false });
  const restoreClock = useClock(clock);
  const published: JsonValue[] = [];
  const sfn = await startStepFunctions({
    clock,
    template,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    resourceHandlers: {
      [SNS_PUBLISH]: (input) => {
        published.push(input);
        return { MessageId: `message-${published.length}` };
      },
    },
  });
  // The SDK finds the endpoint the way the handlers will: through the standard variable.
  process.env.AWS_ENDPOINT_URL_SFN = sfn.endpoint;
  const client = new SFNClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let closed = false;
  const harness: Harness = {
    clock,
    sfn,
    client,
    machineArn: sfn.stateMachineArn('Timer'),
    published,
    async close() {
      if (closed) return;
      closed = true;
      client.destroy();
      await sfn.stop();
      restoreClock();
    },
  };
  open.push(harness);
  return harness;
}

function timerInput(id: string, dueInMs = 10 * DAY): TimerInput {
  return { id, due: new Date(START + dueInMs).toISOString().replace('.000Z', 'Z') };
}

async function start(harness: Harness, name: string, input: TimerInput): Promise<string> {
  const { executionArn } = await harness.client.send(
    new StartExecutionCommand({ stateMachineArn: harness.machineArn, name, input: JSON.stringify(input) }),
  );
  if (!executionArn) throw new Error('no executionArn');
  await harness.clock.settled();
  return executionArn;
}

async function status(harness: Harness, executionArn: string): Promise<string | undefined> {
  return (await harness.client.send(new DescribeExecutionCommand({ executionArn }))).status;
}

function callsOf(id: string): string[] {
  return calls.filter((call) => call.id === id).map((call) => `${call.fn}@${call.at}`);
}

describe('the local Step Functions', () => {
  it('runs the synthesized timer to completion once the clock passes the 10-day wait, not before', async () => {
    const harness = await boot();
    const input = timerInput('ten-days');
    const arn = await start(harness, 'ten-days-g1', input);

    // The first plan fails and is retried 1 s later, on the virtual clock.
    expect(callsOf('ten-days')).toEqual([`plan@${new Date(START).toISOString()}`]);
    await harness.clock.advanceTo(START + 10 * DAY - SECOND);
    expect(callsOf('ten-days')).toEqual([
      `plan@${new Date(START).toISOString()}`,
      `plan@${new Date(START + SECOND).toISOString()}`,
    ]);
    expect(await status(harness, arn)).toBe('RUNNING');
    expect(harness.published).toEqual([]);

    await harness.clock.advanceBy(2 * SECOND);
    expect(await status(harness, arn)).toBe('SUCCEEDED');
    expect(callsOf('ten-days').at(-1)).toBe(`act@${new Date(START + 10 * DAY).toISOString()}`);
    expect(harness.published).toEqual([{ TopicArn: TOPIC_ARN, Message: 'backorder ten-days is due' }]);
    expect(calls.find((call) => call.id === 'ten-days')?.env).toBe('fixture');
  });

  it('records the history with AWS event types', async () => {
    const harness = await boot();
    const arn = await start(harness, 'history-g1', timerInput('history', DAY));
    await harness.clock.advanceBy(2 * DAY);

    const { events = [] } = await harness.client.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    const types = events.map((event) => event.type);
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events[4]?.taskFailedEventDetails).toMatchObject({
      error: 'Flaky',
      resourceType: 'lambda',
      resource: 'invoke',
    });
    expect(events[9]?.stateEnteredEventDetails?.name).toBe('Wait until due');
    expect(events[10]?.timestamp).toEqual(new Date(START + DAY));
    expect(events.map((event) => event.id)).toEqual(events.map((_, i) => i + 1));
  });

  it('never runs the next state of a stopped execution, and cancels its pending wait', async () => {
    const harness = await boot();
    const arn = await start(harness, 'stopped-g1', timerInput('stopped'));
    await harness.clock.advanceBy(SECOND);
    expect(harness.clock.pendingTimers).toBe(2); // its wait, and its one-year limit

    const { stopDate } = await harness.client.send(
      new StopExecutionCommand({ executionArn: arn, error: 'Superseded', cause: 'generation 2' }),
    );
    await harness.clock.advanceBy(30 * DAY);

    expect(stopDate).toEqual(new Date(START + SECOND));
    expect(harness.clock.pendingTimers).toBe(0);
    expect(callsOf('stopped').some((call) => call.startsWith('act'))).toBe(false);
    expect(harness.published).toEqual([]);
    const described = await harness.client.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Superseded', cause: 'generation 2' });
    const { events = [] } = await harness.client.send(
      new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 1 }),
    );
    expect(events[0]).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Superseded', cause: 'generation 2' },
    });
  });

  it('treats a second start with the same name and input as the same execution while it runs', async () => {
    const harness = await boot();
    const input = timerInput('twice');
    const first = await harness.client.send(
      new StartExecutionCommand({
        stateMachineArn: harness.machineArn,
        name: 'twice-g1',
        input: JSON.stringify(input),
      }),
    );
    await harness.clock.advanceBy(SECOND);
    const second = await harness.client.send(
      new StartExecutionCommand({
        stateMachineArn: harness.machineArn,
        name: 'twice-g1',
        input: JSON.stringify(input),
      }),
    );

    expect(second).toMatchObject({ executionArn: first.executionArn, startDate: first.startDate });
    const { executions = [] } = await harness.client.send(
      new ListExecutionsCommand({ stateMachineArn: harness.machineArn, statusFilter: 'RUNNING' }),
    );
    expect(executions.map((execution) => execution.name)).toEqual(['twice-g1']);
    expect(callsOf('twice').filter((call) => call.startsWith('plan'))).toHaveLength(2);
  });

  it('answers ExecutionAlreadyExists for another input while it runs, and for any input once it closed', async () => {
    const harness = await boot();
    const input = timerInput('taken', DAY);
    const arn = await start(harness, 'taken-g1', input);
    const again = (body: TimerInput) =>
      harness.client.send(
        new StartExecutionCommand({
          stateMachineArn: harness.machineArn,
          name: 'taken-g1',
          input: JSON.stringify(body),
        }),
      );

    await expect(again({ ...input, due: timerInput('taken', 2 * DAY).due })).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
    await harness.clock.advanceBy(2 * DAY);
    expect(await status(harness, arn)).toBe('SUCCEEDED');
    await expect(again(input)).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('fails the execution with the name of a task error that no Retry covers', async () => {
    const harness = await boot();
    const arn = await start(harness, 'fails-g1', { ...timerInput('fails'), fail: 'OrderGone' });

    const described = await harness.client.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('OrderGone');
    expect(JSON.parse(described.cause ?? '{}')).toMatchObject({
      errorType: 'OrderGone',
      errorMessage: 'asked to fail with OrderGone',
    });
  });

  it('answers the errors the SDK maps for unknown machines, unknown executions and invalid names', async () => {
    const harness = await boot();
    const unknownMachine = harness.machineArn.replace(':Timer', ':Nope');
    await expect(
      harness.client.send(new StartExecutionCommand({ stateMachineArn: unknownMachine, input: '{}' })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      harness.client.send(
        new DescribeExecutionCommand({
          executionArn: `${harness.machineArn.replace(':stateMachine:', ':execution:')}:none`,
        }),
      ),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      harness.client.send(
        new StartExecutionCommand({ stateMachineArn: harness.machineArn, name: 'has space' }),
      ),
    ).rejects.toBeInstanceOf(InvalidName);
  });

  it('boots on a free port and shuts down without leaving servers, sockets or timers behind', async () => {
    const baseline = activeResources();
    // Following real time arms a real timer for the pending wait: stop must clear it.
    const clock = new VirtualClock({ start: START });
    const harness = await boot({ clock });
    await start(harness, 'shutdown-g1', timerInput('shutdown'));
    await harness.clock.advanceBy(SECOND);
    expect(harness.clock.pendingTimers).toBe(2); // its wait, and its one-year limit

    await harness.close();

    expect(clock.pendingTimers).toBe(0);
    await expect(refused(harness.sfn.endpoint)).resolves.toBe(true);
    // Never more than before: earlier tests' handles may still be closing, but none of ours remain.
    const after = activeResources();
    for (const kind of Object.keys(after)) expect(after[kind]).toBeLessThanOrEqual(baseline[kind] ?? 0);
    clock.dispose();
  });

  it('resumes running executions from the start after a restart with dataDir, and keeps closed names taken', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sfn-data-'));
    directories.push(dataDir);
    const clock = new VirtualClock({ start: START, followRealTime: false });
    const first = await boot({ clock, dataDir });
    const running = await start(first, 'resumed-g1', timerInput('resumed'));
    const closedInput = timerInput('closed', 0);
    const closed = await start(first, 'closed-g1', closedInput);
    await clock.advanceBy(SECOND);
    expect(await status(first, closed)).toBe('SUCCEEDED');
    await first.close();

    const second = await boot({ clock, dataDir });
    expect(await status(second, running)).toBe('RUNNING');
    await expect(
      second.client.send(
        new StartExecutionCommand({
          stateMachineArn: second.machineArn,
          name: 'closed-g1',
          input: JSON.stringify(closedInput),
        }),
      ),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    const planned = callsOf('resumed').length;

    expect(second.sfn.resume()).toEqual([running]);
    await clock.settled();
    expect(callsOf('resumed')).toHaveLength(planned + 1);
    await clock.advanceTo(START + 10 * DAY);
    expect(await status(second, running)).toBe('SUCCEEDED');
    expect(second.published).toEqual([{ TopicArn: TOPIC_ARN, Message: 'backorder resumed is due' }]);
  });
});

/** Servers, sockets and timers of this process, by kind. */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TCPServerWrap' || kind === 'TCPSocketWrap' || kind === 'Timeout')
      counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/** Whether a TCP connection to the endpoint is refused. */
function refused(endpoint: string): Promise<boolean> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
