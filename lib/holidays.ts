import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Holidays from 'date-holidays';
import type { PublicHolidays } from '#domain/calendar.ts';
import {
  InvalidConfigError,
  type OrganisationConfig,
  parseOrganisationConfig,
} from '#domain/organisation.ts';

/**
 * The organisation configuration names a holiday region; the Lambdas get its public holidays as
 * dates. `date-holidays` (and the `moment-timezone` it brings, 1.2 MB together) runs here, at
 * synth and when the local runtime starts, and ships in no bundle.
 */

/** The years whose public holidays are listed. */
export interface HolidayYears {
  readonly firstYear: number;
  readonly lastYear: number;
}

/** Years listed before the current one: an ERP event may report a delay learned before New Year. */
const YEARS_BEHIND = 1;
/**
 * Years listed after the current one. Deadlines reach days ahead, never more than weeks, but a
 * deployed Lambda keeps the dates it was deployed with until the next deployment, so the window
 * must outlast the time between two deployments. Ten years cost about 2 KB of dates; past them
 * the calendar throws rather than counting holidays as working days, and a redeploy extends it.
 */
const YEARS_AHEAD = 10;

/** The years to list for a deployment (or a local run) whose clock reads `now`. */
export function holidayYearsAround(now: Date): HolidayYears {
  const year = now.getUTCFullYear();
  return { firstYear: year - YEARS_BEHIND, lastYear: year + YEARS_AHEAD };
}

function holidaysOf(region: { country: string; state?: string }): Holidays {
  const registry = new Holidays();
  const country = region.country.toUpperCase();
  if (!Object.hasOwn(registry.getCountries(), country)) {
    throw new InvalidConfigError(`Unknown holiday country ${JSON.stringify(region.country)}`);
  }
  // `public` is, for the US, the federal holidays including observed days.
  if (region.state === undefined || region.state === '') return new Holidays(country, { types: ['public'] });
  const state = region.state.toUpperCase();
  if (!Object.hasOwn(registry.getStates(country) ?? {}, state)) {
    throw new InvalidConfigError(
      `Unknown holiday state ${JSON.stringify(region.state)} for country ${country}`,
    );
  }
  return new Holidays(country, state, { types: ['public'] });
}

/**
 * The public holidays of a country (and optionally a state, both case-insensitive), each filed in
 * the year it is observed in, complete for every year of `years`.
 * @throws InvalidConfigError for an unknown country or state.
 */
export function listPublicHolidays(
  region: { country: string; state?: string },
  years: HolidayYears,
): PublicHolidays {
  const holidays = holidaysOf(region);
  const dates = new Set<string>();
  // A year either side: an observed day may fall in the year before its holiday (New Year's Day
  // 2028 is a Saturday, observed on Friday 2027-12-31).
  for (let year = years.firstYear - 1; year <= years.lastYear + 1; year++) {
    for (const holiday of holidays.getHolidays(year)) {
      // Part-day holidays (e.g. from 14:00) count as whole days: the business closes for the day.
      const date = holiday.date.slice(0, 10);
      const observedIn = Number(date.slice(0, 4));
      if (observedIn >= years.firstYear && observedIn <= years.lastYear) dates.add(date);
    }
  }
  return { firstYear: years.firstYear, lastYear: years.lastYear, dates: [...dates].sort() };
}

/** The configuration as a Lambda reads it: the region's public holidays listed as dates. */
export function withPublicHolidays(config: OrganisationConfig, years: HolidayYears): OrganisationConfig {
  return {
    ...config,
    holidays: { ...config.holidays, publicDates: listPublicHolidays(config.holidays, years) },
  };
}

/**
 * Validates a configuration file and writes it as a Lambda reads it ({@link withPublicHolidays})
 * to a file named after its content in the temp directory, where bundling copies it from and the
 * local runtime reads it; equal content shares one file, so repeated synths and test runs agree.
 * @returns the written file's path
 * @throws InvalidConfigError for an invalid configuration or an unknown holiday region.
 */
export function writeBundledConfig(configFile: string, years: HolidayYears): string {
  const config = parseOrganisationConfig(JSON.parse(readFileSync(configFile, 'utf8')), configFile);
  const text = `${JSON.stringify(withPublicHolidays(config, years), null, 2)}\n`;
  const dir = join(tmpdir(), 'backorder-watch-config');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `organisation-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  // Written aside and renamed into place, so a concurrent reader never sees half a file.
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, text);
  renameSync(partial, file);
  return file;
}
