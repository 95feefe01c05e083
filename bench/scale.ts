import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { BackorderStore, recordItem, reviewEntryItem } from '#adapters/backorder-store.ts';
import { loadOrganisation } from '#adapters/organisation.ts';
import { applyEvent, type Backorder, backorderId } from '#domain/backorder.ts';
import { planMorningReview, renderMorningReview, reviewEntry } from '#domain/review.ts';
import { createTablesFromTemplate } from '#local/dynamodb.ts';
import { localClientConfig } from '#local/http-service.ts';
import { synthesizeLocalTemplate } from '#local/synth.ts';
import { delayed } from '#test/support/erp-events.ts';
import { type Item, itemSize, meterDelta, startDynamoDbMeter } from './dynamodb-meter.ts';
import { bundledConfigFile, CONFIG_FILE, median, pool } from './support.ts';

/**
 * Section 4: 100,000 open backorders seeded straight into DynamoDB Local, then the reads the
 * operators' screens and the morning review make, timed and metered, as ratios to one GetItem
 * round trip measured the same way in the same run.
 *
 * Records are made by the domain's own reducer (`applyEvent`), and written as the items
 * `BackorderStore` writes (its `recordItem` and `reviewEntryItem`) with BatchWriteItem: a
 * transaction per record would take the better part of an hour.
 */

export interface ScaleResult {
  backorders: number;
  seedSeconds: number;
  recordBytes: number;
  /** The line's review entry item, what the review reads per open line. */
  entryBytes: number;
  getItem: { ms: number; readUnits: number };
  openListFirstPage: { ms: number; readUnits: number; items: number };
  /** The review handler's reads and build: entries of every open line, then the listed records. */
  morningReview: {
    ms: number;
    /** Reading the entries and the lines closed since (byStatus). */
    queryMs: number;
    /** Planning, then writing the listed rows. */
    buildMs: number;
    /** Reading the listed records (BatchGetItem). */
    recordsMs: number;
    readUnits: number;
    queryPages: number;
    /** Entries read: one per open line. */
    records: number;
    /** Whole records read for the listed rows. */
    listed: number;
    scans: number;
  };
  /** Read time per open record for a whole-record read of the status index, ms: what a 15-minute poller would pay. */
  pollMsPerRecord: number;
  /** Read units per open record for a whole-index read. */
  pollReadUnitsPerRecord: number;
}

/** A small deterministic random source (mulberry32), so every run seeds the same records. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const DAY = 86_400_000;
/**
 * Items per Query page of the poller's read. DynamoDB Local slows down more than linearly with
 * the size of a page of nested items (a full 1 MB page of records takes seconds), which AWS does
 * not; pages of 1,000 keep the emulator linear and cost AWS the same read units.
 */
const POLL_PAGE = 1_000;
/** The poller's per-record cost is measured over this many records: it grows linearly. */
const POLL_SAMPLE = 10_000;
const NOW = Date.parse('2026-06-02T12:25:00Z'); // a Tuesday, 07:25 in Chicago: the review's hour

function makeRecords(count: number): Backorder[] {
  const { policy } = loadOrganisation(bundledConfigFile(new Date(NOW)));
  const next = random(42);
  const owners = [
    { id: 'U-17', name: 'Dana Ortiz', email: 'dana.ortiz@svc.example' },
    { id: 'U-22', name: 'Sam Lee', email: 'sam.lee@svc.example' },
  ];
  const products = ['Hot-rolled coil', 'Cold-rolled sheet', 'Plate', 'Rebar', 'Tube', 'Angle'];
  const records: Backorder[] = [];
  for (let index = 0; index < count; index++) {
    const openedAt = NOW - Math.floor(next() * 45 * DAY) - DAY;
    const original = new Date(openedAt + Math.floor(2 + next() * 20) * DAY).toISOString().slice(0, 10);
    const expected = new Date(Date.parse(original) + Math.floor(1 + next() * 20) * DAY)
      .toISOString()
      .slice(0, 10);
    const owner = owners[index % owners.length] ?? owners[0];
    const event = delayed(new Date(openedAt).toISOString(), expected, {
      orderId: `SO-${String(100_000 + index)}`,
      lineId: String(1 + (index % 3)),
      originalShipDate: original,
      owner,
      customer: {
        id: `C-${index % 900}`,
        name: `Customer ${index % 900}`,
        email: `buyer${index % 900}@customer.example`,
      },
      supplier: { id: `MILL-${index % 12}`, name: `Mill ${index % 12}` },
      item: {
        sku: `SKU-${index % 400}`,
        description: `Item ${index % 400}`,
        product: products[index % products.length],
      },
    });
    let { record } = applyEvent(undefined, event, policy);
    const sentAt = new Date(openedAt).toISOString();
    record = {
      ...record,
      notices: record.notices.map((notice) => ({ ...notice, status: 'sent' as const, sentAt })),
    };
    if (next() < 0.3) {
      // One in three slipped again since.
      const slipAt = openedAt + Math.floor(next() * (NOW - openedAt));
      const later = new Date(Date.parse(expected) + Math.floor(1 + next() * 10) * DAY)
        .toISOString()
        .slice(0, 10);
      const slipped = applyEvent(
        record,
        {
          ...event,
          occurredAt: new Date(slipAt).toISOString(),
          data: { ...event.data, expectedShipDate: later },
        },
        policy,
      );
      record = slipped.record;
    }
    records.push(record);
  }
  return records;
}

