import { describe, expect, it } from 'vitest';
import { applyEvent, type Backorder, backorderId, type RuleContext } from '#domain/backorder.ts';
import { BusinessCalendar } from '#domain/calendar.ts';
import { planMorningReview, renderMorningReview, reviewEntry } from '#domain/review.ts';
import { delayed } from '#test/support/erp-events.ts';

/*
 * The review planned from entries and written from records read afterwards (the handler's two
 * reads): a line that changed in between is written as it is now, where the plan placed it.
 */

const HOUR = 3_600_000;
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};
const calendar = new BusinessCalendar({
  timeZone: 'America/Chicago',
  workingDays: [1, 2, 3, 4, 5],
  hours: { start: '08:00', end: '17:00' },
});
const lastReviewAt = new Date('2026-03-24T12:30:00Z');
const now = new Date('2026-03-25T12:30:00Z');

/** A line opened before the last review whose notice, with alternatives, went out unanswered. */
function awaiting(): Backorder {
  const { record } = applyEvent(undefined, delayed('2026-03-20T15:00:00Z', '2026-03-30'), rules);
  return {
    ...record,
    notices: record.notices.map((notice) => ({
      ...notice,
      status: 'sent' as const,
      sentAt: notice.learnedAt,
    })),
  };
}

describe('a review planned from entries', () => {
  it('writes a line that changed after the plan as it is now', () => {
    // Prepare: planned while awaiting the customer; answered before its record was read.
    const before = awaiting();
    const after: Backorder = {
      ...before,
      version: before.version + 1,
      customerDecision: { revision: 1, choice: { kind: 'wait' }, decidedAt: '2026-03-24T20:00:00Z' },
    };
    const plan = planMorningReview({
      open: [reviewEntry(before)],
      closedSince: [],
      lastReviewAt,
      now,
      calendar,
    });

    // Act
    const review = renderMorningReview(plan, new Map([[backorderId(after), after]]));

    // Assess
    const section = review.sections.find((candidate) => candidate.kind === 'awaitingDecision');
    expect(plan.listed).toEqual([reviewEntry(before)]);
    expect(section?.total).toBe(1);
    expect(section?.rows.map((row) => row.why)).toEqual([
      'No longer needs attention: it changed while the review was made.',
    ]);
  });

  it('refuses to write a listed line without its record', () => {
    const plan = planMorningReview({
      open: [reviewEntry(awaiting())],
      closedSince: [],
      lastReviewAt,
      now,
      calendar,
    });
    expect(() => renderMorningReview(plan, new Map())).toThrow(/no record for the listed line/);
  });
});
