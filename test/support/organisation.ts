import { readFileSync } from 'node:fs';
import { type HolidayYears, writeBundledConfig } from '#lib/holidays.ts';

/**
 * The years whose public holidays the tests' configurations list: fixed, so that no test depends
 * on today's date, and wide enough for fixtures dated 2024–2031 and the five-year searches from them.
 */
export const TEST_HOLIDAY_YEARS: HolidayYears = { firstYear: 2020, lastYear: 2040 };

/** The sample configuration as a Lambda bundles it: its public holidays listed as dates. */
export const SAMPLE_CONFIG_FILE = writeBundledConfig('config/organisation.sample.json', TEST_HOLIDAY_YEARS);

/** {@link SAMPLE_CONFIG_FILE} as JSON, for tests that vary it before parsing. */
export function readSampleConfig() {
  return JSON.parse(readFileSync(SAMPLE_CONFIG_FILE, 'utf8'));
}
