import { describe, expect, it } from 'vitest';
import { applyEvent, type Backorder } from '#domain/backorder.ts';
import { recordDecision } from '#domain/decision.ts';
import type { BackorderEvent, DelayedData } from '#domain/events.ts';
import { parseOrganisationConfig } from '#domain/organisation.ts';
import { fulfil } from '#domain/planner.ts';
import { calendarFor, policyFor } from '#domain/policy.ts';
import {
  buildMorningReview,
  DEFAULT_ROWS_PER_SECTION,
  isReviewDay,
  type MorningReview,
  type ReviewSectionKind,
  renderReviewEmail,
} from '#domain/review.ts';
import { closing, delayed } from '#test/support/erp-events.ts';
import { readSampleConfig } from '#test/support/organisation.ts';

const sample = readSampleConfig();
const config = parseOrganisationConfig(sample);
const calendar = calendarFor(config);
const policy = policyFor(config, calendar);

function replay(...events: BackorderEvent[]): Backorder {
  let record: Backorder | undefined;
  for (const event of events) record = applyEvent(record, event, policy).record;
  if (!record) throw new Error('nothing applied');
  return record;
}

/** A delay report for one line of the seeded set (Chicago is UTC-5 in late March). */
function report(
  orderId: string,
  at: string,
  original: string,
  expected: string,
  data: Partial<DelayedData> = {},
) {
  return delayed(at, expected, { orderId, lineId: '1', originalShipDate: original, ...data });
}

/** Applies one more ERP event to a record. */
function then(record: Backorder, event: BackorderEvent): Backorder {
  return applyEvent(record, event, policy).record;
}

/** Marks the pending customer notice as sent at `at`, as the workflow records it. */
function sent(record: Backorder, at: string): Backorder {
  const notice = record.notices.find((candidate) => candidate.status === 'pending');
  if (!notice) throw new Error('no pending notice');
  const done = fulfil(
    record,
    { kind: 'customerNotice', revision: notice.revision, dueAt: new Date(notice.learnedAt), autoSent: false },
    { at: new Date(at) },
    policy,
  );
  if (!done) throw new Error('notice not owed');
  return done;
}

function remindedAt(record: Backorder, at: string): Backorder {
  const nextActionAt = record.nextActionAt ?? '';
  const done = fulfil(
    record,
    { kind: 'ownerReminder', nextActionAt, dueAt: new Date(nextActionAt) },
    { at: new Date(at) },
    policy,
  );
  if (!done) throw new Error('no reminder owed');
  return done;
}

function vpAlerted(record: Backorder, at: string): Backorder {
  const done = fulfil(record, { kind: 'vpAlert', dueAt: new Date(at) }, { at: new Date(at) }, policy);
  if (!done) throw new Error('VP already told');
  return done;
}

const rows = (review: MorningReview, kind: ReviewSectionKind) =>
  review.sections.find((section) => section.kind === kind)?.rows.map((row) => row.orderId);

const ALEX = { id: 'U-22', name: 'Alex Kim', email: 'alex.kim@svc.example' };
const noAlternatives = { alternatives: undefined };
const lastReviewAt = new Date('2026-03-24T12:30:00Z'); // Tuesday 07:30 Chicago (CDT)
const now = new Date('2026-03-25T12:30:00Z'); // Wednesday 07:30 Chicago

/**
 * The seeded set: one line per situation the review must recognise, dated around a review on
 * Wednesday 2026-03-25 07:30 Chicago that follows one on Tuesday 07:30. Notice deadlines are
 * 4 business hours (08:00–17:00) after the news; next actions 18 business hours.
 */
