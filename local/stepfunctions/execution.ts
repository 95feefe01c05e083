/**
 * One execution: the interpreter runs the prepared definition; every Task and Wait state is a
 * local handler here, so that waits, retry intervals and timeouts happen on the virtual clock,
 * the clock knows when the execution is busy, and a stopped execution never starts another state.
 */
import { randomUUID } from 'node:crypto';
import type { StateMachine } from 'aws-local-stepfunctions';
import type { TrackedWork, VirtualClock } from '#local/clock.ts';
import type { JsonObject, JsonValue } from '#local/template.ts';
import {
  isObject,
  LOCAL_START_TIME,
  LOCAL_WAIT_RESOURCE,
  PAYLOAD_KEY,
  type PreparedDefinition,
  type Retrier,
  type TaskSpec,
  TIMEOUT_KEY,
  WAIT_VALUE_KEY,
  type WaitSpec,
} from './definition.ts';
import { abortedError, runtimeError, TaskError, toTaskError } from './errors.ts';
import { History, json } from './history.ts';
import type { LocalFunction, LocalFunctions } from './lambda.ts';

/** The status of an execution, as DescribeExecution reports it. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What is known about an execution (and what is persisted of it). */
export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  /** The input as the caller sent it (JSON text). */
  readonly input: string;
  /** Virtual epoch milliseconds. */
  readonly startDate: number;
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
}

/** What a caller-supplied task resource handler is told besides its input. */
/** The longest a Standard execution runs in AWS: one year. */
const STANDARD_MAX_SECONDS = 365 * 86_400;

export interface TaskContext {
  readonly executionArn: string;
  readonly stateName: string;
  readonly resource: string;
  /** Aborted when the execution is stopped. */
  readonly signal: AbortSignal;
}

/**
 * Runs a service integration locally, e.g. `arn:aws:states:::sns:publish`: gets the task's
 * effective input (its Parameters, resolved) and returns the task result. What it throws is the
 * task error: its `name` is what Retry and Catch match.
 */
export type TaskResourceHandler = (
  input: JsonValue,
  context: TaskContext,
) => Promise<JsonValue | undefined> | JsonValue | undefined;

/** A registered state machine, ready to run. */
export interface LocalStateMachine {
  readonly arn: string;
  readonly name: string;
  readonly roleArn: string;
  readonly definition: JsonObject;
  readonly creationDate: number;
  readonly prepared: PreparedDefinition;
  readonly interpreter: StateMachine;
}

/** What an execution needs from the service around it. */
export interface ExecutionServices {
  readonly clock: VirtualClock;
  readonly functions: LocalFunctions;
  readonly resourceHandlers: Readonly<Record<string, TaskResourceHandler>>;
  readonly region: string;
  readonly random: () => number;
  /** Called when the record changed in a way worth persisting (it closed). */
  readonly changed: () => void;
}

type RunResult = ReturnType<StateMachine['run']>;
type InterpreterEvent = RunResult['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type LocalHandlers = Record<string, (input: JsonValue) => Promise<JsonValue>>;

type StopReason =
  | { readonly kind: 'stop'; readonly error: string | undefined; readonly cause: string | undefined }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'shutdown' };

/** A running (or finished) execution. */
export class Execution {
  readonly record: ExecutionRecord;
  readonly history: History;
  readonly #machine: LocalStateMachine;
  readonly #services: ExecutionServices;
  readonly #controller = new AbortController();
  /** Cancels the execution's own TimeoutSeconds timer once it is over, whichever way. */
  readonly #timeoutTimer = new AbortController();
  readonly #work: TrackedWork;
  readonly #inFlight = new Set<Promise<unknown>>();
  #stopReason: StopReason | undefined;
  #done: Promise<void> = Promise.resolve();

  constructor(machine: LocalStateMachine, record: ExecutionRecord, services: ExecutionServices) {
    this.#machine = machine;
    this.record = record;
    this.#services = services;
    this.history = new History(() => services.clock.now().getTime());
    // Registered at once, so that a clock advance waits for an execution started mid-advance.
    this.#work = services.clock.register();
  }

