import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { BackorderStore, type StoredResponse, VersionConflictError } from '#adapters/backorder-store.ts';
import { now } from '#adapters/clock.ts';
import { retryOnConflict } from '#adapters/conflict-retry.ts';
import { requireEnv } from '#adapters/environment.ts';
import { createLogger } from '#adapters/logger.ts';
import { loadOrganisation } from '#adapters/organisation.ts';
import { loadSecrets } from '#adapters/secrets.ts';
import { InvalidSignatureError, verifyWebhook } from '#adapters/webhook-signature.ts';
import { WorkflowStarter } from '#adapters/workflow-starter.ts';
import {
  type Applied,
  applyEvent,
  type Backorder,
  backorderId,
  NotADelayError,
  type RuleContext,
  UnknownBackorderError,
} from '#domain/backorder.ts';
import { type BackorderEvent, type DemandResult, ErpEvent, type SkuDemandEvent } from '#domain/events.ts';
import { httpErrors, lowerCaseHeaders, rawBody } from '#http/middleware.ts';
import { HttpError, json } from '#http/responses.ts';

const logger = createLogger({ service: 'erp-events' });

/** CONTRACT §1: one event per request, at most 256 KiB. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface ErpEventsDependencies {
  store: BackorderStore;
  workflow: WorkflowStarter;
  secrets: Buffer[];
  rules: RuleContext;
  now: () => Date;
}

/** `POST /v1/erp/events`: verify, validate, apply to the record, hand the record to its timer. */
export function createErpEventsHandler(deps: ErpEventsDependencies) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpErrors())
    .handler(async (request) => {
      const body = rawBody(request);
      if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
        throw new HttpError(413, { error: 'payload_too_large', message: 'An event may be at most 256 KiB.' });
      }
      const headers = lowerCaseHeaders(request);
      const message = authenticate(headers, body, deps);
      const event = parseEvent(headers, body);

      const previous = await deps.store.response(message.id);
      if (event.type === 'sku.demand') {
        if (previous) return json(previous.status, previous.body);
        const outcome = await recordDemand(event, message.id, deps);
        return json(outcome.status, outcome.body);
      }
      if (previous) return replay(previous, event, deps);

      const { record, response } = await applyWithRetry(event, message.id, deps);
      if (!response.fresh) return replay(response.stored, event, deps);
      await handOver(record, deps);
      return json(response.stored.status, response.stored.body);
    });
}

function authenticate(
  headers: Record<string, string | undefined>,
  body: string,
  deps: ErpEventsDependencies,
) {
  try {
    return verifyWebhook(headers, body, deps.secrets, deps.now());
  } catch (error) {
    if (error instanceof InvalidSignatureError) throw new HttpError(401, { error: 'unauthorized' });
    throw error;
  }
}

