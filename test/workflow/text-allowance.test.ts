import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAST_TEXT_NOTE } from '#domain/text-allowance.ts';
import { delayed } from '#test/support/erp-events.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';

/*
 * The daily text allowance on the whole local system (timer step, text queue, batch state
 * machine, SNS and SES): with an allowance of two texts a day, a manager whose lines slip in four
 * grouping windows gets two texts, and the alerts of the other windows by email, each once.
 */

// Tuesday 2026-03-10, 09:00 in Chicago.
const START = Date.parse('2026-03-10T14:00:00Z');
const MINUTE = 60_000;
const MANAGER_PHONE = '+15125550101';
const MANAGER_EMAIL = 'priya.raman@svc.example';
let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem(new Date(START).toISOString(), 'test/fixtures/config/text-allowance.json');
}, 180_000);

afterAll(async () => {
  await system?.stop();
});

describe('the daily text allowance', () => {
  it('texts the manager the allowance, then emails every further slip exactly once', async () => {
    const lines = [1, 2, 3, 4, 5].map((n) => ({
      orderId: `SO-CAP${n}`,
      lineId: '1',
      originalShipDate: '2026-03-20',
    }));
    const at = (offset: number) => new Date(START + offset).toISOString();
    await Promise.all(lines.map((key) => system.post(delayed(at(0), '2026-03-27', key))));
    await system.advance('PT5M');
    // Slips in four windows ten minutes apart; the second is a burst of two lines.
    const windows = [[lines[0]], [lines[1], lines[2]], [lines[3]], [lines[4]]];
    for (const [index, group] of windows.entries()) {
      const when = at((index + 1) * 10 * MINUTE);
      await system.advanceTo(when);
      await Promise.all(group.map((key) => system.post(delayed(when, '2026-04-03', key))));
      await system.advance('PT5M');
    }
    // A retried ERP delivery of the last slip changes nothing.
    await system.post(delayed(at(40 * MINUTE), '2026-04-03', lines[4]));
    await system.advance('PT1H');

    const outbox = await system.outbox();
    const texts = outbox.texts.filter((text) => text.audience === 'manager');
    const emails = outbox.emails.filter((email) => email.to.includes(MANAGER_EMAIL));
    expect(texts.map((text) => text.to)).toEqual([[MANAGER_PHONE], [MANAGER_PHONE]]);
    expect(texts[0]?.message).toMatch(/^Backorder SO-CAP1 line 1 slipped again/);
    expect(texts[1]?.message).toMatch(/^2 backorder alerts/);
    expect(texts[1]?.message.endsWith(LAST_TEXT_NOTE)).toBe(true);
    expect(emails.map((email) => email.subject)).toEqual([
      expect.stringMatching(/^Backorder SO-CAP4 line 1 slipped again/),
      expect.stringMatching(/^Backorder SO-CAP5 line 1 slipped again/),
    ]);
    for (const { orderId } of lines) {
      const names = (body: string) => body.includes(`${orderId} line 1`);
      const heard =
        texts.filter((text) => names(text.message)).length +
        emails.filter((email) => names(email.text)).length;
      expect(heard, orderId).toBe(1);
    }
  });
});
