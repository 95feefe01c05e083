/**
 * Prepares a deployed ASL definition for the local interpreter. The interpreter's own timers are
 * real `setTimeout`s, so everything that waits is moved onto the virtual clock: `Wait` states
 * become Task states with a local resource that sleeps on the clock, Task `Retry` and
 * `TimeoutSeconds` are done by the local task runner, and the state machine's `TimeoutSeconds`
 * by the execution. The deployed definition keeps its real Wait states.
 */
import type { JsonObject, JsonValue } from '#local/template.ts';

/** The resource a rewritten Wait state runs: a local sleep on the virtual clock. */
export const LOCAL_WAIT_RESOURCE = 'arn:aws:states:::local:wait';

/**
 * The interpreter arms a real timer of the task's `TimeoutSeconds` (60 s by default): set it to the
 * longest a Node timer can be armed for, since the local runner keeps the real timeout virtually.
 */
const INTERPRETER_TIMEOUT_SECONDS = 2_147_483;

/** Keys of the Parameters a rewritten state passes to its local handler. */
export const PAYLOAD_KEY = 'LocalPayload';
export const WAIT_VALUE_KEY = 'LocalWaitValue';
export const TIMEOUT_KEY = 'LocalTimeoutSeconds';

/** The context field that stands in for `$$.Execution.StartTime` (the interpreter sets that one from the real clock). */
export const LOCAL_START_TIME = 'LocalStartTime';

/** One retrier of a Task state, with the defaults of the States Language filled in. */
export interface Retrier {
  readonly errorEquals: readonly string[];
  readonly intervalSeconds: number;
  readonly maxAttempts: number;
  readonly backoffRate: number;
  readonly maxDelaySeconds: number | undefined;
  readonly jitter: 'FULL' | 'NONE';
}

/** How long a Wait state waits. */
export type WaitSpec =
  | { readonly kind: 'seconds'; readonly seconds: number }
  | { readonly kind: 'timestamp'; readonly timestamp: string }
  | { readonly kind: 'secondsPath' }
  | { readonly kind: 'timestampPath' };

/** A Task state as the local runner runs it. */
export interface TaskSpec {
  readonly resource: string;
  readonly retry: readonly Retrier[];
  readonly timeoutSeconds: number | undefined;
  /** The timeout comes from `TimeoutSecondsPath`: the input is wrapped as `{ LocalPayload, LocalTimeoutSeconds }`. */
  readonly timeoutFromPath: boolean;
}

/** A definition ready for the interpreter, and what the local handlers need to know about its states. */
export interface PreparedDefinition {
  /** What the interpreter runs. */
  readonly definition: JsonObject;
  readonly tasks: ReadonlyMap<string, TaskSpec>;
  readonly waits: ReadonlyMap<string, WaitSpec>;
  /** The original type of every state, by name, for the execution history. */
  readonly stateTypes: ReadonlyMap<string, string>;
  /** Map and Parallel states with a `Retry`: the interpreter retries those itself, without the interval. */
  readonly retriedContainers: readonly string[];
  /** The state machine's own `TimeoutSeconds`, run on the virtual clock by the execution. */
  readonly timeoutSeconds: number | undefined;
}

/** Rewrites `definition` for the interpreter; throws on what the local runner cannot run faithfully. */
export function prepareDefinition(definition: JsonObject): PreparedDefinition {
  const found: Found = { tasks: new Map(), waits: new Map(), stateTypes: new Map(), retriedContainers: [] };
  const withStartTime = replaceStartTime(definition);
  if (!isObject(withStartTime)) throw new Error('the definition is not an object');
  const { TimeoutSeconds, ...rest } = withStartTime;
  const rewritten = rewriteMachine(rest, found, 'the definition');
  return {
    definition: rewritten,
    ...found,
    timeoutSeconds: typeof TimeoutSeconds === 'number' ? TimeoutSeconds : undefined,
  };
}

interface Found {
  tasks: Map<string, TaskSpec>;
  waits: Map<string, WaitSpec>;
  stateTypes: Map<string, string>;
  retriedContainers: string[];
}

function rewriteMachine(machine: JsonObject, found: Found, where: string): JsonObject {
  const states = machine.States;
  if (!isObject(states)) throw new Error(`${where} has no States`);
  const rewritten: JsonObject = {};
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state) || typeof state.Type !== 'string') throw new Error(`state ${name} has no Type`);
    // Local handlers are looked up by state name across nested Map and Parallel machines.
    if (found.stateTypes.has(name)) throw new Error(`state name ${name} is used twice; names must be unique`);
    found.stateTypes.set(name, state.Type);
    rewritten[name] = rewriteState(name, state, found);
  }
  return { ...machine, States: rewritten };
}