function seeded() {
  const bounced = sent(
    replay(report('SO-BOUNCE', '2026-03-16T09:00:00-05:00', '2026-03-18', '2026-03-26', noAlternatives)),
    '2026-03-16T14:05:00Z',
  );
  const vp = sent(
    replay(
      report('SO-VP', '2026-03-05T09:00:00-06:00', '2026-03-06', '2026-03-31', {
        ...noAlternatives,
        owner: ALEX,
      }),
    ),
    '2026-03-05T15:05:00Z',
  );
  const decided = sent(
    replay(report('SO-DECIDED', '2026-03-23T14:00:00-05:00', '2026-03-25', '2026-04-01')),
    '2026-03-23T19:01:00Z',
  );
  const open = [
    // New since Tuesday 07:30; pending notice due Wednesday 10:00, so not late yet.
    replay(report('SO-NEW-A', '2026-03-24T15:00:00-05:00', '2026-03-20', '2026-03-30')),
    // New, sent, alternatives unanswered: listed under "new" only, with the decision named as "Also".
    sent(
      replay(
        report('SO-NEW-B', '2026-03-24T10:00:00-05:00', '2026-03-24', '2026-03-27', {
          orderValue: { amount: 5000, currency: 'EUR' },
        }),
      ),
      '2026-03-24T15:05:00Z',
    ),
    // Slipped again on Tuesday 16:00 (after the last review), 15 days past its original date.
    then(
      sent(
        replay(report('SO-SLIP', '2026-03-02T09:00:00-06:00', '2026-03-10', '2026-03-16')),
        '2026-03-02T15:10:00Z',
      ),
      report('SO-SLIP', '2026-03-24T16:00:00-05:00', '2026-03-10', '2026-03-23'),
    ),
    // Three slips, all before the last review; the third notice sent and unanswered; next action overdue.
    sent(
      then(
        sent(
          then(
            sent(
              replay(report('SO-SLIP3', '2026-03-16T09:00:00-05:00', '2026-03-18', '2026-03-20')),
              '2026-03-16T14:05:00Z',
            ),
            report('SO-SLIP3', '2026-03-18T09:00:00-05:00', '2026-03-18', '2026-03-25'),
          ),
          '2026-03-18T14:05:00Z',
        ),
        report('SO-SLIP3', '2026-03-20T09:00:00-05:00', '2026-03-18', '2026-04-03'),
      ),
      '2026-03-20T14:05:00Z',
    ),
    // The VP was told on March 20; its next action has been overdue since March 9.
    vpAlerted(vp, '2026-03-20T13:00:00Z'),
    // 16 days past the original date and the VP not told yet.
    remindedAt(
      sent(
        replay(report('SO-OLD', '2026-03-09T09:00:00-05:00', '2026-03-09', '2026-04-06', noAlternatives)),
        '2026-03-09T14:05:00Z',
      ),
      '2026-03-24T20:00:00Z',
    ),
    // Sent Monday with an alternative; next action due Wednesday 09:00.
    sent(
      replay(report('SO-WAIT', '2026-03-23T09:00:00-05:00', '2026-03-25', '2026-04-01')),
      '2026-03-23T14:02:00Z',
    ),
    // Answered: only its next action (Wednesday 14:00) brings it into the review.
    recordDecision(decided, { revision: 1, choice: { kind: 'wait' } }, new Date('2026-03-23T20:00:00Z'))
      .record,
    // Deadline Monday 12:00, sent Tuesday 10:00: 22 hours late, after the last review.
    remindedAt(
      sent(
        replay(report('SO-LATE', '2026-03-23T08:00:00-05:00', '2026-03-24', '2026-03-31', noAlternatives)),
        '2026-03-24T15:00:00Z',
      ),
      '2026-03-24T22:00:00Z',
    ),
    // Deadline Monday 14:00 and still unsent; next action due Wednesday 10:00.
    replay(
      report('SO-UNSENT', '2026-03-23T10:00:00-05:00', '2026-03-20', '2026-03-27', {
        ...noAlternatives,
        owner: ALEX,
      }),
    ),
    // SES reported a bounce for the only notice.
    remindedAt(
      { ...bounced, notices: bounced.notices.map((notice) => ({ ...notice, delivery: 'bounced' as const })) },
      '2026-03-24T20:00:00Z',
    ),
    // Nothing to say: counted in the totals only (and in pounds, so not in tons).
    remindedAt(
      sent(
        replay(
          report('SO-QUIET', '2026-03-20T09:00:00-05:00', '2026-03-28', '2026-04-02', {
            ...noAlternatives,
            quantity: { amount: 1200, unit: 'lb' },
            orderValue: undefined,
          }),
        ),
        '2026-03-20T14:05:00Z',
      ),
      '2026-03-24T20:00:00Z',
    ),
    // A lagging open-status index still returns a line closed before the last review: ignored.
    replay(
      report('SO-GONE', '2026-03-02T09:00:00-06:00', '2026-03-03', '2026-03-09', noAlternatives),
      closing('backorder.shipped', '2026-03-12T10:00:00-05:00', { orderId: 'SO-GONE', lineId: '1' }),
    ),
  ];
  const closedSince = [
    replay(
      report('SO-SHIPPED', '2026-03-16T09:00:00-05:00', '2026-03-16', '2026-03-23', noAlternatives),
      closing('backorder.shipped', '2026-03-24T11:00:00-05:00', { orderId: 'SO-SHIPPED', lineId: '1' }),
    ),
  ];
  return { open, closedSince };
}