  /** Starts running (from the first state, also when resumed after a restart). */
  start(): void {
    const { prepared, interpreter } = this.#machine;
    const input: JsonValue = JSON.parse(this.record.input);
    const retryIntervalOverrides = Object.fromEntries(prepared.retriedContainers.map((name) => [name, 0]));
    const run = interpreter.run(input, {
      overrides: { taskResourceLocalHandlers: this.#handlers(), retryIntervalOverrides },
      noThrowOnAbort: true,
      context: {
        Execution: {
          Id: this.record.executionArn,
          Name: this.record.name,
          RoleArn: this.#machine.roleArn,
          RedriveCount: 0,
          [LOCAL_START_TIME]: new Date(this.record.startDate).toISOString(),
        },
        StateMachine: { Id: this.#machine.arn, Name: this.#machine.name },
      },
    });
    this.#controller.signal.addEventListener('abort', () => run.abort(), { once: true });
    this.#armTimeout();
    const consumed = this.#consume(run.eventLogs);
    const finished = run.result.then(
      (output) => this.#close('SUCCEEDED', { output: json(output) }),
      (error: unknown) => this.#close('FAILED', failureOf(error)),
    );
    this.#done = Promise.allSettled([consumed, finished]).then(() => {
      this.#timeoutTimer.abort();
      this.#work.finish();
    });
  }

