/**
 * The project's Lambda functions, run in-process: the handler module a function's
 * `Local::Handler` metadata names is imported once and called with the event and a context
 * like Lambda's; what it throws becomes the error Step Functions would report.
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { JsonValue } from '#local/template.ts';
import { TaskError } from './errors.ts';

/** The CloudFormation metadata key that names a function's handler module. */
export const LOCAL_HANDLER_METADATA = 'Local::Handler';

/** `Metadata["Local::Handler"]` of an `AWS::Lambda::Function`. */
export interface LocalHandlerMetadata {
  /** The handler module, relative to the project root, e.g. `lambdas/handlers/plan.ts`. */
  readonly entry: string;
  /** The exported handler. @default 'handler' */
  readonly export?: string;
}

/** A Lambda function the local runtime can invoke. */
export interface LocalFunction {
  readonly name: string;
  readonly arn: string;
  readonly entry: string;
  readonly exportName: string;
  /** Its `Environment.Variables`, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
}

/** Options of {@link LocalFunctions}. */
export interface LocalFunctionsOptions {
  /** Where `entry` paths are relative to. */
  readonly projectRoot: string;
  /**
   * Set each function's environment variables in `process.env` before importing and invoking
   * it (all functions share one process); `environment` is laid over them.
   */
  readonly applyFunctionEnvironment: boolean;
  /** Variables that win over every function's own (e.g. `AWS_ENDPOINT_URL_*`). */
  readonly environment: Readonly<Record<string, string>>;
}

type Handler = (event: unknown, context: Context) => unknown;

/** Reads `Local::Handler` metadata, or returns undefined when it is absent or malformed. */
export function readLocalHandler(
  metadata: Readonly<Record<string, unknown>>,
): LocalHandlerMetadata | undefined {
  const value = metadata[LOCAL_HANDLER_METADATA];
  if (typeof value !== 'object' || value === null) return undefined;
  const entry: unknown = Reflect.get(value, 'entry');
  const exportName: unknown = Reflect.get(value, 'export');
  if (typeof entry !== 'string') return undefined;
  return typeof exportName === 'string' ? { entry, export: exportName } : { entry };
}

/** The registry of local functions, found by name, ARN or partial ARN as Lambda finds them. */
export class LocalFunctions {
  readonly #options: LocalFunctionsOptions;
  readonly #byName = new Map<string, LocalFunction>();
  readonly #modules = new Map<string, Promise<Handler>>();

  constructor(options: LocalFunctionsOptions) {
    this.#options = options;
  }

  /** Adds (or replaces) a function. */
  add(fn: LocalFunction): void {
    this.#byName.set(fn.name, fn);
  }

  /**
   * Finds a function by `name`, `name:qualifier`, its ARN (with or without a qualifier) or a
   * partial ARN `account:function:name`.
   */
  find(reference: string): LocalFunction | undefined {
    const parts = reference.split(':');
    const functionAt = parts.indexOf('function');
    const name = functionAt >= 0 ? parts[functionAt + 1] : parts[0];
    return name === undefined ? undefined : this.#byName.get(name);
  }

  /**
   * Invokes `fn` with `payload` as Lambda would: the event and the result cross a JSON boundary;
   * a thrown error becomes a {@link TaskError} named after the error, with Lambda's JSON Cause.
   */
  async invoke(fn: LocalFunction, payload: JsonValue): Promise<JsonValue> {
    const handler = await this.#handler(fn);
    const event: unknown = JSON.parse(JSON.stringify(payload));
    this.#applyEnvironment(fn);
    const deadline = performance.now() + fn.timeoutSeconds * 1000;
    const requestId = randomUUID();
    const context: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.arn,
      memoryLimitInMB: String(fn.memorySizeMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
      getRemainingTimeInMillis: () => Math.max(0, Math.round(deadline - performance.now())),
      done: unsupportedCallback,
      fail: unsupportedCallback,
      succeed: unsupportedCallback,
    };
    let result: unknown;
    try {
      result = await handler(event, context);
    } catch (error) {
      throw lambdaError(error);
    }
    // Lambda serializes the result: `undefined` arrives as null, Dates as strings.
    return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as JsonValue);
  }

  #handler(fn: LocalFunction): Promise<Handler> {
    const key = `${fn.entry}#${fn.exportName}`;
    let handler = this.#modules.get(key);
    if (!handler) {
      handler = this.#load(fn);
      this.#modules.set(key, handler);
      // A failed import is reported on this invocation and retried on the next.
      handler.catch(() => this.#modules.delete(key));
    }
    return handler;
  }

  async #load(fn: LocalFunction): Promise<Handler> {
    // Module scope reads its environment as it loads, as in a Lambda cold start.
    this.#applyEnvironment(fn);
    const path = isAbsolute(fn.entry) ? fn.entry : resolve(this.#options.projectRoot, fn.entry);
    const module: Record<string, unknown> = await import(pathToFileURL(path).href);
    const handler = module[fn.exportName];
    if (typeof handler !== 'function') {
      throw new TaskError(
        'Runtime.HandlerNotFound',
        JSON.stringify({
          errorType: 'Runtime.HandlerNotFound',
          errorMessage: `${fn.entry} has no export ${fn.exportName}`,
        }),
        { retryable: false },
      );
    }
    return (event, context) => Reflect.apply(handler, undefined, [event, context]);
  }

  #applyEnvironment(fn: LocalFunction): void {
    if (!this.#options.applyFunctionEnvironment) return;
    Object.assign(process.env, fn.environment, this.#options.environment);
  }
}

/** What Lambda reports for a function error: the error's name, and a JSON Cause with message and trace. */
function lambdaError(error: unknown): TaskError {
  if (error instanceof TaskError) return error;
  const errorType = error instanceof Error ? error.name || 'Error' : 'Error';
  const errorMessage = error instanceof Error ? error.message : String(error);
  const trace = error instanceof Error && error.stack ? error.stack.split('\n') : [];
  return new TaskError(errorType, JSON.stringify({ errorType, errorMessage, trace }));
}

function unsupportedCallback(): never {
  throw new Error('callback-style Lambda handlers are not supported locally: return a promise');
}
