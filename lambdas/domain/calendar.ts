/**
 * The business calendar: when the organisation is open, and how many business hours lie
 * between two instants. Every deadline the system promises ("within 4 business hours") is
 * computed here, so the rules are exact rather than approximate:
 *
 * - A business day is a working weekday of the zone that is neither a public holiday of the
 *   configured region nor an extra company closure. Holidays are whole calendar days, given as
 *   dates: the build lists a region's public holidays for a window of years (lib/holidays.ts), so
 *   no holiday library ships in a Lambda, and a day outside that window is refused, not guessed.
 * - On a business day `D` the business period is `[S, E)`, where `S` is the first instant whose
 *   wall clock in the zone reads at least `D start` and `E` the first instant whose wall clock
 *   reads at least `D end` (`24:00` is the next midnight). A wall time skipped by a DST jump
 *   therefore maps to the instant of the jump, and a repeated one to its first occurrence.
 * - Business hours are real elapsed time inside those periods. Shifts at night leave 08:00–17:00
 *   at 9 hours; a shift inside the opening hours lengthens or shortens that day's period.
 */

/** A calendar date as `YYYY-MM-DD`. */
export type IsoDate = string;

/** A region's public holidays as dates, complete for the years `firstYear`–`lastYear`. */
export interface PublicHolidays {
  firstYear: number;
  lastYear: number;
  /** Every public holiday observed in those years, each dated in one of them. */
  dates: IsoDate[];
}

/** How an organisation's business calendar is configured. */
export interface CalendarSpec {
  /** IANA time zone the working hours and dates are read in, e.g. `America/Chicago`. */
  timeZone: string;
  /** ISO weekdays that are worked: 1 = Monday … 7 = Sunday. */
  workingDays: number[];
  /** Opening hours as local `HH:MM`, `start` before `end`; `end` may be `24:00`. */
  hours: { start: string; end: string };
  /**
   * The region's public holidays. Asked about a day outside their years, the calendar throws.
   * @default none: only `extraHolidays` are closed, for every year
   */
  publicHolidays?: PublicHolidays;
  /** Company closures on top of the public holidays. */
  extraHolidays?: IsoDate[];
}

interface Period {
  readonly start: number;
  readonly end: number;
}

const MS_PER_SECOND = 1_000;
const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;
/** Wider than any UTC offset plus any DST jump, so a bracket this wide always contains a transition. */
const OFFSET_BRACKET_MS = 26 * MS_PER_HOUR;
/**
 * How far a search may walk. Without a cap a calendar whose every day is a closure would loop
 * for ever; five years is far beyond any deadline this system computes.
 */
const MAX_SEARCH_DAYS = 366 * 5;
/** Per-day periods are cheap to recompute; the cap only keeps long-lived Lambdas from growing. */
const PERIOD_CACHE_LIMIT = 20_000;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CLOCK_TIME = /^(\d{2}):(\d{2})$/;

/** Days since 1970-01-01; `setUTCFullYear` because `Date.UTC` maps years 0–99 to 1900–1999. */
function dayNumber(year: number, month: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return Math.floor(date.getTime() / MS_PER_DAY);
}

