import Holidays from 'date-holidays';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BusinessCalendar, type CalendarSpec, type IsoDate } from '#domain/calendar.ts';
import { listPublicHolidays } from '#lib/holidays.ts';
import { TEST_HOLIDAY_YEARS } from '#test/support/organisation.ts';

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const utc = (iso: string): Date => new Date(iso);
const iso = (date: Date): string => date.toISOString();

const weekdays = [1, 2, 3, 4, 5];
const everyDay = [1, 2, 3, 4, 5, 6, 7];

/** A region's public holidays as the build lists them for a deployment (lib/holidays.ts). */
function listed(country: string, state?: string): CalendarSpec['publicHolidays'] {
  return listPublicHolidays({ country, state }, TEST_HOLIDAY_YEARS);
}

const chicagoSpec: CalendarSpec = {
  timeZone: 'America/Chicago',
  workingDays: weekdays,
  hours: { start: '08:00', end: '17:00' },
  publicHolidays: listed('US'),
};
const chicago = new BusinessCalendar(chicagoSpec);

function calendar(overrides: Partial<CalendarSpec>): BusinessCalendar {
  return new BusinessCalendar({ ...chicagoSpec, ...overrides });
}

describe('constructing a business calendar', () => {
  it('keeps the time zone it was given', () => {
    // Prepare
    const spec = { ...chicagoSpec, timeZone: 'Asia/Kolkata' };

    // Act
    const kolkata = new BusinessCalendar(spec);

    // Assess
    expect(kolkata.timeZone).toBe('Asia/Kolkata');
  });

  it('rejects an unknown time zone by name', () => {
    // Prepare
    const spec = { ...chicagoSpec, timeZone: 'Mars/Olympus_Mons' };

    // Act
    const act = () => new BusinessCalendar(spec);

    // Assess
    expect(act).toThrow('Unknown time zone "Mars/Olympus_Mons"');
    expect(() => calendar({ timeZone: '' })).toThrow('Unknown time zone ""');
  });

  it('rejects an empty working-day list, which would make every search endless', () => {
    // Prepare
    const spec = { ...chicagoSpec, workingDays: [] };

    // Act
    const act = () => new BusinessCalendar(spec);

    // Assess
    expect(act).toThrow('workingDays must list at least one ISO weekday');
  });

  it.each([[0], [8], [1.5], [Number.NaN]])('rejects %s as an ISO weekday', (day) => {
    // Prepare
    const spec = { ...chicagoSpec, workingDays: [1, day] };

    // Act
    const act = () => new BusinessCalendar(spec);

    // Assess
    expect(act).toThrow('workingDays must be ISO weekdays 1–7');
  });

  it.each([
    ['8:00', '17:00'],
    ['08:00', '25:00'],
    ['08:60', '17:00'],
    ['24:00', '24:00'],
    ['08:00', '24:30'],
    ['08h00', '17:00'],
  ])('rejects malformed business hours %s–%s', (start, end) => {
    // Prepare
    const spec = { ...chicagoSpec, hours: { start, end } };

    // Act
    const act = () => new BusinessCalendar(spec);

    // Assess
    expect(act).toThrow('Business hours must be HH:MM (end may be 24:00)');
  });

  it.each([
    ['17:00', '08:00'],
    ['08:00', '08:00'],
  ])('rejects business hours %s–%s that do not start before they end', (start, end) => {
    // Prepare
    const spec = { ...chicagoSpec, hours: { start, end } };

    // Act
    const act = () => new BusinessCalendar(spec);

    // Assess
    expect(act).toThrow(`Business hours must start before they end, got ${start}–${end}`);
  });

  it('accepts 24:00 as the end of the day', () => {
    // Prepare
    const spec = { ...chicagoSpec, hours: { start: '00:00', end: '24:00' } };

    // Act
    const allDay = new BusinessCalendar(spec);

    // Assess
    expect(allDay.businessHoursBetween(utc('2026-01-12T06:00:00Z'), utc('2026-01-13T06:00:00Z'))).toBe(24);
  });

  it('is built from holidays the build listed, which refuses an unknown country or state', () => {
    // Act
    const acts = [() => listed('ZZ'), () => listed('US', 'XX'), () => listed('SG', 'X')];

    // Assess
    expect(acts[0]).toThrow('Unknown holiday country "ZZ"');
    expect(acts[1]).toThrow('Unknown holiday state "XX" for country US');
    expect(acts[2]).toThrow('Unknown holiday state "X" for country SG');
  });

  it('rejects a public holiday outside the years it claims to cover, and years that are no range', () => {
    // Prepare
    const years = { firstYear: 2026, lastYear: 2027 };
    const outside = { ...chicagoSpec, publicHolidays: { ...years, dates: ['2026-01-01', '2028-01-01'] } };
    const reversed = { ...chicagoSpec, publicHolidays: { firstYear: 2027, lastYear: 2026, dates: [] } };
    const fractional = { ...chicagoSpec, publicHolidays: { firstYear: 2026.5, lastYear: 2027, dates: [] } };

    // Act
    const acts = [outside, reversed, fractional].map((spec) => () => new BusinessCalendar(spec));

    // Assess
    expect(acts[0]).toThrow('Public holidays are known for 2026–2027 only, not for 2028-01-01');
    expect(acts[1]).toThrow('Public holiday years must be whole years, first <= last, got 2027–2026');
    expect(acts[2]).toThrow('Public holiday years must be whole years');
  });

  it('rejects an extra holiday that is not a real calendar date', () => {
    // Prepare
    const spec = { ...chicagoSpec, extraHolidays: ['2026-02-30'] };

    // Act
    const act = () => new BusinessCalendar(spec);

    // Assess
    expect(act).toThrow('Expected a calendar date as YYYY-MM-DD, got "2026-02-30"');
  });

  it('accepts holiday regions in lower case and an empty state as no state', () => {
    // Prepare
    const lower = { ...chicagoSpec, publicHolidays: listed('au', 'sa') };
    const emptyState = { ...chicagoSpec, publicHolidays: listed('US', '') };

    // Act
    const adelaide = new BusinessCalendar(lower);
    const federal = new BusinessCalendar(emptyState);

    // Assess
    expect(adelaide.isHoliday('2026-03-09')).toBe(true); // Adelaide Cup Day
    expect(federal.isHoliday('2026-01-19')).toBe(true);
  });

  it('rejects values of the wrong type from untyped callers such as parsed JSON', () => {
    // Prepare
    const hours = { ...chicagoSpec, hours: { start: 800 as unknown as string, end: '17:00' } };
    const years = { firstYear: '2020' as unknown as number, lastYear: 2040, dates: [] };
    const date = { firstYear: 2020, lastYear: 2040, dates: [20260101 as unknown as string] };

    // Act
    const acts = [
      hours,
      { ...chicagoSpec, publicHolidays: years },
      { ...chicagoSpec, publicHolidays: date },
    ].map((spec) => () => new BusinessCalendar(spec));

    // Assess
    expect(acts[0]).toThrow('Business hours must be HH:MM');
    expect(acts[1]).toThrow('Public holiday years must be whole years, first <= last, got "2020"–2040');
    expect(acts[2]).toThrow('Expected a calendar date as YYYY-MM-DD, got 20260101');
    expect(() => chicago.isHoliday(20260105 as unknown as string)).toThrow(RangeError);
    expect(() => chicago.localDate(Date.now() as unknown as Date)).toThrow('instant must be a valid Date');
  });
});

