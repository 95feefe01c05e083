import { Webhook } from 'standardwebhooks';

/** A dev secret in the Standard Webhooks format. */
export const TEST_SECRET = `whsec_${Buffer.from('backorder-watch-test-secret-0123456789').toString('base64')}`;

/** Signs a body with the reference implementation, as an ERP would. */
export function signedHeaders(
  body: string,
  options: { id?: string; at?: Date; secret?: string } = {},
): Record<string, string> {
  const id = options.id ?? `msg_${Math.random().toString(36).slice(2)}`;
  const at = options.at ?? new Date();
  const signature = new Webhook(options.secret ?? TEST_SECRET).sign(id, at, body);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}
