/**
 * A local Step Functions service: the state machines of the synthesized template, run by
 * `aws-local-stepfunctions` on the virtual clock, behind the real Step Functions JSON protocol so
 * that `@aws-sdk/client-sfn` works unchanged through `AWS_ENDPOINT_URL_SFN`. Lambda tasks call the
 * project's handler modules in-process; other task resources go to handlers the caller supplies.
 * See local/README.md ("Step Functions and the clock") for how it differs from AWS.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { VirtualClock } from '#local/clock.ts';
import { type JsonObject, type JsonValue, type ResourceIdentity, TemplateResolver } from '#local/template.ts';
import { isObject, prepareDefinition } from './stepfunctions/definition.ts';
import { ServiceError } from './stepfunctions/errors.ts';
import {
  Execution,
  type ExecutionRecord,
  type ExecutionServices,
  type LocalStateMachine,
  supportedResource,
  type TaskResourceHandler,
} from './stepfunctions/execution.ts';
import { serializeEvent } from './stepfunctions/history.ts';
import { LocalFunctions, readLocalHandler } from './stepfunctions/lambda.ts';
import { serveJsonProtocol } from './stepfunctions/server.ts';
import { ExecutionStore } from './stepfunctions/store.ts';

export type { ExecutionStatus, TaskContext, TaskResourceHandler } from './stepfunctions/execution.ts';
export { LOCAL_HANDLER_METADATA, type LocalHandlerMetadata } from './stepfunctions/lambda.ts';

/** Options of {@link startStepFunctions}. */
export interface StepFunctionsOptions {
  /** The clock that Wait states, retry intervals and timeouts sleep on, and that settles on executions. */
  readonly clock: VirtualClock;
  /** A synthesized template whose state machines and `Local::Handler` functions to register. */
  readonly template?: Readonly<Record<string, unknown>>;
  /** Identities of template resources (e.g. table names) over the local defaults; see `TemplateResolver`. */
  readonly identities?: Readonly<Record<string, ResourceIdentity>>;
  /**
   * Local handlers for task resources other than Lambda, by the exact resource ARN, e.g.
   * `arn:aws:states:::sns:publish` or `arn:aws:states:::aws-sdk:sesv2:sendEmail`.
   */
  readonly resourceHandlers?: Readonly<Record<string, TaskResourceHandler>>;
  /** Where `Local::Handler` entries are relative to. @default the project root */
  readonly projectRoot?: string;
  /** Set each function's environment in `process.env` before it loads and runs. @default true */
  readonly applyFunctionEnvironment?: boolean;
  /** Variables laid over every function's environment (e.g. `AWS_ENDPOINT_URL_DYNAMODB`). @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** Keep executions in `<dataDir>/stepfunctions-executions.json` across restarts. @default in memory */
  readonly dataDir?: string;
  /** @default 0, a free port */
  readonly port?: number;
  /** @default `us-east-1` */
  readonly region?: string;
  /** @default `000000000000` */
  readonly accountId?: string;
  /** The random source of `JitterStrategy: FULL`. @default Math.random */
  readonly random?: () => number;
}

/** What {@link StepFunctionsLocal.registerTemplate} registered, by logical id. */
export interface RegisteredTemplate {
  readonly stateMachines: Readonly<Record<string, string>>;
  readonly functions: Readonly<Record<string, string>>;
}

