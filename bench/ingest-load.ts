import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { localClientConfig } from '#local/http-service.ts';
import { delayed } from '#test/support/erp-events.ts';
import { signedHeaders } from '#test/support/signing.ts';
import { pool } from './support.ts';

/**
 * The load generator of section 2, in a process of its own so that it does not share an event
 * loop with the system it measures. Reads one JSON job from argv, prints one JSON result.
 * - `webhooks`: signed `backorder.delayed` events, each opening a new backorder, over HTTP.
 * - `dynamodb`: single-item conditional PutItems (`attribute_not_exists(pk)`) of items shaped
 *   and sized like a backorder record, index attributes included, straight to DynamoDB Local.
 */

export type LoadJob =
  | { mode: 'webhooks'; url: string; now: string; concurrency: number; count: number; label: string }
  | { mode: 'dynamodb'; endpoint: string; table: string; concurrency: number; count: number; label: string };

export interface LoadResult {
  count: number;
  /** Requests that did not get the expected answer (a 202 / a write). */
  failures: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  latenciesMs: number[];
}

async function webhooks(job: Extract<LoadJob, { mode: 'webhooks' }>): Promise<LoadResult> {
  const at = new Date(job.now);
  const bodies = Array.from({ length: job.count }, (_, index) =>
    JSON.stringify(
      delayed(job.now, '2026-05-20', {
        orderId: `SO-LOAD-${job.label}-${index}`,
        lineId: '1',
        originalShipDate: '2026-05-12',
      }),
    ),
  );
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  const started = performance.now();
  await pool(bodies, job.concurrency, async (body) => {
    const sent = performance.now();
    const response = await fetch(`${job.url}/v1/erp/events`, {
      method: 'POST',
      body,
      headers: signedHeaders(body, { at }),
    });
    await response.arrayBuffer();
    latencies.push(performance.now() - sent);
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
  });
  const elapsedMs = performance.now() - started;
  return {
    count: job.count,
    failures: job.count - (statuses[202] ?? 0),
    statuses,
    elapsedMs,
    latenciesMs: latencies,
  };
}

async function dynamodb(job: Extract<LoadJob, { mode: 'dynamodb' }>): Promise<LoadResult> {
  const client = new DynamoDBClient(localClientConfig(job.endpoint));
  // A record-sized payload (about 1.3 KB, as the lifecycle bench measures a fresh record).
  const payload = 'r'.repeat(1_150);
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  const indexes = Array.from({ length: job.count }, (_, index) => index);
  const started = performance.now();
  await pool(indexes, job.concurrency, async (index) => {
    const pk = `BACKORDER#SO-DDB-${job.label}-${index}#1`;
    const sent = performance.now();
    try {
      await client.send(
        new PutItemCommand({
          TableName: job.table,
          Item: {
            pk: { S: pk },
            sk: { S: 'RECORD' },
            version: { N: '1' },
            statusKey: { S: 'STATUS#open' },
            statusSort: { S: `2026-05-05T14:00:00.000Z#${pk}` },
            record: { S: payload },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      statuses.written = (statuses.written ?? 0) + 1;
    } catch (error) {
      const name = error instanceof ConditionalCheckFailedException ? 'conditionFailed' : 'error';
      statuses[name] = (statuses[name] ?? 0) + 1;
    }
    latencies.push(performance.now() - sent);
  });
  const elapsedMs = performance.now() - started;
  client.destroy();
  return {
    count: job.count,
    failures: job.count - (statuses.written ?? 0),
    statuses,
    elapsedMs,
    latenciesMs: latencies,
  };
}

const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob;
const result = job.mode === 'webhooks' ? await webhooks(job) : await dynamodb(job);
process.stdout.write(`${JSON.stringify(result)}\n`);
