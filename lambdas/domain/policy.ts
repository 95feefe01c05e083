import type { RuleContext } from '#domain/backorder.ts';
import { BusinessCalendar } from '#domain/calendar.ts';
import type { OrganisationConfig } from '#domain/organisation.ts';

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

export function calendarFor(config: OrganisationConfig): BusinessCalendar {
  return new BusinessCalendar({
    timeZone: config.company.timeZone,
    workingDays: config.businessHours.days,
    hours: { start: config.businessHours.start, end: config.businessHours.end },
    holidays: { country: config.holidays.country, state: config.holidays.state },
    extraHolidays: config.holidays.extraDates,
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
