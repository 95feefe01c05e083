import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { listen, readBody } from '#local/http-service.ts';
import { nextArrival, type OutboxSource, type OutboxText } from '#local/outbox.ts';

/** A message attribute as SNS matches it against filter policies. */
export interface MessageAttribute {
  readonly dataType: string;
  readonly value: string;
}

/** An SMS subscription of the template, with its topic resolved to an ARN. */
export interface SmsSubscription {
  readonly logicalId: string;
  readonly topicArn: string;
  /** The phone number, E.164. */
  readonly endpoint: string;
  /** On message attributes; null delivers every message. */
  readonly filterPolicy: Readonly<Record<string, unknown>> | null;
}

/** An error the local SNS answers with, in the AWS Query XML shape. */
export interface SnsFault {
  /** The Query error code, e.g. `Throttled`: the SDK raises the matching exception (`ThrottledException`). */
  readonly code: string;
  readonly status: number;
  readonly message?: string;
}

export interface StartSnsOptions {
  /** Topics that exist: publishing to any other ARN fails with `NotFound`, as in AWS. */
  readonly topicArns: Iterable<string>;
  readonly subscriptions: readonly SmsSubscription[];
  /** The clock that stamps each text: the virtual clock in the local runtime. @default wall clock */
  readonly now?: () => Date;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

/** One accepted publish, and the phones it went to (none when no subscription matched). */
export interface SnsText extends OutboxText {
  readonly arrival: number;
  /** The topic published to; null for a publish straight to a phone number. */
  readonly topicArn: string | null;
  readonly attributes: Readonly<Record<string, MessageAttribute>>;
}

/** A running local SNS endpoint. */
export interface LocalSns extends OutboxSource<SnsText> {
  /** The value for `AWS_ENDPOINT_URL_SNS`. */
  readonly endpoint: string;
  /** Every accepted publish, in arrival order, including those that reached nobody. */
  records(): readonly SnsText[];
  /**
   * Fails the next `count` requests (HTTP attempts, so SDK retries count too) with `fault`.
   * @default { code: 'Throttled', status: 429 }
   */
  failNext(count: number, fault?: SnsFault): void;
  clear(): void;
  stop(): Promise<void>;
}

const NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';
// The SNS model declares ThrottledException as `Throttled`, HTTP 429, which the SDK retries.
const THROTTLED: SnsFault = { code: 'Throttled', status: 429, message: 'Rate exceeded' };
// Whole request, attributes included, as SNS counts it.
const MAX_MESSAGE_BYTES = 262_144;

class SnsError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

function invalid(message: string): SnsError {
  return new SnsError('InvalidParameter', 400, message);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

function sendXml(response: ServerResponse, status: number, xml: string): void {
  response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
  response.end(`<?xml version="1.0"?>\n${xml}`);
}

function sendError(response: ServerResponse, fault: SnsFault): void {
  const type = fault.status >= 500 ? 'Receiver' : 'Sender';
  sendXml(
    response,
    fault.status,
    `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type><Code>${escapeXml(fault.code)}</Code>` +
      `<Message>${escapeXml(fault.message ?? fault.code)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  );
}

function sendResult(response: ServerResponse, action: string, result: string): void {
  sendXml(
    response,
    200,
    `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${result}</${action}Result>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
  );
}

// ---------------------------------------------------------------------------------------------
// Filter policies (scope: message attributes)

type Condition =
  | { kind: 'equals'; value: string | number }
  | { kind: 'exists'; exists: boolean }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'suffix'; suffix: string }
  | { kind: 'equalsIgnoreCase'; value: string }
  | { kind: 'anythingBut'; values: (string | number)[]; prefix?: string; suffix?: string }
  | { kind: 'numeric'; bounds: { op: string; value: number }[] };

/** A compiled filter policy: every key must match, and one branch of each `$or` group. */
export interface CompiledPolicy {
  readonly keys: readonly (readonly [string, readonly Condition[]])[];
  readonly anyOf: readonly (readonly CompiledPolicy[])[];
}

const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);
const policyObject = z.record(z.string(), z.unknown());

function unsupported(key: string, raw: unknown): Error {
  return new Error(`Filter policy condition on "${key}" is not supported locally: ${JSON.stringify(raw)}`);
}

