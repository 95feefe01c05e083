import type { ErpEvent } from '#domain/events.ts';
import { holidayYearsAround, writeBundledConfig } from '#lib/holidays.ts';
import { type LocalSystem, startLocalSystem } from '#local/system.ts';
import { signedHeaders, TEST_SECRET } from '#test/support/signing.ts';

/** Shared by the bench sections: numbers, and the local system driven over HTTP. */

export const CONFIG_FILE = 'config/organisation.sample.json';

/** {@link CONFIG_FILE} as the Lambdas bundle it (lib/holidays.ts), holidays listed for the years around `now`. */
export function bundledConfigFile(now: Date): string {
  return writeBundledConfig(CONFIG_FILE, holidayYearsAround(now));
}
export const ADMIN_TOKEN = 'bench-admin-token';
export const DECISION_SECRET = 'decision-secret-for-the-bench-system-0123456789';
export { TEST_SECRET as WEBHOOK_SECRET };

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}

/** Runs `work` over `items` with at most `concurrency` in flight, in order of the items. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** The local system with its virtual clock standing still, driven over HTTP as the ERP and customers do. */
export class BenchSystem {
  readonly local: LocalSystem;
  /** Every API request this driver sent (one API Gateway request and one Lambda invocation each). */
  readonly apiCalls: Array<{ route: string; ms: number; status: number }> = [];

  private constructor(local: LocalSystem) {
    this.local = local;
  }

  static async start(options: {
    dynamoDbEndpoint: string;
    tablePrefix: string;
    clockStart: string;
  }): Promise<BenchSystem> {
    const local = await startLocalSystem({
      webhookSecret: TEST_SECRET,
      decisionSecret: DECISION_SECRET,
      adminToken: ADMIN_TOKEN,
      configFile: CONFIG_FILE,
      clockStart: new Date(options.clockStart),
      followRealTime: false,
      dynamoDbEndpoint: options.dynamoDbEndpoint,
      tablePrefix: options.tablePrefix,
    });
    return new BenchSystem(local);
  }

  /** Posts an ERP event signed at the virtual now. */
  async post(event: ErpEvent): Promise<{ status: number; body: Record<string, unknown> }> {
    const body = JSON.stringify(event);
    const headers = signedHeaders(body, { at: this.local.clock.now() });
    const started = performance.now();
    const response = await fetch(`${this.local.url}/v1/erp/events`, { method: 'POST', body, headers });
    const answer = (await response.json()) as Record<string, unknown>;
    this.apiCalls.push({ route: 'erp-events', ms: performance.now() - started, status: response.status });
    return { status: response.status, body: answer };
  }

  /** Confirms a decision link (`POST`, as the page's button does). */
  async decide(link: string): Promise<number> {
    const started = performance.now();
    const response = await fetch(link, { method: 'POST' });
    await response.text();
    this.apiCalls.push({ route: 'decisions', ms: performance.now() - started, status: response.status });
    return response.status;
  }

  /** Moves the virtual clock to an instant and waits until everything due by then is done. */
  async advanceTo(instant: Date): Promise<void> {
    if (instant.getTime() > this.local.clock.now().getTime()) await this.local.clock.advanceTo(instant);
    await this.local.clock.settled();
  }

  /** Waits until the work already started (executions, their tasks) is done or asleep. */
  async settle(): Promise<void> {
    await this.local.clock.advanceBy(0);
    await this.local.clock.settled();
  }

  stop(): Promise<void> {
    return this.local.stop();
  }
}

/** The `wait` link of a customer notice: its token's payload names no alternative. */
export function waitLink(text: string): string | undefined {
  const links = text.match(/https?:\/\/[^\s"<>]+\/v1\/decisions\/[\w.-]+/g) ?? [];
  return links.find((link) => {
    const payload = link.split('/').pop()?.split('.')[1] ?? '';
    try {
      const fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
      return fields[3] === null;
    } catch {
      return false;
    }
  });
}

/** Fixed-width text table. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  return [
    line(headers),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

/** `$0.000123` with enough digits to read small figures. */
export function usd(value: number): string {
  if (value === 0) return '$0';
  if (value >= 100) return `$${value.toFixed(0)}`;
  if (value >= 1) return `$${value.toFixed(2)}`;
  return `$${value.toPrecision(3)}`;
}

/** `1.23×` */
export function ratio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? `${value.toFixed(0)}×` : `${value.toPrecision(3)}×`;
}
