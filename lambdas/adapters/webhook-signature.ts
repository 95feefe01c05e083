import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks verification (https://www.standardwebhooks.com), against the service clock
 * rather than the wall clock, with several secrets active at once so they can be rotated.
 */

const TOLERANCE_SECONDS = 5 * 60;

export interface SignedMessage {
  id: string;
  timestamp: Date;
}

export class InvalidSignatureError extends Error {
  override readonly name = 'InvalidSignatureError';
}

/** Decodes `whsec_<base64>` secrets; a malformed one is a configuration error, found at start. */
export function parseSecrets(value: string): Buffer[] {
  const secrets = value
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((secret) => {
      if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret))
        throw new Error('webhook secrets must look like whsec_<base64>');
      return Buffer.from(secret.slice('whsec_'.length), 'base64');
    });
  if (secrets.length === 0) throw new Error('no webhook secret configured');
  return secrets;
}

/** Verifies the three `webhook-*` headers over the raw body, or throws InvalidSignatureError. */
export function verifyWebhook(
  headers: Record<string, string | undefined>,
  body: string,
  secrets: Buffer[],
  now: Date,
): SignedMessage {
  const id = headers['webhook-id'];
  const timestampHeader = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestampHeader || !signatures) throw new InvalidSignatureError('missing webhook headers');
  if (!/^\d{1,12}$/.test(timestampHeader)) throw new InvalidSignatureError('malformed timestamp');
  const seconds = Number(timestampHeader);
  if (Math.abs(now.getTime() / 1000 - seconds) > TOLERANCE_SECONDS) {
    throw new InvalidSignatureError('timestamp outside the tolerance');
  }
  const signed = `${id}.${timestampHeader}.${body}`;
  const offered = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(signed).digest();
    if (
      offered.some(
        (candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected),
      )
    ) {
      return { id, timestamp: new Date(seconds * 1000) };
    }
  }
  throw new InvalidSignatureError('no valid signature');
}
