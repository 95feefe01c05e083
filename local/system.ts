import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { useClock } from '#adapters/clock.ts';
import { holidayYearsAround, writeBundledConfig } from '#lib/holidays.ts';
import { VirtualClock } from '#local/clock.ts';
import { createTablesFromTemplate, type DynamoDbLocal, startDynamoDb } from '#local/dynamodb.ts';
import { createGateway, routesFromTemplate } from '#local/gateway.ts';
import { listen, localClientConfig, readBody } from '#local/http-service.ts';
import { createOutbox, type Outbox } from '#local/outbox.ts';
import { type LocalSes, startSes } from '#local/ses.ts';
import { type LocalSns, smsSubscriptionsFromTemplate, startSns, topicArnsFromTemplate } from '#local/sns.ts';
import { readLocalHandler } from '#local/stepfunctions/lambda.ts';
import { type StepFunctionsLocal, startStepFunctions } from '#local/stepfunctions.ts';
import { synthesizeLocalStack } from '#local/synth.ts';
import { identitiesFromNames, type ResourceIdentity, TemplateResolver } from '#local/template.ts';

/**
 * The whole system on this machine: the CDK-synthesized tables, state machine and HTTP routes,
 * run on DynamoDB Local, the local Step Functions, SES and SNS, all on one virtual clock. The
 * handlers are the deployed modules, reached through the standard `AWS_ENDPOINT_URL_*` settings.
 */

export interface LocalSystemOptions {
  /** @default 0: a free port */
  readonly port?: number;
  /** Persist tables, executions and the clock here; in memory when absent. */
  readonly dataDir?: string;
  /** Where the virtual clock starts (ignored when `dataDir` holds a saved clock). @default real now */
  readonly clockStart?: Date;
  /** Whether virtual time moves with real time between advances. @default true */
  readonly followRealTime?: boolean;
  readonly webhookSecret: string;
  readonly decisionSecret: string;
  readonly adminToken: string;
  readonly configFile: string;
  /** Use this DynamoDB Local instead of starting one (tests share one per run). */
  readonly dynamoDbEndpoint?: string;
  /** @default '' */
  readonly tablePrefix?: string;
}

export interface LocalSystem {
  /** `http://127.0.0.1:<port>`: the API, the decision pages and `/_local/*`. */
  readonly url: string;
  readonly clock: VirtualClock;
  readonly outbox: Outbox;
  readonly ses: LocalSes;
  readonly sns: LocalSns;
  readonly stepFunctions: StepFunctionsLocal;
  readonly tableName: string;
  readonly dynamoDbEndpoint: string;
  stop(): Promise<void>;
}

const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** `PT5H`, `P14D`, `P1DT2H30M`: days, hours, minutes and seconds (months and years vary in length). */
export function parseDuration(text: string): number | undefined {
  const match = ISO_DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000;
}

