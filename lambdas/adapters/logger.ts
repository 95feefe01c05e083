import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';

/**
 * Structured logs: one JSON object per line, with customer contact details redacted before they
 * are written. Handlers log ids and outcomes, never whole events (they carry emails and phones);
 * this is the safety net for what slips through, e.g. an address inside an SDK error message.
 *
 * Lines go straight to stdout, not through `console`: Lambda's JSON log format wraps console
 * output in its own envelope, which would hide these fields and break the embedded metric
 * format (EMF) documents that `metric()` writes.
 */

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type LogFields = Readonly<Record<string, unknown>>;

export type MetricUnit = 'Count' | 'Milliseconds' | 'Seconds' | 'None';

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Fields added to every later entry of this logger, e.g. the request id. */
  appendKeys(fields: LogFields): void;
  /** A logger that adds `fields` to every entry, sharing this one's output and level. */
  child(fields: LogFields): Logger;
  /** Writes CloudWatch metrics as one EMF document, without dimensions, in the logger's namespace. */
  metrics(values: Readonly<Record<string, { value: number; unit: MetricUnit }>>): void;
}

export interface LoggerOptions {
  /** Names the component in every entry. */
  readonly service: string;
  /** Entries below this level are dropped. @default process.env.LOG_LEVEL, else 'INFO' */
  readonly level?: LogLevel;
  /** CloudWatch namespace of `metrics()`. @default process.env.METRICS_NAMESPACE, else 'BackorderWatch' */
  readonly namespace?: string;
  /** Where lines go. @default process.stdout */
  readonly write?: (line: string) => void;
  /** @default the wall clock */
  readonly now?: () => Date;
}

const ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };
const REDACTED = '[redacted]';
/** Keys whose value is contact data whatever it looks like. */
const SENSITIVE_KEY =
  /^(e-?mail|emails|emailAddress|phone|phones|mobile|to|cc|bcc|replyTo|destination|recipients|bouncedRecipients|complainedRecipients|address|endpoint)$/i;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
/** E.164 (+15125550101) and North American (512) 555-0101, 512-555-0101, 512.555.0101 numbers. */
const PHONE = /\+[1-9]\d{6,14}\b|(?:\(\d{3}\)\s?|\b\d{3}[-.\s])\d{3}[-.\s]\d{4}\b/g;
const MAX_DEPTH = 8;

/** Replaces email addresses and phone numbers inside free text. */
export function redactText(text: string): string {
  return text.replace(EMAIL, '[email]').replace(PHONE, '[phone]');
}

/**
 * A JSON-safe copy of `value` with contact data removed: whole values under sensitive keys,
 * addresses and numbers inside any other string. Errors keep their name, message and stack.
 */
export function redact(value: unknown): unknown {
  return redactValue(value, 0, new WeakSet());
}

function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value instanceof Date) return value.toISOString();
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[truncated]';
  seen.add(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactText(value.message),
      ...(value.stack ? { stack: redactText(value.stack) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1, seen));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SENSITIVE_KEY.test(key) ? REDACTED : redactValue(item, depth + 1, seen);
  }
  return copy;
}

function levelFrom(value: string | undefined): LogLevel | undefined {
  const upper = value?.toUpperCase();
  return upper === 'DEBUG' || upper === 'INFO' || upper === 'WARN' || upper === 'ERROR' ? upper : undefined;
}

/** A logger for one component (a handler module). */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? levelFrom(process.env.LOG_LEVEL) ?? 'INFO';
  const namespace = options.namespace ?? process.env.METRICS_NAMESPACE ?? 'BackorderWatch';
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  return build({ service: options.service, level, namespace, write, now }, {});
}

interface Output {
  readonly service: string;
  readonly level: LogLevel;
  readonly namespace: string;
  readonly write: (line: string) => void;
  readonly now: () => Date;
}

function build(output: Output, inherited: LogFields): Logger {
  let persistent: Record<string, unknown> = { ...inherited };
  const log = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (ORDER[level] < ORDER[output.level]) return;
    const entry = redact({ ...persistent, ...fields }) as Record<string, unknown>;
    output.write(
      JSON.stringify({
        timestamp: output.now().toISOString(),
        level,
        service: output.service,
        message: redactText(message),
        ...entry,
      }),
    );
  };
  return {
    debug: (message, fields) => log('DEBUG', message, fields),
    info: (message, fields) => log('INFO', message, fields),
    warn: (message, fields) => log('WARN', message, fields),
    error: (message, fields) => log('ERROR', message, fields),
    appendKeys: (fields) => {
      persistent = { ...persistent, ...fields };
    },
    child: (fields) => build(output, { ...persistent, ...fields }),
    metrics: (values) => {
      const names = Object.keys(values);
      if (names.length === 0) return;
      output.write(
        JSON.stringify({
          _aws: {
            Timestamp: output.now().getTime(),
            CloudWatchMetrics: [
              {
                Namespace: output.namespace,
                Dimensions: [[]],
                Metrics: names.map((name) => ({ Name: name, Unit: values[name]?.unit ?? 'None' })),
              },
            ],
          },
          service: output.service,
          ...Object.fromEntries(names.map((name) => [name, values[name]?.value ?? 0])),
        }),
      );
    },
  };
}

/**
 * Middy middleware: every entry of `logger` during a request carries its Lambda request id, and
 * an error that escapes the handler is logged once, redacted, before Lambda reports it. HTTP
 * handlers, whose `httpErrors` middleware turns expected errors into 4xx answers, pass
 * `{ logErrors: false }` and log only what becomes a 500 there.
 */
export function logRequests<TEvent, TResult>(
  logger: Logger,
  options: { logErrors?: boolean } = {},
): MiddlewareObj<TEvent, TResult, Error, Context> {
  const logErrors = options.logErrors ?? true;
  return {
    before: (request) => {
      logger.appendKeys({ requestId: request.context.awsRequestId });
    },
    ...(logErrors
      ? {
          onError: (request) => {
            logger.error('request failed', { error: request.error });
          },
        }
      : {}),
  };
}
