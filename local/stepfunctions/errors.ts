/**
 * Errors of the local Step Functions: task errors as the interpreter sees them (matched by
 * `name` in Retry and Catch, `message` as the Cause), and service errors as the SDK sees them.
 */

/**
 * A task failure: `name` is the error name a Retry or Catch matches, `message` is the Cause.
 * The interpreter reads `isRetryable` and `isCatchable` off the errors it sees.
 */
export class TaskError extends Error {
  readonly isRetryable: boolean;
  readonly isCatchable: boolean;

  constructor(name: string, cause: string, options: { retryable?: boolean; catchable?: boolean } = {}) {
    super(cause);
    this.name = name;
    this.isRetryable = options.retryable ?? true;
    this.isCatchable = options.catchable ?? true;
  }
}

/** `States.Runtime`: a broken definition or input; AWS neither retries nor catches it. */
export function runtimeError(cause: string): TaskError {
  return new TaskError('States.Runtime', cause, { retryable: false, catchable: false });
}

/** Thrown into the interpreter once an execution is stopped, so it never runs a next state. */
export function abortedError(): TaskError {
  return new TaskError('States.Aborted', 'the execution was stopped', { retryable: false, catchable: false });
}

/** Any thrown value as a task failure, named as Lambda and Step Functions would name it. */
export function toTaskError(error: unknown): TaskError {
  if (error instanceof TaskError) return error;
  if (error instanceof Error) return new TaskError(error.name || 'Error', error.message);
  return new TaskError('Error', String(error));
}

/** A Step Functions API error: `type` is the `__type` the SDK maps to its exception classes. */
export class ServiceError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
  }
}
