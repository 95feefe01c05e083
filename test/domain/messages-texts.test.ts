import { describe, expect, it } from 'vitest';
import { applyEvent, type Backorder, type RuleContext } from '#domain/backorder.ts';
import type { BackorderEvent, DelayedData } from '#domain/events.ts';
import {
  managerSlipText,
  ownerReminderText,
  SMS_LIMIT,
  smsSafe,
  textSummary,
  vpText,
} from '#domain/messages.ts';
import { delayed, erpFixture } from '#test/support/erp-events.ts';

const HOUR = 3_600_000;
// Fixed offsets: these tests are about wording, not the business calendar.
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};

// The fixture delay, typed as a delay (the fixture reader returns any ERP event).
const opening = delayed(erpFixture('backorder.delayed').occurredAt, '2026-03-22');

function replay(...events: BackorderEvent[]): Backorder {
  let record: Backorder | undefined;
  for (const event of events) record = applyEvent(record, event, rules).record;
  if (!record) throw new Error('no events');
  return record;
}

const opened = replay(opening);
const slippedTwice = replay(opening, delayed('2026-03-12T10:00:00-05:00', '2026-03-29'));
const slippedThrice = replay(
  opening,
  delayed('2026-03-12T10:00:00-05:00', '2026-03-29'),
  delayed('2026-03-13T10:00:00-05:00', '2026-03-25'),
  delayed('2026-03-16T10:00:00-05:00', '2026-04-03'),
);

/** A line of another order, as a mill delay touching several customers would bring. */
function otherLine(orderId: string, lineId: string, data: Partial<DelayedData> = {}): Backorder {
  return replay(
    delayed(opening.occurredAt, '2026-03-22', { orderId, lineId, ...data }),
    delayed('2026-03-12T10:00:00-05:00', '2026-03-29', { orderId, lineId, ...data }),
  );
}

const longWinded: Partial<DelayedData> = {
  customer: {
    ...opening.data.customer,
    name: 'Lone Star Fabrication and Structural Steel Erectors of Greater Houston LLC',
  },
  item: {
    sku: 'HRC-0188-48',
    description:
      '3/16" HRC 48" x 96" ASTM A1011 CS Type B hot-rolled pickled and oiled, cut to length, mill edge',
  },
  owner: { ...opening.data.owner, name: 'Dana Ortiz-Villanueva' },
};

describe('the manager text when a line slips again', () => {
  it('names the order line, both dates, how late, the customer, the item and the owner', () => {
    // Act
    const text = managerSlipText(slippedTwice, 2);

    // Assess
    expect(text).toBe(
      'Backorder SO-10042 line 3 slipped again: Mar 22 -> Mar 29, 14 days late. ' +
        'Lone Star Fabrication, 3/16" HRC 48" x 96". Owner: Dana Ortiz.',
    );
    expect(text.length).toBeLessThanOrEqual(SMS_LIMIT);
  });

  it('names the dates of the slip it is about, and counts it, even after the line moved on', () => {
    // Act
    const second = managerSlipText(slippedThrice, 2);
    const third = managerSlipText(slippedThrice, 3);

    // Assess
    expect(second).toContain('slipped again: Mar 22 -> Mar 29, 14 days late');
    expect(third).toContain('slipped again (3rd delay): Mar 25 -> Apr 3, 19 days late');
  });

  it('shortens a long description and customer name to stay within one SMS', () => {
    // Prepare
    const record = otherLine('SO-10042', '3', longWinded);

    // Act
    const text = managerSlipText(record, 2);

    // Assess
    expect(text.length).toBeLessThanOrEqual(SMS_LIMIT);
    expect(text).toMatch(
      /^Backorder SO-10042 line 3 slipped again: Mar 22 -> Mar 29, 14 days late\. Lone Star Fabrication\.\.\., 3\/16" HRC 48" x 96"[^.]*\.\.\. Owner: Dana Ortiz-Villanueva\.$/,
    );
  });

  it('cuts the tail, never the order line, when even the shortest form is too long', () => {
    // Prepare
    const record = otherLine('SO-10042-BLANKET-2026-HOUSTON-YARD-RELEASE-0042', '3', {
      ...longWinded,
      owner: { ...opening.data.owner, name: 'Dana Alejandra Ortiz-Villanueva de la Fuente y Castillo' },
    });

    // Act
    const text = managerSlipText(record, 2);

    // Assess
    expect(text.length).toBeLessThanOrEqual(SMS_LIMIT);
    expect(text).toMatch(/^Backorder SO-10042-BLANKET-2026-HOUSTON-YARD-RELEASE-0042 line 3 slipped again/);
    expect(text.endsWith('...')).toBe(true);
  });

  it('keeps to the GSM-7 alphabet, so a 160-character text is one segment', () => {
    // Prepare
    const record = otherLine('SO-10050', '1', {
      customer: { ...opening.data.customer, name: 'O’Brien Steel — Dallas' },
      item: { sku: 'X', description: '“Prime” plate…' },
    });

    // Act
    const text = managerSlipText(record, 2);

    // Assess
    expect(text).toContain('O\'Brien Steel - Dallas, "Prime" plate...');
    expect(text).toMatch(/^[\x20-\x7e]*$/);
  });
});

