import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Applied, applyEvent, type Backorder, NotADelayError } from '#domain/backorder.ts';
import type { BackorderEvent, DelayedData } from '#domain/events.ts';
import {
  COUNTER_SHARDS,
  type CounterDelta,
  type CounterRow,
  counterDeltas,
  counterItemKey,
  counterRangeKeys,
  counterShard,
  countersOf,
  daysLateBucket,
  groupDeltas,
  insightsFrom,
  monthOf,
  previousRange,
  sumCounters,
  sumShards,
} from '#domain/insights.ts';
import { parseOrganisationConfig } from '#domain/organisation.ts';
import { fulfil } from '#domain/planner.ts';
import { calendarFor, policyFor } from '#domain/policy.ts';
import { closing, delayed } from '#test/support/erp-events.ts';
import { readSampleConfig } from '#test/support/organisation.ts';

const sample = readSampleConfig();
const config = parseOrganisationConfig(sample);
const calendar = calendarFor(config);
const policy = policyFor(config, calendar);
const period = monthOf(calendar);
const localDate = (instant: Date) => calendar.localDate(instant);

const apply = (record: Backorder | undefined, event: BackorderEvent): Applied =>
  applyEvent(record, event, policy);

function sendPending(record: Backorder, at: string): Backorder {
  const notice = record.notices.find((candidate) => candidate.status === 'pending');
  if (!notice) return record;
  const action = {
    kind: 'customerNotice',
    revision: notice.revision,
    dueAt: new Date(at),
    autoSent: false,
  } as const;
  return fulfil(record, action, { at: new Date(at) }, policy) ?? record;
}

/** A delta as one comparable line: `2026-03 mill MILL-7 slips +1`. */
const line = (delta: CounterDelta) =>
  `${delta.period} ${delta.dimension} ${delta.key} ${delta.field} ${delta.amount > 0 ? '+' : ''}${delta.amount}`;

