import { readFileSync } from 'node:fs';
import type { CounterChanges } from '#adapters/backorder-store.ts';
import type { BusinessCalendar } from '#domain/calendar.ts';
import { counterDeltas, groupDeltas, monthOf } from '#domain/insights.ts';
import { type OrganisationConfig, parseOrganisationConfig } from '#domain/organisation.ts';
import { calendarFor, type Policy, policyFor } from '#domain/policy.ts';

export interface Organisation {
  config: OrganisationConfig;
  calendar: BusinessCalendar;
  policy: Policy;
  /** The insight counters a record change adds to, by company-local month. */
  counterChanges: CounterChanges;
}

/** Loads and validates the organisation configuration file (bundled with each Lambda). */
export function loadOrganisation(path: string): Organisation {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the organisation configuration ${path}: ${(error as Error).message}`);
  }
  const config = parseOrganisationConfig(raw, path);
  const calendar = calendarFor(config);
  const month = monthOf(calendar);
  const localDate = (instant: Date) => calendar.localDate(instant);
  return {
    config,
    calendar,
    policy: policyFor(config, calendar),
    counterChanges: (before, after) => groupDeltas(counterDeltas(before, after, month, localDate)),
  };
}