  /** StopExecution: ends it as ABORTED; a pending wait is cancelled and no further state runs. */
  stop(error: string | undefined, cause: string | undefined): void {
    if (this.record.status !== 'RUNNING') return;
    this.#stopReason = { kind: 'stop', error, cause };
    this.#close('ABORTED', {
      ...(error === undefined ? {} : { error }),
      ...(cause === undefined ? {} : { cause }),
    });
    this.#controller.abort();
  }

  /** Stops running without closing the record (the service shuts down; the execution resumes on the next boot). */
  async shutdown(): Promise<void> {
    if (this.record.status === 'RUNNING') {
      this.#stopReason = { kind: 'shutdown' };
      this.#controller.abort();
    }
    // Handlers already running cannot be cancelled: wait for them, so nothing outlives the service.
    await Promise.allSettled([...this.#inFlight, this.#done]);
  }

  /** Resolves when the interpreter is done with this execution. */
  get done(): Promise<void> {
    return this.#done;
  }

  #close(status: ExecutionStatus, fields: Pick<ExecutionRecord, 'output' | 'error' | 'cause'>): void {
    if (this.record.status !== 'RUNNING' || this.#stopReason?.kind === 'shutdown') return;
    Object.assign(this.record, { status, stopDate: this.#services.clock.now().getTime() }, fields);
    this.#services.changed();
  }

  #armTimeout(): void {
    // Without TimeoutSeconds, a Standard execution still ends at one year, as in AWS.
    const seconds = this.#machine.prepared.timeoutSeconds ?? STANDARD_MAX_SECONDS;
    // Untracked: a pending execution timeout must not make a running execution look asleep.
    const signal = AbortSignal.any([this.#controller.signal, this.#timeoutTimer.signal]);
    this.#services.clock.sleepUntil(this.record.startDate + seconds * 1000, signal).then(
      () => {
        if (this.record.status !== 'RUNNING') return;
        this.#stopReason = { kind: 'timeout' };
        this.#close('TIMED_OUT', { error: 'States.Timeout', cause: 'the execution timed out' });
        this.#controller.abort();
      },
      () => undefined,
    );
  }

  #handlers(): LocalHandlers {
    const handlers: LocalHandlers = {};
    for (const [name, spec] of this.#machine.prepared.tasks) {
      handlers[name] = (input) => this.#track(this.#runTask(name, spec, input));
    }
    for (const [name, spec] of this.#machine.prepared.waits) {
      handlers[name] = (input) => this.#track(this.#runWait(name, spec, input));
    }
    return handlers;
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    const forget = (): void => {
      this.#inFlight.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  /**
   * Sleeps on the clock as this execution. A sleep ends early when the execution is stopped, or
   * when the clock is disposed: that is the runtime shutting down, so the record stays RUNNING.
   */
  async #sleep(until: number): Promise<void> {
    try {
      await this.#work.sleepUntil(until, this.#controller.signal);
    } catch {
      if (!this.#controller.signal.aborted) {
        this.#stopReason = { kind: 'shutdown' };
        this.#controller.abort();
      }
      throw abortedError();
    }
  }

  #throwIfStopped(): void {
    if (this.#controller.signal.aborted) throw abortedError();
  }

  /** A Wait state: sleeps on the virtual clock until its instant, and passes its input on. */
  async #runWait(name: string, spec: WaitSpec, input: JsonValue): Promise<JsonValue> {
    this.#throwIfStopped();
    if (!isObject(input)) throw runtimeError(`Wait state ${name} got no input`);
    const until = waitUntil(name, spec, input[WAIT_VALUE_KEY], this.#services.clock.now().getTime());
    await this.#sleep(until);
    this.#throwIfStopped();
    return input[PAYLOAD_KEY] ?? null;
  }

  /** A Task state: the resource, with Retry and TimeoutSeconds on the virtual clock. */
  async #runTask(name: string, spec: TaskSpec, input: JsonValue): Promise<JsonValue> {
    let end = this.#work.begin();
    try {
      // One turn of the event loop lets the history catch up with the interpreter's StateEntered.
      await new Promise((resolve) => setImmediate(resolve));
      const attempts = spec.retry.map(() => 0);
      for (;;) {
        this.#throwIfStopped();
        try {
          return await this.#attempt(name, spec, input);
        } catch (thrown) {
          this.#throwIfStopped();
          const error = toTaskError(thrown);
          const index = matchingRetrier(spec.retry, error);
          const retrier = index === undefined ? undefined : spec.retry[index];
          const attempt = index === undefined ? undefined : attempts[index];
          if (index === undefined || retrier === undefined || attempt === undefined) throw error;
          if (attempt >= retrier.maxAttempts) throw error;
          attempts[index] = attempt + 1;
          end();
          try {
            const wait = retryDelayMs(retrier, attempt, this.#services.random);
            await this.#sleep(this.#services.clock.now().getTime() + wait);
          } finally {
            end = this.#work.begin();
          }
        }
      }
    } finally {
      end();
    }
  }

  async #attempt(name: string, spec: TaskSpec, rawInput: JsonValue): Promise<JsonValue> {
    const { input, timeoutSeconds } = unwrapTimeout(name, spec, rawInput);
    const target = describeResource(spec.resource);
    const scheduled: JsonObject = target.lambdaArn
      ? { resource: target.lambdaArn, input: json(input) }
      : {
          resourceType: target.resourceType,
          resource: target.resource,
          region: this.#services.region,
          parameters: json(input),
        };
    if (timeoutSeconds !== undefined) scheduled.timeoutInSeconds = timeoutSeconds;
    const kind = target.lambdaArn ? 'LambdaFunction' : 'Task';
    const ids: JsonObject = target.lambdaArn
      ? {}
      : { resourceType: target.resourceType, resource: target.resource };
    this.history.add(`${kind}Scheduled`, scheduled);
    this.history.add(`${kind}Started`, target.lambdaArn ? undefined : ids);
    const timeout = new AbortController();
    try {
      const work = this.#invoke(name, spec, input);
      const output =
        timeoutSeconds === undefined
          ? await work
          : await Promise.race([work, this.#timeout(timeoutSeconds, timeout)]);
      this.#throwIfStopped();
      this.history.add(`${kind}Succeeded`, { ...ids, output: json(output) });
      return output;
    } catch (thrown) {
      if (this.#controller.signal.aborted) throw abortedError();
      const error = toTaskError(thrown);
      const timedOut = error.name === 'States.Timeout';
      this.history.add(`${kind}${timedOut ? 'TimedOut' : 'Failed'}`, {
        ...ids,
        error: error.name,
        cause: error.message,
      });
      throw error;
    } finally {
      timeout.abort();
    }
  }

  /** Rejects with `States.Timeout` once the task has run `seconds` of virtual time. */
  async #timeout(seconds: number, controller: AbortController): Promise<never> {
    const due = this.#services.clock.now().getTime() + seconds * 1000;
    await this.#services.clock.sleepUntil(due, controller.signal);
    throw new TaskError('States.Timeout', `the task did not finish within ${seconds} seconds`);
  }

  async #invoke(name: string, spec: TaskSpec, input: JsonValue): Promise<JsonValue> {
    const { functions, resourceHandlers } = this.#services;
    if (isLambdaArn(spec.resource)) {
      return functions.invoke(this.#function(spec.resource), input);
    }
    if (isLambdaInvoke(spec.resource)) {
      if (!isObject(input) || typeof input.FunctionName !== 'string') {
        throw runtimeError(`Task state ${name} calls lambda:invoke without a FunctionName`);
      }
      const payload = await functions.invoke(this.#function(input.FunctionName), input.Payload ?? null);
      const requestId = randomUUID();
      return {
        ExecutedVersion: '$LATEST',
        Payload: payload,
        SdkHttpMetadata: {
          AllHttpHeaders: { 'X-Amz-Executed-Version': ['$LATEST'], 'x-amzn-RequestId': [requestId] },
          HttpHeaders: { 'X-Amz-Executed-Version': '$LATEST', 'x-amzn-RequestId': requestId },
          HttpStatusCode: 200,
        },
        SdkResponseMetadata: { RequestId: requestId },
        StatusCode: 200,
      };
    }
    const handler = resourceHandlers[spec.resource];
    if (!handler) throw runtimeError(`no local handler for ${spec.resource} (Task state ${name})`);
    const output = await handler(input, {
      executionArn: this.record.executionArn,
      stateName: name,
      resource: spec.resource,
      signal: this.#controller.signal,
    });
    return output === undefined ? {} : output;
  }

  #function(reference: string): LocalFunction {
    const fn = this.#services.functions.find(reference);
    if (!fn) {
      throw new TaskError(
        'Lambda.ResourceNotFoundException',
        `Function not found: ${reference} (locally, a function needs "Local::Handler" metadata)`,
      );
    }
    return fn;
  }

  async #consume(events: AsyncGenerator<InterpreterEvent>): Promise<void> {
    for await (const event of events) this.#record(event);
  }

  /** Turns an interpreter event into AWS history events. */
  #record(event: InterpreterEvent): void {
    const { history } = this;
    const types = this.#machine.prepared.stateTypes;
    switch (event.type) {
      case 'ExecutionStarted':
        history.add('ExecutionStarted', {
          input: this.record.input,
          inputDetails: { truncated: false },
          roleArn: this.#machine.roleArn,
        });
        return;
      case 'ExecutionSucceeded':
        history.close('ExecutionSucceeded', {
          output: json(event.output),
          outputDetails: { truncated: false },
        });
        return;
      case 'ExecutionFailed':
        history.close('ExecutionFailed', failureOf(event));
        return;
      case 'ExecutionAborted':
      case 'ExecutionTimeout': {
        const reason = this.#stopReason;
        if (reason?.kind === 'stop') {
          history.close('ExecutionAborted', {
            ...(reason.error === undefined ? {} : { error: reason.error }),
            ...(reason.cause === undefined ? {} : { cause: reason.cause }),
          });
        } else if (reason?.kind === 'timeout') {
          history.close('ExecutionTimedOut', { error: 'States.Timeout', cause: 'the execution timed out' });
        }
        return;
      }
      case 'StateEntered': {
        const type = types.get(event.state.name) ?? event.state.type;
        history.add(
          `${type}StateEntered`,
          { name: event.state.name, input: json(event.state.input), inputDetails: { truncated: false } },
          'stateEnteredEventDetails',
        );
        return;
      }
      case 'StateExited': {
        const type = types.get(event.state.name) ?? event.state.type;
        history.add(
          `${type}StateExited`,
          { name: event.state.name, output: json(event.state.output), outputDetails: { truncated: false } },
          'stateExitedEventDetails',
        );
        return;
      }
      case 'StateFailed': {
        // Task failures are already in the history as TaskFailed / LambdaFunctionFailed.
        const type = types.get(event.state.name);
        if (type === 'Map' || type === 'Parallel') history.add(`${type}StateFailed`);
        return;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        history.add(event.type, { name: event.parentState.name, index: event.index });
        return;
      default:
        // StateRetried, StateCaught and Parallel branch events have no AWS counterpart.
        return;
    }
  }
}

/** `{ error, cause }` of a failed execution or an interpreter failure event. */
function failureOf(value: unknown): { error: string; cause: string } {
  if (value instanceof Error) {
    // The interpreter wraps the state's error in an ExecutionError; the state's error is the one AWS reports.
    const inner = value.cause instanceof Error ? value.cause : value;
    return { error: inner.name, cause: inner.message };
  }
  if (typeof value === 'object' && value !== null) {
    const error: unknown = Reflect.get(value, 'Error');
    const cause: unknown = Reflect.get(value, 'Cause');
    return {
      error: String(error ?? 'Error'),
      cause: typeof cause === 'string' ? cause : JSON.stringify(cause ?? ''),
    };
  }
  return { error: 'Error', cause: String(value) };
}

/** The first retrier whose ErrorEquals matches, as AWS matches: `States.TaskFailed` never matches a timeout. */
function matchingRetrier(retriers: readonly Retrier[], error: TaskError): number | undefined {
  if (!error.isRetryable) return undefined;
  const index = retriers.findIndex((retrier) =>
    retrier.errorEquals.some(
      (name) =>
        name === error.name ||
        name === 'States.ALL' ||
        (name === 'States.TaskFailed' && error.name !== 'States.Timeout'),
    ),
  );
  return index < 0 ? undefined : index;
}

/** IntervalSeconds × BackoffRate^attempt, capped by MaxDelaySeconds, with full jitter if asked. */
function retryDelayMs(retrier: Retrier, attempt: number, random: () => number): number {
  let seconds = retrier.intervalSeconds * retrier.backoffRate ** attempt;
  if (retrier.maxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.maxDelaySeconds);
  if (retrier.jitter === 'FULL') seconds *= random();
  return seconds * 1000;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The instant a Wait state waits until; AWS truncates timestamps to whole seconds. */
function waitUntil(name: string, spec: WaitSpec, value: JsonValue | undefined, now: number): number {
  switch (spec.kind) {
    case 'seconds':
      return now + spec.seconds * 1000;
    case 'secondsPath':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw runtimeError(`Wait state ${name}: SecondsPath must point to a non-negative integer`);
      }
      return now + value * 1000;
    case 'timestamp':
    case 'timestampPath': {
      const text = spec.kind === 'timestamp' ? spec.timestamp : value;
      if (typeof text !== 'string' || !RFC3339.test(text)) {
        throw runtimeError(
          `Wait state ${name}: the timestamp must be an RFC 3339 instant, got ${JSON.stringify(text)}`,
        );
      }
      return Math.floor(Date.parse(text) / 1000) * 1000;
    }
  }
}

/** Splits the wrapper that carries a `TimeoutSecondsPath` value from the task's own input. */
function unwrapTimeout(
  name: string,
  spec: TaskSpec,
  input: JsonValue,
): { input: JsonValue; timeoutSeconds: number | undefined } {
  if (!spec.timeoutFromPath) return { input, timeoutSeconds: spec.timeoutSeconds };
  if (!isObject(input)) throw runtimeError(`Task state ${name} lost its input`);
  const seconds = input[TIMEOUT_KEY];
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1) {
    throw runtimeError(`Task state ${name}: TimeoutSecondsPath must point to a positive integer`);
  }
  return { input: input[PAYLOAD_KEY] ?? null, timeoutSeconds: seconds };
}

const LAMBDA_ARN = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+(:[^:]+)?$/;
const STATES_INTEGRATION = /^arn:[^:]+:states:::(.+):([^:]+)$/;

function isLambdaArn(resource: string): boolean {
  return LAMBDA_ARN.test(resource);
}

function isLambdaInvoke(resource: string): boolean {
  return /^arn:[^:]+:states:::lambda:invoke$/.test(resource);
}

/** How the history names a task's resource: a Lambda ARN, or `resourceType` (`sns`) and `resource` (`publish`). */
function describeResource(resource: string): { lambdaArn?: string; resourceType: string; resource: string } {
  if (isLambdaArn(resource)) return { lambdaArn: resource, resourceType: 'lambda', resource };
  const match = STATES_INTEGRATION.exec(resource);
  if (match?.[1] && match[2]) return { resourceType: match[1], resource: match[2] };
  return { resourceType: 'local', resource };
}

/** Whether a Task resource can run locally, given the caller's resource handlers. */
export function supportedResource(resource: string, handlers: Readonly<Record<string, unknown>>): boolean {
  return (
    isLambdaArn(resource) ||
    isLambdaInvoke(resource) ||
    resource === LOCAL_WAIT_RESOURCE ||
    resource in handlers
  );
}
