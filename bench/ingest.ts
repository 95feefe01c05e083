import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LoadJob, LoadResult } from './ingest-load.ts';
import { BenchSystem, percentile } from './support.ts';

/**
 * Section 2: signed webhooks at rising concurrency against the whole local system over HTTP, next
 * to DynamoDB Local's own single-item conditional-write rate at the same concurrency, measured in
 * the same run against the same JVM. The load comes from a separate process (bench/ingest-load.ts).
 *
 * Every webhook opens a new backorder: the costliest event (a three-item transaction, a workflow
 * start) and the commonest. Its workflow sends the customer notice in the same process while the
 * load goes on, as the deployed workflow would alongside the API; "settled" adds the time until
 * all of those notices are sent.
 */

export interface IngestLevel {
  concurrency: number;
  events: number;
  failures: number;
  statuses: Record<string, number>;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Events per second counting until every workflow the burst started had sent its notice. */
  settledEventsPerSecond: number;
  dynamoDbWritesPerSecond: number;
  dynamoDbP50Ms: number;
  dynamoDbP99Ms: number;
  /** eventsPerSecond ÷ dynamoDbWritesPerSecond. */
  ratio: number;
}

const run = promisify(execFile);
const loader = fileURLToPath(new URL('./ingest-load.ts', import.meta.url));

async function load(job: LoadJob): Promise<LoadResult> {
  const { stdout } = await run(process.execPath, [loader, JSON.stringify(job)], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = stdout.trim().split('\n').pop() ?? '{}';
  return JSON.parse(line) as LoadResult;
}

export async function ingestBench(options: {
  dynamoDbEndpoint: string;
  levels: number[];
  events: number;
  writes: number;
}): Promise<IngestLevel[]> {
  // Tuesday 2026-05-05, 09:00 in Chicago: notices go out at once.
  const now = '2026-05-05T14:00:00.000Z';
  const system = await BenchSystem.start({
    dynamoDbEndpoint: options.dynamoDbEndpoint,
    tablePrefix: `bench-ingest-${process.pid}-`,
    clockStart: now,
  });
  const table = system.local.tableName;
  const url = system.local.url;
  const levels: IngestLevel[] = [];
  try {
    // Warm both paths: handler modules imported, JIT warm, connections open.
    await load({
      mode: 'dynamodb',
      endpoint: options.dynamoDbEndpoint,
      table,
      concurrency: 4,
      count: 200,
      label: 'warm',
    });
    await load({ mode: 'webhooks', url, now, concurrency: 4, count: 20, label: 'warm' });
    await system.local.clock.settled();

    for (const concurrency of options.levels) {
      const baseline = await load({
        mode: 'dynamodb',
        endpoint: options.dynamoDbEndpoint,
        table,
        concurrency,
        count: options.writes,
        label: `c${concurrency}`,
      });
      const started = performance.now();
      const burst = await load({
        mode: 'webhooks',
        url,
        now,
        concurrency,
        count: options.events,
        label: `c${concurrency}`,
      });
      await system.local.clock.settled();
      const settledMs = performance.now() - started;
      const eventsPerSecond = (burst.count / burst.elapsedMs) * 1000;
      const dynamoDbWritesPerSecond = (baseline.count / baseline.elapsedMs) * 1000;
      levels.push({
        concurrency,
        events: burst.count,
        failures: burst.failures,
        statuses: burst.statuses,
        eventsPerSecond,
        p50Ms: percentile(burst.latenciesMs, 50),
        p99Ms: percentile(burst.latenciesMs, 99),
        settledEventsPerSecond: (burst.count / settledMs) * 1000,
        dynamoDbWritesPerSecond,
        dynamoDbP50Ms: percentile(baseline.latenciesMs, 50),
        dynamoDbP99Ms: percentile(baseline.latenciesMs, 99),
        ratio: eventsPerSecond / dynamoDbWritesPerSecond,
      });
    }
  } finally {
    await system.stop();
  }
  return levels;
}