function compileCondition(key: string, raw: unknown): Condition {
  if (typeof raw === 'string' || typeof raw === 'number') return { kind: 'equals', value: raw };
  const entries = raw && typeof raw === 'object' && !Array.isArray(raw) ? Object.entries(raw) : [];
  const [operator, operand] = entries[0] ?? [];
  if (entries.length !== 1) throw unsupported(key, raw);
  if (operator === 'exists' && typeof operand === 'boolean') return { kind: 'exists', exists: operand };
  if (operator === 'prefix' && typeof operand === 'string') return { kind: 'prefix', prefix: operand };
  if (operator === 'suffix' && typeof operand === 'string') return { kind: 'suffix', suffix: operand };
  if (operator === 'equals-ignore-case' && typeof operand === 'string') {
    return { kind: 'equalsIgnoreCase', value: operand };
  }
  if (operator === 'anything-but') return compileAnythingBut(key, operand);
  if (operator === 'numeric' && Array.isArray(operand)) return compileNumeric(key, operand);
  throw unsupported(key, raw);
}

function compileAnythingBut(key: string, operand: unknown): Condition {
  const listed = z.union([z.string(), z.number()]);
  const parsed = z
    .union([
      listed.transform((value) => ({ values: [value] })),
      z.array(listed).transform((values) => ({ values })),
      z.object({ prefix: z.string() }).transform(({ prefix }) => ({ values: [], prefix })),
      z.object({ suffix: z.string() }).transform(({ suffix }) => ({ values: [], suffix })),
    ])
    .safeParse(operand);
  if (!parsed.success) throw unsupported(key, { 'anything-but': operand });
  return { kind: 'anythingBut', ...parsed.data };
}

function compileNumeric(key: string, operand: unknown[]): Condition {
  const bounds: { op: string; value: number }[] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const value = operand[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op) || typeof value !== 'number') {
      throw unsupported(key, { numeric: operand });
    }
    bounds.push({ op, value });
  }
  return { kind: 'numeric', bounds };
}

/** Compiles a filter policy once, so that one the local SNS cannot honour fails at start, not later. */
export function compileFilterPolicy(policy: Readonly<Record<string, unknown>>): CompiledPolicy {
  const keys: (readonly [string, readonly Condition[]])[] = [];
  const anyOf: CompiledPolicy[][] = [];
  for (const [key, value] of Object.entries(policy)) {
    if (key === '$or') {
      anyOf.push(z.array(policyObject).parse(value).map(compileFilterPolicy));
    } else if (Array.isArray(value)) {
      keys.push([key, value.map((raw) => compileCondition(key, raw))]);
    } else {
      throw new Error(`Filter policy on "${key}" nests objects: only the MessageBody scope allows that`);
    }
  }
  return { keys, anyOf };
}

/** The values a filter sees: one for String and Number, each element for String.Array. */
function valuesOf(attribute: MessageAttribute): (string | number)[] {
  if (attribute.dataType.startsWith('String.Array')) {
    const parsed: unknown = JSON.parse(attribute.value);
    return Array.isArray(parsed)
      ? parsed.filter(
          (value): value is string | number => typeof value === 'string' || typeof value === 'number',
        )
      : [];
  }
  if (attribute.dataType.startsWith('Number')) return [Number(attribute.value)];
  if (attribute.dataType.startsWith('String')) return [attribute.value];
  return []; // Binary attributes never match a filter.
}

function compare(value: number, op: string, bound: number): boolean {
  switch (op) {
    case '=':
      return value === bound;
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    default:
      return value >= bound;
  }
}

function valueMatches(condition: Condition, value: string | number): boolean {
  switch (condition.kind) {
    case 'equals':
      return value === condition.value;
    case 'prefix':
      return typeof value === 'string' && value.startsWith(condition.prefix);
    case 'suffix':
      return typeof value === 'string' && value.endsWith(condition.suffix);
    case 'equalsIgnoreCase':
      return typeof value === 'string' && value.toLowerCase() === condition.value.toLowerCase();
    case 'anythingBut':
      if (condition.prefix !== undefined)
        return typeof value === 'string' && !value.startsWith(condition.prefix);
      if (condition.suffix !== undefined)
        return typeof value === 'string' && !value.endsWith(condition.suffix);
      return !condition.values.includes(value);
    case 'numeric':
      return (
        typeof value === 'number' &&
        condition.bounds.every(({ op, value: bound }) => compare(value, op, bound))
      );
    case 'exists':
      return condition.exists;
  }
}

