import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidSignatureError, parseSecrets, verifyWebhook } from '#adapters/webhook-signature.ts';
import { signedHeaders, TEST_SECRET } from '#test/support/signing.ts';

const secrets = parseSecrets(TEST_SECRET);
const now = new Date('2026-03-10T19:05:00Z');
const body = '{"type":"backorder.shipped"}';

describe('Standard Webhooks verification', () => {
  it('accepts a message signed by the reference implementation', () => {
    const headers = signedHeaders(body, { id: 'msg_1', at: now });
    expect(verifyWebhook(headers, body, secrets, now)).toEqual({ id: 'msg_1', timestamp: now });
  });

  it('accepts any of several active secrets while they rotate', () => {
    const next = `whsec_${Buffer.from('the-next-secret-of-the-rotation-000').toString('base64')}`;
    const rotating = parseSecrets(`${TEST_SECRET} ${next}`);
    const headers = signedHeaders(body, { at: now, secret: next });
    expect(() => verifyWebhook(headers, body, rotating, now)).not.toThrow();
    expect(() => verifyWebhook(headers, body, secrets, now)).toThrow(InvalidSignatureError);
  });

  it('accepts a timestamp up to five minutes off the service clock, and refuses beyond', () => {
    const skew = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    expect(() => verifyWebhook(signedHeaders(body, { at: skew(-300) }), body, secrets, now)).not.toThrow();
    expect(() => verifyWebhook(signedHeaders(body, { at: skew(300) }), body, secrets, now)).not.toThrow();
    expect(() => verifyWebhook(signedHeaders(body, { at: skew(-301) }), body, secrets, now)).toThrow(
      InvalidSignatureError,
    );
    expect(() => verifyWebhook(signedHeaders(body, { at: skew(301) }), body, secrets, now)).toThrow(
      InvalidSignatureError,
    );
  });

  it('refuses a body changed after signing, and missing headers', () => {
    const headers = signedHeaders(body, { at: now });
    expect(() => verifyWebhook(headers, `${body} `, secrets, now)).toThrow(InvalidSignatureError);
    expect(() => verifyWebhook({ ...headers, 'webhook-signature': undefined }, body, secrets, now)).toThrow(
      InvalidSignatureError,
    );
  });

  it('throws nothing but InvalidSignatureError for arbitrary headers', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (id, timestamp, signature) => {
        const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
        expect(() => verifyWebhook(headers, body, secrets, now)).toThrow(InvalidSignatureError);
      }),
    );
  });

  it('refuses malformed secrets at start', () => {
    expect(() => parseSecrets('not-a-secret')).toThrow(/whsec_/);
    expect(() => parseSecrets('  ')).toThrow(/no webhook secret/);
  });
});