describe('reading the local date', () => {
  it('changes date at local midnight in Chicago', () => {
    // Prepare
    const lastSecond = utc('2026-01-17T05:59:59.999Z');
    const midnight = utc('2026-01-17T06:00:00Z');

    // Act
    const dates = [chicago.localDate(lastSecond), chicago.localDate(midnight)];

    // Assess
    expect(dates).toEqual(['2026-01-16', '2026-01-17']);
  });

  it('changes date at local midnight in Kolkata, five and a half hours ahead of UTC', () => {
    // Prepare
    const kolkata = calendar({ timeZone: 'Asia/Kolkata', publicHolidays: listed('IN') });

    // Act
    const dates = [utc('2026-03-01T18:29:59Z'), utc('2026-03-01T18:30:00Z')].map((d) => kolkata.localDate(d));

    // Assess
    expect(dates).toEqual(['2026-03-01', '2026-03-02']);
  });

  it('rejects an invalid Date', () => {
    // Prepare
    const invalid = new Date(Number.NaN);

    // Act
    const act = () => chicago.localDate(invalid);

    // Assess
    expect(act).toThrow(RangeError);
  });
});

describe('holidays and business days', () => {
  it('knows the US federal holidays, including observed days', () => {
    // Prepare
    const dates = ['2026-01-19', '2026-07-03', '2026-07-04', '2026-11-26', '2026-12-25'];

    // Act
    const holidays = dates.map((date) => chicago.isHoliday(date));

    // Assess
    expect(holidays).toEqual([true, true, true, true, true]);
  });

  it('files an observed holiday in the year it is observed, even when the holiday is next year', () => {
    // Prepare: New Year's Day 2028 is a Saturday, observed on Friday 2027-12-31.
    const observed = '2027-12-31';

    // Act
    const holiday = chicago.isHoliday(observed);

    // Assess
    expect(holiday).toBe(true);
    expect(chicago.isBusinessDay(observed)).toBe(false);
  });

  it('does not count observances such as Valentine’s Day: the build lists public holidays only', () => {
    // Prepare
    const valentines = '2026-02-14';

    // Act
    const listedDates = listed('US')?.dates ?? [];

    // Assess
    expect(listedDates).not.toContain(valentines);
    expect(chicago.isHoliday(valentines)).toBe(false);
  });

  it('refuses to answer for a day outside the years whose holidays were listed, weekends included', () => {
    // Prepare: the listed years end with 2040; 2040-12-31 is a Monday.
    const lastListed = chicago.startOfDay('2040-12-31');
    const beyond = ['2041-01-01', '2041-01-05', '2019-12-31'];

    // Act
    const acts = beyond.map((date) => () => chicago.isBusinessDay(date));

    // Assess
    expect(acts[0]).toThrow('Public holidays are known for 2020–2040 only, not for 2041-01-01');
    expect(acts[1]).toThrow(RangeError); // a Saturday
    expect(acts[2]).toThrow('not for 2019-12-31');
    expect(iso(chicago.addBusinessHours(lastListed, 9))).toBe('2040-12-31T23:00:00.000Z');
    expect(() => chicago.addBusinessHours(lastListed, 10)).toThrow('redeploy to list later years');
    expect(chicago.isHoliday('2040-12-25')).toBe(true);
  });

  it('has no such limit without a holiday region', () => {
    // Prepare
    const noRegion = calendar({ publicHolidays: undefined });

    // Act
    const results = ['1990-12-25', '2041-01-01', '2100-01-01'].map((date) => noRegion.isBusinessDay(date));

    // Assess
    expect(results).toEqual([true, true, true]);
  });

  it('adds company closures on top of the public holidays', () => {
    // Prepare
    const closing = calendar({ extraHolidays: ['2026-12-24'] });

    // Act
    const results = [closing.isHoliday('2026-12-24'), closing.isBusinessDay('2026-12-24')];

    // Assess
    expect(results).toEqual([true, false]);
    expect(chicago.isBusinessDay('2026-12-24')).toBe(true);
  });

  it('has only the extra holidays when no holiday region is configured', () => {
    // Prepare
    const noRegion = new BusinessCalendar({
      ...chicagoSpec,
      publicHolidays: undefined,
      extraHolidays: ['2026-03-03'],
    });

    // Act
    const results = ['2026-12-25', '2026-03-03'].map((date) => noRegion.isHoliday(date));

    // Assess
    expect(results).toEqual([false, true]);
  });

  it('tells state holidays apart: Adelaide Cup Day is a holiday in South Australia only', () => {
    // Prepare
    const adelaide = calendar({ timeZone: 'Australia/Adelaide', publicHolidays: listed('AU', 'SA') });
    const sydney = calendar({ timeZone: 'Australia/Sydney', publicHolidays: listed('AU', 'NSW') });

    // Act
    const results = [adelaide.isHoliday('2026-03-09'), sydney.isHoliday('2026-03-09')];

    // Assess
    expect(results).toEqual([true, false]);
  });

  it('treats weekends as closed and configured weekend days as open', () => {
    // Prepare
    const sixDays = calendar({ workingDays: [1, 2, 3, 4, 5, 6] });

    // Act
    const results = [
      chicago.isBusinessDay('2026-01-16'),
      chicago.isBusinessDay('2026-01-17'),
      sixDays.isBusinessDay('2026-01-17'),
      sixDays.isBusinessDay('2026-01-18'),
    ];

    // Assess
    expect(results).toEqual([true, false, true, false]);
  });

  it.each(['2026-02-30', '2026-1-05', '20260105', ''])('rejects the malformed date %j', (date) => {
    // Prepare
    const check = () => chicago.isHoliday(date);

    // Act
    const act = () => chicago.isBusinessDay(date);

    // Assess
    expect(check).toThrow(RangeError);
    expect(act).toThrow('Expected a calendar date as YYYY-MM-DD');
  });
});