describe('counter deltas for one change', () => {
  // Tuesday 2026-03-10 14:05 Chicago; the fixture: 20 tons of hot-rolled coil from MILL-7, $18,400.
  const opened = apply(undefined, delayed('2026-03-10T14:05:00-05:00', '2026-03-22')).record;

  it('counts a new backorder once in its opening month by product, mill, customer and product × mill', () => {
    // Act
    const deltas = counterDeltas(undefined, opened, period, localDate);

    // Assess
    expect(deltas.map(line)).toEqual([
      '2026-03 customer C-881 backorders +1',
      '2026-03 customer C-881 tons +20',
      '2026-03 customer C-881 value:USD +18400',
      '2026-03 mill MILL-7 backorders +1',
      '2026-03 mill MILL-7 slips +1',
      '2026-03 mill MILL-7 tons +20',
      '2026-03 mill MILL-7 value:USD +18400',
      // Announced 7 days late (March 15 → 22).
      '2026-03 millSlip MILL-7 days:4-7 +1',
      '2026-03 millSlip MILL-7 delays +1',
      '2026-03 millSlip MILL-7 revisedDates +1',
      '2026-03 product Hot-rolled coil backorders +1',
      '2026-03 product Hot-rolled coil tons +20',
      '2026-03 product Hot-rolled coil value:USD +18400',
      '2026-03 productMill Hot-rolled%20coil/MILL-7 backorders +1',
      '2026-03 productMill Hot-rolled%20coil/MILL-7 tons +20',
      '2026-03 productMill Hot-rolled%20coil/MILL-7 value:USD +18400',
      '2026-03 total all backorders +1',
      '2026-03 total all tons +20',
      '2026-03 total all value:USD +18400',
    ]);
    expect(deltas.find((delta) => delta.dimension === 'mill')?.label).toBe('Gulf Coast Steel Mill');
  });

  it("adds a slip to the mill's slips in the opening month and to its days-late bucket in the month it was learned", () => {
    // Prepare: the notice went out; on April 2 the date moves from March 22 to April 5 (21 days late).
    const sent = sendPending(opened, '2026-03-10T19:06:00Z');
    const slipped = apply(sent, delayed('2026-04-02T09:00:00-05:00', '2026-04-05')).record;

    // Act
    const deltas = counterDeltas(sent, slipped, period, localDate);

    // Assess
    expect(deltas.map(line)).toEqual([
      '2026-03 mill MILL-7 slips +1',
      '2026-04 millSlip MILL-7 days:15-28 +1',
      '2026-04 millSlip MILL-7 delays +1',
      '2026-04 millSlip MILL-7 revisedDates +1',
      '2026-04 millSlip MILL-7 slippedAgain +1',
    ]);
  });

  it('counts the observed delay per mill in the month the line shipped, on the company calendar', () => {
    // Prepare: original March 15; shipped Thursday March 19 at 21:00 Chicago, already March 20 in UTC.
    const shipped = apply(opened, closing('backorder.shipped', '2026-03-19T21:00:00-05:00')).record;

    // Act
    const deltas = counterDeltas(opened, shipped, period, localDate);

    // Assess: 4 days late, 16 squared.
    expect(deltas.map(line)).toEqual([
      '2026-03 millDelay MILL-7 days:4-7 +1',
      '2026-03 millDelay MILL-7 delayDays +4',
      '2026-03 millDelay MILL-7 delayDaysSquared +16',
      '2026-03 millDelay MILL-7 shipped +1',
    ]);
  });

  it("counts a sent notice for its owner's SLA and the month's, in the month the news was learned", () => {
    // Prepare: learned Tuesday 14:05 Chicago; 4 business hours run to Wednesday 09:05 (2 h 55 min
    // before the 17:00 close, 1 h 05 min after the 08:00 open); sent 09:06, one minute late, and delivered.
    const late = sendPending(opened, '2026-03-11T14:06:00Z');
    const delivered = {
      ...late,
      notices: late.notices.map((notice) => ({ ...notice, delivery: 'delivered' as const })),
    };

    // Act
    const sending = counterDeltas(opened, late, period, localDate);
    const delivery = counterDeltas(late, delivered, period, localDate);

    // Assess: sent but not within the SLA.
    expect(sending.map(line)).toEqual(['2026-03 noticeSla all sent +1', '2026-03 ownerSla U-17 sent +1']);
    expect(delivery.map(line)).toEqual([
      '2026-03 noticeSla all delivered +1',
      '2026-03 ownerSla U-17 delivered +1',
    ]);
  });

  it('moves every count when a report moves the line to another mill, and changes nothing for a stale report', () => {
    // Prepare
    const moved = apply(
      opened,
      delayed('2026-03-11T09:00:00-05:00', '2026-03-22', { supplier: { id: 'MILL-9', name: 'Delta Steel' } }),
    ).record;
    const stale = apply(moved, delayed('2026-03-10T15:00:00-05:00', '2026-03-29'));

    // Act
    const deltas = counterDeltas(opened, moved, period, localDate);

    // Assess
    const byMill = (mill: string) =>
      deltas.filter((delta) => delta.key.includes(mill)).map((delta) => delta.amount);
    expect(byMill('MILL-7').every((amount) => amount < 0)).toBe(true);
    expect(byMill('MILL-9').every((amount) => amount > 0)).toBe(true);
    expect(byMill('MILL-7')).toHaveLength(byMill('MILL-9').length);
    expect(deltas.filter((delta) => delta.dimension === 'total' || delta.dimension === 'customer')).toEqual(
      [],
    );
    expect(stale.result).toBe('stale');
    expect(counterDeltas(moved, stale.record, period, localDate)).toEqual([]);
  });

  it('groups deltas into one update per counter item, label included', () => {
    // Act
    const updates = groupDeltas(counterDeltas(undefined, opened, period, localDate));

    // Assess
    expect(updates).toHaveLength(6);
    expect(updates.find((update) => update.dimension === 'mill')).toEqual({
      period: '2026-03',
      dimension: 'mill',
      key: 'MILL-7',
      label: 'Gulf Coast Steel Mill',
      add: { backorders: 1, slips: 1, tons: 20, 'value:USD': 18400 },
    });
  });
});