export async function scaleBench(options: {
  dynamoDbEndpoint: string;
  backorders: number;
}): Promise<ScaleResult> {
  const direct = new DynamoDBClient(localClientConfig(options.dynamoDbEndpoint));
  const template = synthesizeLocalTemplate(CONFIG_FILE);
  const tables = await createTablesFromTemplate(direct, template, { prefix: `bench-scale-${process.pid}-` });
  const tableName = [...tables.values()][0] ?? '';
  const meter = await startDynamoDbMeter(options.dynamoDbEndpoint);
  const metered = new DynamoDBClient(localClientConfig(meter.endpoint));
  try {
    const records = makeRecords(options.backorders);
    const first = records[0];
    if (!first) throw new Error('no records');

    const documents = DynamoDBDocumentClient.from(direct, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const seedStarted = performance.now();
    const batches: Backorder[][] = [];
    // 12 records and their review entries per BatchWriteItem (at most 25 items); closed lines have none.
    for (let index = 0; index < records.length; index += 12) batches.push(records.slice(index, index + 12));
    await pool(batches, 6, async (batch) => {
      let requests: Array<{ PutRequest: { Item: Record<string, unknown> } }> | undefined = batch.flatMap(
        (record) =>
          [recordItem(record), reviewEntryItem(record)]
            .filter((Item) => Item !== undefined)
            .map((Item) => ({ PutRequest: { Item } })),
      );
      while (requests && requests.length > 0) {
        const answer = await documents.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
        );
        requests = answer.UnprocessedItems?.[tableName] as typeof requests;
      }
    });
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const meteredStore = new BackorderStore(metered, tableName);
    const raw = await documents.send(
      new GetCommand({ TableName: tableName, Key: { pk: recordItem(first).pk, sk: 'RECORD' } }),
    );
    const { marshall } = await import('@aws-sdk/util-dynamodb');
    const recordBytes = raw.Item ? itemSize(marshall(raw.Item, { removeUndefinedValues: true }) as Item) : 0;
    const entryBytes = itemSize(marshall(reviewEntryItem(first) ?? {}) as Item); // every seeded line is open

    // Request units through the meter; times straight from DynamoDB Local, since the meter parses
    // every answer on this process's event loop (it doubled the review's read time).
    const directStore = new BackorderStore(direct, tableName);
    const measure = async <T>(work: (store: BackorderStore) => Promise<T>) => {
      const before = meter.totals();
      await work(meteredStore);
      const used = meterDelta(meter.totals(), before);
      const started = performance.now();
      const value = await work(directStore);
      return { value, ms: performance.now() - started, used };
    };

    // One GetItem round trip (the store's consistent read of a record): the unit of every ratio.
    const gets = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      const key = records[Math.floor((attempt * records.length) / 50)] ?? first;
      gets.push(await measure((store) => store.get(key)));
    }
    const getItem = {
      ms: median(gets.map((get) => get.ms)),
      readUnits: median(gets.map((get) => get.used.readUnits)),
    };

    const lists = [];
    for (let attempt = 0; attempt < 9; attempt++)
      lists.push(await measure((store) => store.list('open', { limit: 50 })));
    const openListFirstPage = {
      ms: median(lists.map((list) => list.ms)),
      readUnits: median(lists.map((list) => list.used.readUnits)),
      items: lists[0]?.value.items.length ?? 0,
    };

    // The poller's whole-record read of the status index, per record, over a sample of it.
    const poll = await measure(async (store) => {
      let read = 0;
      let cursor: string | undefined;
      do {
        const page = await store.list('open', { limit: POLL_PAGE, cursor });
        read += page.items.length;
        cursor = page.cursor;
      } while (cursor && read < POLL_SAMPLE);
      return read;
    });

    // The morning review as its handler reads it: every open line's entry (its partitions in
    // parallel) and the lines closed since, the plan, then the listed records, then the rows.
    // The handler has loaded its configuration before.
    const organisation = loadOrganisation(bundledConfigFile(new Date(NOW)));
    const morningReview = async (store: BackorderStore) => {
      const started = performance.now();
      const lastReviewAt = new Date(NOW - DAY);
      const [open, closed] = await Promise.all([store.openReviewEntries(), store.closedSince(lastReviewAt)]);
      const queried = performance.now();
      const plan = planMorningReview({
        open,
        closedSince: closed.map(reviewEntry),
        lastReviewAt,
        now: new Date(NOW),
        calendar: organisation.calendar,
        vpAfterDays: organisation.config.escalation.vpAfterDaysPastOriginal,
      });
      const planned = performance.now();
      const listed = await store.getMany(plan.listed);
      const fetched = performance.now();
      const review = renderMorningReview(
        plan,
        new Map(listed.map((record) => [backorderId(record), record])),
      );
      const built = performance.now();
      if (review.totals.open !== records.length) {
        throw new Error(`the review counted ${review.totals.open} open backorders of ${records.length}`);
      }
      return {
        queryMs: queried - started,
        buildMs: planned - queried + (built - fetched),
        recordsMs: fetched - planned,
        records: open.length,
        listed: listed.length,
      };
    };
    // The median of three timed runs.
    const reviews = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const { value, ms, used } = await measure(morningReview);
      reviews.push({
        ms,
        ...value,
        readUnits: used.readUnits,
        queryPages: used.byOperation.Query?.requests ?? 0,
        scans: used.byOperation.Scan?.requests ?? 0,
      });
    }
    const middle = [...reviews].sort((a, b) => a.ms - b.ms)[Math.floor(reviews.length / 2)];
    if (!middle) throw new Error('no review ran');
    return {
      backorders: records.length,
      seedSeconds,
      recordBytes,
      entryBytes,
      getItem,
      openListFirstPage,
      morningReview: middle,
      pollMsPerRecord: poll.ms / poll.value,
      pollReadUnitsPerRecord: poll.used.readUnits / poll.value,
    };
  } finally {
    metered.destroy();
    await meter.close();
    for (const table of tables.values())
      await direct.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    direct.destroy();
  }
}