describe('the morning review of a seeded set', () => {
  it('lists each line under its most urgent section, in the order the team reads them', () => {
    // Prepare
    const { open, closedSince } = seeded();

    // Act
    const review = buildMorningReview({ open, closedSince, lastReviewAt, now, calendar, vpAfterDays: 14 });

    // Assess
    expect(review.sections.map((section) => section.kind)).toEqual([
      'new',
      'slippedAgain',
      'escalated',
      'pastVpThreshold',
      'awaitingDecision',
      'nextActions',
      'notices',
      'closed',
    ]);
    expect(rows(review, 'new')).toEqual(['SO-NEW-A', 'SO-NEW-B']);
    expect(rows(review, 'slippedAgain')).toEqual(['SO-SLIP3', 'SO-SLIP']);
    expect(rows(review, 'escalated')).toEqual(['SO-VP']);
    expect(rows(review, 'pastVpThreshold')).toEqual(['SO-OLD']);
    expect(rows(review, 'awaitingDecision')).toEqual(['SO-WAIT']);
    // Grouped by owner name; most overdue first within an owner.
    expect(rows(review, 'nextActions')).toEqual(['SO-VP', 'SO-UNSENT', 'SO-SLIP3', 'SO-WAIT', 'SO-DECIDED']);
    expect(rows(review, 'notices')).toEqual(['SO-UNSENT', 'SO-BOUNCE', 'SO-LATE']);
    expect(rows(review, 'closed')).toEqual(['SO-SHIPPED']);
  });

  it('says why each line is there, and names the other reasons once instead of repeating the line', () => {
    // Prepare
    const { open, closedSince } = seeded();

    // Act
    const review = buildMorningReview({ open, closedSince, lastReviewAt, now, calendar });
    const why = Object.fromEntries(
      review.sections.flatMap((section) =>
        section.rows.map((row) => [`${section.kind} ${row.orderId}`, row.why]),
      ),
    );

    // Assess
    expect(why).toMatchObject({
      'new SO-NEW-A': 'New: 10 days late (Mill production schedule change).',
      'new SO-NEW-B': 'New: 3 days late (Mill production schedule change). Also: awaiting the customer.',
      'slippedAgain SO-SLIP':
        'Slipped 2 times, 1 since the last review, last Mar 16 → Mar 23. Also: escalated to the manager; 15 days past the original date.',
      'slippedAgain SO-SLIP3':
        'Slipped 3 times, last Mar 25 → Apr 3. Also: escalated to the manager; awaiting the customer.',
      'escalated SO-VP': 'Escalated to the VP Mar 20, 8:00 AM. Also: 19 days past the original date.',
      'pastVpThreshold SO-OLD': '16 days past the original date; the VP has not been told yet.',
      'awaitingDecision SO-WAIT': 'Offered 1 alternative on Mar 23, 9:02 AM; no answer yet.',
      'nextActions SO-VP': 'Next action overdue since Mar 9, 9:00 AM.',
      'nextActions SO-WAIT': 'Next action due Mar 25, 9:00 AM.',
      'notices SO-UNSENT': 'Notice 1 (opened) is still unsent; its deadline was Mar 23, 2:00 PM.',
      'notices SO-BOUNCE': 'Notice 1 (opened) bounced: purchasing@lonestarfab.example did not receive it.',
      'notices SO-LATE': 'Notice 1 (opened) went out 22 h after its deadline.',
      'closed SO-SHIPPED': 'Shipped Mar 24, 11:00 AM.',
    });
  });

  it('fills every row with the line, its people, dates and lateness', () => {
    // Prepare
    const { open, closedSince } = seeded();

    // Act
    const review = buildMorningReview({ open, closedSince, lastReviewAt, now, calendar });

    // Assess
    const row = review.sections[0]?.rows[0];
    expect(row).toEqual({
      backorderId: 'SO-NEW-A/1',
      orderId: 'SO-NEW-A',
      lineId: '1',
      status: 'open',
      customer: 'Lone Star Fabrication',
      item: { sku: 'HRC-0188-48', description: '3/16" HRC 48" x 96"', product: 'Hot-rolled coil' },
      supplier: 'Gulf Coast Steel Mill',
      originalShipDate: '2026-03-20',
      expectedShipDate: '2026-03-30',
      daysLate: 10,
      daysPastOriginal: 5,
      owner: { id: 'U-17', name: 'Dana Ortiz' },
      slipCount: 1,
      escalationLevel: 'none',
      why: 'New: 10 days late (Mill production schedule change).',
    });
    const unsent = review.sections.find((section) => section.kind === 'notices')?.rows[0];
    expect(unsent?.notice).toMatchObject({
      revision: 1,
      problem: 'unsentPastDeadline',
      deadline: '2026-03-23T19:00:00.000Z',
    });
  });

  it('counts what is open, its value per currency and its tons, and owners with due actions', () => {
    // Prepare
    const { open, closedSince } = seeded();

    // Act
    const review = buildMorningReview({ open, closedSince, lastReviewAt, now, calendar });

    // Assess: 12 open lines; ten at $18,400, one at €5,000, one without a value; eleven of 20 tons.
    expect(review.totals).toEqual({
      open: 12,
      openValue: { USD: 184_000, EUR: 5000 },
      openWithoutValue: 1,
      openTons: 220,
      closedSinceLastReview: 1,
    });
    expect(review.sections.find((section) => section.kind === 'nextActions')?.groups).toEqual([
      { owner: { id: 'U-22', name: 'Alex Kim' }, total: 2 },
      { owner: { id: 'U-17', name: 'Dana Ortiz' }, total: 3 },
    ]);
    expect(review).toMatchObject({ date: '2026-03-25', timeZone: 'America/Chicago' });
  });

  it('lists a late notice only in the first review after it went out', () => {
    // Prepare
    const { open, closedSince } = seeded();

    // Act: the next day's review.
    const review = buildMorningReview({
      open,
      closedSince: [],
      lastReviewAt: now,
      now: new Date('2026-03-26T12:30:00Z'),
      calendar,
    });

    // Assess: the bounce and the unsent notices are still open problems (two more deadlines passed
    // on Wednesday, earliest deadline first); the late one is over.
    expect(rows(review, 'notices')).toEqual(['SO-UNSENT', 'SO-NEW-A', 'SO-SLIP', 'SO-BOUNCE']);
    expect(closedSince).toHaveLength(1);
  });

  it('lists the most urgent rows of a long section and counts the rest', () => {
    // Prepare: five new lines, 1 to 5 days late.
    const open = [1, 2, 3, 4, 5].map((days) =>
      replay(report(`SO-${days}`, '2026-03-24T15:00:00-05:00', '2026-03-20', `2026-03-${20 + days}`)),
    );

    // Act
    const review = buildMorningReview({
      open,
      closedSince: [],
      lastReviewAt,
      now,
      calendar,
      rowsPerSection: 2,
    });
    const email = renderReviewEmail(review, { name: 'Gulf Plains Steel Service' });

    // Assess
    const section = review.sections[0];
    expect(section?.total).toBe(5);
    expect(section?.rows.map((row) => row.orderId)).toEqual(['SO-5', 'SO-4']);
    expect(email.text).toContain('…and 3 more.');
    expect(email.html).toContain('…and 3 more (the 2 most urgent are listed).');
  });

  it('takes a line that both queries returned once, at its newest version', () => {
    // Prepare: the line closed between the open query and the closed query.
    const before = replay(
      report('SO-RACE', '2026-03-20T09:00:00-05:00', '2026-03-20', '2026-03-27', noAlternatives),
    );
    const after = {
      ...applyEvent(
        before,
        closing('backorder.cancelled', '2026-03-24T16:00:00-05:00', { orderId: 'SO-RACE', lineId: '1' }),
        policy,
      ).record,
      version: 2,
    };

    // Act
    const review = buildMorningReview({ open: [before], closedSince: [after], lastReviewAt, now, calendar });

    // Assess
    expect(review.totals.open).toBe(0);
    expect(rows(review, 'closed')).toEqual(['SO-RACE']);
    expect(review.sections.find((section) => section.kind === 'closed')?.rows[0]?.why).toBe(
      'Cancelled Mar 24, 4:00 PM.',
    );
  });

  it('refuses a last review after now', () => {
    expect(() =>
      buildMorningReview({ open: [], closedSince: [], lastReviewAt: now, now: lastReviewAt, calendar }),
    ).toThrow(RangeError);
  });
});

