import type { RuleContext } from '#domain/backorder.ts';
import { BusinessCalendar } from '#domain/calendar.ts';
import { InvalidConfigError, type OrganisationConfig } from '#domain/organisation.ts';

/** Every time rule of the organisation, resolved against its business calendar. */
export interface Policy extends RuleContext {
  readonly noticeMode: 'immediate' | 'review';
  /** Review mode: when the owner is warned that the notice deadline approaches. */
  reviewWarningAt(learnedAt: Date): Date;
  /** Texts to people wait for business hours: the first instant at or after `at` when one may go. */
  textSlot(at: Date): Date;
  /** When the VP must hear of an open backorder: the start of the day N days past its original date. */
  vpDueAt(originalShipDate: string): Date;
}

/**
 * @throws InvalidConfigError when the configuration's public holidays were never listed as dates:
 *   without them every holiday would silently count as a working day.
 */
export function calendarFor(config: OrganisationConfig): BusinessCalendar {
  const { country, publicDates, extraDates } = config.holidays;
  if (publicDates === undefined) {
    throw new InvalidConfigError(
      `holidays.publicDates: missing; the build lists the public holidays of ${country} as dates (lib/holidays.ts) in the configuration a Lambda reads`,
    );
  }
  return new BusinessCalendar({
    timeZone: config.company.timeZone,
    workingDays: config.businessHours.days,
    hours: { start: config.businessHours.start, end: config.businessHours.end },
    publicHolidays: publicDates,
    extraHolidays: extraDates,
  });
}

export function policyFor(
  config: OrganisationConfig,
  calendar: BusinessCalendar = calendarFor(config),
): Policy {
  return {
    noticeMode: config.notices.mode,
    noticeDeadline: (learnedAt) => calendar.addBusinessHours(learnedAt, config.notices.slaBusinessHours),
    nextActionAfter: (updatedAt) =>
      calendar.addBusinessHours(updatedAt, config.nextAction.defaultBusinessHours),
    reviewWarningAt: (learnedAt) =>
      calendar.addBusinessHours(learnedAt, config.notices.reviewWarningBusinessHours),
    textSlot: (at) => calendar.nextBusinessStart(at),
    vpDueAt: (originalShipDate) =>
      calendar.startOfDay(originalShipDate, config.escalation.vpAfterDaysPastOriginal),
  };
}
