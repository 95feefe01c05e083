import {
  type Backorder,
  type CustomerChoice,
  type CustomerDecision,
  offeredAlternatives,
} from '#domain/backorder.ts';
import { signDecisionToken } from '#domain/decision-token.ts';
import type { Alternative } from '#domain/events.ts';

/**
 * A customer's answer to a notice (CONTRACT §3): wait for the delayed material, or take one of
 * the alternatives the notice offered. A decision answers exactly one notice revision, the
 * latest one the customer was sent; once recorded it is final for that revision.
 */

export interface DecisionRequest {
  /** The notice revision the customer's link came from. */
  revision: number;
  choice: CustomerChoice;
}

/** The link's notice is no longer the latest one sent: the customer decided on old news. */
export class SupersededNoticeError extends Error {
  override readonly name = 'SupersededNoticeError';
  readonly revision: number;
  readonly latestRevision: number;
  constructor(revision: number, latestRevision: number) {
    super(`notice ${revision} was superseded; the latest is notice ${latestRevision}`);
    this.revision = revision;
    this.latestRevision = latestRevision;
  }
}

/** The backorder shipped or was cancelled: there is nothing left to decide. */
export class BackorderClosedError extends Error {
  override readonly name = 'BackorderClosedError';
  readonly closedAs: 'shipped' | 'cancelled' | undefined;
  constructor(closedAs: 'shipped' | 'cancelled' | undefined) {
    super(`the backorder is closed${closedAs ? ` (${closedAs})` : ''}`);
    this.closedAs = closedAs;
  }
}

/** A decision for this notice revision is already on record; it carries that decision. */
export class AlreadyDecidedError extends Error {
  override readonly name = 'AlreadyDecidedError';
  readonly decision: CustomerDecision;
  constructor(decision: CustomerDecision) {
    super(`a decision for notice ${decision.revision} was already recorded at ${decision.decidedAt}`);
    this.decision = decision;
  }
}

/** The chosen alternative is not among the backorder's current alternatives. */
export class UnknownAlternativeError extends Error {
  override readonly name = 'UnknownAlternativeError';
  readonly alternativeId: string;
  constructor(alternativeId: string) {
    super(`alternative ${alternativeId} is not offered on this backorder`);
    this.alternativeId = alternativeId;
  }
}

/**
 * Throws the reason a decision cannot be recorded, if any, in the order a customer most needs
 * to hear it: the line is closed; a newer notice replaced the link; this notice was already
 * answered; the option is gone. Recording nothing, it is also what a GET of a link shows.
 */
export function assertDecidable(record: Backorder, request: DecisionRequest): void {
  if (record.status === 'closed') throw new BackorderClosedError(record.closedAs);
  const latestSent = latestSentRevision(record);
  if (request.revision < record.noticeRevision || request.revision !== latestSent) {
    throw new SupersededNoticeError(request.revision, record.noticeRevision);
  }
  const existing = record.customerDecision;
  if (existing && existing.revision === request.revision) throw new AlreadyDecidedError(existing);
  if (request.choice.kind === 'alternative' && !alternativeOf(record, request.choice.alternativeId)) {
    throw new UnknownAlternativeError(request.choice.alternativeId);
  }
}

/**
 * Records the customer's decision on the record and bumps its generation, so the workflow
 * re-plans and tells the owner (`decisionToOwner`). The caller bumps `version` when it writes.
 * A decision on an earlier revision is replaced: the customer answered the newer notice.
 */
export function recordDecision(
  record: Backorder,
  request: DecisionRequest,
  decidedAt: Date,
): { record: Backorder; decision: CustomerDecision } {
  assertDecidable(record, request);
  const decision: CustomerDecision = {
    revision: request.revision,
    choice: request.choice,
    decidedAt: decidedAt.toISOString(),
  };
  return {
    record: { ...record, customerDecision: decision, generation: record.generation + 1 },
    decision,
  };
}

/** The alternative an id names in the newest notice sent, if it is still offered. */
export function alternativeOf(record: Backorder, alternativeId: string): Alternative | undefined {
  return offeredAlternatives(record, latestSentRevision(record)).find(
    (alternative) => alternative.id === alternativeId,
  );
}

/** The revision of the newest notice actually sent to the customer, if any was. */
export function latestSentRevision(record: Backorder): number | undefined {
  let latest: number | undefined;
  for (const notice of record.notices) {
    if (notice.status === 'sent' && (latest === undefined || notice.revision > latest))
      latest = notice.revision;
  }
  return latest;
}

export interface DecisionLinks {
  wait: string;
  alternatives: { alternativeId: string; url: string }[];
}

/**
 * The choice links for one notice: one to wait and one per current alternative, each
 * `${baseUrl}/v1/decisions/${token}` with a token signed by `secret` that expires at `expiresAt`.
 */
export function decisionLinks(
  record: Backorder,
  revision: number,
  secret: Buffer,
  baseUrl: string,
  expiresAt: Date,
): DecisionLinks {
  const base = baseUrl.replace(/\/+$/, '');
  const link = (choice: CustomerChoice) => {
    const token = signDecisionToken(
      { orderId: record.orderId, lineId: record.lineId, revision, choice, expiresAt },
      secret,
    );
    return `${base}/v1/decisions/${token}`;
  };
  return {
    wait: link({ kind: 'wait' }),
    alternatives: offeredAlternatives(record, revision).map((alternative) => ({
      alternativeId: alternative.id,
      url: link({ kind: 'alternative', alternativeId: alternative.id }),
    })),
  };
}
