import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { BackorderStore } from '#adapters/backorder-store.ts';
import { now } from '#adapters/clock.ts';
import { requireEnv } from '#adapters/environment.ts';
import { loadOrganisation, type Organisation } from '#adapters/organisation.ts';
import { insightsFrom, previousRange } from '#domain/insights.ts';
import { httpErrors } from '#http/middleware.ts';
import { HttpError, json } from '#http/responses.ts';

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month as YYYY-MM');
export const InsightsQuery = z
  .object({ from: month.optional(), to: month.optional() })
  .refine((query) => !query.from || !query.to || query.from <= query.to, {
    message: 'from must not be after to',
    path: ['from'],
  });

export interface InsightsDependencies {
  store: BackorderStore;
  organisation: Organisation;
  now: () => Date;
}

/**
 * `GET /v1/insights?from=YYYY-MM&to=YYYY-MM`: backorders by product, mill and customer with the
 * trend against the period before, pattern flags, mill reliability and notice SLA compliance.
 * Read from counters kept with every record write, so it costs the same at any volume.
 */
export function createInsightsHandler(deps: InsightsDependencies) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpErrors())
    .handler(async (request) => {
      const query = InsightsQuery.safeParse(request.queryStringParameters ?? {});
      if (!query.success) {
        throw new HttpError(400, {
          error: 'invalid_query',
          issues: query.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        });
      }
      const thisMonth = deps.organisation.calendar.localDate(deps.now()).slice(0, 7);
      const to = query.data.to ?? thisMonth;
      const from = query.data.from ?? to;
      const previous = previousRange(from, to);
      const counters = await deps.store.counters(previous.from, to);
      const { sourcingProblemShare, planningConversationShare } = deps.organisation.config.insights;
      return json(
        200,
        insightsFrom(counters, { from, to, thresholds: { sourcingProblemShare, planningConversationShare } }),
      );
    });
}

function fromEnvironment(): InsightsDependencies {
  return {
    store: new BackorderStore(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
    organisation: loadOrganisation(requireEnv('ORGANISATION_CONFIG_FILE')),
    now,
  };
}

export const handler = createInsightsHandler(fromEnvironment());
