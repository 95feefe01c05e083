import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { BackorderStore, InvalidCursorError, type TimelineEntry } from '#adapters/backorder-store.ts';
import { requireEnv } from '#adapters/environment.ts';
import { type Backorder, backorderId } from '#domain/backorder.ts';
import { httpErrors } from '#http/middleware.ts';
import { HttpError, json } from '#http/responses.ts';

export const ListQuery = z.object({
  status: z.enum(['open', 'closed', 'all']).default('open'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(2048).optional(),
});

/** What operators see of a backorder (CONTRACT §4). */
export function backorderView(record: Backorder, timeline?: TimelineEntry[]) {
  return {
    backorderId: backorderId(record),
    orderId: record.orderId,
    lineId: record.lineId,
    status: record.status,
    closedAs: record.closedAs,
    customer: { id: record.details.customer.id, name: record.details.customer.name },
    item: record.details.item,
    quantity: record.details.quantity,
    supplier: record.details.supplier,
    reason: record.details.reason,
    originalShipDate: record.originalShipDate,
    expectedShipDate: record.expectedShipDate,
    slipCount: record.slipCount,
    owner: record.details.owner,
    nextActionAt: record.nextActionAt ?? null,
    escalationLevel: record.escalationLevel,
    escalations: record.escalations,
    customerDecision: record.customerDecision ?? null,
    notices: record.notices,
    ...(timeline ? { timeline } : {}),
  };
}

export interface ReadDependencies {
  store: BackorderStore;
}

/** `GET /v1/backorders` and `GET /v1/backorders/{orderId}/{lineId}`, behind the operators' authorizer. */
export function createBackordersReadHandler(deps: ReadDependencies) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpErrors())
    .handler(async (request) => {
      const orderId = request.pathParameters?.orderId;
      const lineId = request.pathParameters?.lineId;
      if (orderId !== undefined && lineId !== undefined) {
        const key = { orderId: decodeURIComponent(orderId), lineId: decodeURIComponent(lineId) };
        const record = await deps.store.get(key);
        if (!record) throw new HttpError(404, { error: 'not_found', message: 'No such backorder.' });
        return json(200, backorderView(record, await deps.store.timeline(key)));
      }
      const query = ListQuery.safeParse(request.queryStringParameters ?? {});
      if (!query.success) {
        throw new HttpError(400, {
          error: 'invalid_query',
          issues: query.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        });
      }
      try {
        const page = await list(deps.store, query.data);
        return json(200, {
          items: page.items.map((record) => backorderView(record)),
          cursor: page.cursor ?? null,
        });
      } catch (error) {
        if (error instanceof InvalidCursorError)
          throw new HttpError(400, { error: 'invalid_cursor', message: error.message });
        throw error;
      }
    });
}

/** `all` reads the open list to its end, then the closed one; its cursor says which list it is in. */
async function list(store: BackorderStore, query: z.infer<typeof ListQuery>) {
  if (query.status !== 'all') return store.list(query.status, { limit: query.limit, cursor: query.cursor });
  const [phase, inner] = query.cursor ? splitCursor(query.cursor) : (['open', undefined] as const);
  const page = await store.list(phase, { limit: query.limit, cursor: inner });
  if (page.cursor) return { items: page.items, cursor: `${phase}.${page.cursor}` };
  if (phase === 'closed') return { items: page.items };
  return { items: page.items, cursor: 'closed.' };
}

function splitCursor(cursor: string): readonly ['open' | 'closed', string | undefined] {
  const [phase, inner] = cursor.split('.', 2);
  if (phase !== 'open' && phase !== 'closed')
    throw new InvalidCursorError('cursor is not one this API gave out');
  return [phase, inner || undefined];
}

export const handler = createBackordersReadHandler({
  store: new BackorderStore(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
});
