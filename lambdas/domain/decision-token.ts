import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CustomerChoice } from '#domain/backorder.ts';

/**
 * The signed token in a customer's decision link (CONTRACT §3): `v1.<payload>.<mac>`, where the
 * payload is the base64url of a JSON array `[orderId, lineId, revision, alternativeId | null,
 * expiresAtSeconds]` and the MAC is the base64url HMAC-SHA256 of `decision.v1.<payload>`.
 *
 * Only ids travel in it (no names, emails or prices), every character is URL-safe, and it is
 * compact: under 100 characters for the contract's ids (334 with three 64-character ids). The newest secret signs; every active
 * secret verifies, so a new one can be introduced before the old one is retired. Secrets are
 * decoded by `loadSecrets` (#adapters/secrets.ts), for the signer and the verifier alike.
 */

export interface DecisionTokenPayload {
  orderId: string;
  lineId: string;
  /** The notice revision the link was sent in. */
  revision: number;
  choice: CustomerChoice;
  /** Truncated to the whole second: a token never outlives the instant asked for. */
  expiresAt: Date;
}

/** The token is malformed, or no configured secret produced its MAC. */
export class ForgedTokenError extends Error {
  override readonly name = 'ForgedTokenError';
  constructor(message = 'the decision token is not one this service issued') {
    super(message);
  }
}

/** The token is genuine but its expiry has passed; it carries what the token named. */
export class ExpiredTokenError extends Error {
  override readonly name = 'ExpiredTokenError';
  readonly payload: DecisionTokenPayload;
  constructor(payload: DecisionTokenPayload) {
    super(`the decision token expired at ${payload.expiresAt.toISOString()}`);
    this.payload = payload;
  }
}

const VERSION = 'v1';
/** MAC input prefixes, so a MAC made with the same key for another purpose never verifies here. */
const DECISION = 'decision.';
const REVIEW = 'review.';
const MAC_BYTES = 32;
/** Far above any token this module signs; anything longer is refused before it is hashed. */
const MAX_TOKEN_CHARS = 1024;
/** Secrets shorter than this are refused: HMAC-SHA256 keys should carry at least 128 bits. */
const MIN_SECRET_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Signs a decision link's token with the current secret. */
export function signDecisionToken(payload: DecisionTokenPayload, secret: Buffer): string {
  const { orderId, lineId, revision, choice, expiresAt } = payload;
  if (!orderId || !lineId) throw new RangeError('a decision token needs an orderId and a lineId');
  if (!Number.isSafeInteger(revision) || revision < 1)
    throw new RangeError('revision must be a positive integer');
  if (choice.kind === 'alternative' && !choice.alternativeId)
    throw new RangeError('an alternative choice needs an alternativeId');
  const expiresAtSeconds = epochSeconds(expiresAt);

  return seal(
    DECISION,
    [
      orderId,
      lineId,
      revision,
      choice.kind === 'alternative' ? choice.alternativeId : null,
      expiresAtSeconds,
    ],
    secret,
  );
}

/**
 * Verifies a token against every active secret, in constant time per secret, then its expiry
 * (valid strictly before `expiresAt`). Any input that is not a genuine token, whatever its
 * shape, throws ForgedTokenError and nothing else; a genuine but stale one, ExpiredTokenError.
 */
export function verifyDecisionToken(token: string, secrets: Buffer[], now: Date): DecisionTokenPayload {
  const payload = parseDecision(open(DECISION, token, secrets));
  if (now.getTime() >= payload.expiresAt.getTime()) throw new ExpiredTokenError(payload);
  return payload;
}

/**
 * The token in an owner's review link: the same shape and secrets as a decision token, with the
 * fields `[orderId, lineId, revision, expiresAtSeconds]` and its own MAC context, so neither kind
 * of link can stand in for the other.
 */
export interface ReviewTokenPayload {
  orderId: string;
  lineId: string;
  /** The pending notice revision the owner is asked to review. */
  revision: number;
  expiresAt: Date;
}

export function signReviewToken(payload: ReviewTokenPayload, secret: Buffer): string {
  const { orderId, lineId, revision, expiresAt } = payload;
  if (!orderId || !lineId) throw new RangeError('a review token needs an orderId and a lineId');
  if (!Number.isSafeInteger(revision) || revision < 1)
    throw new RangeError('revision must be a positive integer');
  return seal(REVIEW, [orderId, lineId, revision, epochSeconds(expiresAt)], secret);
}