describe('the review day', () => {
  it('is every business day in the company zone and never a weekend or a holiday', () => {
    // Prepare, Act and Assess: 07:30 Chicago is 12:30Z in summer time and 13:30Z in winter.
    expect(isReviewDay(new Date('2026-03-25T12:30:00Z'), calendar)).toBe(true); // Wednesday
    expect(isReviewDay(new Date('2026-03-28T12:30:00Z'), calendar)).toBe(false); // Saturday
    expect(isReviewDay(new Date('2026-03-29T12:30:00Z'), calendar)).toBe(false); // Sunday
    expect(isReviewDay(new Date('2026-05-25T12:30:00Z'), calendar)).toBe(false); // Memorial Day
    expect(isReviewDay(new Date('2026-12-25T13:30:00Z'), calendar)).toBe(false); // Christmas, a Friday
  });

  it('reads the date on the company clock, not in UTC', () => {
    // Saturday 03:00Z is still Friday 22:00 in Chicago; Monday 03:00Z is still Sunday.
    expect(isReviewDay(new Date('2026-03-28T03:00:00Z'), calendar)).toBe(true);
    expect(isReviewDay(new Date('2026-03-30T03:00:00Z'), calendar)).toBe(false);
  });
});

describe('the review email', () => {
  it('carries the headline counts in the subject and every section in both parts', () => {
    // Prepare
    const { open, closedSince } = seeded();
    const review = buildMorningReview({ open, closedSince, lastReviewAt, now, calendar });

    // Act
    const email = renderReviewEmail(review, {
      name: 'Gulf Plains Steel Service',
      backorderBaseUrl: 'https://ops.gulfplains.example/backorders/',
    });

    // Assess
    expect(email.subject).toBe('Morning review Wed, Mar 25: 2 new · 2 slipped again · 1 escalated · 12 open');
    expect(email.text).toContain(
      'Since Mar 24, 7:30 AM: 2 new, 2 slipped again, 1 escalated, 1 past the VP threshold',
    );
    expect(email.text).toContain(
      '12 open · €5,000.00 + $184,000.00 (1 without a value) · 220 tons · 1 closed since the last review',
    );
    expect(email.text).toContain('  https://ops.gulfplains.example/backorders/SO-NEW-A/1');
    expect(email.html).toContain('<a href="https://ops.gulfplains.example/backorders/SO-NEW-A/1"');
    expect(email.html).toContain('Alex Kim — 2 due');
    for (const section of review.sections) expect(email.text).toContain(section.title.toUpperCase());
  });

  it('escapes every value from the ERP and encodes ids in links', () => {
    // Prepare
    const hostile = replay(
      report('SO/<1>', '2026-03-24T15:00:00-05:00', '2026-03-20', '2026-03-30', {
        customer: { id: 'C-1', name: 'Smith & <Sons> "Steel"', email: 'buyer@smith.example' },
        reason: { code: 'OTHER', text: "<img src=x onerror='alert(1)'>" },
      }),
    );
    const review = buildMorningReview({ open: [hostile], closedSince: [], lastReviewAt, now, calendar });

    // Act
    const email = renderReviewEmail(review, { name: 'A & B', backorderBaseUrl: 'https://ops.example' });

    // Assess
    expect(email.html).not.toContain('<Sons>');
    expect(email.html).not.toContain('<img');
    expect(email.html).toContain('Smith &amp; &lt;Sons&gt; &quot;Steel&quot;');
    expect(email.html).toContain('href="https://ops.example/SO%2F%3C1%3E/1"');
    expect(email.html).toContain('A &amp; B');
  });

  it("stays under Gmail's clipping size with every section full of long lines", () => {
    // Prepare: the default 15 rows in each of the 8 sections, every field near its usual longest.
    const long = replay(
      report('SO-2026-0004711', '2026-03-24T15:00:00-05:00', '2026-03-02', '2026-04-30', {
        lineId: '12',
        customer: {
          id: 'C-1',
          name: 'Lone Star Fabrication & Erection Company of Greater Houston',
          email: 'purchasing@lonestar.example',
        },
        item: {
          sku: 'HRC-0188-48-096-PO',
          description: 'x',
          product: '3/16" HRC 48" x 96" pickled & oiled, A1011 CS Type B',
        },
        supplier: { id: 'MILL-7', name: 'Gulf Coast Steel Mill (Beaumont works)' },
        owner: { id: 'U-17', name: 'Dana Ortiz-Villanueva', email: 'dana@svc.example' },
      }),
    );
    const [row] =
      buildMorningReview({ open: [long], closedSince: [], lastReviewAt, now, calendar }).sections[0]?.rows ??
      [];
    if (!row) throw new Error('no row');
    const full: MorningReview = {
      ...buildMorningReview({ open: [], closedSince: [], lastReviewAt, now, calendar }),
      totals: {
        open: 100_000,
        openValue: { USD: 987_654_321, EUR: 12_345_678 },
        openWithoutValue: 12,
        openTons: 123_456,
        closedSinceLastReview: 345,
      },
    };
    full.sections = full.sections.map((section) => ({
      ...section,
      total: 5000,
      rows: Array.from({ length: DEFAULT_ROWS_PER_SECTION }, () => ({
        ...row,
        why: 'Slipped 4 times, 1 since the last review, last Apr 12 → Apr 30. Also: escalated to the VP; 23 days past the original date; awaiting the customer.',
      })),
      ...(section.kind === 'nextActions' ? { groups: [{ owner: row.owner, total: 5000 }] } : {}),
    }));

    // Act
    const email = renderReviewEmail(full, {
      name: 'Gulf Plains Steel Service',
      backorderBaseUrl: 'https://ops.gulfplains-steel.example/backorders',
    });

    // Assess: Gmail clips past 102 KB.
    expect(Buffer.byteLength(email.html, 'utf8')).toBeLessThan(100_000);
  });

  it('refuses a link base that is not http(s)', () => {
    const review = buildMorningReview({ open: [], closedSince: [], lastReviewAt, now, calendar });
    expect(() => renderReviewEmail(review, { name: 'X', backorderBaseUrl: 'javascript:alert(1)' })).toThrow(
      RangeError,
    );
  });

  it('says when the morning is quiet', () => {
    // Prepare
    const review = buildMorningReview({ open: [], closedSince: [], lastReviewAt, now, calendar });

    // Act
    const email = renderReviewEmail(review, { name: 'Gulf Plains Steel Service' });

    // Assess
    expect(email.subject).toBe('Morning review Wed, Mar 25: 0 open');
    expect(email.text).toContain('nothing needs attention');
    expect(email.text).toContain('Quiet: no new backorders, no repeat slips, no escalations');
  });
});
