import type { ColdStartResult } from './cold-start.ts';
import type { IngestLevel } from './ingest.ts';
import type { LifecycleCounts, LifecycleResult } from './lifecycle.ts';
import { PRICES } from './prices.ts';
import type { ScaleResult } from './scale.ts';
import { ratio, table, usd } from './support.ts';

/** Pricing and the printed tables: every timed figure next to its same-run baseline. */

export interface BenchResults {
  startedAt: string;
  mode: 'quick' | 'full';
  /** `loadAverage`: the 1-minute load average at the start and the end (other work on the machine). */
  machine: { node: string; cpus: number; platform: string; loadAverage: number[] };
  seconds: Record<string, number>;
  lifecycle?: LifecycleResult;
  ingest?: IngestLevel[];
  coldStart?: ColdStartResult;
  scale?: ScaleResult;
}

export interface LifecycleCost {
  kind: string;
  stepFunctions: number;
  lambda: number;
  apiGateway: number;
  dynamoDb: number;
  /** Step Functions, Lambda, API Gateway and DynamoDB: the issue's target line. */
  infrastructure: number;
  ses: number;
  sns: number;
  total: number;
  perTenThousand: number;
  polling: PollingCost;
}

export interface PollingCost {
  openAtOnce: number;
  runsPerMonth: number;
  perRunMs: number;
  /** Step Functions, Lambda, API Gateway, DynamoDB and the scheduler, per 10,000 backorders a month. */
  infrastructurePerTenThousand: number;
  perTenThousand: number;
  worstLatenessMs: number;
}

export const BACKORDERS_PER_MONTH = 10_000;
const POLL_MINUTES = 15;
const MONTH_DAYS = 30;
const POLLER_MEMORY_MB = 512;

export function lifecycleCost(counts: LifecycleCounts, scale: ScaleResult | undefined): LifecycleCost {
  const stepFunctions = counts.stateTransitions * PRICES.stepFunctions.perStateTransition;
  const lambdaRequests = (counts.apiRequests + counts.stepInvocations) * PRICES.lambda.perRequest;
  const lambda = lambdaRequests + counts.lambdaGbSeconds * PRICES.lambda.perGbSecondArm;
  const apiGateway = counts.apiRequests * PRICES.apiGateway.perHttpRequest;
  const dynamoDb =
    counts.readUnits * PRICES.dynamoDb.perReadRequestUnit +
    counts.writeUnits * PRICES.dynamoDb.perWriteRequestUnit;
  const infrastructure = stepFunctions + lambda + apiGateway + dynamoDb;
  const ses = counts.emails * PRICES.ses.perEmail;
  const sns = counts.texts * PRICES.sns.perPublish + counts.smsParts * PRICES.sns.perUsSmsPart;
  const total = infrastructure + ses + sns;

  // The polling design: no Step Functions; a scheduled Lambda every 15 minutes reads every open
  // backorder from the status index and acts on what is due. Its acting work (the sends, the
  // writes, their Lambda time) is the same as the timer step's, so only the timer's own
  // transitions and invocation fees are swapped for the poller's runs.
  const openAtOnce = (BACKORDERS_PER_MONTH * counts.openDays) / MONTH_DAYS;
  const runsPerMonth = (MONTH_DAYS * 24 * 60) / POLL_MINUTES;
  const perRunMs = scale ? openAtOnce * scale.pollMsPerRecord : 0;
  const perRunReadUnits = scale ? openAtOnce * scale.pollReadUnitsPerRecord : 0;
  const perRun =
    PRICES.eventBridgeScheduler.perInvocation +
    PRICES.lambda.perRequest +
    ((Math.ceil(perRunMs) * POLLER_MEMORY_MB) / 1024 / 1000) * PRICES.lambda.perGbSecondArm +
    perRunReadUnits * PRICES.dynamoDb.perReadRequestUnit;
  const withoutTimers = infrastructure - stepFunctions - counts.stepInvocations * PRICES.lambda.perRequest;
  const pollingInfrastructure = withoutTimers * BACKORDERS_PER_MONTH + perRun * runsPerMonth;
  return {
    kind: counts.kind,
    stepFunctions,
    lambda,
    apiGateway,
    dynamoDb,
    infrastructure,
    ses,
    sns,
    total,
    perTenThousand: total * BACKORDERS_PER_MONTH,
    polling: {
      openAtOnce,
      runsPerMonth,
      perRunMs,
      infrastructurePerTenThousand: pollingInfrastructure,
      perTenThousand: pollingInfrastructure + (ses + sns) * BACKORDERS_PER_MONTH,
      worstLatenessMs: POLL_MINUTES * 60_000 + perRunMs,
    },
  };
}