/** SNS filter-policy matching on message attributes, for the operators listed in local/README.md. */
export function matchesFilterPolicy(
  policy: CompiledPolicy,
  attributes: Readonly<Record<string, MessageAttribute>>,
): boolean {
  const keysMatch = policy.keys.every(([key, conditions]) => {
    const attribute = attributes[key];
    return conditions.some((condition) => {
      if (condition.kind === 'exists') return (attribute !== undefined) === condition.exists;
      return attribute !== undefined && valuesOf(attribute).some((value) => valueMatches(condition, value));
    });
  });
  return (
    keysMatch &&
    policy.anyOf.every((branches) => branches.some((branch) => matchesFilterPolicy(branch, attributes)))
  );
}

// ---------------------------------------------------------------------------------------------
// The template: topics and their SMS subscriptions

const resources = z.object({
  Resources: z
    .record(z.string(), z.object({ Type: z.string(), Properties: z.unknown().optional() }))
    .optional(),
});
const subscriptionProperties = z.object({
  Protocol: z.string(),
  Endpoint: z.unknown(),
  TopicArn: z.unknown(),
  FilterPolicy: policyObject.optional(),
  FilterPolicyScope: z.string().optional(),
});

function resourcesOfType(template: Record<string, unknown>, type: string): [string, unknown][] {
  return Object.entries(resources.parse(template).Resources ?? {})
    .filter(([, resource]) => resource.Type === type)
    .map(([logicalId, resource]) => [logicalId, resource.Properties]);
}

/**
 * An ARN for every `AWS::SNS::Topic` of the template, by logical id: its `TopicName` when the
 * template fixes one, else the logical id.
 */
export function topicArnsFromTemplate(
  template: Record<string, unknown>,
  opts: { region?: string; accountId?: string } = {},
): Map<string, string> {
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '000000000000';
  return new Map(
    resourcesOfType(template, 'AWS::SNS::Topic').map(([logicalId, properties]) => {
      const name = z.object({ TopicName: z.string() }).safeParse(properties);
      return [
        logicalId,
        `arn:aws:sns:${region}:${accountId}:${name.success ? name.data.TopicName : logicalId}`,
      ];
    }),
  );
}

/**
 * The `AWS::SNS::Subscription` resources of the template, as deployed subscriptions would route:
 * `TopicArn` is a `Ref` to a topic, resolved through `topicArns` (logical id → ARN). Only SMS is
 * delivered locally; any other protocol fails here rather than drop messages silently.
 */
