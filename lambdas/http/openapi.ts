import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { Backorder } from '#domain/backorder.ts';
import { DemandResult, ErpEvent, IngestResult } from '#domain/events.ts';

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(serverUrl?: string) {
  const registry = new OpenAPIRegistry();
  const error = z.object({ error: z.string(), message: z.string().optional() });
  const invalidEvent = error.extend({
    issues: z.array(
      z.object({ path: z.string().meta({ example: 'data.expectedShipDate' }), message: z.string() }),
    ),
  });
  const webhookHeaders = z.object({
    'webhook-id': z
      .string()
      .meta({ description: 'Unique id of this message; identical on every retry of it.' }),
    'webhook-timestamp': z
      .string()
      .meta({ description: 'Unix seconds when it was sent; ±5 minutes accepted.' }),
    'webhook-signature': z.string().meta({
      description:
        'Space-separated `v1,<base64 HMAC-SHA256>` over `<id>.<timestamp>.<body>` (Standard Webhooks).',
    }),
  });
  const bearer = registry.registerComponent('securitySchemes', 'operatorToken', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });

  registry.registerPath({
    method: 'post',
    path: '/v1/erp/events',
    summary: 'Report a backorder event (delayed, shipped, cancelled) or what a SKU sold (sku.demand)',
    description:
      'One event per request, at most 256 KiB, signed per Standard Webhooks. A message id seen before gets the first answer again and nothing happens twice. `sku.demand` reports what a SKU sold in one period; a later report (by `occurredAt`) for the same SKU and period replaces the earlier one, and an older one is answered `stale`.',
    request: {
      headers: webhookHeaders,
      body: { content: { 'application/json': { schema: ErpEvent } }, required: true },
    },
    responses: {
      202: {
        description: 'Accepted',
        content: {
          'application/json': {
            schema: z.union([
              z.object({ backorderId: z.string(), result: IngestResult }),
              z.object({ sku: z.string(), result: DemandResult }),
            ]),
          },
        },
      },
      400: {
        description: 'Not JSON, or not the schema',
        content: { 'application/json': { schema: invalidEvent } },
      },
      401: { description: 'Bad signature or timestamp', content: { 'application/json': { schema: error } } },
      404: {
        description: 'Shipped or cancelled for an unknown line',
        content: { 'application/json': { schema: error } },
      },
      413: { description: 'Over 256 KiB', content: { 'application/json': { schema: error } } },
      415: { description: 'Not application/json', content: { 'application/json': { schema: error } } },
      422: {
        description: 'A new backorder whose expected date is not after its original date',
        content: { 'application/json': { schema: error } },
      },
      503: {
        description: 'Recorded but not yet scheduled: retry the same delivery',
        content: { 'application/json': { schema: error } },
      },
    },
  });

  const view = Backorder.pick({
    orderId: true,
    lineId: true,
    status: true,
    originalShipDate: true,
    expectedShipDate: true,
    slipCount: true,
    escalationLevel: true,
    notices: true,
  }).extend({ backorderId: z.string(), nextActionAt: z.string().nullable() });
  registry.registerPath({
    method: 'get',
    path: '/v1/backorders',
    summary: 'List backorders by status, newest first',
    security: [{ [bearer.name]: [] }],
    request: {
      query: z.object({
        status: z.enum(['open', 'closed', 'all']).optional(),
        limit: z.number().int().min(1).max(100).optional(),
        cursor: z.string().optional(),
      }),
    },
    responses: {
      200: {
        description: 'One page',
        content: {
          'application/json': { schema: z.object({ items: z.array(view), cursor: z.string().nullable() }) },
        },
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/backorders/{orderId}/{lineId}',
    summary: 'One backorder with its notices and timeline',
    security: [{ [bearer.name]: [] }],
    request: { params: z.object({ orderId: z.string(), lineId: z.string() }) },
    responses: {
      200: { description: 'The backorder', content: { 'application/json': { schema: view } } },
      404: { description: 'No such backorder', content: { 'application/json': { schema: error } } },
    },
  });
  // The emailed links: the signed token is the whole credential.
  const linkToken = { params: z.object({ token: z.string() }) };
  registry.registerPath({
    method: 'get',
    path: '/v1/decisions/{token}',
    summary: "The customer's choice page (changes nothing)",
    request: linkToken,
    responses: {
      200: { description: 'HTML page with a confirm button' },
      400: { description: 'Forged token' },
      410: { description: 'Expired, or superseded by a newer notice' },
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/decisions/{token}',
    summary: "Confirm the customer's choice",
    request: linkToken,
    responses: {
      200: { description: 'Recorded; the owner is told' },
      409: { description: 'A choice was already recorded for this notice' },
      400: { description: 'Forged token' },
      404: { description: 'The backorder is not on record' },
      410: { description: 'Expired, or superseded by a newer notice' },
      503: { description: 'Recorded, but the owner could not be told yet: the page offers to finish' },
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/v1/reviews/{token}',
    summary: "Review mode: the owner's page for a pending notice (changes nothing)",
    request: linkToken,
    responses: {
      200: {
        description: 'HTML page: the notice, a form to edit its alternatives, save and approve buttons',
      },
      400: { description: 'Forged token' },
      404: { description: 'The backorder is not on record' },
      410: { description: 'Expired, already sent, superseded by newer news, or the line closed' },
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/reviews/{token}',
    summary: 'Save the edited alternatives, or save and approve (the notice goes out at once)',
    request: {
      ...linkToken,
      body: {
        content: {
          'application/x-www-form-urlencoded': {
            schema: z.object({
              action: z.enum(['save', 'approve']),
              'id-0': z.string().optional(),
              'description-0': z.string().optional(),
              'shipDate-0': z.string().optional(),
              'price-0': z.string().optional(),
              'currency-0': z.string().optional(),
              'per-0': z.string().optional(),
              'remove-0': z.string().optional(),
            }),
          },
        },
        description:
          'Row n of the form is the fields suffixed -n (0, 1, …); each row is checked as an Alternative.',
      },
    },
    responses: {
      200: { description: 'Saved, or approved and on its way' },
      400: { description: 'The form has errors: the page names each; nothing was saved' },
      409: { description: 'Approved already: changes were not saved' },
      410: { description: 'Expired, already sent, superseded by newer news, or the line closed' },
      503: { description: 'Approved, but the workflow could not be told yet: the page offers to finish' },
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/v1/review',
    summary: 'The morning review of open backorders, most urgent first',
    security: [{ [bearer.name]: [] }],
    request: { query: z.object({ format: z.enum(['json', 'html']).optional() }) },
    responses: { 200: { description: 'The review (JSON, or the HTML email with format=html)' } },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/insights',
    summary: 'Backorders by product, mill and customer, with trends, pattern flags and notice SLA compliance',
    security: [{ [bearer.name]: [] }],
    request: {
      query: z.object({
        from: z.string().meta({ example: '2026-01', description: 'First month, YYYY-MM' }).optional(),
        to: z.string().meta({ example: '2026-03', description: 'Last month, YYYY-MM' }).optional(),
      }),
    },
    responses: {
      200: { description: 'Insights over the months, against the months before' },
      400: { description: 'Malformed months', content: { 'application/json': { schema: error } } },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/safety-stock',
    summary:
      'The highest-velocity SKUs with a suggested safety stock, its inputs and arithmetic (demand from sku.demand, lead-time variability from the delays observed at their mills)',
    security: [{ [bearer.name]: [] }],
    request: {
      query: z.object({
        serviceLevel: z
          .number()
          .min(0.5)
          .lt(1)
          .meta({ example: 0.95, description: 'Chance of not running out in a lead time; default 0.95' })
          .optional(),
        top: z.number().int().min(1).max(100).meta({ description: 'How many SKUs; default 20' }).optional(),
        granularity: z
          .enum(['month', 'week'])
          .meta({ description: 'Which demand periods to use: months (default) or ISO weeks' })
          .optional(),
      }),
    },
    responses: {
      200: { description: 'The ranking, each suggestion next to its inputs' },
      400: { description: 'Malformed parameters', content: { 'application/json': { schema: error } } },
    },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Backorder Watch',
      version: '1.0.0',
      description: 'ERP webhooks in, operators read out. See README.md for signing a request.',
    },
    servers: serverUrl ? [{ url: serverUrl }] : [],
  });
}
