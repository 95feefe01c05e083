import type { MillReliability } from '#domain/insights.ts';

/**
 * Safety-stock suggestions (issue 8): from what each SKU sold per period, the highest-velocity
 * SKUs and, for each, a safety stock by the standard formula that combines demand variability
 * with lead-time variability:
 *
 *     SS = Z × √( LT × σD² + D² × σLT² )
 *
 * D and σD are the mean and sample standard deviation of demand per period; LT and σLT the mean
 * and sample standard deviation of the lead time, converted from days into periods so both terms
 * are in the same unit; Z the standard normal quantile of the service level (95% → 1.645).
 * Lead times come from what was observed: either the SKU's own lead times, or a base lead time
 * plus the observed delays of the mills that supply it (the `millDelay` counters of insights).
 *
 * Every suggestion carries its inputs and the arithmetic, so a planner can check it; where the
 * data is too thin, it says so instead of giving a number.
 */

/** What one SKU sold in one period (`YYYY-MM`, `YYYY-Www` or `YYYY-MM-DD`). */
export interface SkuDemand {
  sku: string;
  period: string;
  quantity: number;
}

/** A mill's observed delay (days from the original ship date to shipping). */
export interface MillDelayStats {
  mill: string;
  label?: string;
  /** How many shipments were observed. */
  observations: number;
  meanDays: number;
  /** Sample standard deviation; null (counted as 0) for a single observation. */
  stdDevDays: number | null;
}

/** Where a SKU's lead time comes from. */
export type LeadTimeSource =
  /** The SKU's own observed lead times, in days. */
  | { kind: 'observed'; days: number[] }
  /** The quoted lead time plus the observed delays of the mills that supply the SKU, pooled. */
  | { kind: 'mills'; baseDays: number; mills: MillDelayStats[] };

/** Demand, lead times and the planner's choices. */
export interface SafetyStockInput {
  demand: SkuDemand[];
  /** Per SKU. A SKU without one is ranked but gets no number. */
  leadTimes: ReadonlyMap<string, LeadTimeSource> | Readonly<Record<string, LeadTimeSource>>;
  /** Default 0.95. */
  serviceLevel?: number;
  /** How many SKUs to suggest for. Default 20. */
  top?: number;
  /**
   * Days in one demand period. Default: inferred from the period keys (`YYYY-MM` is a month of
   * 365.25 / 12 = 30.4375 days, `YYYY-Www` a week of 7, `YYYY-MM-DD` a day).
   */
  periodDays?: number;
  /**
   * The periods demand is measured over. Default: every period present in `demand`. A SKU with
   * no row for a period sold nothing in it (the ERP posts what was sold).
   */
  periods?: string[];
  /** Fewer demand periods than this: no number. Default 3. */
  minDemandPeriods?: number;
  /** Fewer lead-time observations than this: no number. Default 3. */
  minLeadTimeObservations?: number;
}

/** The demand side of the formula, with the series it came from. */
export interface DemandStats {
  periods: number;
  periodDays: number;
  total: number;
  /** D: mean demand per period, the velocity the ranking uses. */
  mean: number;
  /** σD: sample standard deviation per period (null below two periods). */
  stdDev: number | null;
  series: { period: string; quantity: number }[];
}

/** The lead-time side of the formula, in days, with where it came from. */
export interface LeadTimeStats {
  source: LeadTimeSource['kind'] | 'none';
  observations: number;
  /** LT in days (base plus mean delay for mills). */
  meanDays: number | null;
  /** σLT in days. */
  stdDevDays: number | null;
  /** For `mills`: the quoted lead time, the mills pooled, and their mean delay. */
  baseDays?: number;
  meanDelayDays?: number;
  mills?: MillDelayStats[];
}

/** A number with its arithmetic, or why there is none. */
export type SafetyStockResult =
  | {
      kind: 'suggestion';
      /** SS in the SKU's unit, unrounded. */
      safetyStock: number;
      /** Rounded up to a whole unit: the number to enter. */
      suggested: number;
      /** LT and σLT in periods, as they enter the formula. */
      leadTimePeriods: number;
      leadTimeStdDevPeriods: number;
      /** The formula with every number filled in. */
      arithmetic: string;
    }
  | { kind: 'insufficientData'; reasons: string[] };