const ms = (value: number) =>
  value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
const kb = (bytes: number) => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(0)} KB`);

export function render(results: BenchResults): string {
  const out: string[] = [];
  out.push(
    `Backorder Watch bench, ${results.mode} run, ${results.startedAt}: Node ${results.machine.node}, ${results.machine.cpus} CPUs, ${results.machine.platform}, load average ${results.machine.loadAverage.map((load) => load.toFixed(1)).join(' → ')}`,
    `Prices: AWS list prices ${PRICES.region}, table of ${PRICES.date} (bench/prices.ts). Section times: ${Object.entries(
      results.seconds,
    )
      .map(([name, seconds]) => `${name} ${seconds.toFixed(0)} s`)
      .join(', ')}.`,
  );

  const { lifecycle, scale } = results;
  if (lifecycle) {
    out.push('', '1. Cost per backorder lifecycle (local system; counts are medians of the runs)');
    const checks = lifecycle.meterSelfCheck;
    const failed = checks.filter((check) => check.counted !== check.expected);
    out.push(
      `   DynamoDB request units metered by bench/dynamodb-meter.ts; self-check ${failed.length === 0 ? `${checks.length}/${checks.length} ok` : `FAILED: ${failed.map((check) => `${check.case}: ${check.counted}`).join('; ')}`}.`,
    );
    out.push(
      table(
        [
          'lifecycle',
          'runs',
          'open',
          'executions',
          'transitions',
          'per wake-up',
          'Lambda calls',
          'GB-s',
          'RRU',
          'WRU',
          'emails',
          'texts',
          'timer lateness',
          'texts after due',
        ],
        lifecycle.lifecycles.map((counts) => [
          counts.kind,
          counts.repetitions,
          `${counts.openDays} d`,
          `${counts.executions} (${Object.entries(counts.executionsByMachine)
            .map(
              ([machine, count]) =>
                `${count} ${machine.replace(/[0-9A-F]{8}$/, '').replace(/^Workflow|^TextBatches/, '')}`,
            )
            .join(', ')})`,
          counts.stateTransitions,
          counts.wakeUps ? counts.transitionsPerWakeUp.toFixed(1) : '-',
          `${counts.apiRequests}+${counts.stepInvocations}`,
          counts.lambdaGbSeconds.toFixed(3),
          counts.readUnits,
          counts.writeUnits,
          counts.emails,
          `${counts.texts} (${Object.entries(counts.textsByAudience)
            .map(([audience, count]) => `${count} ${audience}`)
            .join(', ')})`,
          ms(counts.worstLatenessMs),
          counts.texts ? ms(counts.worstTextDelayMs) : '-',
        ]),
      ),
    );
    const costs = lifecycle.lifecycles.map((counts) => lifecycleCost(counts, scale));
    out.push('');
    out.push(
      table(
        [
          'USD per lifecycle',
          'Step Functions',
          'Lambda',
          'API GW',
          'DynamoDB',
          'infra total',
          'SES',
          'SNS SMS',
          'total',
          'infra per 10k/month',
          'total per 10k/month',
        ],
        costs.map((cost) => [
          cost.kind,
          usd(cost.stepFunctions),
          usd(cost.lambda),
          usd(cost.apiGateway),
          usd(cost.dynamoDb),
          usd(cost.infrastructure),
          usd(cost.ses),
          usd(cost.sns),
          usd(cost.total),
          usd(cost.infrastructure * BACKORDERS_PER_MONTH),
          usd(cost.perTenThousand),
        ]),
      ),
    );
    if (scale) {
      out.push(
        '',
        table(
          [
            'vs polling every 15 min',
            'open at once',
            'read per run',
            'infra per 10k/month',
            'polling ÷ timers',
            'total per 10k/month',
            'polling ÷ timers',
            'worst lateness: timers',
            'polling',
          ],
          costs.map((cost, index) => [
            cost.kind,
            Math.round(cost.polling.openAtOnce),
            ms(cost.polling.perRunMs),
            usd(cost.polling.infrastructurePerTenThousand),
            ratio(cost.polling.infrastructurePerTenThousand / (cost.infrastructure * BACKORDERS_PER_MONTH)),
            usd(cost.polling.perTenThousand),
            ratio(cost.polling.perTenThousand / cost.perTenThousand),
            ms(lifecycle.lifecycles[index]?.worstLatenessMs ?? 0),
            ms(cost.polling.worstLatenessMs),
          ]),
        ),
      );
    }
  }

  if (results.ingest) {
    out.push(
      '',
      '2. Ingest: signed webhooks opening new backorders, over HTTP, vs DynamoDB Local conditional PutItem',
    );
    out.push(
      table(
        [
          'concurrency',
          'events',
          'non-202',
          'events/s',
          'p50',
          'p99',
          'settled events/s',
          'DynamoDB writes/s',
          'DynamoDB p50',
          'ingest ÷ DynamoDB',
        ],
        results.ingest.map((level) => [
          level.concurrency,
          level.events,
          level.failures,
          level.eventsPerSecond.toFixed(1),
          ms(level.p50Ms),
          ms(level.p99Ms),
          level.settledEventsPerSecond.toFixed(1),
          level.dynamoDbWritesPerSecond.toFixed(0),
          ms(level.dynamoDbP50Ms),
          ratio(level.ratio),
        ]),
      ),
    );
  }

  if (results.coldStart) {
    const { helloWorld, sdkOnly, bundles, samples } = results.coldStart;
    out.push(
      '',
      `3. Cold start: bundles as lib/project-function.ts builds them (SDK left out, and as deployed); init in a fresh Node 24, median of ${samples}`,
    );
    out.push(
      table(
        [
          'bundle',
          'size',
          'init',
          'init ÷ hello-world',
          'init ÷ sdk-only',
          'deployed (SDK bundled)',
          'its init ÷ hello-world',
          'heaviest inputs (bytes in bundle)',
        ],
        [helloWorld, sdkOnly, ...bundles].map((bundle) => [
          bundle.functionName,
          kb(bundle.bytes),
          ms(bundle.initMs),
          ratio(bundle.initMs / helloWorld.initMs),
          ratio(bundle.initMs / sdkOnly.initMs),
          bundle.deployed ? `${kb(bundle.deployed.bytes)}, ${ms(bundle.deployed.initMs)}` : '',
          bundle.deployed ? ratio(bundle.deployed.initMs / helloWorld.initMs) : '',
          bundle === sdkOnly
            ? 'only imports the SDK clients (left out of bundles, loaded from the runtime)'
            : bundle.heaviest.map((input) => `${input.input} ${kb(input.bytes)}`).join(', '),
        ]),
      ),
    );
  }

  if (scale) {
    out.push(
      '',
      `4. Scale: ${scale.backorders.toLocaleString('en-US')} open backorders (${scale.recordBytes} B records, ${scale.entryBytes} B review entries), seeded in ${scale.seedSeconds.toFixed(0)} s`,
    );
    const review = scale.morningReview;
    out.push(
      table(
        ['read', 'time', '÷ GetItem', 'read units', '÷ GetItem', 'notes'],
        [
          [
            'GetItem (consistent)',
            ms(scale.getItem.ms),
            ratio(1),
            scale.getItem.readUnits,
            ratio(1),
            'the unit',
          ],
          [
            'open list, first page',
            ms(scale.openListFirstPage.ms),
            ratio(scale.openListFirstPage.ms / scale.getItem.ms),
            scale.openListFirstPage.readUnits,
            ratio(scale.openListFirstPage.readUnits / scale.getItem.readUnits),
            `${scale.openListFirstPage.items} items, byStatus index`,
          ],
          [
            'morning review',
            ms(review.ms),
            ratio(review.ms / scale.getItem.ms),
            review.readUnits,
            ratio(review.readUnits / scale.getItem.readUnits),
            `entries ${ms(review.queryMs)} (${review.queryPages} pages) + ${review.listed} records ${ms(review.recordsMs)} + build ${ms(review.buildMs)}; ${review.scans} scans`,
          ],
        ],
      ),
    );
  }
  return out.join('\n');
}