describe('business time', () => {
  it('opens at 08:00 inclusive and closes at 17:00 exclusive', () => {
    // Prepare: Monday 2026-01-12 in Chicago (UTC-6).
    const instants = [
      '2026-01-12T13:59:59.999Z',
      '2026-01-12T14:00:00Z',
      '2026-01-12T22:59:59.999Z',
      '2026-01-12T23:00:00Z',
    ];

    // Act
    const open = instants.map((instant) => chicago.isBusinessTime(utc(instant)));

    // Assess
    expect(open).toEqual([false, true, true, false]);
  });

  it('is closed on weekends and holidays', () => {
    // Prepare
    const saturdayNoon = utc('2026-01-17T18:00:00Z');
    const mlkNoon = utc('2026-01-19T18:00:00Z');

    // Act
    const open = [chicago.isBusinessTime(saturdayNoon), chicago.isBusinessTime(mlkNoon)];

    // Assess
    expect(open).toEqual([false, false]);
  });

  it('runs past midnight into the next day when hours end at 24:00', () => {
    // Prepare
    const lateShift = calendar({ hours: { start: '16:00', end: '24:00' } });

    // Act
    const open = [
      lateShift.isBusinessTime(utc('2026-01-13T05:59:59Z')), // Monday 23:59:59
      lateShift.isBusinessTime(utc('2026-01-13T06:00:00Z')), // Tuesday 00:00
    ];

    // Assess
    expect(open).toEqual([true, false]);
  });
});

describe('the next business start', () => {
  it('is the instant itself during business hours', () => {
    // Prepare
    const during = utc('2026-01-12T16:12:34.567Z');

    // Act
    const start = chicago.nextBusinessStart(during);

    // Assess
    expect(iso(start)).toBe('2026-01-12T16:12:34.567Z');
  });

  it('is 08:00 the same day before opening', () => {
    // Prepare
    const early = utc('2026-01-12T12:00:00Z');

    // Act
    const start = chicago.nextBusinessStart(early);

    // Assess
    expect(iso(start)).toBe('2026-01-12T14:00:00.000Z');
  });

  it('is Monday 08:00 from Friday’s closing time', () => {
    // Prepare
    const fridayClose = utc('2026-01-23T23:00:00Z');

    // Act
    const start = chicago.nextBusinessStart(fridayClose);

    // Assess
    expect(iso(start)).toBe('2026-01-26T14:00:00.000Z');
  });

  it('skips a Monday holiday to Tuesday 08:00', () => {
    // Prepare
    const fridayEvening = utc('2026-01-17T00:00:00Z');

    // Act
    const start = chicago.nextBusinessStart(fridayEvening);

    // Assess
    expect(iso(start)).toBe('2026-01-20T14:00:00.000Z');
  });

  it('gives up with a clear error when no business day comes within five years', () => {
    // Prepare: Mondays only, and every Monday for six years is a closure.
    const mondays: IsoDate[] = [];
    for (let day = Date.parse('2026-01-05'); day < Date.parse('2032-01-05'); day += 7 * DAY) {
      mondays.push(new Date(day).toISOString().slice(0, 10));
    }
    const closed = calendar({ workingDays: [1], extraHolidays: mondays });

    // Act
    const act = () => closed.nextBusinessStart(utc('2026-01-01T00:00:00Z'));

    // Assess
    expect(act).toThrow(
      'No business time within 1830 days after 2026-01-01T00:00:00.000Z in America/Chicago',
    );
    expect(() => closed.addBusinessHours(utc('2026-01-01T00:00:00Z'), 0)).toThrow('No business time within');
  });
});

describe('adding business hours', () => {
  it('carries Friday 16:30 + 4 hours over the weekend to Monday 11:30', () => {
    // Prepare
    const friday = utc('2026-01-23T22:30:00Z');

    // Act
    const due = chicago.addBusinessHours(friday, 4);

    // Assess
    expect(iso(due)).toBe('2026-01-26T17:30:00.000Z');
  });

  it('carries Friday 16:30 + 4 hours to Tuesday 11:30 when Monday is Martin Luther King Jr. Day', () => {
    // Prepare
    const friday = utc('2026-01-16T22:30:00Z');

    // Act
    const due = chicago.addBusinessHours(friday, 4);

    // Assess
    expect(iso(due)).toBe('2026-01-20T17:30:00.000Z');
    expect(chicago.businessHoursBetween(friday, due)).toBe(4);
  });

  it('ends at the closing time itself when the hours run out exactly then', () => {
    // Prepare
    const friday = utc('2026-01-23T22:00:00Z');

    // Act
    const due = chicago.addBusinessHours(friday, 1);
    const oneMinuteMore = chicago.addBusinessHours(friday, 61 / 60);

    // Assess
    expect(iso(due)).toBe('2026-01-23T23:00:00.000Z');
    expect(chicago.isBusinessTime(due)).toBe(false);
    expect(iso(oneMinuteMore)).toBe('2026-01-26T14:01:00.000Z');
  });

  it('counts a whole business day as nine hours', () => {
    // Prepare
    const mondayOpen = utc('2026-01-12T14:00:00Z');

    // Act
    const dues = [9, 18, 45].map((hours) => iso(chicago.addBusinessHours(mondayOpen, hours)));

    // Assess
    expect(dues).toEqual([
      '2026-01-12T23:00:00.000Z',
      '2026-01-13T23:00:00.000Z',
      '2026-01-16T23:00:00.000Z',
    ]);
  });

  it('accepts fractional hours', () => {
    // Prepare
    const mondayOpen = utc('2026-01-12T14:00:00Z');

    // Act
    const dues = [1.5, 1 / 3, 0.25 / 60].map((hours) => iso(chicago.addBusinessHours(mondayOpen, hours)));

    // Assess
    expect(dues).toEqual([
      '2026-01-12T15:30:00.000Z',
      '2026-01-12T14:20:00.000Z',
      '2026-01-12T14:00:15.000Z',
    ]);
  });

  it('rounds the result up to a whole second for Step Functions', () => {
    // Prepare
    const withMillis = utc('2026-01-12T15:00:00.001Z');

    // Act
    const due = chicago.addBusinessHours(withMillis, 1);

    // Assess
    expect(iso(due)).toBe('2026-01-12T16:00:01.000Z');
  });

  it('returns the next business start, rounded up, for zero hours', () => {
    // Prepare
    const during = utc('2026-01-12T16:00:00.250Z');
    const saturday = utc('2026-01-17T18:00:00Z');
    const lastHalfSecond = utc('2026-01-12T22:59:59.500Z');

    // Act
    const dues = [during, saturday, lastHalfSecond].map((at) => iso(chicago.addBusinessHours(at, 0)));

    // Assess: rounding the last half second up would land on 17:00, which is not business time.
    expect(dues).toEqual([
      '2026-01-12T16:00:01.000Z',
      '2026-01-20T14:00:00.000Z',
      '2026-01-13T14:00:00.000Z',
    ]);
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY]])('rejects %s hours', (hours) => {
    // Prepare
    const monday = utc('2026-01-12T16:00:00Z');

    // Act
    const act = () => chicago.addBusinessHours(monday, hours);

    // Assess
    expect(act).toThrow(RangeError);
  });

  it('rejects an invalid instant', () => {
    // Prepare
    const invalid = new Date('not a date');

    // Act
    const act = () => chicago.addBusinessHours(invalid, 1);

    // Assess
    expect(act).toThrow('instant must be a valid Date');
  });

  it('gives up on a deadline more than five years away', () => {
    // Prepare: a Chicago year holds about 2,250 business hours.
    const monday = utc('2026-01-12T16:00:00Z');

    // Act
    const act = () => chicago.addBusinessHours(monday, 20_000);

    // Assess
    expect(act).toThrow('No business time within 1830 days');
    expect(iso(chicago.addBusinessHours(monday, 9_000))).toMatch(/^2030-/);
  });
});

