import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closing, delayed, demand } from '#test/support/erp-events.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';

/*
 * Safety stock on the local system: the ERP posts what SKUs sold (`sku.demand`, signed and
 * idempotent like backorder events); MILL-7's observed delays come from backorders that shipped
 * late; an operator reads the suggestion with its inputs over the API.
 */

// Monday 2026-03-16, 09:00 in Chicago.
const START = '2026-03-16T14:00:00Z';
const SKU = 'HRC-0188-48';
let system: TestSystem;

interface Suggestion {
  rank: number;
  sku: string;
  velocity: number;
  unit: string;
  supplierIds: string[];
  baseLeadTimeDays: number;
  demand: { mean: number; stdDev: number; series: { period: string; quantity: number }[] };
  leadTime: { source: string; observations: number; meanDays: number; stdDevDays: number };
  result: { kind: string; safetyStock: number; suggested: number; arithmetic: string };
}

beforeAll(async () => {
  system = await startTestSystem(START);
  // MILL-7 was due to ship three lines on 2 March and shipped them 3, 7 and 11 days late.
  const shipped = ['2026-03-05T10:00:00-06:00', '2026-03-09T10:00:00-05:00', '2026-03-13T10:00:00-05:00'];
  for (const [index, at] of shipped.entries()) {
    const key = { orderId: `SO-${700 + index}`, lineId: '1' };
    const opened = await system.post(
      delayed('2026-03-01T08:00:00-06:00', '2026-03-16', { ...key, originalShipDate: '2026-03-02' }),
    );
    expect(opened.status).toBe(202);
    expect((await system.post(closing('backorder.shipped', at, key))).status).toBe(202);
  }
  await system.advance('PT5M');
}, 180_000);

afterAll(async () => {
  await system?.stop();
});

const monthly = (period: string, quantity: number, occurredAt = '2026-03-10T09:00:00-05:00') =>
  demand(occurredAt, {
    sku: SKU,
    period,
    quantity,
    supplierIds: ['MILL-7'],
    baseLeadTimeDays: 30,
  });

describe('sku.demand events', () => {
  it('records what a SKU sold in a period', async () => {
    const { status, body } = await system.post(monthly('2025-12', 100));

    expect(status).toBe(202);
    expect(body).toEqual({ sku: SKU, result: 'recorded' });
  });

  it('applies a duplicate delivery once, answering it as the first time even after a newer report', async () => {
    const first = await system.post(monthly('2026-02', 999, '2026-03-10T09:00:00-05:00'), {
      id: 'msg_demand_feb',
    });
    expect(first).toEqual({ status: 202, body: { sku: SKU, result: 'recorded' } });
    const newer = await system.post(monthly('2026-02', 80, '2026-03-11T09:00:00-05:00'));
    expect(newer.body).toEqual({ sku: SKU, result: 'recorded' });

    const again = await system.post(monthly('2026-02', 999, '2026-03-10T09:00:00-05:00'), {
      id: 'msg_demand_feb',
    });

    expect(again).toEqual({ status: 202, body: { sku: SKU, result: 'recorded' } });
    const { body } = await system.get('/v1/safety-stock');
    const [suggestion] = body.suggestions as Suggestion[];
    expect(suggestion?.demand.series).toContainEqual({ period: '2026-02', quantity: 80 });
  });

  it('answers stale for a report older than the one on record for that period, and keeps the newer', async () => {
    expect((await system.post(monthly('2026-01', 120, '2026-03-12T09:00:00-05:00'))).body).toEqual({
      sku: SKU,
      result: 'recorded',
    });

    const older = await system.post(monthly('2026-01', 5, '2026-03-02T09:00:00-06:00'));

    expect(older).toEqual({ status: 202, body: { sku: SKU, result: 'stale' } });
    const { body } = await system.get('/v1/safety-stock');
    const [suggestion] = body.suggestions as Suggestion[];
    expect(suggestion?.demand.series).toContainEqual({ period: '2026-01', quantity: 120 });
  });

  it('refuses a negative quantity or a period that is not a month or an ISO week', async () => {
    expect(
      (await system.post(demand('2026-03-10T09:00:00-05:00', { sku: SKU, period: '2026-02', quantity: -1 })))
        .status,
    ).toBe(400);
    expect(
      (await system.post(demand('2026-03-10T09:00:00-05:00', { sku: SKU, period: '2026-13', quantity: 1 })))
        .status,
    ).toBe(400);
    expect(
      (await system.post(demand('2026-03-10T09:00:00-05:00', { sku: SKU, period: '2025-W53', quantity: 1 })))
        .status,
    ).toBe(400);
  });
});

describe('GET /v1/safety-stock', () => {
  it('suggests a safety stock from the SKU’s demand and its mill’s observed delays, showing the inputs', async () => {
    // A second SKU selling less ranks below; one without mills is ranked but gets no number.
    for (const [period, quantity] of [
      ['2025-12', 10],
      ['2026-01', 12],
      ['2026-02', 8],
    ] as const) {
      await system.post(demand('2026-03-10T09:00:00-05:00', { sku: 'PLATE-0250', period, quantity }));
    }

    const { status, body } = await system.get('/v1/safety-stock?serviceLevel=0.95&top=20');

    expect(status).toBe(200);
    expect(body.serviceLevel).toBe(0.95);
    expect(body.periods).toEqual(['2025-12', '2026-01', '2026-02']);
    const [first, second] = body.suggestions as Suggestion[];
    // Demand 100, 120, 80: D = 100, σD = 20 per month. Delays 3, 7, 11 days: mean 7, σ 4.
    // LT = 30 quoted + 7 = 37 days = 37 / 30.4375 = 1.21561 months; σLT = 4 / 30.4375 = 0.13142.
    // SS = 1.64485 × √(1.21561 × 20² + 100² × 0.13142²) = 1.64485 × √(486.24 + 172.70) = 42.223.
    expect(first).toMatchObject({
      rank: 1,
      sku: SKU,
      velocity: 100,
      unit: 'ton',
      supplierIds: ['MILL-7'],
      baseLeadTimeDays: 30,
      demand: { mean: 100, stdDev: 20 },
      leadTime: { source: 'mills', observations: 3, meanDays: 37, stdDevDays: 4 },
      result: { kind: 'suggestion', suggested: 43 },
    });
    expect(first?.result.safetyStock).toBeCloseTo(42.2233, 3);
    expect(first?.result.arithmetic).toContain('1.6449 × √(1.2156 × 20² + 100² × 0.1314²)');
    expect(second).toMatchObject({
      rank: 2,
      sku: 'PLATE-0250',
      leadTime: { source: 'none' },
      result: { kind: 'insufficientData' },
    });
  });

  it('honours top and a higher service level', async () => {
    const { body } = await system.get('/v1/safety-stock?serviceLevel=0.99&top=1');

    const suggestions = body.suggestions as Suggestion[];
    expect(suggestions.map((suggestion) => suggestion.sku)).toEqual([SKU]);
    expect(suggestions[0]?.result.suggested).toBe(60); // 2.32635 × 25.6699 = 59.72
  });

  it('needs an operator', async () => {
    expect((await system.get('/v1/safety-stock', null)).status).toBe(401);
  });

  it('refuses a service level outside [0.5, 1), a non-number or a bad top', async () => {
    for (const query of [
      'serviceLevel=1.5',
      'serviceLevel=abc',
      'serviceLevel=0.3',
      'serviceLevel=',
      'top=0',
    ]) {
      const { status, body } = await system.get(`/v1/safety-stock?${query}`);
      expect(status, query).toBe(400);
      expect(body.error).toBe('invalid_query');
    }
  });
});