/** A running local Step Functions service. */
export interface StepFunctionsLocal {
  /** `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL_SFN`. */
  readonly endpoint: string;
  readonly region: string;
  /** Registers the state machines and `Local::Handler` functions of a synthesized template. */
  registerTemplate(
    template: Readonly<Record<string, unknown>>,
    identities?: Readonly<Record<string, ResourceIdentity>>,
  ): RegisteredTemplate;
  /** Registers one state machine from its ASL definition; returns its ARN. */
  registerStateMachine(name: string, definition: JsonObject, roleArn?: string): string;
  /**
   * The ARN of a registered state machine, by template logical id, by name, or by construct id
   * when one CDK logical id is that id plus its 8-character hash (`Timer` → `Timer6FC8AE80`).
   */
  stateMachineArn(id: string): string;
  /**
   * Re-runs, from the start and with the same input, the executions that were running when the
   * service last stopped (with `dataDir`). Call it once handlers can reach the other local
   * services (their `AWS_ENDPOINT_URL_*` set). Returns their ARNs.
   */
  resume(): string[];
  /** Aborts running executions (they stay RUNNING on disk, to resume), closes the server, clears timers. */
  stop(): Promise<void>;
}

const STATE_MACHINE_ARN = /^arn:[^:]+:states:[^:]+:[^:]+:stateMachine:([^:]+)$/;
const EXECUTION_ARN = /^arn:[^:]+:states:[^:]+:[^:]+:execution:[^:]+:[^:]+$/;
/** Whitespace, brackets, wildcards and special characters are not allowed in names (control characters neither). */
const INVALID_NAME_CHARACTER = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;
const MAX_INPUT_BYTES = 256 * 1024;

/** Starts the service on a loopback port. Executions saved in `dataDir` wait for `resume()`. */
export async function startStepFunctions(options: StepFunctionsOptions): Promise<StepFunctionsLocal> {
  const service = new Service(options);
  if (options.template) service.registerTemplate(options.template, options.identities);
  await service.listen(options.port ?? 0);
  return service;
}

interface Entry {
  readonly record: ExecutionRecord;
  execution: Execution | undefined;
}

