import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErpEvent } from '#domain/events.ts';
import { closing, delayed } from '#test/support/erp-events.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';
import { captureLogs, linesWith, newTally, PERSONAL, personalData, saveTally, seeded } from './support.ts';

/*
 * Duplicates and replays: the ERP delivers every event 1 to 5 times (the same webhook id, as
 * Standard Webhooks retries do), up to three copies at the same moment, one more once the first
 * was processed and one three minutes later, re-signed. Each copy must get the first copy's
 * answer, and the customer and the manager must hear of each change exactly once (checked in the
 * outbox). The lines' events are four minutes apart, so that no two slips fall into one of the
 * manager's text-grouping windows (CONTRACT §2.7 would rightly merge them into one text).
 */

// Tuesday 2026-03-10, 09:00 in Chicago.
const START = Date.parse('2026-03-10T14:00:00Z');
const BACKORDERS = 12;
const STEP = 60 * 60_000;
const STAGGER = 4 * 60_000;
// The owner's manager in the sample configuration.
const MANAGER_EMAIL = 'priya.raman@svc.example';
const tally = newTally('duplicates');
const logs = captureLogs();
let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem(new Date(START).toISOString());
}, 180_000);

afterAll(async () => {
  logs.restore();
  await system?.stop();
  saveTally(tally);
});

const at = (offset: number) => new Date(START + offset).toISOString();

/** open → slipped (manager) → improved → slipped again (manager) → shipped for every other line. */
function eventsOf(orderId: string, index: number): ErpEvent[] {
  const when = (step: number) => at(step * STEP + index * STAGGER);
  const key = {
    orderId,
    lineId: '1',
    originalShipDate: '2026-03-20',
    customer: {
      id: 'C-REL',
      name: 'Reliability Fabrication',
      email: PERSONAL.customerEmail,
      phone: PERSONAL.customerPhone,
    },
    owner: { id: 'U-17', name: 'Dana Ortiz', email: PERSONAL.ownerEmail, phone: PERSONAL.ownerPhone },
  };
  const events: ErpEvent[] = [
    delayed(when(0), '2026-03-27', key),
    delayed(when(1), '2026-04-03', key),
    delayed(when(2), '2026-03-31', key),
    delayed(when(3), '2026-04-10', key),
  ];
  if (index % 2 === 0) events.push(closing('backorder.shipped', when(4), key));
  return events;
}

describe('every event delivered 1 to 5 times, some copies at once', () => {
  const random = seeded(9);
  const orders = Array.from({ length: BACKORDERS }, (_, index) => `SO-DUP-${index}`);
  const plan = orders.map((orderId, index) =>
    eventsOf(orderId, index).map((event, step) => ({
      event,
      id: `msg_dup_${index}_${step}`,
      copies: 1 + Math.floor(random() * 5),
    })),
  );
  const answers = new Map<string, Array<{ status: number; body: Record<string, unknown> }>>();

  async function deliver(event: ErpEvent, id: string) {
    const answer = await system.post(event, { id });
    tally.deliveries += 1;
    if (answer.status >= 500) tally.serverErrors += 1;
    answers.set(id, [...(answers.get(id) ?? []), answer]);
  }

  it('answers every copy with the first copy’s answer', async () => {
    for (let step = 0; step < 5; step++) {
      for (const [index, events] of plan.entries()) {
        const planned = events[step];
        if (!planned) continue;
        const { event, id, copies } = planned;
        await system.advanceTo(at(step * STEP + index * STAGGER));
        tally.eventsSent += 1;
        // Up to three copies at the same moment…
        await Promise.all(Array.from({ length: Math.min(copies, 3) }, () => deliver(event, id)));
        await system.advance();
        // …one more once the first was processed, and the last three minutes later, re-signed.
        if (copies > 3) await deliver(event, id);
        await system.advance('PT3M');
        if (copies > 4) await deliver(event, id);
        await system.advance();
      }
    }
    tally.duplicatedDeliveries = tally.deliveries - tally.eventsSent;

    for (const [id, copies] of answers) {
      const [first] = copies;
      expect(first?.status, id).toBe(202);
      for (const copy of copies) expect(copy, id).toEqual(first);
    }
    expect(tally.duplicatedDeliveries).toBeGreaterThan(BACKORDERS);
  });

  it('tells the customer of each change once and the manager of each slip once', async () => {
    const outbox = await system.outbox();
    for (const [index, orderId] of orders.entries()) {
      const emails = outbox.emails.filter(
        (email) => email.to.includes(PERSONAL.customerEmail) && email.subject.includes(`${orderId} line`),
      );
      // 24 slips in a day reach the manager: past the 20 texts a day allowed, they come by email.
      const texts = [
        ...outbox.texts
          .filter((text) => text.audience === 'manager' && text.message.includes(`${orderId} line`))
          .map((text) => ({ message: text.message })),
        ...outbox.emails
          .filter((email) => email.to.includes(MANAGER_EMAIL))
          .flatMap((email) => email.text.split('\n'))
          .filter((line) => line.startsWith(`Backorder ${orderId} line`))
          .map((message) => ({ message })),
      ];
      const distinctEmails = new Set(emails.map((email) => email.subject));
      const distinctTexts = new Set(texts.map((text) => text.message));
      tally.noticesExpected += 4 + 2;
      tally.noticesSent += emails.length + texts.length;
      tally.noticesSentTwice += emails.length - distinctEmails.size + texts.length - distinctTexts.size;
      tally.noticesMissing += Math.max(0, 4 - distinctEmails.size) + Math.max(0, 2 - distinctTexts.size);

      expect(emails.map((email) => email.subject).sort(), orderId).toHaveLength(4);
      expect(distinctEmails.size, orderId).toBe(4);
      expect(texts, orderId).toHaveLength(2);
      expect(distinctTexts.size, orderId).toBe(2);

      const { body } = await system.get(`/v1/backorders/${orderId}/1`);
      expect((body.timeline as unknown[]).length, orderId).toBe(index % 2 === 0 ? 5 : 4);
      expect(body).toMatchObject({
        status: index % 2 === 0 ? 'closed' : 'open',
        expectedShipDate: '2026-04-10',
        slipCount: 3,
      });
    }
    expect(tally.noticesSentTwice).toBe(0);
    expect(tally.noticesMissing).toBe(0);
    expect(tally.serverErrors).toBe(0);
  });

  it('writes no customer or owner contact detail to any log line', () => {
    const lines = logs.lines();
    tally.logLines += lines.length;
    expect(linesWith(lines, personalData)).toEqual([]);
  });
});