/** As `verifyDecisionToken`, for review links; an expired one throws ExpiredReviewTokenError. */
export function verifyReviewToken(token: string, secrets: Buffer[], now: Date): ReviewTokenPayload {
  const fields = open(REVIEW, token, secrets);
  const [orderId, lineId, revision, expires] = fields;
  const wellFormed =
    fields.length === 4 &&
    isId(orderId) &&
    isId(lineId) &&
    isPositiveInteger(revision) &&
    isPositiveInteger(expires);
  if (!wellFormed) throw new ForgedTokenError();
  const payload = { orderId, lineId, revision, expiresAt: new Date(expires * 1000) };
  if (now.getTime() >= payload.expiresAt.getTime()) throw new ExpiredReviewTokenError(payload);
  return payload;
}

export class ExpiredReviewTokenError extends Error {
  override readonly name = 'ExpiredReviewTokenError';
  readonly payload: ReviewTokenPayload;
  constructor(payload: ReviewTokenPayload) {
    super(`the review token expired at ${payload.expiresAt.toISOString()}`);
    this.payload = payload;
  }
}

function epochSeconds(at: Date): number {
  const seconds = Math.floor(at.getTime() / 1000);
  if (!Number.isSafeInteger(seconds) || seconds < 1)
    throw new RangeError('expiresAt must be a valid date after 1970');
  return seconds;
}

function seal(context: string, fields: unknown[], secret: Buffer): string {
  if (secret.length < MIN_SECRET_BYTES) throw new RangeError(`secrets must be ${MIN_SECRET_BYTES}+ bytes`);
  const signed = `${VERSION}.${Buffer.from(JSON.stringify(fields), 'utf8').toString('base64url')}`;
  return `${signed}.${mac(context, signed, secret).toString('base64url')}`;
}

/**
 * Verifies a token against every active secret, in constant time per secret, and returns its
 * fields. Any input that is not a genuine token of this context, whatever its shape, throws
 * ForgedTokenError and nothing else.
 */
function open(context: string, token: string, secrets: Buffer[]): unknown[] {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) throw new ForgedTokenError();
  const parts = token.split('.');
  const [version, payloadPart, macPart] = parts;
  if (parts.length !== 3 || version !== VERSION || payloadPart === undefined || macPart === undefined) {
    throw new ForgedTokenError();
  }
  const offered = decodeCanonical(macPart);
  if (!decodeCanonical(payloadPart) || offered?.length !== MAC_BYTES) throw new ForgedTokenError();

  const signed = `${version}.${payloadPart}`;
  let genuine = false;
  for (const secret of secrets) {
    // Every secret is tried, so the time taken does not tell which one matched.
    if (timingSafeEqual(mac(context, signed, secret), offered)) genuine = true;
  }
  if (!genuine) throw new ForgedTokenError();

  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  } catch {
    throw new ForgedTokenError();
  }
  if (!Array.isArray(fields)) throw new ForgedTokenError();
  return fields;
}

function mac(context: string, signed: string, secret: Buffer): Buffer {
  return createHmac('sha256', secret).update(context).update(signed).digest();
}

/** Base64url bytes, only in the one spelling this module writes (so no two tokens mean the same). */
function decodeCanonical(part: string): Buffer | undefined {
  if (!BASE64URL.test(part)) return undefined;
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : undefined;
}

/** Only reached for MAC-verified fields, which this module wrote; still checked one by one. */
function parseDecision(fields: unknown[]): DecisionTokenPayload {
  if (fields.length !== 5) throw new ForgedTokenError();
  const [orderId, lineId, revision, alternativeId, expires] = fields;
  if (
    !isId(orderId) ||
    !isId(lineId) ||
    !isPositiveInteger(revision) ||
    !(alternativeId === null || isId(alternativeId)) ||
    !isPositiveInteger(expires)
  ) {
    throw new ForgedTokenError();
  }
  return {
    orderId,
    lineId,
    revision,
    choice: alternativeId === null ? { kind: 'wait' } : { kind: 'alternative', alternativeId },
    expiresAt: new Date(expires * 1000),
  };
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}
