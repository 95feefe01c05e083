import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { BackorderStore } from '#adapters/backorder-store.ts';
import { now } from '#adapters/clock.ts';
import { requireEnv } from '#adapters/environment.ts';
import { Mailer } from '#adapters/mailer.ts';
import { loadOrganisation, type Organisation } from '#adapters/organisation.ts';
import { backorderId } from '#domain/backorder.ts';
import {
  isReviewDay,
  type MorningReview,
  planMorningReview,
  renderMorningReview,
  renderReviewEmail,
  reviewEntry,
} from '#domain/review.ts';
import { httpErrors } from '#http/middleware.ts';
import { html, json } from '#http/responses.ts';

export interface ReviewDependencies {
  store: BackorderStore;
  mailer: Mailer;
  organisation: Organisation;
  publicBaseUrl: string;
  now: () => Date;
}

/** Without a previous review, the first one covers the last day. */
const FIRST_REVIEW_LOOKBACK_MS = 24 * 3_600_000;

async function review(deps: ReviewDependencies, since?: Date): Promise<MorningReview> {
  const at = deps.now();
  const lastReviewAt =
    since ?? (await deps.store.lastReviewAt()) ?? new Date(at.getTime() - FIRST_REVIEW_LOOKBACK_MS);
  const [open, closed] = await Promise.all([
    deps.store.openReviewEntries(),
    deps.store.closedSince(lastReviewAt),
  ]);
  const plan = planMorningReview({
    open,
    closedSince: closed.map(reviewEntry),
    lastReviewAt,
    now: at,
    calendar: deps.organisation.calendar,
    vpAfterDays: deps.organisation.config.escalation.vpAfterDaysPastOriginal,
  });
  // Only the listed lines are read whole: at most 8 × rowsPerSection records.
  const records = new Map(closed.map((record) => [backorderId(record), record]));
  const unread = plan.listed.filter((entry) => records.get(backorderId(entry))?.version !== entry.version);
  for (const record of await deps.store.getMany(unread)) records.set(backorderId(record), record);
  return renderMorningReview(plan, records);
}

function company(deps: ReviewDependencies) {
  const { name, locale } = deps.organisation.config.company;
  return { name, locale, backorderBaseUrl: `${deps.publicBaseUrl}/v1/backorders` };
}

/**
 * The scheduled morning review (EventBridge Scheduler, business days at the configured time):
 * skipped on weekends and holidays, emailed to the configured recipients, then remembered so the
 * next one lists what is new since.
 */
export function createScheduledReview(deps: ReviewDependencies) {
  return async (): Promise<{ sent: boolean }> => {
    if (!isReviewDay(deps.now(), deps.organisation.calendar)) return { sent: false };
    const built = await review(deps);
    await deps.mailer.send({
      to: deps.organisation.config.morningReview.recipients,
      email: renderReviewEmail(built, company(deps)),
      tags: { kind: 'morning-review' },
    });
    await deps.store.recordReview(deps.now());
    return { sent: true };
  };
}

/** `GET /v1/review`: the same review for operators, as JSON, or HTML with `?format=html`. */
export function createReviewApi(deps: ReviewDependencies) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpErrors())
    .handler(async (request) => {
      const built = await review(deps);
      if (request.queryStringParameters?.format === 'html')
        return html(200, renderReviewEmail(built, company(deps)).html);
      return json(200, built);
    });
}

function fromEnvironment(): ReviewDependencies {
  const organisation = loadOrganisation(requireEnv('ORGANISATION_CONFIG_FILE'));
  return {
    store: new BackorderStore(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
    mailer: Mailer.fromEnvironment(organisation.config.company.senderEmail),
    organisation,
    publicBaseUrl: requireEnv('PUBLIC_BASE_URL'),
    now,
  };
}

const dependencies = fromEnvironment();
export const handler = createReviewApi(dependencies);
export const scheduledHandler = middy<unknown, { sent: boolean }>().handler(
  createScheduledReview(dependencies),
);
