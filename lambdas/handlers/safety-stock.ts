import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { BackorderStore, type DemandReport } from '#adapters/backorder-store.ts';
import { now } from '#adapters/clock.ts';
import { requireEnv } from '#adapters/environment.ts';
import { loadOrganisation, type Organisation } from '#adapters/organisation.ts';
import { insightsFrom } from '#domain/insights.ts';
import {
  DEFAULT_SERVICE_LEVEL,
  DEFAULT_TOP,
  type LeadTimeSource,
  type MillDelayStats,
  millDelayStats,
  suggestSafetyStock,
} from '#domain/safety-stock.ts';
import { httpErrors } from '#http/middleware.ts';
import { HttpError, json } from '#http/responses.ts';

/** A number in the query string: digits only, so `''`, `'0x1'` or `'1e0'` are refused, not coerced. */
const decimal = (pattern: RegExp) =>
  z
    .string()
    .regex(pattern, 'expected a number')
    .transform((value) => Number(value));

export const SafetyStockQuery = z.object({
  serviceLevel: decimal(/^0?\.\d+$/)
    .pipe(z.number().min(0.5).lt(1, 'serviceLevel must be at least 0.5 and below 1'))
    .optional(),
  top: decimal(/^\d{1,3}$/)
    .pipe(z.number().int().min(1).max(100))
    .optional(),
  granularity: z.enum(['month', 'week']).optional(),
});

/** Mill reliability and demand are read over the last twelve months, this one included. */
const WINDOW_MONTHS = 12;
/** The same window in ISO weeks. */
const WINDOW_WEEKS = 52;
/** SKUs whose demand is read at once. */
const CONCURRENCY = 10;

export interface SafetyStockDependencies {
  store: BackorderStore;
  organisation: Organisation;
  now: () => Date;
}

/**
 * `GET /v1/safety-stock?serviceLevel=0.95&top=20&granularity=month`: the highest-velocity SKUs
 * (mean demand per period from `sku.demand`) with a suggested safety stock each. The lead-time
 * variability is the pooled observed delay of the mills that supply the SKU (insight counters of
 * the last 12 months), added to the SKU's quoted base lead time. Every suggestion carries its
 * inputs and arithmetic; where the data is too thin it says why instead.
 */
export function createSafetyStockHandler(deps: SafetyStockDependencies) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpErrors())
    .handler(async (request) => {
      const query = SafetyStockQuery.safeParse(request.queryStringParameters ?? {});
      if (!query.success) {
        throw new HttpError(400, {
          error: 'invalid_query',
          issues: query.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        });
      }
      const serviceLevel = query.data.serviceLevel ?? DEFAULT_SERVICE_LEVEL;
      const top = query.data.top ?? DEFAULT_TOP;
      const granularity = query.data.granularity ?? 'month';

      const today = deps.organisation.calendar.localDate(deps.now());
      const months = { from: addMonths(today.slice(0, 7), 1 - WINDOW_MONTHS), to: today.slice(0, 7) };
      const window =
        granularity === 'month'
          ? months
          : { from: isoWeekOf(addDays(today, -7 * (WINDOW_WEEKS - 1))), to: isoWeekOf(today) };

      const [mills, reports] = await Promise.all([
        millsOver(deps.store, months),
        demandOver(deps.store, window, granularity),
      ]);
      const latest = latestPerSku(reports);
      const leadTimes = new Map<string, LeadTimeSource>();
      for (const [sku, report] of latest) {
        const source = leadTimeOf(report, mills);
        if (source) leadTimes.set(sku, source);
      }
      const report = suggestSafetyStock({
        demand: reports.map(({ sku, period, quantity }) => ({ sku, period, quantity })),
        leadTimes,
        serviceLevel,
        top,
      });
      return json(200, {
        demandWindow: { ...window, granularity },
        millDelayWindow: months,
        ...report,
        suggestions: report.suggestions.map((suggestion) => {
          const reported = latest.get(suggestion.sku);
          return {
            ...suggestion,
            unit: reported?.unit ?? null,
            supplierIds: reported?.supplierIds ?? [],
            baseLeadTimeDays: reported?.baseLeadTimeDays ?? null,
          };
        }),
      });
    });
}

/** Each mill's observed delays over the months, from the insight counters. */
async function millsOver(
  store: BackorderStore,
  months: { from: string; to: string },
): Promise<Map<string, MillDelayStats>> {
  const counters = await store.counters(months.from, months.to);
  const insights = insightsFrom(counters, months);
  return new Map(insights.millReliability.map((mill) => [mill.mill, millDelayStats(mill)]));
}

/** Every SKU's demand reports in the window, of one granularity only. */
async function demandOver(
  store: BackorderStore,
  window: { from: string; to: string },
  granularity: 'month' | 'week',
): Promise<DemandReport[]> {
  const shape = granularity === 'month' ? /^\d{4}-\d{2}$/ : /^\d{4}-W\d{2}$/;
  const skus = await store.demandSkus();
  const reports: DemandReport[] = [];
  for (let i = 0; i < skus.length; i += CONCURRENCY) {
    const pages = await Promise.all(
      skus.slice(i, i + CONCURRENCY).map((sku) => store.demand(sku, window.from, window.to)),
    );
    for (const page of pages) reports.push(...page.filter((report) => shape.test(report.period)));
  }
  return reports;
}

/** Per SKU, its most recent report: the unit, mills and base lead time it names are current. */
function latestPerSku(reports: DemandReport[]): Map<string, DemandReport> {
  const latest = new Map<string, DemandReport>();
  for (const report of reports) {
    const seen = latest.get(report.sku);
    if (!seen || report.occurredAt > seen.occurredAt) latest.set(report.sku, report);
  }
  return latest;
}

/**
 * The base lead time plus the delays of the SKU's mills; none without a base lead time or mills.
 * A mill with no shipment observed is listed with no observations, so the planner sees it.
 */
function leadTimeOf(report: DemandReport, mills: Map<string, MillDelayStats>): LeadTimeSource | undefined {
  const supplierIds = report.supplierIds ?? [];
  if (report.baseLeadTimeDays === undefined || supplierIds.length === 0) return undefined;
  return {
    kind: 'mills',
    baseDays: report.baseLeadTimeDays,
    mills: supplierIds.map(
      (id) => mills.get(id) ?? { mill: id, observations: 0, meanDays: 0, stdDevDays: null },
    ),
  };
}

/** `YYYY-MM` moved by whole months. */
export function addMonths(month: string, count: number): string {
  const [year = 0, m = 1] = month.split('-').map(Number);
  const index = year * 12 + (m - 1) + count;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The ISO week (`YYYY-Www`) a `YYYY-MM-DD` date falls in. */
export function isoWeekOf(date: string): string {
  const day = new Date(`${date}T00:00:00Z`);
  const weekday = day.getUTCDay() || 7;
  // The Thursday of the same week decides the year.
  const thursday = new Date(day.getTime() + (4 - weekday) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = Math.ceil(((thursday.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function fromEnvironment(): SafetyStockDependencies {
  return {
    store: new BackorderStore(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
    organisation: loadOrganisation(requireEnv('ORGANISATION_CONFIG_FILE')),
    now,
  };
}

export const handler = createSafetyStockHandler(fromEnvironment());