/** One SKU of the ranking: its inputs next to its suggestion. */
export interface SafetyStockSuggestion {
  /** 1 = the highest velocity. */
  rank: number;
  sku: string;
  /** Mean demand per period. */
  velocity: number;
  demand: DemandStats;
  leadTime: LeadTimeStats;
  serviceLevel: number;
  z: number;
  result: SafetyStockResult;
}

/** The ranking and the settings every suggestion in it used. */
export interface SafetyStockReport {
  serviceLevel: number;
  z: number;
  periodDays: number;
  periods: string[];
  suggestions: SafetyStockSuggestion[];
}

/** The Z of service levels planners use most, rounded as in the usual tables. */
export const SERVICE_LEVEL_Z: Readonly<Record<string, number>> = {
  '0.9': 1.2816,
  '0.95': 1.6449,
  '0.975': 1.96,
  '0.99': 2.3263,
};

/** Out of stock in at most 1 lead time in 20. */
export const DEFAULT_SERVICE_LEVEL = 0.95;
/** The top 20 highest-velocity SKUs. */
export const DEFAULT_TOP = 20;
/** Below three points a sample standard deviation says little; the suggestion says so instead. */
export const DEFAULT_MIN_DEMAND_PERIODS = 3;
/** As for demand: three observed lead times at least. */
export const DEFAULT_MIN_LEAD_TIME_OBSERVATIONS = 3;

/**
 * The standard normal quantile Φ⁻¹(p), by Acklam's rational approximation (relative error below
 * 1.2 × 10⁻⁹, far finer than any demand data).
 * @throws RangeError unless 0 < p < 1.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be strictly between 0 and 1, got ${p}`);
  if (p < ACKLAM_LOW) return tailQuantile(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - ACKLAM_LOW) return -tailQuantile(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (horner(ACKLAM_A, r) * q) / horner(ACKLAM_B, r);
}

// Acklam's coefficients, highest power first; each denominator ends in its constant 1.
const ACKLAM_A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
];
const ACKLAM_B = [
  -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572, 1,
];
const ACKLAM_C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const ACKLAM_D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416, 1];
/** Below this (and above 1 − this) the tails have their own approximation. */
const ACKLAM_LOW = 0.02425;

function tailQuantile(q: number): number {
  return horner(ACKLAM_C, q) / horner(ACKLAM_D, q);
}

/** A polynomial with coefficients highest power first, at x. */
function horner(coefficients: readonly number[], x: number): number {
  return coefficients.reduce((sum, coefficient) => sum * x + coefficient, 0);
}

/**
 * Z for a service level (the chance of not running out during a lead time): 0.95 → 1.645.
 * @throws RangeError unless 0.5 ≤ level < 1 (below 50% a "safety" stock would be negative).
 */
export function zForServiceLevel(level: number): number {
  if (!(level >= 0.5 && level < 1)) throw new RangeError(`serviceLevel must be in [0.5, 1), got ${level}`);
  return normalQuantile(level);
}

/** The days one period spans, read from its key. */
export function periodDaysOf(periods: string[]): number {
  const kinds = new Set(
    periods.map((period) =>
      /^\d{4}-(0[1-9]|1[0-2])$/.test(period)
        ? 365.25 / 12
        : /^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/.test(period)
          ? 7
          : /^\d{4}-\d{2}-\d{2}$/.test(period)
            ? 1
            : Number.NaN,
    ),
  );
  const [days] = kinds;
  if (kinds.size !== 1 || days === undefined || Number.isNaN(days)) {
    throw new RangeError('cannot tell the length of the demand periods from their keys: pass periodDays');
  }
  return days;
}