describe('days-late buckets', () => {
  it('puts each number of days in exactly one bucket, edges included', () => {
    expect([-3, 0, 1, 3, 4, 7, 8, 14, 15, 28, 29, 400].map(daysLateBucket)).toEqual([
      'onTime',
      'onTime',
      '1-3',
      '1-3',
      '4-7',
      '4-7',
      '8-14',
      '8-14',
      '15-28',
      '15-28',
      '29+',
      '29+',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The key property: counters kept by deltas equal a recount from the final records.

const MILLS = [
  { id: 'MILL-7', name: 'Gulf Coast Steel Mill' },
  { id: 'MILL-9', name: 'Delta Steel' },
  { id: 'IMP-2', name: 'Port Importers / Co' },
];
const PRODUCTS = ['Hot-rolled coil', 'Plate', undefined];
const CUSTOMERS = [
  { id: 'C-1', name: 'Lone Star Fabrication', email: 'a@lonestar.example' },
  { id: 'C-2', name: 'Bayou Works', email: 'b@bayou.example' },
];
const OWNERS = [
  { id: 'U-17', name: 'Dana Ortiz', email: 'dana@svc.example' },
  { id: 'U-22', name: 'Alex Kim', email: 'alex@svc.example' },
];
const START = Date.parse('2026-01-28T00:00:00Z');
const ORIGINAL = '2026-02-10';

type Step =
  | {
      kind: 'report';
      line: number;
      minute: number;
      days: number;
      mill: number;
      product: number;
      customer: number;
      owner: number;
      tons: number;
      unit: 'ton' | 'lb';
      value: number;
      currency: 'USD' | 'EUR' | 'none';
    }
  | { kind: 'close'; line: number; minute: number; cancelled: boolean }
  | { kind: 'send'; line: number; minute: number }
  | { kind: 'fail'; line: number }
  | { kind: 'deliver'; line: number; outcome: 'delivered' | 'bounced' | 'complained' };

const lineNo = fc.integer({ min: 0, max: 3 });
// Three months of minutes: reports land in February, March and April, and out of order.
const minute = fc.integer({ min: 0, max: 90 * 24 * 60 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('report' as const),
      line: lineNo,
      minute,
      days: fc.integer({ min: -5, max: 45 }),
      mill: fc.integer({ min: 0, max: MILLS.length - 1 }),
      product: fc.integer({ min: 0, max: PRODUCTS.length - 1 }),
      customer: fc.integer({ min: 0, max: CUSTOMERS.length - 1 }),
      owner: fc.integer({ min: 0, max: OWNERS.length - 1 }),
      tons: fc.integer({ min: 1, max: 60 }),
      unit: fc.constantFrom('ton' as const, 'lb' as const),
      value: fc.integer({ min: 100, max: 90_000 }),
      currency: fc.constantFrom('USD' as const, 'EUR' as const, 'none' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('close' as const),
      line: lineNo,
      minute,
      cancelled: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('send' as const), line: lineNo, minute }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), line: lineNo }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deliver' as const),
      line: lineNo,
      outcome: fc.constantFrom('delivered' as const, 'bounced' as const, 'complained' as const),
    }),
  },
);

const at = (minutes: number) => new Date(START + minutes * 60_000).toISOString();
const plusDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** One step against the current record, as the ingest and the workflow would change it; undefined when refused. */
function change(record: Backorder | undefined, s: Step): Backorder | undefined {
  const key = { orderId: `SO-${s.line}`, lineId: '1' };
  switch (s.kind) {
    case 'report': {
      const data: Partial<DelayedData> = {
        ...key,
        originalShipDate: ORIGINAL,
        supplier: MILLS[s.mill],
        item: { sku: `SKU-${s.product}`, description: 'steel', product: PRODUCTS[s.product] },
        customer: CUSTOMERS[s.customer],
        owner: OWNERS[s.owner],
        quantity: { amount: s.tons, unit: s.unit },
        orderValue: s.currency === 'none' ? undefined : { amount: s.value, currency: s.currency },
      };
      try {
        return apply(record, delayed(at(s.minute), plusDays(ORIGINAL, s.days), data)).record;
      } catch (error) {
        if (error instanceof NotADelayError) return undefined;
        throw error;
      }
    }
    case 'close':
      return (
        record &&
        apply(record, closing(s.cancelled ? 'backorder.cancelled' : 'backorder.shipped', at(s.minute), key))
          .record
      );
    case 'send':
      return record && sendPending(record, at(s.minute));
    case 'fail': {
      const pending = record?.notices.find((notice) => notice.status === 'pending');
      return (
        record &&
        pending && {
          ...record,
          notices: record.notices.map((notice) =>
            notice === pending ? { ...notice, status: 'failed' as const, failure: 'rejected' } : notice,
          ),
        }
      );
    }
    case 'deliver': {
      const sent = record?.notices.findLast((notice) => notice.status === 'sent');
      return (
        record &&
        sent && {
          ...record,
          notices: record.notices.map((notice) =>
            notice === sent ? { ...notice, delivery: s.outcome } : notice,
          ),
        }
      );
    }
  }
}

/**
 * The recount, written from the rules rather than from `countersOf`: walk the final records and
 * count what each one is, field by field.
 */
function recount(records: Backorder[]): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (p: string, dimension: string, key: string, field: string, amount: number) => {
    const id = `${p} ${dimension} ${key} ${field}`;
    counts.set(id, (counts.get(id) ?? 0) + amount);
  };
  const day = (date: string) => Date.parse(`${date}T00:00:00Z`) / 86_400_000;
  for (const record of records) {
    const d = record.details;
    const month = calendar.localDate(new Date(record.openedAt)).slice(0, 7);
    const product = d.item.product ?? d.item.sku;
    const keys: [string, string][] = [
      ['total', 'all'],
      ['product', product],
      ['mill', d.supplier.id],
      ['customer', d.customer.id],
      ['productMill', `${encodeURIComponent(product)}/${encodeURIComponent(d.supplier.id)}`],
    ];
    for (const [dimension, key] of keys) {
      add(month, dimension, key, 'backorders', 1);
      if (d.quantity.unit === 'ton') add(month, dimension, key, 'tons', d.quantity.amount);
      if (d.orderValue) add(month, dimension, key, `value:${d.orderValue.currency}`, d.orderValue.amount);
    }
    add(month, 'mill', d.supplier.id, 'slips', record.slipCount);
    for (const notice of record.notices) {
      const learned = calendar.localDate(new Date(notice.learnedAt)).slice(0, 7);
      add(learned, 'millSlip', d.supplier.id, 'revisedDates', 1);
      if (notice.kind !== 'improved') {
        add(learned, 'millSlip', d.supplier.id, 'delays', 1);
        add(
          learned,
          'millSlip',
          d.supplier.id,
          `days:${daysLateBucket(day(notice.expectedShipDate) - day(record.originalShipDate))}`,
          1,
        );
      }
      if (notice.kind === 'slipped') add(learned, 'millSlip', d.supplier.id, 'slippedAgain', 1);
      for (const [dimension, key] of [
        ['ownerSla', d.owner.id],
        ['noticeSla', 'all'],
      ] as const) {
        if (notice.status === 'failed') add(learned, dimension, key, 'failed', 1);
        if (notice.status !== 'sent') continue;
        add(learned, dimension, key, 'sent', 1);
        if ((notice.sentAt ?? '') <= notice.deadline) add(learned, dimension, key, 'withinSla', 1);
        if (notice.delivery) add(learned, dimension, key, notice.delivery, 1);
      }
    }
    if (record.status === 'closed' && record.closedAt) {
      const closedMonth = calendar.localDate(new Date(record.closedAt)).slice(0, 7);
      if (record.closedAs === 'cancelled') add(closedMonth, 'millDelay', d.supplier.id, 'cancelled', 1);
      else {
        const late = day(calendar.localDate(new Date(record.closedAt))) - day(record.originalShipDate);
        add(closedMonth, 'millDelay', d.supplier.id, 'shipped', 1);
        add(closedMonth, 'millDelay', d.supplier.id, 'delayDays', late);
        add(closedMonth, 'millDelay', d.supplier.id, 'delayDaysSquared', late * late);
        add(closedMonth, 'millDelay', d.supplier.id, `days:${daysLateBucket(late)}`, 1);
      }
    }
  }
  for (const [id, amount] of counts) if (amount === 0) counts.delete(id);
  return counts;
}

function flatten(rows: CounterRow[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) {
    for (const [field, amount] of Object.entries(row.fields))
      counts.set(`${row.period} ${row.dimension} ${row.key} ${field}`, amount);
  }
  return counts;
}

const sorted = (counts: Map<string, number>) => [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe('counters kept by deltas', () => {
  it('always equal a recount of the final records, after any stream of changes', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        // Prepare
        const records = new Map<number, Backorder>();
        const applied: CounterDelta[] = [];

        // Act: every change adds its deltas, as the store would with ADD.
        for (const s of steps) {
          const before = records.get(s.line);
          const after = change(before, s);
          if (!after) continue;
          applied.push(...counterDeltas(before, after, period, localDate));
          records.set(s.line, after);
        }

        // Assess
        expect(sorted(flatten(sumCounters(applied)))).toEqual(sorted(recount([...records.values()])));
      }),
      { numRuns: 150 },
    );
  });

  it('equal the contributions of the final records, labels included', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
        const records = new Map<number, Backorder>();
        const applied: CounterDelta[] = [];
        for (const s of steps) {
          const before = records.get(s.line);
          const after = change(before, s);
          if (!after) continue;
          applied.push(...counterDeltas(before, after, period, localDate));
          records.set(s.line, after);
        }
        const recounted = sumCounters(
          [...records.values()].flatMap((record) => countersOf(record, period, localDate)),
        );
        const byId = (rows: CounterRow[]) =>
          rows
            .map((row) => ({ ...row, label: row.label ?? '' }))
            .sort((a, b) =>
              `${a.period}${a.dimension}${a.key}` < `${b.period}${b.dimension}${b.key}` ? -1 : 1,
            );
        expect(byId(sumCounters(applied))).toEqual(byId(recounted));
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Reading

/** A counter row for the reading tests. */
const row = (
  p: string,
  dimension: CounterRow['dimension'],
  key: string,
  fields: Record<string, number>,
  label?: string,
): CounterRow =>
  label === undefined ? { period: p, dimension, key, fields } : { period: p, dimension, key, fields, label };

/** `count` backorders for a product × mill pair, with the product, mill and customer rows that go with them. */
function opened(p: string, product: string, mill: string, customer: string, count: number): CounterRow[] {
  return [
    row(p, 'total', 'all', { backorders: count }),
    row(p, 'product', product, { backorders: count }, product),
    row(p, 'mill', mill, { backorders: count, slips: count }, mill),
    row(p, 'customer', customer, { backorders: count }, customer),
    row(
      p,
      'productMill',
      `${encodeURIComponent(product)}/${encodeURIComponent(mill)}`,
      { backorders: count },
      `${product} from ${mill}`,
    ),
  ];
}

const kinds = (rows: CounterRow[], query = { from: '2026-03', to: '2026-03' }) =>
  insightsFrom(rows, query).flags.map((flag) => `${flag.kind} ${flag.key}`);

describe('insights over a period', () => {
  it('counts by product, mill, customer and product × mill with the trend against the previous period', () => {
    // Prepare: February 4 backorders, March 6; HRC went from 1 to 4, plate from 3 to 2.
    const counters = sumCounters(
      [
        ...opened('2026-02', 'HRC', 'MILL-7', 'C-1', 1),
        ...opened('2026-02', 'Plate', 'MILL-9', 'C-2', 3),
        ...opened('2026-03', 'HRC', 'MILL-7', 'C-1', 4),
        ...opened('2026-03', 'Plate', 'MILL-9', 'C-1', 2),
        row('2026-03', 'total', 'all', { tons: 120, 'value:USD': 60_000 }),
        row('2025-12', 'total', 'all', { backorders: 99 }), // outside both ranges
      ].flatMap((r) => Object.entries(r.fields).map(([field, amount]) => ({ ...r, field, amount }))),
    );

    // Act
    const insights = insightsFrom(counters, { from: '2026-03', to: '2026-03' });

    // Assess
    expect(insights.previousRange).toEqual({ from: '2026-02', to: '2026-02' });
    expect(insights.totals).toEqual({
      current: { backorders: 6, tons: 120, value: { USD: 60_000 } },
      previous: { backorders: 4, tons: 0, value: {} },
      trend: { change: 2, ratio: 0.5, direction: 'up' },
    });
    expect(
      insights.byProduct.map((r) => [
        r.key,
        r.current.backorders,
        r.previous.backorders,
        r.trend.direction,
        r.share,
      ]),
    ).toEqual([
      ['HRC', 4, 1, 'up', 4 / 6],
      ['Plate', 2, 3, 'down', 2 / 6],
    ]);
    expect(insights.byCustomer.map((r) => [r.key, r.current.backorders, r.trend.change])).toEqual([
      ['C-1', 6, 5],
      ['C-2', 0, -3],
    ]);
    expect(insights.byProductMill[0]).toMatchObject({
      product: 'HRC',
      mill: 'MILL-7',
      label: 'HRC from MILL-7',
    });
  });

  it('flags a product × mill pair at exactly the sourcing-problem share, and not one backorder below it', () => {
    // Prepare: 100 backorders in March; 60 (then 59) are HRC from MILL-7.
    const at = [
      ...opened('2026-03', 'HRC', 'MILL-7', 'C-1', 60),
      ...opened('2026-03', 'Plate', 'MILL-9', 'C-2', 40),
    ];
    const below = [
      ...opened('2026-03', 'HRC', 'MILL-7', 'C-1', 59),
      ...opened('2026-03', 'Plate', 'MILL-9', 'C-2', 41),
    ];

    // Act and Assess: 60 / 100 = 0.6 ≥ 0.6; 59 / 100 < 0.6. (C-2's 40 and 41 are planning conversations.)
    expect(kinds(sumRows(at)).filter((kind) => kind.startsWith('sourcing'))).toEqual([
      'sourcingProblem HRC/MILL-7',
    ]);
    expect(kinds(sumRows(below)).filter((kind) => kind.startsWith('sourcing'))).toEqual([]);
    expect(insightsFrom(sumRows(at), { from: '2026-03', to: '2026-03' }).flags[0]).toMatchObject({
      title: 'Sourcing problem',
      finding:
        'HRC from MILL-7: 60 of 100 backorders in 2026-03 (60%), at or above the 60% sourcing-problem threshold; 60 of the 60 HRC backorders came from this mill.',
      numbers: { backorders: 60, totalBackorders: 100, share: 0.6, threshold: 0.6, productBackorders: 60 },
    });
  });

  it('flags a customer at exactly the planning-conversation share, and not one backorder below it', () => {
    // Prepare: 100 backorders; C-1 has 30 (then 29), the rest spread over customers of 10 or fewer.
    const spread = (p: string, n: number) =>
      Array.from({ length: 10 }, (_, i) => opened(p, `P-${i}`, `M-${i}`, `C-other-${i}`, n)).flat();
    const at = [...opened('2026-03', 'HRC', 'MILL-7', 'C-1', 30), ...spread('2026-03', 7)];
    const below = [
      ...opened('2026-03', 'HRC', 'MILL-7', 'C-1', 29),
      ...spread('2026-03', 7),
      ...opened('2026-03', 'X', 'M-X', 'C-x', 1),
    ];

    // Act
    const flags = insightsFrom(sumRows(at), { from: '2026-03', to: '2026-03' }).flags;

    // Assess: 30 / 100 = 0.3 ≥ 0.3; 29 / 100 < 0.3.
    expect(flags.map((flag) => `${flag.kind} ${flag.key}`)).toEqual(['planningConversation C-1']);
    expect(flags[0]).toMatchObject({
      title: 'Planning conversation',
      label: 'C-1',
      finding:
        'C-1: 30 of 100 backorders in 2026-03 (30%), at or above the 30% planning-conversation threshold.',
      numbers: { backorders: 30, totalBackorders: 100, share: 0.3, threshold: 0.3 },
    });
    expect(kinds(sumRows(below))).toEqual([]);
  });

  it('judges shares only from the minimum number of backorders in the period', () => {
    // Prepare: 4 then 5 backorders, all one pair and one customer.
    const four = opened('2026-03', 'HRC', 'MILL-7', 'C-1', 4);
    const five = opened('2026-03', 'HRC', 'MILL-7', 'C-1', 5);

    // Act and Assess (slips are 1 each here, so no mill flag)
    expect(kinds(sumRows(four))).toEqual([]);
    expect(kinds(sumRows(five))).toEqual(['sourcingProblem HRC/MILL-7', 'planningConversation C-1']);
  });

  it('flags a mill whose backorders average two slips, from three backorders on', () => {
    // Prepare: MILL-7 with 3 backorders and 6 slips (2 each) flags; 5 slips (1.67) or 2 backorders do not.
    const mill = (backorders: number, slips: number) => [
      row('2026-03', 'mill', 'MILL-7', { backorders, slips }, 'Gulf Coast Steel Mill'),
    ];

    // Act
    const flags = insightsFrom(sumRows(mill(3, 6)), { from: '2026-03', to: '2026-03' }).flags;

    // Assess
    expect(flags).toEqual([
      expect.objectContaining({
        kind: 'recurringSlips',
        key: 'MILL-7',
        finding:
          'Gulf Coast Steel Mill: its 3 backorders opened in 2026-03 slipped 6 times (2 each, the first delay included), at or above 2 per backorder; 0 of 0 dates announced slipped again.',
        numbers: expect.objectContaining({
          backorders: 3,
          slips: 6,
          slipsPerBackorder: 2,
          threshold: 2,
          minBackorders: 3,
        }),
      }),
    ]);
    expect(kinds(sumRows(mill(3, 5)))).toEqual([]);
    expect(kinds(sumRows(mill(2, 4)))).toEqual([]);
  });

  it('takes thresholds from the organisation configuration', () => {
    // Prepare: 2 of 5 backorders for C-1 is 40%: below a 50% threshold, at a 40% one.
    const rows = sumRows([
      ...opened('2026-03', 'A', 'M-1', 'C-1', 2),
      ...opened('2026-03', 'B', 'M-2', 'C-2', 3),
    ]);
    const query = (share: number) => ({
      from: '2026-03',
      to: '2026-03',
      thresholds: { planningConversationShare: share, sourcingProblemShare: 1 },
    });

    // Act and Assess
    expect(insightsFrom(rows, query(0.5)).flags.map((flag) => flag.key)).toEqual(['C-2']);
    expect(insightsFrom(rows, query(0.4)).flags.map((flag) => flag.key)).toEqual(['C-2', 'C-1']);
  });

  it("describes a mill's reliability: observed delay, its spread, and how often a revised date slipped again", () => {
    // Prepare: three shipments 2, 4 and 9 days late: Σ = 15, Σ² = 4 + 16 + 81 = 101.
    // Mean 15 / 3 = 5; sample variance (101 − 15² / 3) / (3 − 1) = (101 − 75) / 2 = 13; σ = √13.
    const rows = sumRows([
      row(
        '2026-03',
        'millDelay',
        'MILL-7',
        {
          shipped: 3,
          delayDays: 15,
          delayDaysSquared: 101,
          'days:1-3': 1,
          'days:4-7': 1,
          'days:8-14': 1,
          cancelled: 1,
        },
        'Gulf Coast',
      ),
      row(
        '2026-03',
        'millSlip',
        'MILL-7',
        { revisedDates: 8, slippedAgain: 2, delays: 6, 'days:4-7': 6 },
        'Gulf Coast',
      ),
      row('2026-03', 'mill', 'MILL-7', { backorders: 4, slips: 6 }, 'Gulf Coast'),
    ]);

    // Act
    const [mill] = insightsFrom(rows, { from: '2026-03', to: '2026-03' }).millReliability;

    // Assess
    expect(mill).toMatchObject({
      mill: 'MILL-7',
      label: 'Gulf Coast',
      backorders: 4,
      slips: 6,
      slipsPerBackorder: 1.5,
      revisedDates: 8,
      slippedAgain: 2,
      slipAgainRate: 0.25,
      announcedDelays: { onTime: 0, '1-3': 0, '4-7': 6, '8-14': 0, '15-28': 0, '29+': 0 },
      observed: {
        shipped: 3,
        cancelled: 1,
        meanDaysLate: 5,
        distribution: { onTime: 0, '1-3': 1, '4-7': 1, '8-14': 1, '15-28': 0, '29+': 0 },
      },
    });
    expect(mill?.observed.stdDevDaysLate).toBeCloseTo(Math.sqrt(13), 12);
  });

  it('measures notice SLA compliance per owner and per month', () => {
    // Prepare: Dana sent 4 (3 in time) over two months; Alex 2 (1 in time) in March.
    const rows = sumRows([
      row('2026-02', 'ownerSla', 'U-17', { sent: 2, withinSla: 2 }, 'Dana Ortiz'),
      row('2026-03', 'ownerSla', 'U-17', { sent: 2, withinSla: 1, bounced: 1 }, 'Dana Ortiz'),
      row('2026-03', 'ownerSla', 'U-22', { sent: 2, withinSla: 1, failed: 1 }, 'Alex Kim'),
      row('2026-02', 'noticeSla', 'all', { sent: 2, withinSla: 2 }),
      row('2026-03', 'noticeSla', 'all', { sent: 4, withinSla: 2, bounced: 1, failed: 1 }),
    ]);

    // Act
    const { noticeSla } = insightsFrom(rows, { from: '2026-02', to: '2026-03' });

    // Assess
    expect(noticeSla.byOwner.map((r) => [r.label, r.sent, r.withinSla, r.share])).toEqual([
      ['Dana Ortiz', 4, 3, 0.75],
      ['Alex Kim', 2, 1, 0.5],
    ]);
    expect(noticeSla.byMonth.map((r) => [r.key, r.sent, r.withinSla, r.share, r.bounced, r.failed])).toEqual([
      ['2026-02', 2, 2, 1, 0, 0],
      ['2026-03', 4, 2, 0.5, 1, 1],
    ]);
  });

  it('leaves out what a line moved away from: counters ADD left at zero', () => {
    // Prepare: one backorder counted for MILL-7, then moved to MILL-9.
    const rows = sumRows(opened('2026-03', 'HRC', 'MILL-9', 'C-1', 1)).concat([
      row('2026-03', 'mill', 'MILL-7', { backorders: 0, slips: 0 }, 'Old mill'),
      row('2026-03', 'ownerSla', 'U-17', { sent: 0 }, 'Dana Ortiz'),
    ]);

    // Act
    const insights = insightsFrom(rows, { from: '2026-03', to: '2026-03' });

    // Assess
    expect(insights.byMill.map((mill) => mill.key)).toEqual(['MILL-9']);
    expect(insights.millReliability.map((mill) => mill.mill)).toEqual(['MILL-9']);
    expect(insights.noticeSla.byOwner).toEqual([]);
  });

  it('compares with the same number of months before, and refuses a malformed range', () => {
    expect(previousRange('2026-01', '2026-03')).toEqual({ from: '2025-10', to: '2025-12' });
    expect(previousRange('2026-01', '2026-01')).toEqual({ from: '2025-12', to: '2025-12' });
    expect(() => insightsFrom([], { from: '2026-3', to: '2026-03' })).toThrow(RangeError);
    expect(() => insightsFrom([], { from: '2026-04', to: '2026-03' })).toThrow(RangeError);
  });
});

describe('the counter item layout', () => {
  it('reads a range of periods, every dimension, with one key range', () => {
    // Prepare
    const { from, to } = counterRangeKeys('2026-02', '2026-03');
    const keys = [
      counterItemKey('2026-01', 'total', 'all', 0),
      counterItemKey('2026-02', 'customer', 'C-1', 7),
      counterItemKey('2026-03', 'productMill', productMillKeyOf('Plate 3/8"', 'MILL-7'), 31),
      counterItemKey('2026-03', 'total', 'all', 12),
      counterItemKey('2026-04', 'customer', 'C-1', 0),
    ];

    // Act: the BETWEEN condition of a Query.
    const hits = keys.filter((key) => key.sk >= from && key.sk <= to).map((key) => key.sk);

    // Assess
    expect(hits).toEqual([
      '2026-02#customer#C-1#07',
      '2026-03#productMill#Plate%203%2F8%22/MILL-7#31',
      '2026-03#total#all#12',
    ]);
    expect(new Set(keys.map((key) => key.pk))).toEqual(new Set(['INSIGHTS']));
  });

  it('gives each line one shard of its own, and spreads lines over every shard', () => {
    const lines = Array.from({ length: 2_000 }, (_, index) => ({ orderId: `SO-${index}`, lineId: '1' }));
    const shards = lines.map(counterShard);

    // Pinned: a line's corrections cancel in the shard it added to, deployment after deployment.
    expect(counterShard({ orderId: 'SO-10042', lineId: '3' })).toBe(14);
    expect(counterShard({ orderId: 'SO-10042', lineId: '4' })).toBe(7);
    expect(new Set(shards)).toEqual(new Set(Array.from({ length: COUNTER_SHARDS }, (_, shard) => shard)));
    // Roughly even (2,000 / 32 = 62.5 a shard): no shard a hot spot.
    const sizes = Object.values(Object.groupBy(shards, (shard) => shard)).map((group) => group?.length ?? 0);
    expect(Math.max(...sizes)).toBeLessThan(100);
  });

  it('sums the shards of each counter exactly, the newest news naming it', () => {
    const shard = (fields: Record<string, number>, label?: string, labelAt?: string) => ({
      period: '2026-03',
      dimension: 'mill' as const,
      key: 'MILL-7',
      label,
      labelAt,
      fields,
    });
    const rows = sumShards([
      // Written before counters had shards: no label time.
      shard({ backorders: 2, tons: 1.5 }, 'Gulf Coast Steel'),
      shard({ backorders: 3, slips: 4 }, 'Gulf Coast Steel Mill', '2026-03-10T15:00:00.000Z'),
      shard({ backorders: -1, 'value:USD': 250 }, 'Gulf Coast Steel', '2026-03-09T15:00:00.000Z'),
      { ...shard({ backorders: 1 }), key: 'MILL-2' },
    ]);

    expect(rows).toEqual([
      {
        period: '2026-03',
        dimension: 'mill',
        key: 'MILL-7',
        label: 'Gulf Coast Steel Mill',
        fields: { backorders: 4, tons: 1.5, slips: 4, 'value:USD': 250 },
      },
      { period: '2026-03', dimension: 'mill', key: 'MILL-2', label: undefined, fields: { backorders: 1 } },
    ]);
  });
});

function productMillKeyOf(product: string, mill: string): string {
  return `${encodeURIComponent(product)}/${encodeURIComponent(mill)}`;
}

/** Rows summed the way the store's ADD would leave them. */
function sumRows(rows: CounterRow[]): CounterRow[] {
  return sumCounters(
    rows.flatMap((r) => Object.entries(r.fields).map(([field, amount]) => ({ ...r, field, amount }))),
  );
}