describe('business hours between two instants', () => {
  it('counts only open hours on business days', () => {
    // Prepare: the week of 2026-01-12 (Monday) has no holiday; the next one has MLK day.
    const [first, second, third] = [
      utc('2026-01-12T06:00:00Z'),
      utc('2026-01-19T06:00:00Z'),
      utc('2026-01-26T06:00:00Z'),
    ];

    // Act
    const hours = [chicago.businessHoursBetween(first, second), chicago.businessHoursBetween(second, third)];

    // Assess
    expect(hours).toEqual([45, 36]);
  });

  it('is negative when the end is before the start', () => {
    // Prepare
    const friday = utc('2026-01-16T22:30:00Z');
    const tuesday = utc('2026-01-20T17:30:00Z');

    // Act
    const hours = chicago.businessHoursBetween(tuesday, friday);

    // Assess
    expect(hours).toBe(-4);
  });

  it('is zero over a weekend and between an instant and itself', () => {
    // Prepare
    const saturday = utc('2026-01-17T06:00:00Z');
    const monday = utc('2026-01-19T14:00:00Z');

    // Act
    const hours = [
      chicago.businessHoursBetween(saturday, monday),
      chicago.businessHoursBetween(monday, monday),
    ];

    // Assess
    expect(hours).toEqual([0, 0]);
  });

  it('rejects invalid instants by name', () => {
    // Prepare
    const invalid = new Date(Number.NaN);

    // Act
    const acts = [
      () => chicago.businessHoursBetween(invalid, new Date()),
      () => chicago.businessHoursBetween(new Date(), invalid),
    ];

    // Assess
    expect(acts[0]).toThrow('from must be a valid Date');
    expect(acts[1]).toThrow('to must be a valid Date');
  });

  it('stays exact across sixty years of round-the-clock business', () => {
    // Prepare
    const always = new BusinessCalendar({
      timeZone: 'UTC',
      workingDays: everyDay,
      hours: { start: '00:00', end: '24:00' },
    });
    const from = utc('2000-01-01T00:00:00Z');
    const to = utc('2060-01-01T00:00:00Z');

    // Act
    const hours = always.businessHoursBetween(from, to);

    // Assess
    expect(hours).toBe((to.getTime() - from.getTime()) / HOUR);
  });
});

describe('the start of a day', () => {
  it('is local midnight, following DST in Chicago', () => {
    // Prepare
    const dates = ['2026-03-08', '2026-03-09', '2026-11-01', '2026-11-02'];

    // Act
    const starts = dates.map((date) => iso(chicago.startOfDay(date)));

    // Assess
    expect(starts).toEqual([
      '2026-03-08T06:00:00.000Z',
      '2026-03-09T05:00:00.000Z',
      '2026-11-01T05:00:00.000Z',
      '2026-11-02T06:00:00.000Z',
    ]);
  });

  it('adds calendar days, forwards and backwards, across months and DST', () => {
    // Prepare
    const original = '2026-02-27';

    // Act
    const starts = [14, 0, -1].map((days) => iso(chicago.startOfDay(original, days)));

    // Assess
    expect(starts).toEqual([
      '2026-03-13T05:00:00.000Z',
      '2026-02-27T06:00:00.000Z',
      '2026-02-26T06:00:00.000Z',
    ]);
  });

  it('is the first instant of the day when midnight does not exist (Santiago, spring forward at 00:00)', () => {
    // Prepare
    const santiago = calendar({ timeZone: 'America/Santiago', publicHolidays: listed('CL') });

    // Act
    const start = santiago.startOfDay('2026-09-06');

    // Assess: 23:59:59 on the 5th (UTC-4) is followed by 01:00 on the 6th (UTC-3).
    expect(iso(start)).toBe('2026-09-06T04:00:00.000Z');
    expect(santiago.localDate(new Date(start.getTime() - 1))).toBe('2026-09-05');
    expect(santiago.localDate(start)).toBe('2026-09-06');
  });

  it('follows Santiago falling back from midnight to 23:00, which makes Saturday 25 hours long', () => {
    // Prepare
    const santiago = calendar({
      timeZone: 'America/Santiago',
      workingDays: everyDay,
      hours: { start: '00:00', end: '24:00' },
    });

    // Act
    const saturday = santiago.startOfDay('2026-04-04');
    const sunday = santiago.startOfDay('2026-04-05');

    // Assess
    expect([iso(saturday), iso(sunday)]).toEqual(['2026-04-04T03:00:00.000Z', '2026-04-05T04:00:00.000Z']);
    expect(santiago.businessHoursBetween(saturday, sunday)).toBe(25);
  });

  it('rejects a fractional number of days and a malformed date', () => {
    // Prepare
    const fractional = () => chicago.startOfDay('2026-01-12', 0.5);

    // Act
    const malformed = () => chicago.startOfDay('12/01/2026');

    // Assess
    expect(fractional).toThrow('plusDays must be an integer');
    expect(malformed).toThrow('Expected a calendar date as YYYY-MM-DD');
  });
});