export async function startLocalSystem(options: LocalSystemOptions): Promise<LocalSystem> {
  const stopping: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const stop of stopping.reverse()) await stop();
  };
  try {
    return await boot(options, stopping, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function boot(
  options: LocalSystemOptions,
  stopping: Array<() => Promise<void> | void>,
  stopAll: () => Promise<void>,
): Promise<LocalSystem> {
  const clockFile = options.dataDir ? join(options.dataDir, 'clock.json') : undefined;
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const clock = new VirtualClock({
    start: savedClock(clockFile) ?? options.clockStart ?? new Date(),
    followRealTime: options.followRealTime ?? true,
  });
  const restoreClock = useClock(clock);
  stopping.push(() => {
    saveClock(clockFile, clock);
    restoreClock();
    clock.dispose();
  });

  const { template } = synthesizeLocalStack(options.configFile);
  const resolver = new TemplateResolver(template);

  let database: DynamoDbLocal | undefined;
  if (!options.dynamoDbEndpoint) {
    database = await startDynamoDb(options.dataDir ? { dataDir: join(options.dataDir, 'dynamodb') } : {});
    stopping.push(() => database?.stop());
  }
  const dynamoDbEndpoint = options.dynamoDbEndpoint ?? database?.endpoint ?? '';
  const dynamo = new DynamoDBClient(localClientConfig(dynamoDbEndpoint));
  stopping.push(() => dynamo.destroy());
  const tables = await createTablesFromTemplate(dynamo, template, { prefix: options.tablePrefix ?? '' });
  const identities: Record<string, ResourceIdentity> = identitiesFromNames(template, tables);

  const now = () => clock.now();
  const ses = await startSes({ now });
  stopping.push(() => ses.stop());
  const topicArns = topicArnsFromTemplate(template);
  const sns = await startSns({
    topicArns: topicArns.values(),
    subscriptions: smsSubscriptionsFromTemplate(template, topicArns),
    now,
  });
  stopping.push(() => sns.stop());

  const server = await listen(async (request, response) => handle(request, response), {
    port: options.port ?? 0,
  });
  stopping.push(() => server.close());
  const url = server.endpoint;
  // Links in emails (decision pages) point at this gateway, as deployed they point at the HTTP API.
  for (const [logicalId] of resolver.resources('AWS::ApiGatewayV2::Api')) {
    identities[logicalId] = { ref: 'local', attributes: { ApiEndpoint: url, ApiId: 'local' } };
  }

  // Every handler shares this process, so the functions' variables are set once, for all of them.
  const environment: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamoDbEndpoint,
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
    AWS_ENDPOINT_URL_SNS: sns.endpoint,
    // As bundled into each Lambda, with the holidays listed for the years around the virtual clock.
    ORGANISATION_CONFIG_FILE: writeBundledConfig(options.configFile, holidayYearsAround(clock.now())),
    PUBLIC_BASE_URL: url,
    // Locally the secrets are plain variables; deployed they come from Secrets Manager by ARN.
    WEBHOOK_SECRET: options.webhookSecret,
    WEBHOOK_SECRET_ARN: '',
    DECISION_SECRET: options.decisionSecret,
    DECISION_SECRET_ARN: '',
  };
  const stepFunctions = await startStepFunctions({
    clock,
    dataDir: options.dataDir,
    applyFunctionEnvironment: false,
  });
  stopping.push(() => stepFunctions.stop());
  environment.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;
  const functionResolver = new TemplateResolver(template, { identities });
  const registered = stepFunctions.registerTemplate(template, identities);
  for (const [logicalId] of functionResolver.resources('AWS::Lambda::Function')) {
    if (!registered.functions[logicalId]) continue;
    Object.assign(process.env, functionResolver.functionEnvironment(logicalId), environment);
  }
  Object.assign(process.env, environment);

  const outbox = createOutbox({ ses, sns });
  const gateway = createGateway({
    routes: routesFromTemplate(resolver),
    adminToken: options.adminToken,
    invoke: (logicalId, event) => invokeInProcess(resolver, logicalId, event),
    now,
  });

  async function handle(
    request: import('node:http').IncomingMessage,
    response: import('node:http').ServerResponse,
  ) {
    const body = await readBody(request);
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/_local/clock') return clockRoute(request.method ?? 'GET', body, response);
    if (path === '/_local/outbox' && request.method === 'GET') return reply(response, 200, outbox.read());
    if (await gateway(request, response, body)) return;
    reply(response, 404, { message: 'Not Found' });
  }

  async function clockRoute(method: string, body: Buffer, response: import('node:http').ServerResponse) {
    if (method === 'GET') return reply(response, 200, { now: clock.now().toISOString() });
    if (method !== 'POST') return reply(response, 405, { error: 'method_not_allowed' });
    let request: { advanceBy?: unknown; to?: unknown };
    try {
      request = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      return reply(response, 400, {
        error: 'invalid_json',
        message: 'Send { "advanceBy": "PT5H" } or { "to": "<ISO>" }.',
      });
    }
    const duration = typeof request.advanceBy === 'string' ? parseDuration(request.advanceBy) : undefined;
    let moving: Promise<Date>;
    if (duration !== undefined) {
      moving = clock.advanceBy(duration);
    } else if (typeof request.to === 'string' && !Number.isNaN(Date.parse(request.to))) {
      if (Date.parse(request.to) < clock.now().getTime()) {
        return reply(response, 400, { error: 'clock_backwards', message: 'The clock only moves forward.' });
      }
      // Real time may pass the target while earlier advances finish: then it only settles.
      const to = Date.parse(request.to);
      moving = clock.advanceTo(to).catch((error: unknown) => {
        if (error instanceof RangeError) return clock.advanceBy(0);
        throw error;
      });
    } else {
      return reply(response, 400, {
        error: 'invalid_clock_request',
        message: 'Send { "advanceBy": "PT5H" } (days, hours, minutes, seconds) or { "to": "<ISO instant>" }.',
      });
    }
    const reached = await moving;
    saveClock(clockFile, clock);
    reply(response, 200, { now: reached.toISOString() });
  }

  stepFunctions.resume();
  return {
    url,
    clock,
    outbox,
    ses,
    sns,
    stepFunctions,
    tableName: [...tables.values()][0] ?? '',
    dynamoDbEndpoint,
    stop: stopAll,
  };
}

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const handlers = new Map<string, Promise<(event: unknown, context: Context) => Promise<unknown>>>();

/** Calls a function's handler module in this process, with a context like Lambda's. */
async function invokeInProcess(resolver: TemplateResolver, logicalId: string, event: APIGatewayProxyEventV2) {
  const metadata = readLocalHandler(resolver.resource(logicalId).Metadata);
  if (!metadata) throw new Error(`${logicalId} names no Local::Handler`);
  const key = `${metadata.entry}#${metadata.export ?? 'handler'}`;
  let handler = handlers.get(key);
  if (!handler) {
    const url = pathToFileURL(join(projectRoot, metadata.entry)).href;
    handler = import(url).then((module) => module[metadata.export ?? 'handler']);
    handlers.set(key, handler);
  }
  const context = {
    functionName: logicalId,
    awsRequestId: event.requestContext.requestId,
    getRemainingTimeInMillis: () => 10_000,
  } as unknown as Context;
  return (await handler)(event, context);
}

function reply(response: import('node:http').ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function savedClock(file: string | undefined): Date | undefined {
  if (!file || !existsSync(file)) return undefined;
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { now: string; savedAt: number };
  // Virtual time went on while the system was down, as real time did.
  return new Date(Date.parse(saved.now) + Math.max(0, Date.now() - saved.savedAt));
}

function saveClock(file: string | undefined, clock: VirtualClock): void {
  if (file) writeFileSync(file, JSON.stringify({ now: clock.now().toISOString(), savedAt: Date.now() }));
}