describe('the VP text', () => {
  it('says how far past the original date the line is, with its value and owner', () => {
    // Act
    const text = vpText(slippedTwice, 14);

    // Assess
    expect(text).toBe(
      'Backorder SO-10042 line 3 is 14 days late: promised Mar 15, now Mar 29 (2 delays). ' +
        'Lone Star Fabrication, 3/16" HRC 48" x 96", $18,400.00. Owner: Dana Ortiz.',
    );
    expect(text.length).toBeLessThanOrEqual(SMS_LIMIT);
  });

  it('drops the order value before it drops the order line when room runs out', () => {
    // Prepare
    const record = otherLine('SO-10042', '3', longWinded);

    // Act
    const text = vpText(record, 15);

    // Assess
    expect(text.length).toBeLessThanOrEqual(SMS_LIMIT);
    expect(text).toMatch(/^Backorder SO-10042 line 3 is 15 days late: /);
    expect(text).not.toContain('$18,400.00');
  });

  it('writes dates in the given locale', () => {
    // Act
    const text = vpText(slippedTwice, 14, { locale: 'de-DE' });

    // Assess
    expect(text).toContain('promised 15. März, now 29. März');
  });
});

describe('the owner reminder text', () => {
  it('asks for an update and names the line, its dates and the customer', () => {
    // Act
    const text = ownerReminderText(opened);

    // Assess
    expect(text).toBe(
      'Backorder SO-10042 line 3 is due for an update: ships Mar 22, promised Mar 15. ' +
        'Lone Star Fabrication, 3/16" HRC 48" x 96". Post your next step in the ERP.',
    );
    expect(text.length).toBeLessThanOrEqual(SMS_LIMIT);
  });
});

describe('summarising a burst of texts for one person', () => {
  it('passes a single text through as it is', () => {
    // Prepare
    const text = managerSlipText(slippedTwice, 2);

    // Act
    const summary = textSummary([text]);

    // Assess
    expect(summary).toBe(text);
  });

  it('lists the order lines grouped by what happened, in one SMS', () => {
    // Prepare
    const texts = [
      managerSlipText(slippedTwice, 2),
      managerSlipText(otherLine('SO-10043', '1'), 2),
      vpText(otherLine('SO-10050', '2'), 14),
    ];

    // Act
    const summary = textSummary(texts);

    // Assess
    expect(summary).toBe(
      '3 backorder alerts. Slipped again: SO-10042 line 3, SO-10043 line 1. ' +
        '14 days late: SO-10050 line 2.',
    );
    expect(summary.length).toBeLessThanOrEqual(SMS_LIMIT);
  });

  it('lists as many lines as fit and counts the rest', () => {
    // Prepare
    const texts = Array.from({ length: 12 }, (_, index) =>
      managerSlipText(otherLine(`SO-${20000 + index}`, '1'), 2),
    );

    // Act
    const summary = textSummary(texts);

    // Assess
    expect(summary.length).toBeLessThanOrEqual(SMS_LIMIT);
    expect(summary).toMatch(
      /^12 backorder alerts\. Slipped again: SO-20000 line 1, SO-20001 line 1, .*\. \+\d+ more\.$/,
    );
    const listed = summary.match(/SO-\d+ line 1/g) ?? [];
    const more = Number(/\+(\d+) more/.exec(summary)?.[1]);
    expect(listed.length + more).toBe(12);
  });

  it('keeps texts it did not write, shortened', () => {
    // Act
    const summary = textSummary([
      'Welcome to Backorder Watch — you will get alerts here.',
      'The ERP link is down since 6:00 and backorders are not being updated, please check',
      ownerReminderText(opened),
    ]);

    // Assess
    expect(summary).toBe(
      '3 backorder alerts. Welcome to Backorder Watch - you will get alerts here. ' +
        'The ERP link is down since 6:00 and backorders are not... +1 more.',
    );
  });

  it('still counts the rest when even one entry is too long', () => {
    // Prepare
    // Longer than the ERP allows, as a caller's own text could be.
    const texts = [
      `Backorder SO-${'9'.repeat(140)} line 1 slipped again: details.`,
      ownerReminderText(opened),
    ];

    // Act
    const summary = textSummary(texts);

    // Assess
    expect(summary.length).toBeLessThanOrEqual(SMS_LIMIT);
    expect(summary).toMatch(/^2 backorder alerts\. Slipped again: SO-9+\.\.\. \+1 more\.$/);
  });

  it('refuses an empty burst', () => {
    expect(() => textSummary([])).toThrow(RangeError);
  });
});

describe('GSM-7 clean-up', () => {
  it('replaces typographic characters and leaves everything else', () => {
    expect(smsSafe('Mar 22 → Mar 29 — “late” ‘again’ …\u00a0ok −5 Zürich')).toBe(
      'Mar 22 -> Mar 29 - "late" \'again\' ... ok -5 Zürich',
    );
  });
});

describe('what a person reads: file snapshots of every text', () => {
  const texts: Record<string, string> = {
    'text-manager-slip': managerSlipText(slippedTwice, 2),
    'text-manager-slip-third': managerSlipText(slippedThrice, 3),
    'text-vp': vpText(slippedTwice, 14),
    'text-owner-reminder': ownerReminderText(opened),
    'text-summary': textSummary([
      managerSlipText(slippedTwice, 2),
      managerSlipText(otherLine('SO-10043', '1'), 2),
      vpText(otherLine('SO-10050', '2'), 14),
    ]),
  };

  for (const [name, text] of Object.entries(texts)) {
    it(`renders ${name} as it will read`, async () => {
      await expect(`${text}\n`).toMatchFileSnapshot(`./__snapshots__/messages/${name}.txt`);
    });
  }
});