function rewriteState(name: string, state: JsonObject, found: Found): JsonObject {
  switch (state.Type) {
    case 'Task':
      return rewriteTask(name, state, found);
    case 'Wait':
      return rewriteWait(name, state, found);
    case 'Map': {
      if (Array.isArray(state.Retry)) found.retriedContainers.push(name);
      const processorKey = isObject(state.ItemProcessor) ? 'ItemProcessor' : 'Iterator';
      const processor = state[processorKey];
      if (!isObject(processor)) throw new Error(`Map state ${name} has no ItemProcessor`);
      return { ...state, [processorKey]: rewriteMachine(processor, found, `Map state ${name}`) };
    }
    case 'Parallel': {
      if (Array.isArray(state.Retry)) found.retriedContainers.push(name);
      const branches = Array.isArray(state.Branches) ? state.Branches : [];
      return {
        ...state,
        Branches: branches.map((branch, i) => {
          if (!isObject(branch)) throw new Error(`Parallel state ${name} has a branch that is not an object`);
          return rewriteMachine(branch, found, `branch ${i} of Parallel state ${name}`);
        }),
      };
    }
    default:
      return state;
  }
}

function rewriteTask(name: string, state: JsonObject, found: Found): JsonObject {
  const { Retry, TimeoutSeconds, TimeoutSecondsPath, HeartbeatSeconds, HeartbeatSecondsPath, ...rest } =
    state;
  if (typeof rest.Resource !== 'string') throw new Error(`Task state ${name} has no Resource`);
  const timeoutFromPath = typeof TimeoutSecondsPath === 'string';
  found.tasks.set(name, {
    resource: rest.Resource,
    retry: Array.isArray(Retry) ? Retry.map((retrier) => readRetrier(name, retrier)) : [],
    timeoutSeconds: typeof TimeoutSeconds === 'number' ? TimeoutSeconds : undefined,
    timeoutFromPath,
  });
  const task: JsonObject = { ...rest, TimeoutSeconds: INTERPRETER_TIMEOUT_SECONDS };
  if (timeoutFromPath) {
    // The timeout path reads the state input, which Parameters replace: evaluate both side by side.
    const { Parameters } = rest;
    task.Parameters = {
      ...(Parameters === undefined ? { [`${PAYLOAD_KEY}.$`]: '$' } : { [PAYLOAD_KEY]: Parameters }),
      [`${TIMEOUT_KEY}.$`]: TimeoutSecondsPath,
    };
  }
  return task;
}

function rewriteWait(name: string, state: JsonObject, found: Found): JsonObject {
  const { Type, Seconds, Timestamp, SecondsPath, TimestampPath, ...rest } = state;
  let spec: WaitSpec;
  let path: string | undefined;
  if (typeof Seconds === 'number') spec = { kind: 'seconds', seconds: Seconds };
  else if (typeof Timestamp === 'string') spec = { kind: 'timestamp', timestamp: Timestamp };
  else if (typeof SecondsPath === 'string') [spec, path] = [{ kind: 'secondsPath' }, SecondsPath];
  else if (typeof TimestampPath === 'string') [spec, path] = [{ kind: 'timestampPath' }, TimestampPath];
  else throw new Error(`Wait state ${name} has none of Seconds, Timestamp, SecondsPath, TimestampPath`);
  found.waits.set(name, spec);
  // A Task without ResultPath outputs its result: the handler returns the (InputPath-filtered)
  // input unchanged, so InputPath, OutputPath, Next and End mean what they meant on the Wait.
  return {
    ...rest,
    Type: 'Task',
    Resource: LOCAL_WAIT_RESOURCE,
    TimeoutSeconds: INTERPRETER_TIMEOUT_SECONDS,
    Parameters: {
      [`${PAYLOAD_KEY}.$`]: '$',
      ...(path === undefined ? {} : { [`${WAIT_VALUE_KEY}.$`]: path }),
    },
  };
}

function readRetrier(state: string, value: JsonValue): Retrier {
  if (!isObject(value) || !Array.isArray(value.ErrorEquals))
    throw new Error(`a Retry of ${state} has no ErrorEquals`);
  const number = (key: string, fallback: number): number => {
    const field = value[key];
    return typeof field === 'number' ? field : fallback;
  };
  return {
    errorEquals: value.ErrorEquals.filter((error): error is string => typeof error === 'string'),
    intervalSeconds: number('IntervalSeconds', 1),
    maxAttempts: number('MaxAttempts', 3),
    backoffRate: number('BackoffRate', 2),
    maxDelaySeconds: typeof value.MaxDelaySeconds === 'number' ? value.MaxDelaySeconds : undefined,
    jitter: value.JitterStrategy === 'FULL' ? 'FULL' : 'NONE',
  };
}

/** Keys whose string values are JSONPath (or intrinsic functions) that may read the context object. */
function isPathKey(key: string): boolean {
  return key.endsWith('.$') || key.endsWith('Path') || key === 'Variable';
}

/** Points `$$.Execution.StartTime` at the virtual start time the execution puts in the context. */
function replaceStartTime(value: JsonValue, key = ''): JsonValue {
  if (typeof value === 'string') {
    // A replacer function: in a replacement string `$$` would mean a single `$`.
    return isPathKey(key)
      ? value.replaceAll('$$.Execution.StartTime', () => `$$.Execution.${LOCAL_START_TIME}`)
      : value;
  }
  if (Array.isArray(value)) return value.map((item) => replaceStartTime(item, key));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [name, replaceStartTime(item, name)]),
    );
  }
  return value;
}

/** Whether a JSON value is an object. */
export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