/** A mill's observed delay from its insights reliability row. */
export function millDelayStats(reliability: MillReliability): MillDelayStats {
  return {
    mill: reliability.mill,
    label: reliability.label,
    observations: reliability.observed.shipped,
    meanDays: reliability.observed.meanDaysLate ?? 0,
    stdDevDays: reliability.observed.stdDevDaysLate,
  };
}

/**
 * Ranks SKUs by velocity (mean demand per period, highest first; ties by SKU) and suggests a
 * safety stock for the top ones. O(rows + SKUs × periods).
 * @throws RangeError for a non-finite quantity or lead time, a bad service level, `top` or `periodDays`.
 */
export function suggestSafetyStock(input: SafetyStockInput): SafetyStockReport {
  const serviceLevel = input.serviceLevel ?? DEFAULT_SERVICE_LEVEL;
  const z = zForServiceLevel(serviceLevel);
  const top = input.top ?? DEFAULT_TOP;
  if (!Number.isInteger(top) || top < 1) throw new RangeError(`top must be a positive integer, got ${top}`);
  const minPeriods = input.minDemandPeriods ?? DEFAULT_MIN_DEMAND_PERIODS;
  const minLeadTimes = input.minLeadTimeObservations ?? DEFAULT_MIN_LEAD_TIME_OBSERVATIONS;

  const periods = input.periods
    ? [...new Set(input.periods)].sort()
    : [...new Set(input.demand.map((row) => row.period))].sort();
  const periodDays = input.periodDays ?? (periods.length > 0 ? periodDaysOf(periods) : 1);
  if (!(periodDays > 0) || !Number.isFinite(periodDays))
    throw new RangeError(`periodDays must be positive, got ${periodDays}`);

  // Demand per SKU per period of the window; rows for the same SKU and period add up.
  const index = new Map(periods.map((period, i) => [period, i]));
  const bySku = new Map<string, number[]>();
  for (const row of input.demand) {
    if (!Number.isFinite(row.quantity))
      throw new RangeError(`demand for ${row.sku} in ${row.period} is not a number`);
    const i = index.get(row.period);
    if (i === undefined) continue; // outside the window the caller chose
    let series = bySku.get(row.sku);
    if (!series) {
      series = new Array<number>(periods.length).fill(0);
      bySku.set(row.sku, series);
    }
    series[i] = (series[i] ?? 0) + row.quantity;
  }

  const ranked = [...bySku]
    .map(([sku, series]) => ({ sku, series, total: series.reduce((sum, quantity) => sum + quantity, 0) }))
    .filter((entry) => entry.total > 0)
    .sort((a, b) => b.total - a.total || (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))
    .slice(0, top);

  const suggestions = ranked.map(({ sku, series, total }, i): SafetyStockSuggestion => {
    const stats = meanAndStdDev(series);
    const demand: DemandStats = {
      periods: series.length,
      periodDays,
      total,
      mean: stats.mean,
      stdDev: stats.stdDev,
      series: periods.map((period, j) => ({ period, quantity: series[j] ?? 0 })),
    };
    const leadTime = leadTimeOf(lookup(input.leadTimes, sku));
    return {
      rank: i + 1,
      sku,
      velocity: stats.mean,
      demand,
      leadTime,
      serviceLevel,
      z,
      result: resultOf(demand, leadTime, z, minPeriods, minLeadTimes),
    };
  });
  return { serviceLevel, z, periodDays, periods, suggestions };
}

