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
import type { Backorder, CustomerDecision } from '#domain/backorder.ts';
import {
  AlreadyDecidedError,
  assertDecidable,
  BackorderClosedError,
  recordDecision,
  SupersededNoticeError,
  UnknownAlternativeError,
} from '#domain/decision.ts';
import { type DecisionPage, renderDecisionPage } from '#domain/decision-page.ts';
import {
  type DecisionTokenPayload,
  ExpiredTokenError,
  ForgedTokenError,
  verifyDecisionToken,
} from '#domain/decision-token.ts';
import { DEFAULT_PAGE_CONTEXT } from '#domain/page.ts';
import {
  handOver,
  htmlErrors,
  type LinkPageDependencies,
  linkMethod,
  log,
  methodNotAllowed,
} from '#http/pages.ts';
import { html } from '#http/responses.ts';

export type DecisionsDependencies = LinkPageDependencies;

type Response = APIGatewayProxyStructuredResultV2;

/**
 * `GET` and `POST /v1/decisions/{token}` (CONTRACT §3). A GET only reads: mail scanners follow
 * links, so it shows what a confirm would record and never records it. A POST records the
 * decision (optimistic version, retried on conflict), hands the backorder's new generation to
 * its workflow, which tells the owner, and confirms. Every answer is an HTML page.
 *
 * | case | GET | POST |
 * | --- | --- | --- |
 * | decidable | 200 confirm page | 200 recorded page |
 * | already decided for this notice | 200 | 409 |
 * | forged or unreadable token | 400 | 400 |
 * | expired, superseded, closed, option withdrawn | 410 | 410 |
 * | no such backorder any more | 404 | 404 |
 * | recorded, but the workflow could not be started | | 503, with a button to finish |
 */
export function createDecisionsHandler(deps: DecisionsDependencies) {
  const context = deps.page ?? DEFAULT_PAGE_CONTEXT;
  const page = (status: number, decisionPage: DecisionPage): Response =>
    html(status, renderDecisionPage(decisionPage, context).html);

  return middy<APIGatewayProxyEventV2, Response>()
    .use(htmlErrors(() => page(500, { kind: 'error' })))
    .handler(async (event) => {
      const method = linkMethod(event);
      if (!method) return methodNotAllowed(page(405, { kind: 'error' }));
      const token = event.pathParameters?.token;
      if (!token) return page(400, { kind: 'invalid' });

      let payload: DecisionTokenPayload;
      try {
        payload = verifyDecisionToken(token, deps.secrets, deps.now());
      } catch (error) {
        if (error instanceof ForgedTokenError) return page(400, { kind: 'invalid' });
        if (error instanceof ExpiredTokenError) {
          return page(410, { kind: 'expired', record: await deps.store.get(error.payload) });
        }
        throw error;
      }
      return method === 'write' ? decide(payload, deps, page) : show(payload, deps, page);
    });
}

type Page = (status: number, decisionPage: DecisionPage) => Response;

/** GET: reads the backorder and shows what a confirm would do, or why it cannot. Writes nothing. */
async function show(
  payload: DecisionTokenPayload,
  deps: DecisionsDependencies,
  page: Page,
): Promise<Response> {
  const record = await deps.store.get(payload);
  if (!record) return page(404, { kind: 'notFound' });
  try {
    assertDecidable(record, payload);
  } catch (error) {
    if (error instanceof AlreadyDecidedError) {
      return page(200, { kind: 'alreadyDecided', record, decision: error.decision });
    }
    return refusal(error, record, page);
  }
  return page(200, { kind: 'confirm', record, choice: payload.choice });
}

/** POST: records the decision, then hands the new generation to the workflow that tells the owner. */
async function decide(
  payload: DecisionTokenPayload,
  deps: DecisionsDependencies,
  page: Page,
): Promise<Response> {
  return retryOnConflict(async () => {
    const current = await deps.store.get(payload);
    if (!current) return page(404, { kind: 'notFound' });

    const decidedAt = deps.now();
    let decided: { record: Backorder; decision: CustomerDecision };
    try {
      decided = recordDecision(current, payload, decidedAt);
    } catch (error) {
      if (error instanceof AlreadyDecidedError) return alreadyDecided(current, error.decision, deps, page);
      return refusal(error, current, page);
    }

    const record: Backorder = { ...decided.record, version: current.version + 1 };
    await deps.store.save({
      record,
      changed: true,
      expectedVersion: current.version,
      timeline: {
        occurredAt: decided.decision.decidedAt,
        receivedAt: decidedAt.toISOString(),
        type: 'customer.decided',
        result: 'recorded',
        id: randomUUID(),
        summary: summarise(decided.decision),
      },
    });

    log('INFO', 'customer decision recorded', record, { revision: decided.decision.revision });
    return (await handOver(record, deps.workflow))
      ? page(200, { kind: 'recorded', record, decision: decided.decision })
      : page(503, { kind: 'recordedPending', record, decision: decided.decision });
  });
}

/**
 * A second POST for the same notice: 409 with what was chosen. When the owner has not been told
 * yet, the first POST's hand-over may have failed, so the workflow is handed the record again
 * (idempotent: one execution per generation); this is what the 503 page's button relies on.
 */
async function alreadyDecided(
  record: Backorder,
  decision: CustomerDecision,
  deps: DecisionsDependencies,
  page: Page,
): Promise<Response> {
  if (!decision.ownerToldAt && !(await handOver(record, deps.workflow))) {
    return page(503, { kind: 'recordedPending', record, decision });
  }
  return page(409, { kind: 'alreadyDecided', record, decision });
}

/** The page for a decision the record refuses; anything else is not ours to answer. */
function refusal(error: unknown, record: Backorder, page: Page): Response {
  if (error instanceof BackorderClosedError) return page(410, { kind: 'closed', record });
  if (error instanceof SupersededNoticeError) return page(410, { kind: 'superseded', record });
  if (error instanceof UnknownAlternativeError) {
    return page(410, { kind: 'optionUnavailable', record, alternativeId: error.alternativeId });
  }
  throw error;
}

function summarise(decision: CustomerDecision): string {
  const choice = decision.choice.kind === 'wait' ? 'to wait' : `alternative ${decision.choice.alternativeId}`;
  return `chose ${choice} (notice ${decision.revision})`;
}

async function fromEnvironment(): Promise<DecisionsDependencies> {
  const organisationFile = process.env.ORGANISATION_CONFIG_FILE;
  const company = organisationFile ? loadOrganisation(organisationFile).config.company : undefined;
  return {
    store: new BackorderStore(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
    workflow: new WorkflowStarter(new SFNClient({}), requireEnv('STATE_MACHINE_ARN')),
    // Decoded exactly as the timer step decodes the key it signs links with.
    secrets: await loadSecrets('DECISION_SECRET'),
    now,
    page: company
      ? { companyName: company.name, locale: company.locale, timeZone: company.timeZone }
      : undefined,
  };
}

export const handler = createDecisionsHandler(await fromEnvironment());