describe('daylight saving time', () => {
  const chicagoEveryDay = calendar({ workingDays: everyDay });
  const chicagoAllDay = calendar({ workingDays: everyDay, hours: { start: '00:00', end: '24:00' } });

  it('keeps nine business hours on Chicago’s spring-forward and fall-back days', () => {
    // Prepare
    const days = ['2026-03-08', '2026-11-01'];

    // Act
    const hours = days.map((day) =>
      chicagoEveryDay.businessHoursBetween(
        chicagoEveryDay.startOfDay(day),
        chicagoEveryDay.startOfDay(day, 1),
      ),
    );

    // Assess
    expect(hours).toEqual([9, 9]);
  });

  it('switches the UTC time of opening when Chicago springs forward and falls back', () => {
    // Prepare: Saturday 16:00 local before each change.
    const beforeSpring = utc('2026-03-07T22:00:00Z');
    const beforeFall = utc('2026-10-31T21:00:00Z');

    // Act
    const dues = [beforeSpring, beforeFall].map((at) => iso(chicagoEveryDay.addBusinessHours(at, 2)));

    // Assess: Sunday 09:00 CDT (UTC-5) and Sunday 09:00 CST (UTC-6).
    expect(dues).toEqual(['2026-03-08T14:00:00.000Z', '2026-11-01T15:00:00.000Z']);
  });

  it('carries a weekday deadline over a Chicago DST weekend at the new offset', () => {
    // Prepare: Friday 2026-03-06 16:00 CST.
    const friday = utc('2026-03-06T22:00:00Z');

    // Act
    const due = chicago.addBusinessHours(friday, 2);

    // Assess: Monday 09:00 CDT.
    expect(iso(due)).toBe('2026-03-09T14:00:00.000Z');
  });

  it('makes a round-the-clock Chicago day 23 hours in spring and 25 hours in autumn', () => {
    // Prepare
    const days = ['2026-03-08', '2026-11-01', '2026-11-02'];

    // Act
    const hours = days.map((day) =>
      chicagoAllDay.businessHoursBetween(chicagoAllDay.startOfDay(day), chicagoAllDay.startOfDay(day, 1)),
    );

    // Assess
    expect(hours).toEqual([23, 25, 24]);
  });

  it('counts the real hours of opening hours that contain the shift', () => {
    // Prepare
    const night = calendar({ workingDays: everyDay, hours: { start: '01:00', end: '04:00' } });

    // Act
    const hours = ['2026-03-08', '2026-11-01'].map((day) =>
      night.businessHoursBetween(night.startOfDay(day), night.startOfDay(day, 1)),
    );

    // Assess
    expect(hours).toEqual([2, 4]);
  });

  it('opens at the jump itself when the opening time is skipped', () => {
    // Prepare
    const skipped = calendar({ workingDays: everyDay, hours: { start: '02:30', end: '05:00' } });

    // Act
    const opens = skipped.nextBusinessStart(skipped.startOfDay('2026-03-08'));
    const hours = skipped.businessHoursBetween(
      skipped.startOfDay('2026-03-08'),
      skipped.startOfDay('2026-03-09'),
    );

    // Assess: 03:00 CDT, the first instant after 02:00 CST.
    expect(iso(opens)).toBe('2026-03-08T08:00:00.000Z');
    expect(hours).toBe(2);
  });

  it('closes at the jump itself when the closing time is skipped', () => {
    // Prepare
    const skipped = calendar({ workingDays: everyDay, hours: { start: '00:00', end: '02:30' } });

    // Act
    const closes = skipped.addBusinessHours(skipped.startOfDay('2026-03-08'), 2);

    // Assess
    expect(iso(closes)).toBe('2026-03-08T08:00:00.000Z');
    expect(skipped.isBusinessTime(closes)).toBe(false);
  });

  it('has no business time on a day whose opening hours are skipped entirely', () => {
    // Prepare
    const skipped = calendar({ workingDays: everyDay, hours: { start: '02:00', end: '02:59' } });

    // Act
    const next = skipped.nextBusinessStart(skipped.startOfDay('2026-03-08'));

    // Assess: the next day's 02:00 CDT.
    expect(iso(next)).toBe('2026-03-09T07:00:00.000Z');
  });

  it('opens at the first of two repeated times and stays open through the repeat', () => {
    // Prepare
    const repeated = calendar({ workingDays: everyDay, hours: { start: '01:30', end: '03:00' } });

    // Act
    const opens = repeated.nextBusinessStart(repeated.startOfDay('2026-11-01'));
    const secondPass = repeated.isBusinessTime(utc('2026-11-01T07:30:00Z')); // 01:30 CST

    // Assess: 01:30 CDT, and 2.5 real hours until 03:00 CST.
    expect(iso(opens)).toBe('2026-11-01T06:30:00.000Z');
    expect(secondPass).toBe(true);
    expect(repeated.businessHoursBetween(opens, repeated.startOfDay('2026-11-02'))).toBe(2.5);
  });

  it('keeps the repeated hour of a fall back that crossed midnight in the day that began first', () => {
    // Prepare: St. John's fell back from Sunday 00:01 NDT to Saturday 23:01 NST on 2010-11-07.
    const sundays = calendar({
      timeZone: 'America/St_Johns',
      workingDays: [7],
      hours: { start: '00:00', end: '24:00' },
      publicHolidays: undefined,
    });
    const repeatedSaturdayTime = utc('2010-11-07T03:00:00Z'); // reads Saturday 23:30 NST

    // Act
    const open = sundays.isBusinessTime(repeatedSaturdayTime);

    // Assess: Sunday started at the first 00:00 and lasts 25 hours.
    expect(sundays.localDate(repeatedSaturdayTime)).toBe('2010-11-06');
    expect(open).toBe(true);
    expect(iso(sundays.nextBusinessStart(repeatedSaturdayTime))).toBe('2010-11-07T03:00:00.000Z');
    expect(
      sundays.businessHoursBetween(sundays.startOfDay('2010-11-06'), sundays.startOfDay('2010-11-09')),
    ).toBe(25);
    expect(sundays.businessHoursBetween(sundays.startOfDay('2010-11-07'), repeatedSaturdayTime)).toBe(0.5);
  });

  describe('in Sydney, where the seasons are reversed', () => {
    const sydney = calendar({ timeZone: 'Australia/Sydney', publicHolidays: listed('AU', 'NSW') });
    const sydneyAllDay = calendar({
      timeZone: 'Australia/Sydney',
      workingDays: everyDay,
      hours: { start: '00:00', end: '24:00' },
      publicHolidays: undefined,
    });

    it('springs forward in October: Friday 16:30 + 4 hours skips Labour Day to Tuesday 11:30 AEDT', () => {
      // Prepare: Friday 2026-10-02 16:30 AEST (UTC+10).
      const friday = utc('2026-10-02T06:30:00Z');

      // Act
      const due = sydney.addBusinessHours(friday, 4);

      // Assess: Tuesday 2026-10-06 11:30 AEDT (UTC+11).
      expect(iso(due)).toBe('2026-10-06T00:30:00.000Z');
    });

    it('falls back in April: Thursday 16:30 + 4 hours skips Easter to Tuesday 11:30 AEST', () => {
      // Prepare: Thursday 2026-04-02 16:30 AEDT.
      const thursday = utc('2026-04-02T05:30:00Z');

      // Act
      const due = sydney.addBusinessHours(thursday, 4);

      // Assess
      expect(iso(due)).toBe('2026-04-07T01:30:00.000Z');
    });

    it('makes the change days 23 and 25 hours long', () => {
      // Prepare
      const days = ['2026-10-04', '2026-04-05'];

      // Act
      const hours = days.map((day) =>
        sydneyAllDay.businessHoursBetween(sydneyAllDay.startOfDay(day), sydneyAllDay.startOfDay(day, 1)),
      );

      // Assess
      expect(hours).toEqual([23, 25]);
      expect(iso(sydneyAllDay.startOfDay('2026-10-04'))).toBe('2026-10-03T14:00:00.000Z');
    });
  });

  it('follows half-hour offsets and their DST in Adelaide', () => {
    // Prepare: Friday 2026-10-02 16:00 ACST (UTC+9:30), DST starts on Sunday.
    const adelaide = calendar({ timeZone: 'Australia/Adelaide', publicHolidays: undefined });
    const friday = utc('2026-10-02T06:30:00Z');

    // Act
    const due = adelaide.addBusinessHours(friday, 2);

    // Assess: Monday 09:00 ACDT (UTC+10:30).
    expect(iso(due)).toBe('2026-10-04T22:30:00.000Z');
    expect(iso(adelaide.startOfDay('2026-10-04'))).toBe('2026-10-03T14:30:00.000Z');
  });

  it('carries a Santiago deadline over the September change to the new offset', () => {
    // Prepare: Friday 2026-09-04 16:00 (UTC-4).
    const santiago = calendar({ timeZone: 'America/Santiago', publicHolidays: listed('CL') });
    const friday = utc('2026-09-04T20:00:00Z');

    // Act
    const due = santiago.addBusinessHours(friday, 2);

    // Assess: Monday 09:00 (UTC-3).
    expect(iso(due)).toBe('2026-09-07T12:00:00.000Z');
  });
});