function isoOf(day: number): IsoDate {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

function yearOf(day: number): number {
  return new Date(day * MS_PER_DAY).getUTCFullYear();
}

/** ISO weekday, 1 = Monday … 7 = Sunday; 1970-01-01 (day 0) was a Thursday. */
function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

function parseIsoDate(date: IsoDate): number {
  const match = typeof date === 'string' ? ISO_DATE.exec(date) : null;
  if (match !== null) {
    const day = dayNumber(Number(match[1]), Number(match[2]), Number(match[3]));
    // Round-tripping rejects dates such as 2026-02-30 that Date would silently roll over.
    if (isoOf(day) === date) return day;
  }
  throw new RangeError(`Expected a calendar date as YYYY-MM-DD, got ${JSON.stringify(date)}`);
}

function parseClockTime(value: string, allowMidnightEnd: boolean): number {
  const match = typeof value === 'string' ? CLOCK_TIME.exec(value) : null;
  if (match !== null) {
    const hour = Number(match[1]);
    const minute = Number(match[2]);
    if (hour <= 23 && minute <= 59) return hour * 60 + minute;
    if (allowMidnightEnd && hour === 24 && minute === 0) return 24 * 60;
  }
  throw new Error(`Business hours must be HH:MM (end may be 24:00), got ${JSON.stringify(value)}`);
}

function parseHolidayYears(holidays: PublicHolidays): { first: number; last: number } {
  const { firstYear, lastYear } = holidays;
  if (!Number.isInteger(firstYear) || !Number.isInteger(lastYear) || firstYear > lastYear) {
    throw new RangeError(
      `Public holiday years must be whole years, first <= last, got ${JSON.stringify(firstYear)}–${JSON.stringify(lastYear)}`,
    );
  }
  return { first: firstYear, last: lastYear };
}

function millisOf(instant: Date, name: string): number {
  const ms = instant instanceof Date ? instant.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new RangeError(`${name} must be a valid Date`);
  return ms;
}

function ceilToSecond(ms: number): number {
  return Math.ceil(ms / MS_PER_SECOND) * MS_PER_SECOND;
}

function createFormatter(timeZone: string): Intl.DateTimeFormat {
  if (typeof timeZone !== 'string' || timeZone === '') {
    throw new Error(`Unknown time zone ${JSON.stringify(timeZone)}`);
  }
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch (error) {
    throw new Error(`Unknown time zone ${JSON.stringify(timeZone)}`, { cause: error });
  }
}

/**
 * Business days and hours in one time zone. Instances are immutable from the outside and cache
 * per-day periods, so build one per organisation and reuse it. Every method that looks at a day
 * (or the day after, for a fall back across midnight) throws a RangeError when that day lies
 * outside the years the public holidays are known for.
 */
export class BusinessCalendar {
  /** The IANA time zone, as given in the spec. */
  readonly timeZone: string;

  readonly #formatter: Intl.DateTimeFormat;
  readonly #workingDays: ReadonlySet<number>;
  readonly #startMinute: number;
  readonly #endMinute: number;
  readonly #publicHolidays: ReadonlySet<number>;
  /** The years `#publicHolidays` is complete for; undefined when no region is configured. */
  readonly #holidayYears: { readonly first: number; readonly last: number } | undefined;
  readonly #extraHolidays: ReadonlySet<number>;
  readonly #periods = new Map<number, Period | null>();

  /**
   * @throws Error for an unknown time zone, bad or empty working days, malformed hours or
   *   `start >= end`, a malformed holiday, or a public holiday outside its stated years.
   */
  constructor(spec: CalendarSpec) {
    this.#formatter = createFormatter(spec.timeZone);
    this.timeZone = spec.timeZone;

    const days = spec.workingDays;
    if (!Array.isArray(days) || days.length === 0) {
      throw new Error('workingDays must list at least one ISO weekday (1 = Monday … 7 = Sunday)');
    }
    for (const day of days) {
      if (!Number.isInteger(day) || day < 1 || day > 7) {
        throw new Error(`workingDays must be ISO weekdays 1–7, got ${JSON.stringify(day)}`);
      }
    }
    this.#workingDays = new Set(days);

    this.#startMinute = parseClockTime(spec.hours?.start, false);
    this.#endMinute = parseClockTime(spec.hours?.end, true);
    if (this.#startMinute >= this.#endMinute) {
      throw new Error(`Business hours must start before they end, got ${spec.hours.start}–${spec.hours.end}`);
    }

    const region = spec.publicHolidays;
    this.#holidayYears = region === undefined ? undefined : parseHolidayYears(region);
    this.#publicHolidays = new Set((region?.dates ?? []).map(parseIsoDate));
    for (const day of this.#publicHolidays) this.#assertHolidaysKnown(day);
    this.#extraHolidays = new Set((spec.extraHolidays ?? []).map(parseIsoDate));
  }

  /** The calendar date `instant` falls on in this zone. */
  localDate(instant: Date): IsoDate {
    return isoOf(this.#localDay(millisOf(instant, 'instant')));
  }

  /**
   * Whether `date` is a public holiday of the region or an extra company closure.
   * @throws RangeError when the region's holidays are not known for the year of `date`.
   */
  isHoliday(date: IsoDate): boolean {
    return this.#isHolidayDay(parseIsoDate(date));
  }

  /** Whether `date` is a working weekday and not a holiday. */
  isBusinessDay(date: IsoDate): boolean {
    return this.#isBusinessDayNumber(parseIsoDate(date));
  }

  /** Whether `instant` lies inside `[start, end)` of a business day: a period's end is not business time. */
  isBusinessTime(instant: Date): boolean {
    const t = millisOf(instant, 'instant');
    const day = this.#localDay(t);
    // The day before's period ends by this day's first midnight, at or before t. The next day's
    // period can already have begun when a fall back crossed midnight (St. John's until 2011).
    for (const candidate of [day, day + 1]) {
      const period = this.#period(candidate);
      if (period !== null && period.end > t) return period.start <= t;
    }
    return false;
  }

  /**
   * `instant` itself (a copy) when it is business time, else the start of the next business period.
   * @throws Error when no business time follows within five years (366 × 5 days).
   */
  nextBusinessStart(instant: Date): Date {
    return new Date(this.#nextStart(millisOf(instant, 'instant')));
  }

  /**
   * The deadline `hours` business hours after `instant`: the earliest instant `t` with
   * `businessHoursBetween(instant, t) >= hours`. `hours` is resolved to the millisecond, and the
   * result is rounded up to a whole second because Step Functions timestamps drop milliseconds.
   *
   * Period ends: when the hours run out exactly at a period's end, the result is that end
   * (Friday 16:00 + 1 h = Friday 17:00, not Monday 08:00), because that is when the time is up.
   * For `hours = 0` there is nothing to consume, so the result is the first business instant at
   * or after `instant`, i.e. {@link nextBusinessStart} rounded up to a whole second.
   *
   * @throws RangeError when `hours` is negative or not finite.
   * @throws Error when the result lies more than five years (366 × 5 days) ahead.
   */
  addBusinessHours(instant: Date, hours: number): Date {
    const t = millisOf(instant, 'instant');
    if (!Number.isFinite(hours) || hours < 0) {
      throw new RangeError(`hours must be a finite number >= 0, got ${hours}`);
    }
    let remaining = Math.round(hours * MS_PER_HOUR);
    if (remaining === 0) {
      const start = ceilToSecond(this.#nextStart(t));
      // Rounding up can push a start one second before a period's end onto the end itself.
      return new Date(this.#isBusinessMs(start) ? start : ceilToSecond(this.#nextStart(start)));
    }
    for (const period of this.#periodsFrom(t)) {
      const from = Math.max(t, period.start);
      const available = period.end - from;
      if (remaining <= available) return new Date(ceilToSecond(from + remaining));
      remaining -= available;
    }
    /* v8 ignore next -- #periodsFrom throws rather than ending */
    throw new Error('unreachable');
  }

  /** Business hours in `[from, to)`; negative when `to` is before `from`. */
  businessHoursBetween(from: Date, to: Date): number {
    const a = millisOf(from, 'from');
    const b = millisOf(to, 'to');
    if (b >= a) return this.#businessMsBetween(a, b) / MS_PER_HOUR;
    // `0 -` rather than unary minus, so an empty reversed interval is 0 and not -0.
    return (0 - this.#businessMsBetween(b, a)) / MS_PER_HOUR;
  }

  /**
   * The instant local midnight starts `date + plusDays` calendar days. DST-correct: when
   * midnight does not exist that day, it is the first instant of the day.
   * @throws RangeError for a malformed date or a non-integer `plusDays`.
   */
  startOfDay(date: IsoDate, plusDays = 0): Date {
    if (!Number.isInteger(plusDays)) throw new RangeError(`plusDays must be an integer, got ${plusDays}`);
    return new Date(this.#instantAt(parseIsoDate(date) + plusDays, 0));
  }

  /** Local wall-clock reading of `ms`, whole seconds, expressed as if it were a UTC timestamp. */
  #wallMs(ms: number): number {
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const part of this.#formatter.formatToParts(ms)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value);
          break;
        case 'minute':
          minute = Number(part.value);
          break;
        case 'second':
          second = Number(part.value);
          break;
      }
    }
    return dayNumber(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * MS_PER_SECOND;
  }

  /** UTC offset in force at `ms`, in milliseconds. */
  #offsetAt(ms: number): number {
    const whole = Math.floor(ms / MS_PER_SECOND) * MS_PER_SECOND;
    return this.#wallMs(whole) - whole;
  }

  #localDay(ms: number): number {
    return Math.floor(this.#wallMs(ms) / MS_PER_DAY);
  }

  /** The earliest instant whose local wall clock reads at least `minuteOfDay` on `day`. */
  #instantAt(day: number, minuteOfDay: number): number {
    const wall = day * MS_PER_DAY + minuteOfDay * MS_PER_MINUTE;
    // Offsets a day either side bracket the (at most one) transition near this wall time.
    const before = this.#offsetAt(wall - MS_PER_DAY);
    const after = this.#offsetAt(wall + MS_PER_DAY);
    let earliest = Number.POSITIVE_INFINITY;
    for (const offset of before === after ? [before] : [before, after]) {
      const candidate = wall - offset;
      if (this.#offsetAt(candidate) === offset) earliest = Math.min(earliest, candidate);
    }
    if (earliest !== Number.POSITIVE_INFINITY) return earliest;
    // The wall time was skipped by a jump forward: the first instant past it is the jump itself.
    // Invariant: the wall clock at `low` reads before `wall`, at `high` at or after it.
    let low = Math.floor((wall - OFFSET_BRACKET_MS) / MS_PER_SECOND);
    let high = Math.ceil((wall + OFFSET_BRACKET_MS) / MS_PER_SECOND);
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (this.#wallMs(middle * MS_PER_SECOND) >= wall) high = middle;
      else low = middle;
    }
    return high * MS_PER_SECOND;
  }

  #isHolidayDay(day: number): boolean {
    this.#assertHolidaysKnown(day);
    return this.#extraHolidays.has(day) || this.#publicHolidays.has(day);
  }

  #isBusinessDayNumber(day: number): boolean {
    // Holidays first, so that a day beyond the known years fails on a weekend too.
    return !this.#isHolidayDay(day) && this.#workingDays.has(isoWeekday(day));
  }

  /** A day beyond the listed years would silently count as working: refuse it instead. */
  #assertHolidaysKnown(day: number): void {
    const years = this.#holidayYears;
    if (years === undefined) return;
    const year = yearOf(day);
    if (year < years.first || year > years.last) {
      throw new RangeError(
        `Public holidays are known for ${years.first}–${years.last} only, not for ${isoOf(day)}: redeploy to list later years`,
      );
    }
  }

  /** The business period of `day`, or null when the day has none (closed, or hours skipped by DST). */
  #period(day: number): Period | null {
    const cached = this.#periods.get(day);
    if (cached !== undefined) return cached;
    let period: Period | null = null;
    if (this.#isBusinessDayNumber(day)) {
      const start = this.#instantAt(day, this.#startMinute);
      const end = this.#instantAt(day, this.#endMinute);
      if (end > start) period = { start, end };
    }
    if (this.#periods.size >= PERIOD_CACHE_LIMIT) this.#periods.clear();
    this.#periods.set(day, period);
    return period;
  }

  /** Business periods that end after `t`, in order; periods of days before t's local date end by then. */
  *#periodsFrom(t: number): Generator<Period, never> {
    const first = this.#localDay(t);
    for (let day = first; day <= first + MAX_SEARCH_DAYS; day++) {
      const period = this.#period(day);
      if (period !== null && period.end > t) yield period;
    }
    throw new Error(
      `No business time within ${MAX_SEARCH_DAYS} days after ${new Date(t).toISOString()} in ${this.timeZone}`,
    );
  }

  #nextStart(t: number): number {
    for (const period of this.#periodsFrom(t)) return Math.max(t, period.start);
    /* v8 ignore next -- #periodsFrom throws rather than ending */
    throw new Error('unreachable');
  }

  #isBusinessMs(t: number): boolean {
    return this.isBusinessTime(new Date(t));
  }

  #businessMsBetween(from: number, to: number): number {
    let total = 0;
    // The day after `to` too: a fall back across midnight makes `to` read the previous date
    // although the next day's period has already begun.
    const last = this.#localDay(to) + 1;
    for (let day = this.#localDay(from); day <= last; day++) {
      const period = this.#period(day);
      if (period === null) continue;
      const overlap = Math.min(to, period.end) - Math.max(from, period.start);
      if (overlap > 0) total += overlap;
    }
    return total;
  }
}
