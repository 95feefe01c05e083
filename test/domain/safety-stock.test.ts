import { describe, expect, it } from 'vitest';
import { insightsFrom, sumCounters } from '#domain/insights.ts';
import {
  millDelayStats,
  normalQuantile,
  periodDaysOf,
  SERVICE_LEVEL_Z,
  type SkuDemand,
  suggestSafetyStock,
  zForServiceLevel,
} from '#domain/safety-stock.ts';

/** Rows for one SKU, one per period, in order. */
const demandOf = (sku: string, periods: string[], quantities: number[]): SkuDemand[] =>
  quantities.map((quantity, i) => ({ sku, period: periods[i] ?? '', quantity }));

const WEEKS = ['2026-W01', '2026-W02', '2026-W03', '2026-W04'];
const Z95 = 1.6448536269514722;

describe('the service-level factor', () => {
  it('is the standard normal quantile: 95% → 1.645, and the usual table values', () => {
    expect(zForServiceLevel(0.95)).toBeCloseTo(1.645, 3);
    expect(zForServiceLevel(0.95)).toBeCloseTo(Z95, 8);
    for (const [level, z] of Object.entries(SERVICE_LEVEL_Z))
      expect(zForServiceLevel(Number(level))).toBeCloseTo(z, 4);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    // The tails use their own branch: Φ⁻¹(0.001) = −3.0902, Φ⁻¹(0.999) = 3.0902.
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232, 5);
  });

  it('refuses levels that make no safety stock', () => {
    expect(() => zForServiceLevel(1)).toThrow(RangeError);
    expect(() => zForServiceLevel(0.4)).toThrow(RangeError);
    expect(() => normalQuantile(0)).toThrow(RangeError);
  });
});