function resultOf(
  demand: DemandStats,
  leadTime: LeadTimeStats,
  z: number,
  minPeriods: number,
  minLeadTimes: number,
): SafetyStockResult {
  const reasons: string[] = [];
  if (demand.periods < minPeriods) {
    reasons.push(
      `only ${demand.periods} period${demand.periods === 1 ? '' : 's'} of demand; at least ${minPeriods} are needed`,
    );
  }
  if (leadTime.source === 'none') reasons.push('no lead-time data for this SKU or its mills');
  else if (leadTime.observations < minLeadTimes) {
    reasons.push(
      `only ${leadTime.observations} observed lead time${leadTime.observations === 1 ? '' : 's'}; at least ${minLeadTimes} are needed`,
    );
  }
  const { stdDev } = demand;
  const { meanDays, stdDevDays } = leadTime;
  if (reasons.length > 0 || stdDev === null || meanDays === null || stdDevDays === null) {
    return {
      kind: 'insufficientData',
      reasons: reasons.length > 0 ? reasons : ['not enough data for a spread'],
    };
  }
  // Both terms in periods: demand is per period, so the lead time must be too.
  const lt = Math.max(0, meanDays) / demand.periodDays;
  const sigmaLt = stdDevDays / demand.periodDays;
  const d = demand.mean;
  const safetyStock = z * Math.sqrt(lt * stdDev * stdDev + d * d * sigmaLt * sigmaLt);
  const n = (value: number) => String(Math.round(value * 10_000) / 10_000);
  return {
    kind: 'suggestion',
    safetyStock,
    suggested: Math.ceil(safetyStock - 1e-9),
    leadTimePeriods: lt,
    leadTimeStdDevPeriods: sigmaLt,
    arithmetic: `SS = Z × √(LT × σD² + D² × σLT²) = ${n(z)} × √(${n(lt)} × ${n(stdDev)}² + ${n(d)}² × ${n(sigmaLt)}²) = ${n(safetyStock)}`,
  };
}

function leadTimeOf(source: LeadTimeSource | undefined): LeadTimeStats {
  if (source === undefined) return { source: 'none', observations: 0, meanDays: null, stdDevDays: null };
  if (source.kind === 'observed') {
    for (const days of source.days) {
      if (!Number.isFinite(days)) throw new RangeError('observed lead times must be numbers of days');
    }
    const stats = meanAndStdDev(source.days);
    return {
      source: 'observed',
      observations: source.days.length,
      meanDays: source.days.length > 0 ? stats.mean : null,
      stdDevDays: stats.stdDev,
    };
  }
  // Pool the mills as one sample: N = Σn, mean = Σnμ / N, and the sum of squares is each mill's
  // own ((n − 1)s²) plus its distance from the pooled mean (n(μ − mean)²).
  const mills = source.mills.filter((mill) => mill.observations > 0);
  const count = mills.reduce((sum, mill) => sum + mill.observations, 0);
  const meanDelay =
    count > 0 ? mills.reduce((sum, mill) => sum + mill.observations * mill.meanDays, 0) / count : 0;
  const squares = mills.reduce(
    (sum, mill) =>
      sum +
      (mill.observations - 1) * (mill.stdDevDays ?? 0) ** 2 +
      mill.observations * (mill.meanDays - meanDelay) ** 2,
    0,
  );
  return {
    source: 'mills',
    observations: count,
    meanDays: count > 0 ? source.baseDays + meanDelay : null,
    stdDevDays: count >= 2 ? Math.sqrt(squares / (count - 1)) : null,
    baseDays: source.baseDays,
    meanDelayDays: meanDelay,
    mills: source.mills,
  };
}

/** Mean and sample standard deviation (n − 1); the spread is null below two values. */
function meanAndStdDev(values: number[]): { mean: number; stdDev: number | null } {
  const n = values.length;
  if (n === 0) return { mean: 0, stdDev: null };
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  if (n < 2) return { mean, stdDev: null };
  // Two passes: the textbook Σx² − (Σx)²/n loses precision for large quantities with a small spread.
  const squares = values.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return { mean, stdDev: Math.sqrt(squares / (n - 1)) };
}

function lookup(
  table: ReadonlyMap<string, LeadTimeSource> | Readonly<Record<string, LeadTimeSource>>,
  sku: string,
): LeadTimeSource | undefined {
  if (isMap(table)) return table.get(sku);
  // Own keys only: a SKU named `constructor` must not find Object.prototype's.
  return Object.hasOwn(table, sku) ? table[sku] : undefined;
}

function isMap<K, V>(value: ReadonlyMap<K, V> | object): value is ReadonlyMap<K, V> {
  return value instanceof Map;
}
