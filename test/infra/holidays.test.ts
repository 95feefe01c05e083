import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrganisation } from '#adapters/organisation.ts';
import { InvalidConfigError } from '#domain/organisation.ts';
import { holidayYearsAround, writeBundledConfig } from '#lib/holidays.ts';

const SAMPLE = 'config/organisation.sample.json';

describe('the configuration each Lambda bundles', () => {
  it('lists holidays from the year before the deployment to ten years after it', () => {
    // Act
    const years = holidayYearsAround(new Date('2026-11-30T12:00:00Z'));

    // Assess
    expect(years).toEqual({ firstYear: 2025, lastYear: 2036 });
  });

  it('carries the region’s public holidays as dates, which the Lambda’s calendar reads', () => {
    // Prepare
    const years = { firstYear: 2026, lastYear: 2027 };

    // Act
    const file = writeBundledConfig(SAMPLE, years);
    const bundled = JSON.parse(readFileSync(file, 'utf8'));
    const { calendar } = loadOrganisation(file);

    // Assess: US federal holidays, with New Year's Day 2028 observed on Friday 2027-12-31.
    expect(bundled.holidays).toMatchObject({ country: 'US', publicDates: years });
    expect(bundled.holidays.publicDates.dates).toEqual(
      expect.arrayContaining(['2026-01-19', '2026-07-03', '2026-11-26', '2027-12-24', '2027-12-31']),
    );
    expect(bundled.holidays.publicDates.dates).not.toContain('2026-02-14');
    expect(calendar.isBusinessDay('2026-07-03')).toBe(false);
    expect(() => calendar.isBusinessDay('2028-01-03')).toThrow('known for 2026–2027 only');
  });

  it('writes equal content to one file, so repeated synths and test runs agree', () => {
    // Act
    const files = [0, 1].map(() => writeBundledConfig(SAMPLE, { firstYear: 2026, lastYear: 2027 }));

    // Assess
    expect(files[0]).toBe(files[1]);
    expect(writeBundledConfig(SAMPLE, { firstYear: 2026, lastYear: 2028 })).not.toBe(files[0]);
  });

  it('refuses an unknown holiday region at synth, as an invalid configuration', () => {
    // Prepare
    const sample = JSON.parse(readFileSync(SAMPLE, 'utf8'));
    const file = join(mkdtempSync(join(tmpdir(), 'backorder-watch-config-')), 'organisation.json');
    writeFileSync(file, JSON.stringify({ ...sample, holidays: { country: 'ZZ' } }));

    // Act
    const act = () => writeBundledConfig(file, { firstYear: 2026, lastYear: 2027 });

    // Assess
    expect(act).toThrow(InvalidConfigError);
    expect(act).toThrow('Unknown holiday country "ZZ"');
  });
});