class Service implements StepFunctionsLocal {
  readonly region: string;
  readonly #accountId: string;
  readonly #clock: VirtualClock;
  readonly #resourceHandlers: Readonly<Record<string, TaskResourceHandler>>;
  readonly #functions: LocalFunctions;
  readonly #services: ExecutionServices;
  readonly #machines = new Map<string, LocalStateMachine>();
  readonly #aliases = new Map<string, string>();
  readonly #executions = new Map<string, Entry>();
  readonly #store: ExecutionStore | undefined;
  #server: { endpoint: string; close(): Promise<void> } | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: StepFunctionsOptions) {
    this.region = options.region ?? 'us-east-1';
    this.#accountId = options.accountId ?? '000000000000';
    this.#clock = options.clock;
    this.#resourceHandlers = options.resourceHandlers ?? {};
    this.#functions = new LocalFunctions({
      projectRoot: options.projectRoot ?? fileURLToPath(new URL('..', import.meta.url)),
      applyFunctionEnvironment: options.applyFunctionEnvironment ?? true,
      environment: options.environment ?? {},
    });
    this.#store = options.dataDir
      ? new ExecutionStore(options.dataDir, () => [...this.#executions.values()].map((entry) => entry.record))
      : undefined;
    this.#services = {
      clock: this.#clock,
      functions: this.#functions,
      resourceHandlers: this.#resourceHandlers,
      region: this.region,
      random: options.random ?? Math.random,
      changed: () => this.#store?.save(),
    };
    for (const record of this.#store?.load() ?? [])
      this.#executions.set(record.executionArn, { record, execution: undefined });
  }

  get endpoint(): string {
    if (!this.#server) throw new Error('the local Step Functions is not listening');
    return this.#server.endpoint;
  }

  async listen(port: number): Promise<void> {
    this.#server = await serveJsonProtocol((operation, body) => this.#operation(operation, body), port);
  }

  registerTemplate(
    template: Readonly<Record<string, unknown>>,
    identities?: Readonly<Record<string, ResourceIdentity>>,
  ): RegisteredTemplate {
    const resolver = new TemplateResolver(template, {
      region: this.region,
      accountId: this.#accountId,
      ...(identities ? { identities } : {}),
    });
    const functions: Record<string, string> = {};
    for (const [logicalId, resource] of resolver.resources('AWS::Lambda::Function')) {
      const handler = readLocalHandler(resource.Metadata);
      if (!handler) continue;
      const identity = resolver.identity(logicalId);
      const arn = identity.attributes?.Arn ?? identity.ref;
      const { Timeout, MemorySize } = resource.Properties;
      this.#functions.add({
        name: identity.ref,
        arn,
        entry: handler.entry,
        exportName: handler.export ?? 'handler',
        environment: resolver.functionEnvironment(logicalId),
        timeoutSeconds: typeof Timeout === 'number' ? Timeout : 3,
        memorySizeMb: typeof MemorySize === 'number' ? MemorySize : 128,
      });
      functions[logicalId] = arn;
    }
    const stateMachines: Record<string, string> = {};
    for (const [logicalId, resource] of resolver.resources('AWS::StepFunctions::StateMachine')) {
      const arn = resolver.identity(logicalId).ref;
      const name = STATE_MACHINE_ARN.exec(arn)?.[1];
      if (!name) throw new Error(`${logicalId}: ${arn} is not a state machine ARN`);
      const roleArn =
        resource.Properties.RoleArn === undefined
          ? undefined
          : resolver.resolveString(resource.Properties.RoleArn);
      this.#register(arn, name, resolver.stateMachineDefinition(logicalId), roleArn);
      this.#aliases.set(logicalId, arn);
      stateMachines[logicalId] = arn;
    }
    return { stateMachines, functions };
  }

  registerStateMachine(name: string, definition: JsonObject, roleArn?: string): string {
    const arn = `arn:aws:states:${this.region}:${this.#accountId}:stateMachine:${name}`;
    this.#register(arn, name, definition, roleArn);
    return arn;
  }

  stateMachineArn(id: string): string {
    // CDK logical ids are the construct path plus an 8-character hash: `Timer` finds `Timer6FC8AE80`.
    const cdkIds = [...this.#aliases].filter(([logicalId]) =>
      new RegExp(`^${escapeRegExp(id)}[0-9A-F]{8}$`).test(logicalId),
    );
    const arn =
      this.#aliases.get(id) ??
      [...this.#machines.values()].find((machine) => machine.name === id)?.arn ??
      (cdkIds.length === 1 ? cdkIds[0]?.[1] : undefined);
    if (!arn) throw new Error(`no single state machine ${id} is registered`);
    return arn;
  }

  resume(): string[] {
    const resumed: string[] = [];
    for (const entry of this.#executions.values()) {
      if (entry.record.status !== 'RUNNING' || entry.execution) continue;
      const machine = this.#machines.get(entry.record.stateMachineArn);
      if (!machine) {
        // Deleting a state machine stops its executions in AWS too.
        Object.assign(entry.record, {
          status: 'ABORTED',
          stopDate: this.#clock.now().getTime(),
          cause: 'its state machine is no longer registered',
        });
        continue;
      }
      entry.execution = new Execution(machine, entry.record, this.#services);
      entry.execution.start();
      resumed.push(entry.record.executionArn);
    }
    this.#store?.save();
    return resumed;
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#server?.close();
      const running = [...this.#executions.values()].flatMap((entry) =>
        entry.execution ? [entry.execution] : [],
      );
      await Promise.all(running.map((execution) => execution.shutdown()));
      await this.#store?.flush();
    })();
    return this.#stopping;
  }

  #register(arn: string, name: string, definition: JsonObject, roleArn: string | undefined): void {
    validate(definition);
    const prepared = prepareDefinition(definition);
    for (const [state, task] of prepared.tasks) {
      if (!supportedResource(task.resource, this.#resourceHandlers)) {
        throw new Error(
          `${name}: Task state ${state} uses ${task.resource}, which has no local handler (pass it in resourceHandlers)`,
        );
      }
    }
    this.#machines.set(arn, {
      arn,
      name,
      roleArn: roleArn ?? `arn:aws:iam::${this.#accountId}:role/${name}Role`,
      definition,
      creationDate: this.#clock.now().getTime(),
      prepared,
      interpreter: new StateMachine(asInterpreterDefinition(prepared.definition), {
        validationOptions: { noValidate: true },
      }),
    });
  }

  #operation(operation: string, body: JsonObject): JsonObject {
    if (this.#stopping)
      throw new ServiceError('ServiceUnavailable', 'the local Step Functions is stopping', 503);
    switch (operation) {
      case 'StartExecution':
        return this.#startExecution(body);
      case 'StopExecution':
        return this.#stopExecution(body);
      case 'DescribeExecution':
        return describe(this.#entry(body).record);
      case 'ListExecutions':
        return this.#listExecutions(body);
      case 'GetExecutionHistory':
        return this.#history(body);
      case 'DescribeStateMachine':
        return this.#describeStateMachine(this.#machine(body));
      case 'ListStateMachines':
        return {
          stateMachines: [...this.#machines.values()].map((machine) => ({
            stateMachineArn: machine.arn,
            name: machine.name,
            type: 'STANDARD',
            creationDate: machine.creationDate / 1000,
          })),
        };
      default:
        throw new ServiceError('UnknownOperationException', `${operation} is not supported locally`);
    }
  }

  #startExecution(body: JsonObject): JsonObject {
    const machine = this.#machine(body);
    const name = optionalString(body, 'name') ?? randomUUID();
    if (!validName(name)) {
      throw new ServiceError('InvalidName', `Invalid Name: '${name}'`);
    }
    const input = optionalString(body, 'input') ?? '{}';
    if (Buffer.byteLength(input) > MAX_INPUT_BYTES) {
      throw new ServiceError('InvalidExecutionInput', 'the input is larger than 256 KiB');
    }
    try {
      JSON.parse(input);
    } catch {
      throw new ServiceError(
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input: the input is not JSON',
      );
    }
    const executionArn = `${machine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.#executions.get(executionArn);
    if (existing) {
      // Same name and input while it runs: the same execution. Otherwise the name is taken.
      if (existing.record.status === 'RUNNING' && existing.record.input === input) {
        return { executionArn, startDate: existing.record.startDate / 1000 };
      }
      throw new ServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      input,
      startDate: this.#clock.now().getTime(),
      status: 'RUNNING',
    };
    const execution = new Execution(machine, record, this.#services);
    this.#executions.set(executionArn, { record, execution });
    execution.start();
    this.#store?.save();
    return { executionArn, startDate: record.startDate / 1000 };
  }

  #stopExecution(body: JsonObject): JsonObject {
    const entry = this.#entry(body);
    if (entry.record.status === 'RUNNING') {
      const error = optionalString(body, 'error');
      const cause = optionalString(body, 'cause');
      if (entry.execution) entry.execution.stop(error, cause);
      else
        Object.assign(entry.record, {
          status: 'ABORTED',
          stopDate: this.#clock.now().getTime(),
          error,
          cause,
        });
      this.#store?.save();
    }
    // Stopping an execution that is already over changes nothing.
    return { stopDate: (entry.record.stopDate ?? this.#clock.now().getTime()) / 1000 };
  }

  #listExecutions(body: JsonObject): JsonObject {
    const machine = this.#machine(body);
    const status = optionalString(body, 'statusFilter');
    const matching = [...this.#executions.values()]
      .map((entry) => entry.record)
      .filter((record) => record.stateMachineArn === machine.arn && (!status || record.status === status))
      // Newest first, as AWS lists them.
      .reverse()
      .sort((a, b) => b.startDate - a.startDate);
    const { page, nextToken } = paginate(matching, body);
    return {
      executions: page.map((record) => ({
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: record.startDate / 1000,
        ...(record.stopDate === undefined ? {} : { stopDate: record.stopDate / 1000 }),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  #history(body: JsonObject): JsonObject {
    const { execution } = this.#entry(body);
    const events = [...(execution?.history.events ?? [])];
    if (body.reverseOrder === true) events.reverse();
    const includeData = body.includeExecutionData !== false;
    const { page, nextToken } = paginate(events, body);
    return {
      events: page.map((event) => serializeEvent(event, includeData)),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  #describeStateMachine(machine: LocalStateMachine): JsonObject {
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: JSON.stringify(machine.definition),
      roleArn: machine.roleArn,
      type: 'STANDARD',
      creationDate: machine.creationDate / 1000,
    };
  }

  #machine(body: JsonObject): LocalStateMachine {
    const arn = requiredString(body, 'stateMachineArn');
    if (!STATE_MACHINE_ARN.test(arn)) throw new ServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
    const machine = this.#machines.get(arn);
    if (!machine)
      throw new ServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  #entry(body: JsonObject): Entry {
    const arn = requiredString(body, 'executionArn');
    if (!EXECUTION_ARN.test(arn)) throw new ServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
    const entry = this.#executions.get(arn);
    if (!entry) throw new ServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return entry;
  }
}

function describe(record: ExecutionRecord): JsonObject {
  const out: JsonObject = {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: record.startDate / 1000,
    input: record.input,
    inputDetails: { included: true },
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
  };
  if (record.stopDate !== undefined) out.stopDate = record.stopDate / 1000;
  if (record.output !== undefined)
    Object.assign(out, { output: record.output, outputDetails: { included: true } });
  if (record.error !== undefined) out.error = record.error;
  if (record.cause !== undefined) out.cause = record.cause;
  return out;
}

/** `maxResults` (1–1000, 0 or absent: 100) and an opaque `nextToken`, as the list operations take them. */
function paginate<T>(items: readonly T[], body: JsonObject): { page: T[]; nextToken: string | undefined } {
  const max =
    typeof body.maxResults === 'number' && body.maxResults > 0 ? Math.min(body.maxResults, 1000) : 100;
  let start = 0;
  const token = optionalString(body, 'nextToken');
  if (token !== undefined) {
    start = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new ServiceError('InvalidToken', 'Invalid Token');
  }
  const end = start + max;
  return {
    page: items.slice(start, end),
    nextToken: end < items.length ? Buffer.from(String(end)).toString('base64url') : undefined,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function validName(name: string): boolean {
  if (name.length < 1 || name.length > 80 || INVALID_NAME_CHARACTER.test(name)) return false;
  // U+0000-001F and U+007F-009F
  return [...name].every((char) => {
    const code = char.charCodeAt(0);
    return code > 0x1f && (code < 0x7f || code > 0x9f);
  });
}

function optionalString(body: JsonObject, key: string): string | undefined {
  const value: JsonValue | undefined = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ServiceError('ValidationException', `${key} must be a string`);
  return value;
}

function requiredString(body: JsonObject, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined) throw new ServiceError('ValidationException', `${key} is required`);
  return value;
}

/** Definitions already validated in this process: asl-validator takes most of a second per call. */
const validated = new Set<string>();

/** Validates a deployed definition (the interpreter's constructor runs asl-validator), as CreateStateMachine would. */
function validate(definition: JsonObject): void {
  const text = JSON.stringify(definition);
  if (validated.has(text)) return;
  // A copy: asl-validator writes `QueryLanguage` into every state it checks.
  new StateMachine(asInterpreterDefinition(structuredClone(definition)));
  validated.add(text);
}

/**
 * The interpreter's definition type is a closed union of state shapes; a parsed definition is
 * JSON and is validated by the interpreter itself (asl-validator) before it runs.
 */
function asInterpreterDefinition(definition: JsonObject): StateMachineDefinition {
  if (!isObject(definition.States) || typeof definition.StartAt !== 'string') {
    throw new Error('a state machine definition needs StartAt and States');
  }
  return definition as unknown as StateMachineDefinition;
}

export type { ExecutionRecord };