describe('Kolkata, five and a half hours ahead of UTC', () => {
  const kolkata = calendar({
    timeZone: 'Asia/Kolkata',
    workingDays: [1, 2, 3, 4, 5, 6],
    hours: { start: '09:00', end: '18:00' },
    publicHolidays: listed('IN'),
  });

  it('opens at 09:00 IST, which is 03:30 UTC', () => {
    // Prepare
    const instants = [
      '2026-03-02T03:29:59Z',
      '2026-03-02T03:30:00Z',
      '2026-03-02T12:29:59Z',
      '2026-03-02T12:30:00Z',
    ];

    // Act
    const open = instants.map((instant) => kolkata.isBusinessTime(utc(instant)));

    // Assess
    expect(open).toEqual([false, true, true, false]);
  });

  it('carries Saturday 17:30 + 2 hours over Sunday to Monday 10:30 IST', () => {
    // Prepare
    const saturday = utc('2026-03-07T12:00:00Z');

    // Act
    const due = kolkata.addBusinessHours(saturday, 2);

    // Assess
    expect(iso(due)).toBe('2026-03-09T05:00:00.000Z');
  });

  it('skips Republic Day', () => {
    // Prepare: Saturday 2026-01-24 17:00 IST; Monday the 26th is Republic Day.
    const saturday = utc('2026-01-24T11:30:00Z');

    // Act
    const due = kolkata.addBusinessHours(saturday, 2);

    // Assess: Tuesday 10:00 IST.
    expect(iso(due)).toBe('2026-01-27T04:30:00.000Z');
  });
});

// ---------------------------------------------------------------------------------------------
// Properties, checked against an independent brute-force reference that walks minute by minute.
// ---------------------------------------------------------------------------------------------

interface Zone {
  readonly name: string;
  readonly spec: CalendarSpec;
  /** The holiday region `spec` lists the public holidays of, for the reference to look up itself. */
  readonly region?: { country: string; state?: string };
}

const zones: readonly Zone[] = [
  { name: 'Chicago', spec: chicagoSpec, region: { country: 'US' } },
  {
    name: 'Sydney',
    spec: {
      timeZone: 'Australia/Sydney',
      workingDays: weekdays,
      hours: { start: '08:30', end: '17:30' },
      publicHolidays: listed('AU', 'NSW'),
      extraHolidays: ['2026-12-24', '2027-12-24'],
    },
    region: { country: 'AU', state: 'NSW' },
  },
  {
    name: 'Kolkata',
    spec: {
      timeZone: 'Asia/Kolkata',
      workingDays: [1, 2, 3, 4, 5, 6],
      hours: { start: '09:30', end: '18:00' },
      publicHolidays: listed('IN'),
    },
    region: { country: 'IN' },
  },
  {
    name: 'London',
    spec: {
      timeZone: 'Europe/London',
      workingDays: [1, 2, 3, 4],
      hours: { start: '07:45', end: '16:15' },
      publicHolidays: listed('GB', 'ENG'),
    },
    region: { country: 'GB', state: 'ENG' },
  },
  {
    name: 'Santiago round the clock',
    spec: {
      timeZone: 'America/Santiago',
      workingDays: [1, 2, 3, 4, 5, 6],
      hours: { start: '00:00', end: '24:00' },
      publicHolidays: listed('CL'),
    },
    region: { country: 'CL' },
  },
];

