import { describe, expect, it } from 'vitest';
import { BusinessCalendar } from '#domain/calendar.ts';
import { SMS_LIMIT, textSummary, textsByEmail } from '#domain/messages.ts';
import { allowanceDay, LAST_TEXT_NOTE, textDelivery } from '#domain/text-allowance.ts';

/* The daily text allowance (escalation.maxTextsPerPersonPerDay): which day a text counts against and how a batch goes out. */

const chicago = new BusinessCalendar({
  timeZone: 'America/Chicago',
  workingDays: [1, 2, 3, 4, 5],
  hours: { start: '08:00', end: '17:00' },
});
const company = { name: 'Gulf Plains Steel Service', locale: 'en-US', timeZone: 'America/Chicago' };
const slip = (order: string) =>
  `Backorder ${order} line 1 slipped again: Mar 22 -> Mar 29, 14 days late. Lone Star Fabrication, HRC. Owner: Dana Ortiz.`;

describe('the day a text counts against', () => {
  it('is the company’s calendar date, not UTC’s', () => {
    // 19:30 Monday in Chicago (CDT, UTC-5) is already Tuesday in UTC.
    expect(allowanceDay(chicago, new Date('2026-03-10T00:30:00Z'))).toBe('2026-03-09');
    expect(allowanceDay(chicago, new Date('2026-03-10T04:59:59Z'))).toBe('2026-03-09');
    expect(allowanceDay(chicago, new Date('2026-03-10T05:00:00Z'))).toBe('2026-03-10');
  });

  it('starts afresh at local midnight across a DST change', () => {
    // 2026-03-08: clocks go forward at 02:00 in Chicago, so midnight is 06:00Z before and 05:00Z after.
    expect(allowanceDay(chicago, new Date('2026-03-08T05:59:59Z'))).toBe('2026-03-07');
    expect(allowanceDay(chicago, new Date('2026-03-08T06:00:00Z'))).toBe('2026-03-08');
    expect(allowanceDay(chicago, new Date('2026-03-09T04:59:59Z'))).toBe('2026-03-08');
    expect(allowanceDay(chicago, new Date('2026-03-09T05:00:00Z'))).toBe('2026-03-09');
  });

  it('covers the whole of a business day, opening to close', () => {
    const opening = allowanceDay(chicago, new Date('2026-03-10T13:00:00Z'));
    const close = allowanceDay(chicago, new Date('2026-03-10T22:59:59Z'));
    expect(opening).toBe('2026-03-10');
    expect(close).toBe(opening);
  });
});

describe('how a batch goes out', () => {
  const one = [slip('SO-1')];
  const three = [slip('SO-1'), slip('SO-2'), slip('SO-3')];

  it('texts a single alert as it is while slots are left', () => {
    for (const slot of [1, 2, 19]) {
      expect(textDelivery(one, slot, 20)).toEqual({
        channel: 'sms',
        message: textSummary(one),
        lastToday: false,
      });
    }
  });

  it('texts a burst as one summary', () => {
    expect(textDelivery(three, 1, 20)).toEqual({
      channel: 'sms',
      message: textSummary(three),
      lastToday: false,
    });
    expect(textSummary(three)).toMatch(/^3 backorder alerts/);
  });

  it('says on the day’s last text that further alerts come by email', () => {
    const last = textDelivery(three, 20, 20);
    expect(last).toEqual({
      channel: 'sms',
      message: `${textSummary(three)} ${LAST_TEXT_NOTE}`,
      lastToday: true,
    });
    // At most one extra segment, once a day.
    if (last.channel === 'sms') expect(last.message.length).toBeLessThanOrEqual(2 * SMS_LIMIT);
  });

  it('treats an allowance of one as every text being the last', () => {
    expect(textDelivery(one, 1, 1)).toMatchObject({ channel: 'sms', lastToday: true });
    expect(textDelivery(one, undefined, 1)).toEqual({ channel: 'email' });
  });

  it('emails once the allowance is spent', () => {
    expect(textDelivery(one, undefined, 20)).toEqual({ channel: 'email' });
    expect(textDelivery(three, undefined, 3)).toEqual({ channel: 'email' });
  });

  it('never texts past the allowance, whatever slot it is handed', () => {
    expect(textDelivery(one, 21, 20)).toEqual({ channel: 'email' });
    expect(textDelivery(one, 1_000, 20)).toEqual({ channel: 'email' });
  });

  it('sends exactly the allowance by SMS over a day of slots, and the rest by email', () => {
    const allowance = 5;
    const channels = [1, 2, 3, 4, 5, undefined, undefined].map(
      (slot) => textDelivery(one, slot, allowance).channel,
    );
    expect(channels.filter((channel) => channel === 'sms')).toHaveLength(allowance);
    expect(channels.slice(allowance)).toEqual(['email', 'email']);
  });

  it('refuses nonsense instead of guessing', () => {
    expect(() => textDelivery([], 1, 20)).toThrow(RangeError);
    expect(() => textDelivery(one, 0, 20)).toThrow(RangeError);
    expect(() => textDelivery(one, 1.5, 20)).toThrow(RangeError);
    expect(() => textDelivery(one, 1, 0)).toThrow(RangeError);
    expect(() => textDelivery(one, 1, 2.5)).toThrow(RangeError);
  });
});

describe('the email past the allowance', () => {
  it('carries every alert of the window word for word and says why it is an email', () => {
    const messages = [slip('SO-1'), slip('SO-2')];
    const email = textsByEmail(messages, 20, company);
    expect(email.subject).toBe('2 backorder alerts');
    expect(email.text).toContain("You have had today's 20 texts from Backorder Watch");
    expect(email.text).toContain('Texts start again tomorrow.');
    for (const message of messages) expect(email.text).toContain(message);
    expect(email.html).toContain('SO-2 line 1 slipped again');
  });

  it('takes a single alert’s words as its subject', () => {
    const email = textsByEmail([slip('SO-1')], 1, company);
    expect(email.subject).toMatch(/^Backorder SO-1 line 1 slipped again/);
    expect(email.subject.length).toBeLessThanOrEqual(120);
    expect(email.text).toContain(
      "You have had today's text from Backorder Watch, so this alert comes by email",
    );
  });

  it('escapes what the alerts carry from the ERP', () => {
    const email = textsByEmail(['Backorder SO-<1> line 1 slipped again: "A & B".'], 3, company);
    expect(email.html).toContain('SO-&lt;1&gt;');
    expect(email.html).not.toContain('SO-<1>');
  });

  it('refuses an empty window', () => {
    expect(() => textsByEmail([], 20, company)).toThrow(RangeError);
  });
});
