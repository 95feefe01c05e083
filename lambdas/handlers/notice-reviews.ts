import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { BackorderStore } from '#adapters/backorder-store.ts';
import { now } from '#adapters/clock.ts';
import { retryOnConflict } from '#adapters/conflict-retry.ts';
import { requireEnv } from '#adapters/environment.ts';
import { loadOrganisation } from '#adapters/organisation.ts';
import { loadSecrets } from '#adapters/secrets.ts';
import { WorkflowStarter } from '#adapters/workflow-starter.ts';
import type { Backorder, Notice } from '#domain/backorder.ts';
import { BackorderClosedError, SupersededNoticeError } from '#domain/decision.ts';
import {
  ExpiredReviewTokenError,
  ForgedTokenError,
  type ReviewTokenPayload,
  verifyReviewToken,
} from '#domain/decision-token.ts';
import {
  AlreadyApprovedError,
  NoticeSettledError,
  parseReviewForm,
  reviewableNotice,
  reviewNotice,
} from '#domain/notice-review.ts';
import { type NoticeReviewPage, renderNoticeReviewPage } from '#domain/notice-review-page.ts';
import { DEFAULT_PAGE_CONTEXT } from '#domain/page.ts';
import { rawBody } from '#http/middleware.ts';
import {
  handOver,
  htmlErrors,
  type LinkPageDependencies,
  linkMethod,
  log,
  methodNotAllowed,
} from '#http/pages.ts';
import { html } from '#http/responses.ts';

/** The same secrets as decision links: review tokens have their own MAC context. */
export type NoticeReviewsDependencies = LinkPageDependencies;

type Response = APIGatewayProxyStructuredResultV2;
type Page = (status: number, page: NoticeReviewPage) => Response;

/** Far above any form the page posts (22 rows of six short fields). */
const MAX_FORM_BYTES = 64 * 1024;

/**
 * `GET` and `POST /v1/reviews/{token}`: the owner's review of a pending customer notice (review
 * mode). The link in the review email is the credential (signed, naming one notice, expiring a
 * week after its deadline). A GET only shows the notice and the form: mail scanners follow links.
 * A POST saves the edited alternatives, or saves and approves, which hands the record's new
 * generation to its workflow so the notice goes out at once.
 *
 * | case | GET | POST |
 * | --- | --- | --- |
 * | reviewable | 200 form | 200 saved / approved; 400 form with errors, nothing saved |
 * | approved already | 200 approved | approve: 200 (hands over again); save: 409 |
 * | sent or failed, superseded, closed, expired | 410 | 410 |
 * | forged or unreadable token | 400 | 400 |
 * | no such backorder | 404 | 404 |
 * | approved, but the workflow could not be started | | 503, with a button to finish |
 */
export function createNoticeReviewsHandler(deps: NoticeReviewsDependencies) {
  const context = deps.page ?? DEFAULT_PAGE_CONTEXT;
  const page: Page = (status, reviewPage) => html(status, renderNoticeReviewPage(reviewPage, context));

  return middy<APIGatewayProxyEventV2, Response>()
    .use(htmlErrors(() => page(500, { kind: 'error' })))
    .handler(async (event) => {
      const method = linkMethod(event);
      if (!method) return methodNotAllowed(page(405, { kind: 'error' }));
      let payload: ReviewTokenPayload;
      try {
        payload = verifyReviewToken(event.pathParameters?.token ?? '', deps.secrets, deps.now());
      } catch (error) {
        if (error instanceof ForgedTokenError) return page(400, { kind: 'invalid' });
        if (error instanceof ExpiredReviewTokenError) return page(410, { kind: 'expired' });
        throw error;
      }
      if (method === 'read') return show(payload, deps, page);
      const body = rawBody(event);
      if (Buffer.byteLength(body) > MAX_FORM_BYTES) return page(413, { kind: 'error' });
      return review(payload, new URLSearchParams(body), deps, page);
    });
}

