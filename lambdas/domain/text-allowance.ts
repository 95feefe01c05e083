import type { BusinessCalendar, IsoDate } from '#domain/calendar.ts';
import { textSummary } from '#domain/messages/texts.ts';

/**
 * The daily text allowance (`escalation.maxTextsPerPersonPerDay`): however busy a day, one person
 * receives at most that many SMS from Backorder Watch on it. A summary of a burst is one text.
 * Past the allowance nothing is dropped: the rest of the day's alerts reach the person by email,
 * one email per grouping window, as soon as they are due.
 *
 * A person's day is the calendar date, in the company's time zone, at the moment a text is sent.
 * Texts go out only within business hours (CONTRACT §2.6), so this is in effect the business day:
 * the allowance starts afresh at local midnight, before the next business-hours start.
 */

/** The date a text sent at `sentAt` counts against. */
export function allowanceDay(calendar: BusinessCalendar, sentAt: Date): IsoDate {
  return calendar.localDate(sentAt);
}

/**
 * How one batch of a person's texts goes out. `slot` is the number this SMS would be on the
 * person's day (1 for the first), taken atomically from the day's counter before sending, or
 * `undefined` when the counter refused because the day's allowance is spent.
 */
export type TextDelivery =
  /** One SMS: the text itself or a summary; `lastToday` when it uses the day's last slot. */
  | { channel: 'sms'; message: string; lastToday: boolean }
  /** The allowance is spent: the texts go by email instead. */
  | { channel: 'email' };

/** Appended to the day's last text, so the person knows where further alerts go. */
export const LAST_TEXT_NOTE = 'Daily text limit reached: more alerts today come by email.';

export function textDelivery(
  messages: readonly string[],
  slot: number | undefined,
  allowance: number,
): TextDelivery {
  if (!Number.isInteger(allowance) || allowance < 1) {
    throw new RangeError(`the daily allowance must be a positive integer, got ${allowance}`);
  }
  if (messages.length === 0) throw new RangeError('no texts to deliver');
  // A slot past the allowance cannot be taken; should one appear, the email is the safe side.
  if (slot === undefined || slot > allowance) return { channel: 'email' };
  if (!Number.isInteger(slot) || slot < 1) throw new RangeError(`a slot counts from 1, got ${slot}`);
  const message = textSummary(messages);
  // The note may take the last text to a second segment: once a day at most, and worth it.
  if (slot === allowance) return { channel: 'sms', message: `${message} ${LAST_TEXT_NOTE}`, lastToday: true };
  return { channel: 'sms', message, lastToday: false };
}
