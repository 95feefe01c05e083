import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackorderStore } from '#adapters/backorder-store.ts';
import { applyEvent, type Backorder, type RuleContext } from '#domain/backorder.ts';
import type { BackorderEvent } from '#domain/events.ts';
import {
  type CounterRow,
  counterDeltas,
  counterShard,
  countersOf,
  groupDeltas,
  type PeriodOf,
  sumCounters,
} from '#domain/insights.ts';
import { createTestTables, type TestTables } from '#test/support/dynamodb.ts';
import { closing, delayed } from '#test/support/erp-events.ts';

/*
 * The insight counters in DynamoDB Local: lines of one mill, one customer and one product, written
 * at the same moment, share every counter, yet spread over its shards; the counters read back
 * equal a recount of the records. (DynamoDB Local runs transactions one at a time and never
 * reports TransactionConflict, so this checks exactness and spread, not contention itself.)
 */

const HOUR = 3_600_000;
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};
const period: PeriodOf = (instant) => instant.toISOString().slice(0, 7);
const LINES = 60;

let tables: TestTables;
let store: BackorderStore;

beforeAll(async () => {
  tables = await createTestTables();
  store = new BackorderStore(tables.client, tables.tableName('StoreTable'), (before, after) =>
    groupDeltas(counterDeltas(before, after, period)),
  );
}, 180_000);

afterAll(() => tables?.close());

/** Applies an event to a line and saves it, as the ingest does; answers the new record. */
async function write(current: Backorder | undefined, event: BackorderEvent, id: string): Promise<Backorder> {
  const applied = applyEvent(current, event, rules);
  const record = { ...applied.record, version: (current?.version ?? 0) + 1 };
  const now = new Date(event.occurredAt);
  await store.save({
    previous: current,
    record,
    changed: applied.changed,
    expectedVersion: current?.version,
    timeline: {
      occurredAt: now.toISOString(),
      receivedAt: now.toISOString(),
      type: event.type,
      result: applied.result,
      id,
      summary: event.type,
    },
    message: { id, response: { status: 202, body: {} }, now },
  });
  return record;
}

/** Counter rows without their zero fields (ADD leaves a field at 0 when a count moves away). */
function nonZero(rows: CounterRow[]): CounterRow[] {
  return rows
    .map((row) => ({
      ...row,
      fields: Object.fromEntries(Object.entries(row.fields).filter(([, amount]) => amount !== 0)),
    }))
    .filter((row) => Object.keys(row.fields).length > 0)
    .sort((a, b) => `${a.period}${a.dimension}${a.key}`.localeCompare(`${b.period}${b.dimension}${b.key}`));
}

describe('insight counters shared by many lines', () => {
  it('take every concurrent write of different lines, and sum to an exact recount', async () => {
    // Prepare: lines of one mill, customer, product and owner, opened, slipped and half shipped.
    const keys = Array.from({ length: LINES }, (_, index) => ({ orderId: `SO-SHARD-${index}`, lineId: '1' }));

    // Act: every line's write at the same moment, three times over.
    const opened = await Promise.all(
      keys.map((key) =>
        write(undefined, delayed('2026-03-10T14:05:00-05:00', '2026-03-22', key), `o-${key.orderId}`),
      ),
    );
    const slipped = await Promise.all(
      opened.map((record, index) =>
        write(record, delayed('2026-03-12T09:00:00-05:00', '2026-03-29', keys[index]), `s-${record.orderId}`),
      ),
    );
    const final = await Promise.all(
      slipped.map((record, index) =>
        index % 2 === 0
          ? write(
              record,
              closing('backorder.shipped', '2026-03-30T10:00:00-05:00', keys[index]),
              `c-${record.orderId}`,
            )
          : record,
      ),
    );

    // Assess: the counters equal a recount of the final records, whatever shard each went to.
    const stored = await store.counters('2026-03', '2026-03');
    const recount = sumCounters(final.flatMap((record) => countersOf(record, period)));
    expect(nonZero(stored)).toEqual(nonZero(recount));
    expect(stored.find((row) => row.dimension === 'total')?.fields.backorders).toBe(LINES);
    // The month's total is one item per shard in use, not one item every line writes.
    const items = await tables.client.send(
      new QueryCommand({
        TableName: tables.tableName('StoreTable'),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: 'INSIGHTS' }, ':prefix': { S: '2026-03#total#all#' } },
      }),
    );
    expect(items.Count).toBe(new Set(keys.map(counterShard)).size);
    expect(items.Count).toBeGreaterThan(10);
  });
});