describe('a safety-stock suggestion', () => {
  it('combines demand and lead-time variability, by hand: weekly demand and observed lead times', () => {
    // Prepare
    // Demand 90, 110, 100, 100 a week: D = 400 / 4 = 100; deviations −10, 10, 0, 0; Σ² = 200;
    //   σD² = 200 / (4 − 1) = 66.667.
    // Lead times 14, 21, 28 days: 21 days = 3 weeks; deviations −7, 0, 7; Σ² = 98; σ² = 98 / 2 = 49;
    //   σLT = 7 days = 1 week.
    // SS = 1.64485 × √(3 × 66.667 + 100² × 1²) = 1.64485 × √(200 + 10,000) = 1.64485 × 100.995 = 166.122.
    const demand = demandOf('HRC-0188-48', WEEKS, [90, 110, 100, 100]);
    const leadTimes = { 'HRC-0188-48': { kind: 'observed' as const, days: [14, 21, 28] } };

    // Act
    const report = suggestSafetyStock({ demand, leadTimes });

    // Assess
    const [suggestion] = report.suggestions;
    expect(report).toMatchObject({ serviceLevel: 0.95, periodDays: 7, periods: WEEKS });
    expect(suggestion).toMatchObject({
      rank: 1,
      sku: 'HRC-0188-48',
      velocity: 100,
      demand: { periods: 4, periodDays: 7, total: 400, mean: 100 },
      leadTime: { source: 'observed', observations: 3, meanDays: 21, stdDevDays: 7 },
    });
    expect(suggestion?.demand.stdDev).toBeCloseTo(Math.sqrt(200 / 3), 12);
    const result = suggestion?.result;
    if (result?.kind !== 'suggestion') throw new Error('expected a number');
    expect(result.leadTimePeriods).toBe(3);
    expect(result.leadTimeStdDevPeriods).toBe(1);
    expect(result.safetyStock).toBeCloseTo(Z95 * Math.sqrt(10_200), 6);
    expect(result.safetyStock).toBeCloseTo(166.122, 3);
    expect(result.suggested).toBe(167);
    expect(result.arithmetic).toBe(
      'SS = Z × √(LT × σD² + D² × σLT²) = 1.6449 × √(3 × 8.165² + 100² × 1²) = 166.1221',
    );
  });

  it("takes the lead-time spread from the supplying mills' observed delays, pooled, on top of the quoted lead time", () => {
    // Prepare
    // Steady demand of 5 a day (σD = 0), so only lead-time variability counts.
    // Mill A shipped 1 and 3 days late (n 2, mean 2, s √2); mill B 5 and 7 (n 2, mean 6, s √2).
    // Pooled as one sample 1, 3, 5, 7: mean 4; Σ² = (1)(2) + (1)(2) + 2(2 − 4)² + 2(6 − 4)² = 20; σ² = 20 / 3.
    // LT = 10 quoted + 4 = 14 days. SS = 1.64485 × √(14 × 0 + 5² × 20/3) = 1.64485 × 12.910 = 21.235.
    const days = ['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05'];
    const demand = demandOf('PL-0375', days, [5, 5, 5, 5]);
    const mills = [
      { mill: 'MILL-A', observations: 2, meanDays: 2, stdDevDays: Math.SQRT2 },
      { mill: 'MILL-B', observations: 2, meanDays: 6, stdDevDays: Math.SQRT2 },
    ];

    // Act
    const report = suggestSafetyStock({
      demand,
      leadTimes: new Map([['PL-0375', { kind: 'mills' as const, baseDays: 10, mills }]]),
    });

    // Assess
    const [suggestion] = report.suggestions;
    expect(report.periodDays).toBe(1);
    expect(suggestion?.leadTime).toMatchObject({
      source: 'mills',
      observations: 4,
      meanDays: 14,
      baseDays: 10,
      meanDelayDays: 4,
      mills,
    });
    expect(suggestion?.leadTime.stdDevDays).toBeCloseTo(Math.sqrt(20 / 3), 12);
    const result = suggestion?.result;
    if (result?.kind !== 'suggestion') throw new Error('expected a number');
    expect(result.safetyStock).toBeCloseTo(Z95 * Math.sqrt(25 * (20 / 3)), 6);
    expect(result.safetyStock).toBeCloseTo(21.235, 3);
    expect(result.suggested).toBe(22);
  });

  it('reads the mills from the insights counters, so the delays are the ones observed at shipping', () => {
    // Prepare: the mill shipped 1, 3, 5 and 7 days late (Σ 16, Σ² 84): mean 4, σ² = (84 − 16²/4) / 3 = 20/3.
    const rows = sumCounters(
      Object.entries({ shipped: 4, delayDays: 16, delayDaysSquared: 84 }).map(([field, amount]) => ({
        period: '2026-03',
        dimension: 'millDelay' as const,
        key: 'MILL-A',
        field,
        amount,
        label: 'Gulf Coast',
      })),
    );
    const [reliability] = insightsFrom(rows, { from: '2026-03', to: '2026-03' }).millReliability;
    if (!reliability) throw new Error('no mill');

    // Act
    const stats = millDelayStats(reliability);
    const report = suggestSafetyStock({
      demand: demandOf('PL-0375', ['2026-03-02', '2026-03-03', '2026-03-04'], [5, 5, 5]),
      leadTimes: { 'PL-0375': { kind: 'mills', baseDays: 10, mills: [stats] } },
    });

    // Assess: the same 21.235 as pooling the two mills by hand above.
    expect(stats).toMatchObject({ mill: 'MILL-A', label: 'Gulf Coast', observations: 4, meanDays: 4 });
    const result = report.suggestions[0]?.result;
    if (result?.kind !== 'suggestion') throw new Error('expected a number');
    expect(result.safetyStock).toBeCloseTo(Z95 * Math.sqrt(25 * (20 / 3)), 6);
  });

  it('converts monthly demand with months of 30.4375 days, and counts a month without sales as zero', () => {
    // Prepare: 30, 0 (no row), 60 tons a month: D = 30; deviations 0, −30, 30; σD² = 1800 / 2 = 900.
    // Lead times 30.4375 × (1, 2, 3) days = 1, 2, 3 months: LT = 2, σLT = 1.
    // SS at 99% = 2.32635 × √(2 × 900 + 30² × 1) = 2.32635 × √2700 = 2.32635 × 51.962 = 120.880.
    const month = 365.25 / 12;
    const demand = [
      { sku: 'REBAR-5', period: '2026-01', quantity: 30 },
      { sku: 'REBAR-5', period: '2026-03', quantity: 60 },
      { sku: 'OTHER', period: '2026-02', quantity: 1 },
    ];

    // Act
    const report = suggestSafetyStock({
      demand,
      leadTimes: { 'REBAR-5': { kind: 'observed', days: [month, 2 * month, 3 * month] } },
      serviceLevel: 0.99,
    });

    // Assess
    const suggestion = report.suggestions.find((candidate) => candidate.sku === 'REBAR-5');
    expect(report.periodDays).toBe(30.4375);
    expect(suggestion?.demand.series).toEqual([
      { period: '2026-01', quantity: 30 },
      { period: '2026-02', quantity: 0 },
      { period: '2026-03', quantity: 60 },
    ]);
    const result = suggestion?.result;
    if (result?.kind !== 'suggestion') throw new Error('expected a number');
    expect(result.leadTimePeriods).toBeCloseTo(2, 12);
    expect(result.leadTimeStdDevPeriods).toBeCloseTo(1, 12);
    expect(result.safetyStock).toBeCloseTo(2.3263478740408408 * Math.sqrt(2700), 6);
    expect(result.safetyStock).toBeCloseTo(120.88, 2);
  });

  it('says what is missing instead of giving a number when the data is thin', () => {
    // Prepare: two weeks of demand; one SKU with two lead times, one with none.
    const demand = [
      ...demandOf('A', WEEKS.slice(0, 2), [10, 12]),
      ...demandOf('B', WEEKS.slice(0, 2), [5, 6]),
    ];

    // Act
    const report = suggestSafetyStock({ demand, leadTimes: { A: { kind: 'observed', days: [10, 12] } } });

    // Assess
    expect(report.suggestions.map((s) => [s.sku, s.result])).toEqual([
      [
        'A',
        {
          kind: 'insufficientData',
          reasons: [
            'only 2 periods of demand; at least 3 are needed',
            'only 2 observed lead times; at least 3 are needed',
          ],
        },
      ],
      [
        'B',
        {
          kind: 'insufficientData',
          reasons: [
            'only 2 periods of demand; at least 3 are needed',
            'no lead-time data for this SKU or its mills',
          ],
        },
      ],
    ]);
  });
});

