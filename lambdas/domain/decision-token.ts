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
/** A MAC input prefix, so a MAC made with the same key for another purpose never verifies here. */
const MAC_CONTEXT = 'decision.';
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
  const expiresAtSeconds = Math.floor(expiresAt.getTime() / 1000);
  if (!Number.isSafeInteger(expiresAtSeconds) || expiresAtSeconds < 1)
    throw new RangeError('expiresAt must be a valid date after 1970');
  if (secret.length < MIN_SECRET_BYTES) throw new RangeError(`secrets must be ${MIN_SECRET_BYTES}+ bytes`);

  const fields: [string, string, number, string | null, number] = [
    orderId,
    lineId,
    revision,
    choice.kind === 'alternative' ? choice.alternativeId : null,
    expiresAtSeconds,
  ];
  const signed = `${VERSION}.${Buffer.from(JSON.stringify(fields), 'utf8').toString('base64url')}`;
  return `${signed}.${mac(signed, secret).toString('base64url')}`;
}

/**
 * Verifies a token against every active secret, in constant time per secret, then its expiry
 * (valid strictly before `expiresAt`). Any input that is not a genuine token, whatever its
 * shape, throws ForgedTokenError and nothing else; a genuine but stale one, ExpiredTokenError.
 */
export function verifyDecisionToken(token: string, secrets: Buffer[], now: Date): DecisionTokenPayload {
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
    if (timingSafeEqual(mac(signed, secret), offered)) genuine = true;
  }
  if (!genuine) throw new ForgedTokenError();

  const payload = parsePayload(payloadPart);
  if (now.getTime() >= payload.expiresAt.getTime()) throw new ExpiredTokenError(payload);
  return payload;
}

function mac(signed: string, secret: Buffer): Buffer {
  return createHmac('sha256', secret).update(MAC_CONTEXT).update(signed).digest();
}

/** Base64url bytes, only in the one spelling this module writes (so no two tokens mean the same). */
function decodeCanonical(part: string): Buffer | undefined {
  if (!BASE64URL.test(part)) return undefined;
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : undefined;
}

/** Only reached for a MAC-verified payload, which this module wrote; still checked field by field. */
function parsePayload(part: string): DecisionTokenPayload {
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new ForgedTokenError();
  }
  if (!Array.isArray(fields) || fields.length !== 5) throw new ForgedTokenError();
  const [orderId, lineId, revision, alternativeId, expires]: unknown[] = fields;
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