async function show(
  payload: ReviewTokenPayload,
  deps: NoticeReviewsDependencies,
  page: Page,
): Promise<Response> {
  const record = await deps.store.get(payload);
  if (!record) return page(404, { kind: 'notFound' });
  try {
    return page(200, { kind: 'form', record, notice: reviewableNotice(record, payload.revision) });
  } catch (error) {
    return refusal(error, record, page);
  }
}

async function review(
  payload: ReviewTokenPayload,
  form: URLSearchParams,
  deps: NoticeReviewsDependencies,
  page: Page,
): Promise<Response> {
  return retryOnConflict(async () => {
    const current = await deps.store.get(payload);
    if (!current) return page(404, { kind: 'notFound' });
    let notice: Notice;
    try {
      notice = reviewableNotice(current, payload.revision);
    } catch (error) {
      if (error instanceof AlreadyApprovedError && form.get('action') === 'approve') {
        // The 503 page's button: the first approval was saved but its hand-over may have failed.
        return approved(current, error.notice, deps, page);
      }
      return refusal(error, current, page, 409);
    }
    const parsed = parseReviewForm(form);
    if (!parsed.ok)
      return page(400, { kind: 'form', record: current, notice, rows: parsed.rows, errors: parsed.errors });

    const at = deps.now();
    const record: Backorder = {
      ...reviewNotice(current, payload.revision, parsed.alternatives, parsed.action, at),
      version: current.version + 1,
    };
    await deps.store.save({
      record,
      changed: true,
      expectedVersion: current.version,
      timeline: {
        occurredAt: at.toISOString(),
        receivedAt: at.toISOString(),
        type: parsed.action === 'approve' ? 'notice.approved' : 'notice.edited',
        result: 'recorded',
        id: randomUUID(),
        summary: `${parsed.action === 'approve' ? 'approved' : 'edited'} notice ${payload.revision} with ${parsed.alternatives.length} alternative(s)`,
      },
    });
    const reviewed = record.notices.find((candidate) => candidate.revision === payload.revision) ?? notice;
    log('INFO', `notice ${parsed.action === 'approve' ? 'approved' : 'edited'}`, record, {
      revision: payload.revision,
    });
    if (parsed.action === 'save') return page(200, { kind: 'saved', record, notice: reviewed });
    return approved(record, reviewed, deps, page);
  });
}

async function approved(
  record: Backorder,
  notice: Notice,
  deps: NoticeReviewsDependencies,
  page: Page,
): Promise<Response> {
  return (await handOver(record, deps.workflow))
    ? page(200, { kind: 'approved', record, notice })
    : page(503, { kind: 'approvedPending', record, notice });
}

/** The page for a notice that can no longer be reviewed; anything else is not ours to answer. */
function refusal(error: unknown, record: Backorder, page: Page, approvedStatus = 200): Response {
  if (error instanceof AlreadyApprovedError)
    return page(approvedStatus, { kind: 'approved', record, notice: error.notice });
  if (error instanceof NoticeSettledError)
    return page(410, { kind: 'settled', record, notice: error.notice });
  if (error instanceof SupersededNoticeError) return page(410, { kind: 'superseded', record });
  if (error instanceof BackorderClosedError) return page(410, { kind: 'closed', record });
  throw error;
}

async function fromEnvironment(): Promise<NoticeReviewsDependencies> {
  const { company } = loadOrganisation(requireEnv('ORGANISATION_CONFIG_FILE')).config;
  return {
    store: new BackorderStore(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
    workflow: new WorkflowStarter(new SFNClient({}), requireEnv('STATE_MACHINE_ARN')),
    secrets: await loadSecrets('DECISION_SECRET'),
    now,
    page: { companyName: company.name, locale: company.locale, timeZone: company.timeZone },
  };
}

export const handler = createNoticeReviewsHandler(await fromEnvironment());
