import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { DEV_WEBHOOK_SECRET } from '#local/dev-secret.ts';

/**
 * `npm run sign -- event.json [--url http://127.0.0.1:3000]`: prints a curl command that posts
 * the event with valid Standard Webhooks headers. It signs at the service's clock (the local
 * runtime's virtual clock when it answers `/_local/clock`), so the timestamp is always accepted.
 */

const args = process.argv.slice(2);
const file = args.find((arg) => !arg.startsWith('--') && args[args.indexOf(arg) - 1] !== '--url');
const urlIndex = args.indexOf('--url');
const baseUrl = urlIndex >= 0 ? args[urlIndex + 1] : `http://127.0.0.1:${process.env.PORT ?? 3000}`;
if (!file || !baseUrl) {
  console.error('usage: npm run sign -- <event.json> [--url http://127.0.0.1:3000]');
  process.exit(2);
}

const body = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
const at = await serviceNow(baseUrl);
const id = `msg_${crypto.randomUUID()}`;
const signature = new Webhook(process.env.WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET).sign(id, at, body);
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
console.log(
  [
    `curl -s -X POST ${baseUrl}/v1/erp/events`,
    `-H 'content-type: application/json'`,
    `-H 'webhook-id: ${id}'`,
    `-H 'webhook-timestamp: ${Math.floor(at.getTime() / 1000)}'`,
    `-H ${quote(`webhook-signature: ${signature}`)}`,
    `--data-binary ${quote(body)}`,
  ].join(' \\\n  '),
);

async function serviceNow(url: string): Promise<Date> {
  try {
    const response = await fetch(`${url}/_local/clock`);
    if (response.ok) return new Date(((await response.json()) as { now: string }).now);
  } catch {
    // Not the local runtime: a deployed API runs on real time.
  }
  return new Date();
}