export function smsSubscriptionsFromTemplate(
  template: Record<string, unknown>,
  topicArns: ReadonlyMap<string, string>,
): SmsSubscription[] {
  return resourcesOfType(template, 'AWS::SNS::Subscription').map(([logicalId, raw]) => {
    const properties = subscriptionProperties.parse(raw);
    if (properties.Protocol !== 'sms') {
      throw new Error(
        `Subscription ${logicalId}: protocol ${properties.Protocol} is not delivered locally (sms only)`,
      );
    }
    if ((properties.FilterPolicyScope ?? 'MessageAttributes') !== 'MessageAttributes') {
      throw new Error(
        `Subscription ${logicalId}: only the MessageAttributes filter policy scope is supported locally`,
      );
    }
    if (typeof properties.Endpoint !== 'string') {
      throw new Error(`Subscription ${logicalId}: its phone number must be a literal in the template`);
    }
    const ref = z.object({ Ref: z.string() }).safeParse(properties.TopicArn);
    const topicArn = ref.success ? topicArns.get(ref.data.Ref) : undefined;
    if (!topicArn) {
      throw new Error(
        `Subscription ${logicalId}: its TopicArn ${JSON.stringify(properties.TopicArn)} is no known topic`,
      );
    }
    return {
      logicalId,
      topicArn,
      endpoint: properties.Endpoint,
      filterPolicy: properties.FilterPolicy ?? null,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The Query protocol: Publish and PublishBatch

interface PublishInput {
  readonly message: string;
  readonly attributes: Record<string, MessageAttribute>;
}

/** Reads `<prefix>MessageAttributes.entry.N.{Name, Value.DataType, Value.StringValue}`. */
function attributesAt(params: URLSearchParams, prefix: string): Record<string, MessageAttribute> {
  const attributes: Record<string, MessageAttribute> = {};
  for (let n = 1; params.has(`${prefix}MessageAttributes.entry.${n}.Name`); n += 1) {
    const entry = `${prefix}MessageAttributes.entry.${n}`;
    const name = params.get(`${entry}.Name`) ?? '';
    const dataType = params.get(`${entry}.Value.DataType`);
    const stringValue = params.get(`${entry}.Value.StringValue`);
    const binaryValue = params.get(`${entry}.Value.BinaryValue`);
    if (!dataType)
      throw new SnsError(
        'ParameterValueInvalid',
        400,
        `The message attribute '${name}' must contain a non-empty attribute type.`,
      );
    const value = dataType.startsWith('Binary') ? binaryValue : stringValue;
    if (value === null) {
      throw new SnsError(
        'ParameterValueInvalid',
        400,
        `The message attribute '${name}' must contain a non-empty message attribute value.`,
      );
    }
    if (dataType.startsWith('Number') && !Number.isFinite(Number(value))) {
      throw new SnsError(
        'ParameterValueInvalid',
        400,
        `Could not cast message attribute '${name}' value to number.`,
      );
    }
    if (dataType.startsWith('String.Array') && !Array.isArray(safeJson(value))) {
      throw new SnsError(
        'ParameterValueInvalid',
        400,
        `The message attribute '${name}' is not a JSON array.`,
      );
    }
    attributes[name] = { dataType, value };
  }
  if (Object.keys(attributes).length > 10) {
    throw invalid('Number of message attributes exceeds the limit of 10.');
  }
  return attributes;
}

/** Message, attributes and the structure SNS would deliver to an SMS endpoint. */
function publishInput(params: URLSearchParams, prefix: string): PublishInput {
  const raw = params.get(`${prefix}Message`);
  if (!raw) throw invalid('Empty message');
  const attributes = attributesAt(params, prefix);
  const size =
    Buffer.byteLength(raw) +
    Object.entries(attributes).reduce(
      (sum, [name, attribute]) => sum + Buffer.byteLength(name + attribute.dataType + attribute.value),
      0,
    );
  if (size > MAX_MESSAGE_BYTES) throw invalid('Message too long');
  if (params.get(`${prefix}MessageStructure`) !== 'json') return { message: raw, attributes };
  // A per-protocol message: SMS subscribers get the `sms` entry, else `default`.
  const structured = z.record(z.string(), z.string()).safeParse(safeJson(raw));
  const message = structured.success ? (structured.data.sms ?? structured.data.default) : undefined;
  if (structured.success && structured.data.default === undefined) {
    throw invalid('Message Structure - No default entry in JSON message body');
  }
  if (message === undefined) throw invalid('Message Structure - JSON message body failed to parse');
  return { message, attributes };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Starts a local SNS endpoint speaking the AWS Query protocol that `@aws-sdk/client-sns` uses
 * (`Publish`, `PublishBatch`). Each publish is delivered to the SMS subscriptions whose filter
 * policy its message attributes match, and recorded with `now()` (the virtual clock).
 */
export async function startSns(options: StartSnsOptions): Promise<LocalSns> {
  const now = options.now ?? (() => new Date());
  const topics = new Set(options.topicArns);
  for (const subscription of options.subscriptions) topics.add(subscription.topicArn);
  const routes = options.subscriptions.map((subscription) => ({
    subscription,
    policy: subscription.filterPolicy ? compileFilterPolicy(subscription.filterPolicy) : null,
  }));
  const faults: SnsFault[] = [];
  let texts: SnsText[] = [];

  function deliver(destination: { topicArn: string } | { phoneNumber: string }, input: PublishInput): string {
    const id = randomUUID();
    const topicArn = 'topicArn' in destination ? destination.topicArn : null;
    const to =
      'phoneNumber' in destination
        ? [destination.phoneNumber]
        : routes
            .filter(({ subscription }) => subscription.topicArn === topicArn)
            .filter(({ policy }) => policy === null || matchesFilterPolicy(policy, input.attributes))
            .map(({ subscription }) => subscription.endpoint);
    const audience = input.attributes.audience?.value ?? null;
    texts.push({
      id,
      at: now().toISOString(),
      arrival: nextArrival(),
      to,
      audience,
      message: input.message,
      attributes: input.attributes,
      topicArn,
    });
    return id;
  }

  function topicOf(params: URLSearchParams): string {
    const arn = params.get('TopicArn') ?? params.get('TargetArn');
    if (!arn) throw invalid('TopicArn or TargetArn Reason: no value for required parameter');
    if (!topics.has(arn)) throw new SnsError('NotFound', 404, 'Topic does not exist');
    return arn;
  }

  function publish(params: URLSearchParams): string {
    const phoneNumber = params.get('PhoneNumber');
    if (phoneNumber !== null && !/^\+[1-9]\d{1,14}$/.test(phoneNumber)) {
      throw new SnsError(
        'InvalidParameter',
        400,
        'Invalid parameter: PhoneNumber Reason: it is not in E.164 format',
      );
    }
    const input = publishInput(params, '');
    const id = deliver(phoneNumber ? { phoneNumber } : { topicArn: topicOf(params) }, input);
    return `<MessageId>${id}</MessageId>`;
  }

  function publishBatch(params: URLSearchParams): string {
    const topicArn = topicOf(params);
    const prefixes: string[] = [];
    for (let n = 1; params.has(`PublishBatchRequestEntries.member.${n}.Id`); n += 1) {
      prefixes.push(`PublishBatchRequestEntries.member.${n}.`);
    }
    if (prefixes.length === 0)
      throw new SnsError('EmptyBatchRequest', 400, 'The batch request does not contain any entries.');
    if (prefixes.length > 10) {
      throw new SnsError(
        'TooManyEntriesInBatchRequest',
        400,
        'The batch request contains more entries than permissible.',
      );
    }
    const ids = prefixes.map((prefix) => params.get(`${prefix}Id`) ?? '');
    if (new Set(ids).size !== ids.length) {
      throw new SnsError(
        'BatchEntryIdsNotDistinct',
        400,
        'Two or more batch entries in the request have the same Id.',
      );
    }
    // Validate every entry first: a malformed batch delivers nothing.
    const inputs = prefixes.map((prefix) => publishInput(params, prefix));
    const successful = inputs
      .map(
        (input, i) =>
          `<member><Id>${escapeXml(ids[i] ?? '')}</Id><MessageId>${deliver({ topicArn }, input)}</MessageId></member>`,
      )
      .join('');
    return `<Successful>${successful}</Successful><Failed/>`;
  }

  const service = await listen(
    async (request, response) => {
      const params = new URLSearchParams((await readBody(request)).toString());
      const fault = faults.shift();
      if (fault) return sendError(response, fault);
      const action = params.get('Action') ?? '';
      try {
        if (request.method !== 'POST') throw new SnsError('InvalidAction', 400, 'Use POST');
        if (action === 'Publish') return sendResult(response, action, publish(params));
        if (action === 'PublishBatch') return sendResult(response, action, publishBatch(params));
        throw new SnsError('InvalidAction', 400, `The action ${action} is not valid for this endpoint.`);
      } catch (error) {
        if (!(error instanceof SnsError)) throw error;
        sendError(response, { code: error.code, status: error.status, message: error.message });
      }
    },
    { host: options.host, port: options.port },
  );

  let stopping: Promise<void> | undefined;
  return {
    endpoint: service.endpoint,
    records: () => [...texts],
    failNext: (count, fault = THROTTLED) => {
      for (let i = 0; i < count; i += 1) faults.push(fault);
    },
    clear: () => {
      texts = [];
    },
    stop: () => {
      stopping ??= service.close();
      return stopping;
    },
  };
}