function parseEvent(headers: Record<string, string | undefined>, body: string): ErpEvent {
  const contentType = headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new HttpError(415, {
      error: 'unsupported_media_type',
      message: 'Send the event as application/json.',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HttpError(400, { error: 'invalid_json', message: 'The body is not valid JSON.' });
  }
  const result = ErpEvent.safeParse(parsed);
  if (!result.success) {
    throw new HttpError(400, {
      error: 'invalid_event',
      message: 'The event does not match the schema.',
      issues: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  return result.data;
}

type Response = { fresh: true; stored: StoredResponse } | { fresh: false; stored: StoredResponse };

/** Concurrent events for one line are serialised by optimistic versions: re-read and re-apply on conflict. */
async function applyWithRetry(
  event: BackorderEvent,
  messageId: string,
  deps: ErpEventsDependencies,
): Promise<{ record: Backorder; response: Response }> {
  return conflictsAsBusy(async () => {
    const current = await deps.store.get(event.data);
    const applied = apply(current, event, deps.rules);
    const record = applied.changed
      ? { ...applied.record, version: (current?.version ?? 0) + 1 }
      : applied.record;
    const stored: StoredResponse = {
      status: 202,
      body: { backorderId: backorderId(record), result: applied.result },
    };
    const receivedAt = deps.now();
    const outcome = await deps.store.save({
      previous: current,
      record,
      changed: applied.changed,
      expectedVersion: current?.version,
      timeline: {
        occurredAt: new Date(event.occurredAt).toISOString(),
        receivedAt: receivedAt.toISOString(),
        type: event.type,
        result: applied.result,
        id: messageId,
        summary: summarise(event),
      },
      message: { id: messageId, response: stored, now: receivedAt },
    });
    const response: Response = outcome.saved
      ? { fresh: true, stored }
      : { fresh: false, stored: outcome.duplicateOf };
    return { record, response };
  });
}

/** Retries the write while the line's other writers win; past the budget, a 503 (nothing stored). */
async function conflictsAsBusy<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await retryOnConflict(write);
  } catch (error) {
    if (error instanceof VersionConflictError) throw busy();
    throw error;
  }
}

/** Nothing was stored: the ERP's retry of the same message will go through. */
function busy(): HttpError {
  return new HttpError(
    503,
    { error: 'temporarily_unavailable', message: 'This line is changing concurrently; retry this delivery.' },
    { 'retry-after': '1' },
  );
}

function apply(current: Backorder | undefined, event: BackorderEvent, rules: RuleContext): Applied {
  try {
    return applyEvent(current, event, rules);
  } catch (error) {
    if (error instanceof NotADelayError)
      throw new HttpError(422, { error: 'not_a_delay', message: error.message });
    if (error instanceof UnknownBackorderError) {
      throw new HttpError(404, { error: 'unknown_backorder', message: error.message });
    }
    throw error;
  }
}

/**
 * A message seen before gets its first answer. Its hand-off may not have completed (the first
 * delivery failed after the write), so the line's current generation is handed over again.
 */
async function replay(previous: StoredResponse, event: BackorderEvent, deps: ErpEventsDependencies) {
  const record = await deps.store.get(event.data);
  if (record) await handOver(record, deps);
  return json(previous.status, previous.body);
}

/**
 * `sku.demand`: one item per SKU and period, the latest report winning, written with the message
 * id in one transaction so a duplicate delivery applies once. Nothing is handed to a timer.
 */
async function recordDemand(
  event: SkuDemandEvent,
  messageId: string,
  deps: ErpEventsDependencies,
): Promise<StoredResponse> {
  const { data } = event;
  const answer = (result: DemandResult): StoredResponse => ({ status: 202, body: { sku: data.sku, result } });
  return conflictsAsBusy(async () => {
    const receivedAt = deps.now();
    const outcome = await deps.store.saveDemand(
      {
        sku: data.sku,
        period: data.period,
        quantity: data.quantity,
        unit: data.unit,
        supplierIds: data.supplierIds,
        baseLeadTimeDays: data.baseLeadTimeDays,
        occurredAt: new Date(event.occurredAt).toISOString(),
        receivedAt: receivedAt.toISOString(),
        messageId,
      },
      { now: receivedAt, recorded: answer('recorded'), stale: answer('stale') },
    );
    return outcome.saved ? outcome.response : outcome.duplicateOf;
  });
}

async function handOver(record: Backorder, deps: ErpEventsDependencies): Promise<void> {
  try {
    await deps.workflow.handOver(record);
  } catch (error) {
    logger.error('workflow hand-off failed', { error: (error as Error).name });
    // The record is saved; the ERP's retry of this message completes the hand-off.
    throw new HttpError(
      503,
      { error: 'temporarily_unavailable', message: 'Recorded, but not yet scheduled; retry this delivery.' },
      { 'retry-after': '5' },
    );
  }
}

function summarise(event: BackorderEvent): string {
  if (event.type === 'backorder.delayed') {
    return `expected ${event.data.expectedShipDate} (${event.data.reason.code})`;
  }
  return event.data.note ?? event.type.replace('backorder.', '');
}

async function fromEnvironment(): Promise<ErpEventsDependencies> {
  const organisation = loadOrganisation(requireEnv('ORGANISATION_CONFIG_FILE'));
  return {
    store: new BackorderStore(new DynamoDBClient({}), requireEnv('TABLE_NAME'), organisation.counterChanges),
    workflow: new WorkflowStarter(new SFNClient({}), requireEnv('STATE_MACHINE_ARN')),
    secrets: await loadSecrets('WEBHOOK_SECRET'),
    rules: organisation.policy,
    now,
  };
}

export const handler = createErpEventsHandler(await fromEnvironment());