describe('the velocity ranking', () => {
  it('suggests for the 20 highest-velocity SKUs, fastest first, ties by SKU', () => {
    // Prepare: SKU-01 … SKU-25 selling 1 … 25 a week; SKU-00 and SKU-99 both 25; a SKU that sold nothing.
    const skus = Array.from({ length: 25 }, (_, i) => ({
      sku: `SKU-${String(i + 1).padStart(2, '0')}`,
      rate: i + 1,
    }));
    const demand = [
      ...skus.flatMap(({ sku, rate }) => demandOf(sku, WEEKS, [rate, rate, rate, rate])),
      ...demandOf('SKU-99', WEEKS, [25, 25, 25, 25]),
      ...demandOf('SKU-00', WEEKS, [25, 25, 25, 25]),
      ...demandOf('DEAD', WEEKS, [0, 0, 0, 0]),
    ];

    // Act
    const report = suggestSafetyStock({ demand, leadTimes: {} });

    // Assess
    expect(report.suggestions).toHaveLength(20);
    expect(report.suggestions.slice(0, 4).map((s) => [s.rank, s.sku, s.velocity])).toEqual([
      [1, 'SKU-00', 25],
      [2, 'SKU-25', 25],
      [3, 'SKU-99', 25],
      [4, 'SKU-24', 24],
    ]);
    expect(report.suggestions.at(-1)?.sku).toBe('SKU-08');
  });

  it('adds up rows for the same SKU and period, and takes the top N asked for', () => {
    // Prepare: two branches report SKU A for the same weeks.
    const demand = [
      ...demandOf('A', WEEKS, [1, 1, 1, 1]),
      ...demandOf('A', WEEKS, [2, 2, 2, 2]),
      ...demandOf('B', WEEKS, [2, 2, 2, 2]),
    ];

    // Act
    const report = suggestSafetyStock({ demand, leadTimes: {}, top: 1 });

    // Assess
    expect(report.suggestions.map((s) => [s.sku, s.velocity])).toEqual([['A', 3]]);
  });

  it('needs to be told the period length when the keys do not say it', () => {
    expect(periodDaysOf(['2026-03', '2026-04'])).toBe(30.4375);
    expect(periodDaysOf(['2026-W09'])).toBe(7);
    expect(() => periodDaysOf(['2026-03', '2026-W09'])).toThrow(RangeError);
    expect(() =>
      suggestSafetyStock({ demand: [{ sku: 'A', period: 'Q1', quantity: 1 }], leadTimes: {} }),
    ).toThrow(RangeError);
    expect(
      suggestSafetyStock({ demand: [{ sku: 'A', period: 'Q1', quantity: 1 }], leadTimes: {}, periodDays: 91 })
        .periodDays,
    ).toBe(91);
  });
});