/** Wall-clock fields of an instant in a zone, straight from Intl. */
function wallClock(
  formatter: Intl.DateTimeFormat,
  ms: number,
): { date: string; weekday: number; minute: number } {
  const parts = Object.fromEntries(formatter.formatToParts(ms).map((part) => [part.type, part.value]));
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  const weekday = ((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
  return { date, weekday, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

/**
 * The obvious, slow definition: a minute is business time when its first instant reads an open
 * wall-clock time on a working, non-holiday date. Correct wherever DST shifts happen outside the
 * opening hours, which holds for every zone above.
 */
class ReferenceCalendar {
  readonly #formatter: Intl.DateTimeFormat;
  readonly #holidays = new Set<string>();
  readonly #spec: CalendarSpec;
  readonly #start: number;
  readonly #end: number;

  constructor(spec: CalendarSpec, region: Zone['region']) {
    this.#spec = spec;
    this.#formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: spec.timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    // Straight from date-holidays, not from the listed dates in `spec`, so the listing is checked too.
    if (region !== undefined) {
      const holidays =
        region.state === undefined
          ? new Holidays(region.country, { types: ['public'] })
          : new Holidays(region.country, region.state, { types: ['public'] });
      for (let year = 2022; year <= 2033; year++) {
        for (const holiday of holidays.getHolidays(year)) this.#holidays.add(holiday.date.slice(0, 10));
      }
    }
    for (const date of spec.extraHolidays ?? []) this.#holidays.add(date);
    const minutes = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
    this.#start = minutes(spec.hours.start);
    this.#end = minutes(spec.hours.end);
  }

  isBusinessMinute(ms: number): boolean {
    const { date, weekday, minute } = wallClock(this.#formatter, ms);
    return (
      this.#spec.workingDays.includes(weekday) &&
      !this.#holidays.has(date) &&
      minute >= this.#start &&
      minute < this.#end
    );
  }

  /** `from` must be a whole minute. */
  addMinutes(from: number, minutes: number): number {
    let t = from;
    if (minutes === 0) {
      while (!this.isBusinessMinute(t)) t += MINUTE;
      return t;
    }
    for (let counted = 0; counted < minutes; t += MINUTE) {
      if (this.isBusinessMinute(t)) counted++;
    }
    return t;
  }

  /** Both ends must be whole minutes, `from <= to`. */
  minutesBetween(from: number, to: number): number {
    let counted = 0;
    for (let t = from; t < to; t += MINUTE) if (this.isBusinessMinute(t)) counted++;
    return counted;
  }
}

const cases = zones.map((zone) => ({
  name: zone.name,
  calendar: new BusinessCalendar(zone.spec),
  reference: new ReferenceCalendar(zone.spec, zone.region),
}));

const FIRST = Date.parse('2024-01-01T00:00:00Z');
const LAST = Date.parse('2030-12-31T00:00:00Z');

/** UTC midnights just after the UTC offset changed, so that generated instants hit DST weekends often. */
function offsetChanges(timeZone: string): number[] {
  const formatter = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  const offsetAt = (ms: number) =>
    formatter.formatToParts(ms).find((part) => part.type === 'timeZoneName')?.value;
  const changes: number[] = [];
  for (let t = FIRST + DAY; t <= LAST; t += DAY) {
    if (offsetAt(t) !== offsetAt(t - DAY)) changes.push(t);
  }
  return changes;
}

const wholeMinuteArb = fc
  .integer({ min: FIRST / MINUTE, max: LAST / MINUTE })
  .map((minute) => minute * MINUTE);
/** Whole seconds: uniform over the years, around DST changes, and on quarter hours to hit openings and closings. */
function instantMsArb(timeZone: string): fc.Arbitrary<number> {
  const changes = offsetChanges(timeZone);
  const uniform = fc.integer({ min: FIRST / SECOND, max: LAST / SECOND }).map((second) => second * SECOND);
  const quarterHours = fc
    .integer({ min: FIRST / (15 * MINUTE), max: LAST / (15 * MINUTE) })
    .map((quarter) => quarter * 15 * MINUTE);
  if (changes.length === 0) return fc.oneof(uniform, quarterHours);
  const nearChange = fc
    .tuple(fc.constantFrom(...changes), fc.integer({ min: -4 * 24 * 4, max: 4 * 24 * 4 }))
    .map(([change, quarters]) => change + quarters * 15 * MINUTE);
  return fc.oneof(uniform, quarterHours, nearChange);
}
const instantArbs = new Map(cases.map((c) => [c, instantMsArb(c.calendar.timeZone)]));
function instantArbFor(c: (typeof cases)[number]): fc.Arbitrary<number> {
  const arb = instantArbs.get(c);
  if (arb === undefined) throw new Error(`no instants for ${c.name}`);
  return arb;
}
const caseArb = fc.constantFrom(...cases);
const caseAndInstantArb = caseArb.chain((c) => fc.tuple(fc.constant(c), instantArbFor(c)));
const minutesArb = fc.integer({ min: 0, max: 40 * 60 });
const hoursArb = fc.double({ min: 0, max: 40, noNaN: true, noDefaultInfinity: true }).map(Math.abs);
const millisArb = fc.integer({ min: 0, max: 999 });

describe('properties of adding business hours', () => {
  it('never moves the deadline earlier when the start moves later', () => {
    fc.assert(
      fc.property(caseAndInstantArb, fc.integer({ min: 0, max: 3 * DAY }), hoursArb, ([c, x], gap, hours) => {
        // Prepare
        const early = new Date(x);
        const late = new Date(x + gap);

        // Act
        const dues = [c.calendar.addBusinessHours(early, hours), c.calendar.addBusinessHours(late, hours)];

        // Assess
        expect(dues[0]?.getTime()).toBeLessThanOrEqual(dues[1]?.getTime() ?? Number.NaN);
      }),
      { numRuns: 300 },
    );
  });

  it('never moves the deadline earlier when more hours are added', () => {
    fc.assert(
      fc.property(caseAndInstantArb, millisArb, hoursArb, hoursArb, ([c, x], millis, a, b) => {
        // Prepare
        const start = new Date(x + millis);

        // Act
        const fewer = c.calendar.addBusinessHours(start, Math.min(a, b));
        const more = c.calendar.addBusinessHours(start, Math.max(a, b));

        // Assess
        expect(fewer.getTime()).toBeLessThanOrEqual(more.getTime());
      }),
      { numRuns: 300 },
    );
  });

  it('adds in steps exactly as in one go, for whole minutes', () => {
    fc.assert(
      fc.property(caseAndInstantArb, minutesArb, fc.integer({ min: 1, max: 40 * 60 }), ([c, x], a, b) => {
        // Prepare
        const start = new Date(x);

        // Act
        const stepwise = c.calendar.addBusinessHours(c.calendar.addBusinessHours(start, a / 60), b / 60);
        const atOnce = c.calendar.addBusinessHours(start, (a + b) / 60);

        // Assess
        expect(iso(stepwise)).toBe(iso(atOnce));
      }),
      { numRuns: 300 },
    );
  });

  it('lands in business time, or exactly at a closing time when hours were consumed, on a whole second', () => {
    fc.assert(
      fc.property(caseAndInstantArb, millisArb, hoursArb, ([c, x], millis, hours) => {
        // Prepare
        const start = new Date(x + millis);

        // Act
        const due = c.calendar.addBusinessHours(start, hours);

        // Assess
        const inside = c.calendar.isBusinessTime(due);
        const atClosing = !inside && c.calendar.isBusinessTime(new Date(due.getTime() - 1));
        expect(inside || (Math.round(hours * HOUR) > 0 && atClosing)).toBe(true);
        expect(due.getTime() % SECOND).toBe(0);
        expect(due.getTime()).toBeGreaterThanOrEqual(start.getTime());
      }),
      { numRuns: 300 },
    );
  });

  it('is undone by measuring: the hours between the start and the deadline are the hours added', () => {
    fc.assert(
      fc.property(caseAndInstantArb, minutesArb, ([c, x], minutes) => {
        // Prepare
        const start = new Date(x);

        // Act
        const due = c.calendar.addBusinessHours(start, minutes / 60);

        // Assess
        expect(c.calendar.businessHoursBetween(start, due)).toBe(minutes / 60);
      }),
      { numRuns: 300 },
    );
  });

  it('overshoots fractional hours by less than the one second it rounds up', () => {
    fc.assert(
      fc.property(caseAndInstantArb, millisArb, hoursArb, ([c, x], millis, hours) => {
        // Prepare
        const start = new Date(x + millis);

        // Act
        const due = c.calendar.addBusinessHours(start, hours);

        // Assess
        const overshoot =
          Math.round(c.calendar.businessHoursBetween(start, due) * HOUR) - Math.round(hours * HOUR);
        expect(overshoot).toBeGreaterThanOrEqual(0);
        expect(overshoot).toBeLessThan(SECOND);
      }),
      { numRuns: 300 },
    );
  });
});

describe('properties of the other methods', () => {
  it('returns the start itself when open, else a later opening with no business time before it', () => {
    fc.assert(
      fc.property(caseAndInstantArb, millisArb, ([c, x], millis) => {
        // Prepare
        const at = new Date(x + millis);

        // Act
        const start = c.calendar.nextBusinessStart(at);

        // Assess
        expect(c.calendar.isBusinessTime(start)).toBe(true);
        expect(c.calendar.businessHoursBetween(at, start)).toBe(0);
        expect(start.getTime() === at.getTime()).toBe(c.calendar.isBusinessTime(at));
      }),
      { numRuns: 300 },
    );
  });

  it('measures antisymmetrically and additively over consecutive intervals', () => {
    fc.assert(
      fc.property(
        caseAndInstantArb,
        fc.integer({ min: -5 * DAY, max: 5 * DAY }),
        fc.integer({ min: -5 * DAY, max: 5 * DAY }),
        ([c, x], toB, toC) => {
          // Prepare
          const [a, b, cc] = [new Date(x), new Date(x + toB), new Date(x + toB + toC)];
          const ms = (hours: number) => Math.round(hours * HOUR);

          // Act
          const ab = ms(c.calendar.businessHoursBetween(a, b));
          const ba = ms(c.calendar.businessHoursBetween(b, a));
          const bc = ms(c.calendar.businessHoursBetween(b, cc));
          const ac = ms(c.calendar.businessHoursBetween(a, cc));

          // Assess
          expect(ab + ba).toBe(0);
          expect(ab + bc).toBe(ac);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('starts each day at an instant that reads that date, after the previous day', () => {
    fc.assert(
      fc.property(caseAndInstantArb, ([c, x]) => {
        // Prepare
        const date = c.calendar.localDate(new Date(x));

        // Act
        const start = c.calendar.startOfDay(date);
        const next = c.calendar.startOfDay(date, 1);

        // Assess
        expect(c.calendar.localDate(start)).toBe(date);
        expect(c.calendar.localDate(new Date(start.getTime() - 1))).not.toBe(date);
        expect(start.getTime()).toBeLessThanOrEqual(x);
        expect(next.getTime()).toBeGreaterThan(x);
        expect([23, 24, 25]).toContain((next.getTime() - start.getTime()) / HOUR);
      }),
      { numRuns: 300 },
    );
  });
});

describe('agreement with the minute-by-minute reference', () => {
  const wholeMinuteCaseArb = caseArb.chain((c) =>
    fc.tuple(
      fc.constant(c),
      fc.oneof(
        wholeMinuteArb,
        instantArbFor(c).map((ms) => Math.floor(ms / MINUTE) * MINUTE),
      ),
    ),
  );

  it.each(cases)('agrees on business time, next start and deadlines in $name', (c) => {
    fc.assert(
      fc.property(
        instantArbFor(c).map((ms) => Math.floor(ms / MINUTE) * MINUTE),
        fc.integer({ min: 0, max: 12 * 60 }),
        (x, minutes) => {
          // Prepare
          const start = new Date(x);

          // Act
          const open = c.calendar.isBusinessTime(start);
          const next = c.calendar.nextBusinessStart(start).getTime();
          const due = c.calendar.addBusinessHours(start, minutes / 60).getTime();

          // Assess
          expect(open).toBe(c.reference.isBusinessMinute(x));
          expect(iso(new Date(next))).toBe(iso(new Date(c.reference.addMinutes(x, 0))));
          expect(iso(new Date(due))).toBe(iso(new Date(c.reference.addMinutes(x, minutes))));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('agrees on the business hours between two instants up to three days apart', () => {
    fc.assert(
      fc.property(wholeMinuteCaseArb, fc.integer({ min: 0, max: 3 * 24 * 60 }), ([c, x], span) => {
        // Prepare
        const to = x + span * MINUTE;

        // Act
        const hours = c.calendar.businessHoursBetween(new Date(x), new Date(to));

        // Assess
        expect(hours).toBe(c.reference.minutesBetween(x, to) / 60);
      }),
      { numRuns: 150 },
    );
  });

  it('agrees on the local date', () => {
    fc.assert(
      fc.property(wholeMinuteCaseArb, ([c, x]) => {
        // Prepare
        const formatter = new Intl.DateTimeFormat('en-CA', { timeZone: c.calendar.timeZone });

        // Act
        const date = c.calendar.localDate(new Date(x));

        // Assess
        expect(date).toBe(formatter.format(x));
      }),
      { numRuns: 200 },
    );
  });
});
