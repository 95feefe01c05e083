import { type Backorder, backorderId, type Notice, offeredAlternatives } from '#domain/backorder.ts';
import type { BusinessCalendar } from '#domain/calendar.ts';

/**
 * The morning review (issue 8): what the sales and operations team reads in ten minutes on
 * every business day, most urgent first. A pure function of the open backorders, those closed
 * since the last review, and the clock; the handler feeds it from indexed queries.
 *
 * Decisions worth knowing before reading the code:
 * - Each backorder appears once among the five status sections (new, slipped again, escalated,
 *   past the VP threshold, awaiting a decision): under the most urgent one that applies, with
 *   the other reasons named in its `why`. Repeating a line in four sections would cost the team
 *   the ten minutes. The two action lists (next actions by owner, notice problems) are to-do
 *   lists for someone and do repeat lines listed above.
 * - Every section keeps its true `total` but lists at most `rowsPerSection` rows, the most
 *   urgent, picked with a bounded heap: the whole build is O(n log k) = O(n) for the fixed k,
 *   and the email stays readable at 100,000 open backorders.
 * - The review is planned from a {@link ReviewEntry} per line (~200 bytes, kept beside the record
 *   in an item of its own), and only the listed rows, at most 8 × `rowsPerSection`,
 *   are written from whole records: reading 100,000 whole records (~1.2 KB each) was what made
 *   the review slow and costly.
 * - Notice problems that are over (sent late, bounced) are listed once, in the first review
 *   after they happened; problems still open (unsent past the deadline, the latest news
 *   bounced) are listed every day until fixed. Otherwise one late notice would haunt every
 *   review until the line closed.
 */

/** Where a row is listed, in the order the review reads. */
export type ReviewSectionKind =
  | 'new'
  | 'slippedAgain'
  | 'escalated'
  | 'pastVpThreshold'
  | 'awaitingDecision'
  | 'nextActions'
  | 'notices'
  | 'closed';

/** What went wrong with one customer notice. */
export type NoticeProblemKind =
  /** Still pending after its deadline: the customer is owed news right now. */
  | 'unsentPastDeadline'
  /** The send failed for good. */
  | 'failed'
  /** SES reported a bounce (or a spam complaint) for the latest news the customer was sent. */
  | 'bounced'
  | 'complained'
  /** Sent, but after its deadline (listed in the first review after it was sent). */
  | 'sentLate';

/** One line of the review. */
export interface ReviewRow {
  /** `encodeURIComponent(orderId)/encodeURIComponent(lineId)`: the read API's id, for links. */
  backorderId: string;
  orderId: string;
  lineId: string;
  status: Backorder['status'];
  customer: string;
  item: { sku: string; description: string; product?: string | undefined };
  supplier: string;
  originalShipDate: string;
  expectedShipDate: string;
  /** Calendar days from the original to the expected ship date: how late it will ship. */
  daysLate: number;
  /** Calendar days from the original ship date to today (negative: the promise is still ahead). */
  daysPastOriginal: number;
  owner: { id: string; name: string };
  slipCount: number;
  escalationLevel: Backorder['escalationLevel'];
  /** Set in the next-actions section: when the owner's next action falls due. */
  nextActionAt?: string | undefined;
  /** Set in the notices section: the notice and what went wrong with it. */
  notice?:
    | (Pick<Notice, 'revision' | 'kind' | 'learnedAt' | 'deadline' | 'status'> & {
        sentAt?: string | undefined;
        delivery?: Notice['delivery'];
        problem: NoticeProblemKind;
      })
    | undefined;
  /** A short sentence: why the line is in this section (and, after "Also:", where else it belongs). */
  why: string;
}

/** A group of rows (the next actions of one owner). */
export interface ReviewGroup {
  owner: { id: string; name: string };
  /** All of the owner's due actions, listed or not. */
  total: number;
}

/** One section of the review: its true size and its most urgent rows. */
export interface ReviewSection {
  kind: ReviewSectionKind;
  title: string;
  /** How many lines belong here; `rows` holds the most urgent `rowsPerSection` of them. */
  total: number;
  rows: ReviewRow[];
  /** Next actions only: the owners, by name, with every due action counted. */
  groups?: ReviewGroup[];
}

/** The headline numbers over every open line (not only the listed ones). */
export interface ReviewTotals {
  open: number;
  /** Open order value per ISO-4217 currency; lines without a value are counted in `openWithoutValue`. */
  openValue: Record<string, number>;
  openWithoutValue: number;
  /** Open quantity in tons, over the lines whose unit is `ton`/`tons`. */
  openTons: number;
  closedSinceLastReview: number;
}

/** The review as data: the JSON of `GET /v1/review` and the source of the email. */
export interface MorningReview {
  /** The company-local date of the review. */
  date: string;
  generatedAt: string;
  lastReviewAt: string;
  timeZone: string;
  sections: ReviewSection[];
  totals: ReviewTotals;
}

/** What the review is built from: the lines as whole records, and the clock. */
export interface MorningReviewInput extends ReviewClockInput {
  /** The open backorders. */
  open: Backorder[];
  /** Backorders closed since `lastReviewAt`. */
  closedSince: Backorder[];
}

/** When the review is made and how long its sections are. */
export interface ReviewClockInput {
  lastReviewAt: Date;
  now: Date;
  calendar: BusinessCalendar;
  /** `escalation.vpAfterDaysPastOriginal` of the configuration. Default 14. */
  vpAfterDays?: number;
  /** The most rows listed per section. Default {@link DEFAULT_ROWS_PER_SECTION}. */
  rowsPerSection?: number;
}

/** What the review is planned from: one entry per line, from two indexed queries, and the clock. */
export interface ReviewPlanInput extends ReviewClockInput {
  /** The open lines (their review entry items). */
  open: ReviewEntry[];
  /** Lines closed since `lastReviewAt` (the closed part of the `byStatus` index). */
  closedSince: ReviewEntry[];
}

/**
 * What the review needs to place, count and rank one line, and nothing it only prints. It does
 * not depend on the clock, so the store computes it whenever it writes the record.
 */
export interface ReviewEntry {
  orderId: string;
  lineId: string;
  version: number;
  status: Backorder['status'];
  openedAt: string;
  closedAt?: string | undefined;
  originalShipDate: string;
  expectedShipDate: string;
  slipCount: number;
  /** When the newest slip was learned. */
  lastSlipAt?: string | undefined;
  escalationLevel: Backorder['escalationLevel'];
  /** When the customer was sent the news with alternatives they have not answered yet. */
  awaitingSince?: string | undefined;
  nextActionAt?: string | undefined;
  owner: { id: string; name: string };
  orderValue?: { amount: number; currency: string } | undefined;
  /** The quantity when its unit is tons, else 0. */
  tons: number;
  /** The notices that are or may become a problem (most lines have none). */
  notices: ReviewNotice[];
}

/** What decides whether a notice is a problem today. */
export interface ReviewNotice {
  revision: number;
  status: Notice['status'];
  deadline: string;
  sentAt?: string | undefined;
  delivery?: Notice['delivery'];
  /** The newest notice attempted (sent or failed): the news the customer should have now. */
  latest: boolean;
}

/**
 * Fifteen rows per section: a full review (8 × 15 rows) reads in about ten minutes, and its HTML
 * stays under the ~102 KB past which Gmail clips a message.
 */
export const DEFAULT_ROWS_PER_SECTION = 15;

const SECTION_TITLES: Record<ReviewSectionKind, string> = {
  new: 'New since the last review',
  slippedAgain: 'Slipped again',
  escalated: 'Escalated',
  pastVpThreshold: 'Past the VP threshold',
  awaitingDecision: "Awaiting the customer's decision",
  nextActions: 'Next actions due today or overdue',
  notices: 'Notices that bounced, failed or missed the SLA',
  closed: 'Closed since the last review',
};

const MS_PER_DAY = 86_400_000;

/** Whether a digest goes out on `now`'s company-local date: business days only. */
export function isReviewDay(now: Date, calendar: BusinessCalendar): boolean {
  return calendar.isBusinessDay(calendar.localDate(now));
}

/**
 * Builds the morning review from whole records: {@link planMorningReview} over their entries,
 * then {@link renderMorningReview}.
 * @throws RangeError when `lastReviewAt` is after `now`, or for a bad `rowsPerSection`/`vpAfterDays`.
 */
export function buildMorningReview(input: MorningReviewInput): MorningReview {
  const plan = planMorningReview({
    ...input,
    open: input.open.map(reviewEntry),
    closedSince: input.closedSince.map(reviewEntry),
  });
  const records = new Map<string, Backorder>();
  for (const record of [...input.open, ...input.closedSince]) {
    const seen = records.get(backorderId(record));
    if (seen === undefined || record.version > seen.version) records.set(backorderId(record), record);
  }
  return renderMorningReview(plan, records);
}

/** The review before its rows are written: every section's total and the entries it lists. */
export interface ReviewPlan {
  readonly clock: ReviewClock;
  readonly sections: readonly PlannedSection[];
  readonly owners: readonly ReviewGroup[];
  readonly totals: ReviewTotals;
  /** The lines the listed rows are written from, once each: the records to read. */
  readonly listed: readonly ReviewEntry[];
}

interface PlannedSection {
  kind: ReviewSectionKind;
  total: number;
  rows: PlannedRow[];
}

/**
 * Places, counts and ranks every line. O(n log k) in the number of entries, k = `rowsPerSection`;
 * the calendar is consulted a fixed number of times, never per line.
 * @throws RangeError when `lastReviewAt` is after `now`, or for a bad `rowsPerSection`/`vpAfterDays`.
 */
export function planMorningReview(input: ReviewPlanInput): ReviewPlan {
  const { now, lastReviewAt, calendar } = input;
  const vpAfterDays = input.vpAfterDays ?? 14;
  const limit = input.rowsPerSection ?? DEFAULT_ROWS_PER_SECTION;
  if (lastReviewAt.getTime() > now.getTime()) throw new RangeError('lastReviewAt is after now');
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`rowsPerSection must be ≥ 1, got ${limit}`);
  if (!Number.isInteger(vpAfterDays) || vpAfterDays < 1) {
    throw new RangeError(`vpAfterDays must be a positive integer, got ${vpAfterDays}`);
  }

  const today = calendar.localDate(now);
  const clock: ReviewClock = {
    today,
    todayDay: dayOf(today),
    now: now.toISOString(),
    since: lastReviewAt.toISOString(),
    // Due "today" means before the company's next midnight.
    endOfToday: calendar.startOfDay(today, 1).toISOString(),
    vpAfterDays,
    timeZone: calendar.timeZone,
  };

  const builders = new Map<ReviewSectionKind, SectionBuilder>();
  for (const kind of Object.keys(SECTION_TITLES) as ReviewSectionKind[]) {
    builders.set(kind, new SectionBuilder(kind, limit, ORDER[kind]));
  }
  const section = (kind: ReviewSectionKind): SectionBuilder => {
    const builder = builders.get(kind);
    /* v8 ignore next -- every kind is registered above */
    if (!builder) throw new Error(`no section ${kind}`);
    return builder;
  };
  const owners = new Map<string, ReviewGroup>();
  const totals: ReviewTotals = {
    open: 0,
    openValue: {},
    openWithoutValue: 0,
    openTons: 0,
    closedSinceLastReview: 0,
  };

  for (const entry of latestOfEach(input.open, input.closedSince)) {
    if (entry.status === 'closed') {
      // A lagging open index may still hold a line closed before the last review.
      if (entry.closedAt === undefined || entry.closedAt <= clock.since) continue;
      totals.closedSinceLastReview += 1;
      section('closed').offer(ranked(entry, clock));
      for (const row of noticeRows(entry, clock)) section('notices').offer(row);
      continue;
    }

    totals.open += 1;
    const value = entry.orderValue;
    if (value) totals.openValue[value.currency] = (totals.openValue[value.currency] ?? 0) + value.amount;
    else totals.openWithoutValue += 1;
    totals.openTons += entry.tons;

    const [first] = statusKinds(entry, clock);
    if (first) section(first).offer(ranked(entry, clock));

    if (entry.nextActionAt !== undefined && entry.nextActionAt < clock.endOfToday) {
      const owner = entry.owner;
      const group = owners.get(owner.id) ?? { owner: { id: owner.id, name: owner.name }, total: 0 };
      group.total += 1;
      owners.set(owner.id, group);
      section('nextActions').offer({ ...ranked(entry, clock), nextActionAt: entry.nextActionAt });
    }
    for (const row of noticeRows(entry, clock)) section('notices').offer(row);
  }

  const sections = [...builders.values()].map((builder) => builder.build());
  const listed = new Map<string, ReviewEntry>();
  for (const planned of sections) for (const row of planned.rows) listed.set(row.backorderId, row.entry);
  return {
    clock,
    sections,
    owners: [...owners.values()].sort((a, b) => byName(a.owner, b.owner)),
    totals,
    listed: [...listed.values()],
  };
}

/**
 * Writes the planned rows from the records of the listed lines (`records`, by `backorderId`). The
 * records are read after the entries: a line that changed in between is written as it is now,
 * where the plan placed it.
 * @throws Error when a listed line has no record.
 */
export function renderMorningReview(
  plan: ReviewPlan,
  records: ReadonlyMap<string, Backorder>,
): MorningReview {
  const { clock } = plan;
  const sections = plan.sections.map(
    ({ kind, total, rows }): ReviewSection => ({
      kind,
      title: SECTION_TITLES[kind],
      total,
      rows: rows.map((row) => {
        const record = records.get(row.backorderId);
        if (record === undefined) throw new Error(`no record for the listed line ${row.backorderId}`);
        return writeRow(kind, row, record, clock);
      }),
    }),
  );
  const nextActions = sections.find((candidate) => candidate.kind === 'nextActions');
  if (nextActions) {
    // Listed owner by owner so each owner finds their own block; within it, most overdue first.
    nextActions.rows.sort((a, b) => byName(a.owner, b.owner) || ORDER.nextActions(a, b));
    nextActions.groups = [...plan.owners];
  }
  return {
    date: clock.today,
    generatedAt: clock.now,
    lastReviewAt: clock.since,
    timeZone: clock.timeZone,
    sections,
    totals: plan.totals,
  };
}

/** The entry the store keeps beside a record, so the review reads it instead of the record. */
export function reviewEntry(record: Backorder): ReviewEntry {
  let lastSlipAt: string | undefined;
  let latestAttempt: Notice | undefined;
  for (const notice of record.notices) {
    if (notice.kind === 'slipped' && (lastSlipAt === undefined || notice.learnedAt > lastSlipAt)) {
      lastSlipAt = notice.learnedAt;
    }
    if (
      (notice.status === 'sent' || notice.status === 'failed') &&
      (latestAttempt === undefined || notice.revision > latestAttempt.revision)
    ) {
      latestAttempt = notice;
    }
  }
  const notices: ReviewNotice[] = [];
  for (const notice of record.notices) {
    const latest = notice === latestAttempt;
    const mayBeProblem =
      notice.status === 'pending' ||
      (latest &&
        (notice.status === 'failed' || (notice.delivery !== undefined && notice.delivery !== 'delivered'))) ||
      (notice.status === 'sent' && notice.sentAt !== undefined && notice.sentAt > notice.deadline);
    if (!mayBeProblem) continue;
    const { revision, status, deadline, sentAt, delivery } = notice;
    notices.push({ revision, status, deadline, sentAt, delivery, latest });
  }
  const { owner, orderValue, quantity } = record.details;
  return {
    orderId: record.orderId,
    lineId: record.lineId,
    version: record.version,
    status: record.status,
    openedAt: record.openedAt,
    closedAt: record.closedAt,
    originalShipDate: record.originalShipDate,
    expectedShipDate: record.expectedShipDate,
    slipCount: record.slipCount,
    lastSlipAt,
    escalationLevel: record.escalationLevel,
    awaitingSince: awaitingSince(record),
    nextActionAt: record.nextActionAt,
    owner: { id: owner.id, name: owner.name },
    orderValue: orderValue && { amount: orderValue.amount, currency: orderValue.currency },
    tons: isTons(quantity.unit) ? quantity.amount : 0,
    notices,
  };
}

// ---------------------------------------------------------------------------------------------
// Classification

interface ReviewClock {
  today: string;
  todayDay: number;
  now: string;
  since: string;
  endOfToday: string;
  vpAfterDays: number;
  timeZone: string;
}

type StatusKind = 'new' | 'slippedAgain' | 'escalated' | 'pastVpThreshold' | 'awaitingDecision';

/** Every status section a line belongs to, most urgent first. */
function statusKinds(entry: ReviewEntry, clock: ReviewClock): StatusKind[] {
  const kinds: StatusKind[] = [];
  if (entry.openedAt > clock.since) kinds.push('new');
  if (entry.slipCount >= 2 || (entry.lastSlipAt !== undefined && entry.lastSlipAt > clock.since)) {
    kinds.push('slippedAgain');
  }
  if (entry.escalationLevel !== 'none') kinds.push('escalated');
  if (clock.todayDay - dayOf(entry.originalShipDate) >= clock.vpAfterDays) kinds.push('pastVpThreshold');
  if (entry.awaitingSince !== undefined) kinds.push('awaitingDecision');
  return kinds;
}

/** Why a listed line is in its status section, and the other reasons after "Also:". */
function statusWhy(planned: ReviewSectionKind, record: Backorder, clock: ReviewClock): string {
  const entry = reviewEntry(record);
  const kinds = statusKinds(entry, clock);
  // A line that changed after the plan reads as it is now; with no reason left, it says so.
  const kind = kinds.find((candidate) => candidate === planned) ?? kinds[0];
  if (kind === undefined) return 'No longer needs attention: it changed while the review was made.';
  const others = kinds.filter((other) => other !== kind);
  const also =
    others.length > 0 ? ` Also: ${others.map((other) => reasonTag(other, entry, clock)).join('; ')}.` : '';
  return `${reasonWhy(kind, record, entry, clock)}${also}`;
}

/** The sentence when `kind` is the section the line is listed in. */
function reasonWhy(kind: StatusKind, record: Backorder, entry: ReviewEntry, clock: ReviewClock): string {
  switch (kind) {
    case 'new':
      return `New: ${daysBetween(record.originalShipDate, record.expectedShipDate)} days late (${record.details.reason.text}).`;
    case 'slippedAgain': {
      let slipsSince = 0;
      let lastSlip: Notice | undefined;
      for (const notice of record.notices) {
        if (notice.kind === 'slipped') {
          lastSlip = notice;
          if (notice.learnedAt > clock.since) slipsSince += 1;
        }
      }
      const fresh = slipsSince > 0 ? `, ${slipsSince} since the last review` : '';
      const move = lastSlip
        ? `, last ${formatDate(lastSlip.previousShipDate)} → ${formatDate(lastSlip.expectedShipDate)}`
        : '';
      return `Slipped ${record.slipCount} times${fresh}${move}.`;
    }
    case 'escalated': {
      const latest = record.escalations.at(-1);
      const at = latest ? ` ${formatInstant(latest.raisedAt, clock.timeZone)}` : '';
      return `Escalated to the ${entry.escalationLevel === 'vp' ? 'VP' : 'manager'}${at}.`;
    }
    case 'pastVpThreshold': {
      const vpTold = record.escalations.some((escalation) => escalation.trigger === 'vp');
      return `${daysPast(entry, clock)} days past the original date${vpTold ? '' : '; the VP has not been told yet'}.`;
    }
    case 'awaitingDecision': {
      // Only the newest notice can be waiting for an answer.
      const offered = offeredAlternatives(record, record.noticeRevision).length;
      const on = entry.awaitingSince ? ` on ${formatInstant(entry.awaitingSince, clock.timeZone)}` : '';
      return `Offered ${offered} alternative${offered === 1 ? '' : 's'}${on}; no answer yet.`;
    }
  }
}

/** The few words naming a reason after "Also:". */
function reasonTag(kind: StatusKind, entry: ReviewEntry, clock: ReviewClock): string {
  switch (kind) {
    case 'new':
      return 'new';
    case 'slippedAgain':
      return `slipped ${entry.slipCount} times`;
    case 'escalated':
      return `escalated to the ${entry.escalationLevel === 'vp' ? 'VP' : 'manager'}`;
    case 'pastVpThreshold':
      return `${daysPast(entry, clock)} days past the original date`;
    case 'awaitingDecision':
      return 'awaiting the customer';
  }
}

function daysPast(entry: ReviewEntry, clock: ReviewClock): number {
  return clock.todayDay - dayOf(entry.originalShipDate);
}

/** When the customer holds the newest news with alternatives and has not answered: its `sentAt`. */
function awaitingSince(record: Backorder): string | undefined {
  let latest: Notice | undefined;
  for (const notice of record.notices) {
    if (notice.status === 'sent' && (latest === undefined || notice.revision > latest.revision))
      latest = notice;
  }
  // While newer news is still unsent, the sent notice's links are superseded: nothing to decide yet.
  if (latest === undefined || latest.revision !== record.noticeRevision) return undefined;
  if (offeredAlternatives(record, latest.revision).length === 0) return undefined;
  const decision = record.customerDecision;
  if (decision !== undefined && decision.revision >= latest.revision) return undefined;
  return latest.sentAt ?? latest.learnedAt;
}

/** The notice problems of one line worth the team's attention today. */
function noticeRows(entry: ReviewEntry, clock: ReviewClock): PlannedRow[] {
  const rows: PlannedRow[] = [];
  for (const notice of entry.notices) {
    const problem = noticeProblem(notice, entry.status === 'open', clock);
    if (problem === undefined) continue;
    rows.push({
      ...ranked(entry, clock),
      notice: { revision: notice.revision, problem, deadline: notice.deadline },
    });
  }
  return rows;
}

function noticeProblem(
  notice: ReviewNotice,
  open: boolean,
  clock: ReviewClock,
): NoticeProblemKind | undefined {
  if (notice.status === 'pending') {
    return open && notice.deadline < clock.now ? 'unsentPastDeadline' : undefined;
  }
  // Failures stay listed while they are the latest news attempted on an open line.
  if (notice.latest && open) {
    if (notice.status === 'failed') return 'failed';
    if (notice.delivery === 'bounced') return 'bounced';
    if (notice.delivery === 'complained') return 'complained';
  }
  if (
    notice.status === 'sent' &&
    notice.sentAt !== undefined &&
    notice.sentAt > notice.deadline &&
    notice.sentAt > clock.since
  ) {
    return 'sentLate';
  }
  return undefined;
}

function noticeWhy(
  notice: Notice,
  problem: NoticeProblemKind,
  record: Backorder,
  clock: ReviewClock,
): string {
  const label = `Notice ${notice.revision} (${notice.kind})`;
  switch (problem) {
    case 'unsentPastDeadline':
      return `${label} is still unsent; its deadline was ${formatInstant(notice.deadline, clock.timeZone)}.`;
    case 'failed':
      return `${label} could not be sent${notice.failure ? `: ${notice.failure}` : ''}.`;
    case 'bounced':
      return `${label} bounced: ${record.details.customer.email} did not receive it.`;
    case 'complained':
      return `${label} was marked as spam by ${record.details.customer.email}.`;
    case 'sentLate':
      return `${label} went out ${formatDuration(Date.parse(notice.sentAt ?? notice.deadline) - Date.parse(notice.deadline))} after its deadline.`;
  }
}

// ---------------------------------------------------------------------------------------------
// Rows

/** A row as the plan ranks it: the line's entry and what its section orders by. */
interface PlannedRow extends Ranked {
  entry: ReviewEntry;
}

/** What the sections order by: a planned row has it, and so does a written one. */
type Ranked = Pick<
  ReviewRow,
  'backorderId' | 'daysLate' | 'daysPastOriginal' | 'slipCount' | 'escalationLevel' | 'nextActionAt'
> & { notice?: { revision: number; problem: NoticeProblemKind; deadline: string } | undefined };

function ranked(entry: ReviewEntry, clock: ReviewClock): PlannedRow {
  return {
    entry,
    backorderId: backorderId(entry),
    daysLate: daysBetween(entry.originalShipDate, entry.expectedShipDate),
    daysPastOriginal: daysPast(entry, clock),
    slipCount: entry.slipCount,
    escalationLevel: entry.escalationLevel,
  };
}

/** A listed row, written from the line's record. */
function writeRow(
  kind: ReviewSectionKind,
  planned: PlannedRow,
  record: Backorder,
  clock: ReviewClock,
): ReviewRow {
  const row = rowOf(record, clock);
  switch (kind) {
    case 'nextActions': {
      const due = planned.nextActionAt ?? clock.now;
      const overdue = due <= clock.now;
      return {
        ...row,
        nextActionAt: due,
        why: `Next action ${overdue ? 'overdue since' : 'due'} ${formatInstant(due, clock.timeZone)}.`,
      };
    }
    case 'notices': {
      const notice = record.notices.find((candidate) => candidate.revision === planned.notice?.revision);
      // Notices are only ever added to a record, so the planned one is there.
      if (notice === undefined || planned.notice === undefined) {
        throw new Error(`no notice ${planned.notice?.revision} on ${planned.backorderId}`);
      }
      const { problem } = planned.notice;
      return {
        ...row,
        notice: {
          revision: notice.revision,
          kind: notice.kind,
          learnedAt: notice.learnedAt,
          deadline: notice.deadline,
          status: notice.status,
          sentAt: notice.sentAt,
          delivery: notice.delivery,
          problem,
        },
        why: noticeWhy(notice, problem, record, clock),
      };
    }
    case 'closed': {
      const closedAt = record.closedAt ?? clock.now;
      const verb = record.closedAs === 'cancelled' ? 'Cancelled' : 'Shipped';
      return { ...row, why: `${verb} ${formatInstant(closedAt, clock.timeZone)}.` };
    }
    default:
      return { ...row, why: statusWhy(kind, record, clock) };
  }
}

function rowOf(record: Backorder, clock: ReviewClock): Omit<ReviewRow, 'why'> {
  const { details } = record;
  return {
    backorderId: backorderId(record),
    orderId: record.orderId,
    lineId: record.lineId,
    status: record.status,
    customer: details.customer.name,
    item: { sku: details.item.sku, description: details.item.description, product: details.item.product },
    supplier: details.supplier.name,
    originalShipDate: record.originalShipDate,
    expectedShipDate: record.expectedShipDate,
    daysLate: daysBetween(record.originalShipDate, record.expectedShipDate),
    daysPastOriginal: clock.todayDay - dayOf(record.originalShipDate),
    owner: { id: details.owner.id, name: details.owner.name },
    slipCount: record.slipCount,
    escalationLevel: record.escalationLevel,
  };
}

/**
 * Each line once, at its highest version: the open and closed queries run one after the other,
 * so a line closing in between can come back from both. Only the (short) closed list is
 * indexed, so the open list streams through without a 100,000-entry map.
 */
function* latestOfEach(open: ReviewEntry[], closed: ReviewEntry[]): Generator<ReviewEntry> {
  const closedById = new Map<string, ReviewEntry>();
  for (const entry of closed) {
    const id = backorderId(entry);
    const seen = closedById.get(id);
    if (seen === undefined || entry.version > seen.version) closedById.set(id, entry);
  }
  for (const entry of open) {
    if (closedById.size > 0) {
      const id = backorderId(entry);
      const twin = closedById.get(id);
      if (twin !== undefined) {
        if (twin.version >= entry.version) continue;
        closedById.delete(id);
      }
    }
    yield entry;
  }
  yield* closedById.values();
}

// ---------------------------------------------------------------------------------------------
// Ordering: most urgent first in every section, then by id so equal rows read in a fixed order.

type Compare = (a: Ranked, b: Ranked) => number;

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byId: Compare = (a, b) => compareText(a.backorderId, b.backorderId);
const byName = (a: { name: string; id: string }, b: { name: string; id: string }) =>
  compareText(a.name, b.name) || compareText(a.id, b.id);
const escalationRank = { vp: 2, manager: 1, none: 0 } as const;

const ORDER: Record<ReviewSectionKind, Compare> = {
  new: (a, b) => b.daysLate - a.daysLate || byId(a, b),
  slippedAgain: (a, b) => b.slipCount - a.slipCount || b.daysLate - a.daysLate || byId(a, b),
  escalated: (a, b) =>
    escalationRank[b.escalationLevel] - escalationRank[a.escalationLevel] ||
    b.daysPastOriginal - a.daysPastOriginal ||
    byId(a, b),
  pastVpThreshold: (a, b) => b.daysPastOriginal - a.daysPastOriginal || byId(a, b),
  awaitingDecision: (a, b) => b.daysLate - a.daysLate || byId(a, b),
  nextActions: (a, b) => compareText(a.nextActionAt ?? '', b.nextActionAt ?? '') || byId(a, b),
  notices: (a, b) =>
    problemRank(a) - problemRank(b) ||
    compareText(a.notice?.deadline ?? '', b.notice?.deadline ?? '') ||
    byId(a, b),
  closed: (a, b) => b.daysLate - a.daysLate || byId(a, b),
};

const PROBLEM_ORDER: NoticeProblemKind[] = [
  'unsentPastDeadline',
  'failed',
  'bounced',
  'complained',
  'sentLate',
];
function problemRank(row: Ranked): number {
  return row.notice ? PROBLEM_ORDER.indexOf(row.notice.problem) : PROBLEM_ORDER.length;
}

/** Counts every row offered and keeps the `limit` most urgent in a max-heap of the least urgent. */
class SectionBuilder {
  readonly #kind: ReviewSectionKind;
  readonly #limit: number;
  readonly #compare: Compare;
  readonly #heap: PlannedRow[] = [];
  #total = 0;

  constructor(kind: ReviewSectionKind, limit: number, compare: Compare) {
    this.#kind = kind;
    this.#limit = limit;
    this.#compare = compare;
  }

  offer(row: PlannedRow): void {
    this.#total += 1;
    const heap = this.#heap;
    if (heap.length < this.#limit) {
      heap.push(row);
      this.#siftUp(heap.length - 1);
      return;
    }
    const worst = heap[0];
    // Only a row more urgent than the least urgent kept one gets in.
    if (worst !== undefined && this.#compare(row, worst) < 0) {
      heap[0] = row;
      this.#siftDown(0);
    }
  }

  build(): PlannedSection {
    return { kind: this.#kind, total: this.#total, rows: [...this.#heap].sort(this.#compare) };
  }

  /** True when `i` is less urgent than `j` (belongs nearer the root). */
  #above(i: number, j: number): boolean {
    const a = this.#heap[i];
    const b = this.#heap[j];
    return a !== undefined && b !== undefined && this.#compare(a, b) > 0;
  }

  #swap(i: number, j: number): void {
    const heap = this.#heap;
    const a = heap[i];
    const b = heap[j];
    if (a === undefined || b === undefined) return;
    heap[i] = b;
    heap[j] = a;
  }

  #siftUp(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#above(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #siftDown(start: number): void {
    let i = start;
    for (;;) {
      let top = i;
      for (const child of [2 * i + 1, 2 * i + 2]) {
        if (child < this.#heap.length && this.#above(child, top)) top = child;
      }
      if (top === i) return;
      this.#swap(i, top);
      i = top;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers: cheap per-record date arithmetic, so no Intl call runs per record.

/** Days since 1970-01-01 of a `YYYY-MM-DD` date. */
function dayOf(date: string): number {
  // Remembered: the plan asks about five times per open line, for a few hundred distinct dates,
  // and parsing was most of its time at 100,000 lines.
  let day = DAYS.get(date);
  if (day === undefined) {
    day = Math.floor(Date.parse(`${date}T00:00:00Z`) / MS_PER_DAY);
    if (DAYS.size < MAX_REMEMBERED_DAYS) DAYS.set(date, day);
  }
  return day;
}
const DAYS = new Map<string, number>();
const MAX_REMEMBERED_DAYS = 20_000;

/** Calendar days from one `YYYY-MM-DD` date to another. */
function daysBetween(from: string, to: string): number {
  return dayOf(to) - dayOf(from);
}

function isTons(unit: string): boolean {
  const normalised = unit.trim().toLowerCase();
  return normalised === 'ton' || normalised === 'tons';
}

const dateFormat = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const instantFormats = new Map<string, Intl.DateTimeFormat>();

/** `Mar 22`: a ship date names the same day for every reader. */
function formatDate(date: string): string {
  return dateFormat.format(new Date(`${date}T12:00:00Z`));
}

/** `Mar 11, 2:05 PM` on the company's clock. Only listed rows pay for it. */
function formatInstant(at: string, timeZone: string): string {
  let format = instantFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      month: 'short',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZone,
    });
    instantFormats.set(timeZone, format);
  }
  return format.format(new Date(at)).replaceAll('\u202f', ' ');
}

/** `2 h 10 min`, `3 days 4 h`: how far past a deadline. */
function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0) return `${days} day${days === 1 ? '' : 's'}${hours > 0 ? ` ${hours} h` : ''}`;
  if (hours > 0) return `${hours} h${rest > 0 ? ` ${rest} min` : ''}`;
  return `${rest} min`;
}

// ---------------------------------------------------------------------------------------------
// The email

/** Who the review is from and where its links lead. */
export interface ReviewCompany {
  name: string;
  /** BCP 47 locale for money and numbers. Default `en-US`. */
  locale?: string;
  /**
   * Links each row to `${backorderBaseUrl}/${backorderId}` (the operators' backorder page);
   * rows are plain text without it. Must be http(s).
   */
  backorderBaseUrl?: string;
}

/** The parts of one SES message. */
export interface ReviewEmail {
  subject: string;
  text: string;
  html: string;
}

const SHORT_NAMES: Record<ReviewSectionKind, string> = {
  new: 'new',
  slippedAgain: 'slipped again',
  escalated: 'escalated',
  pastVpThreshold: 'past the VP threshold',
  awaitingDecision: 'awaiting a decision',
  nextActions: 'actions due',
  notices: 'notice problems',
  closed: 'closed',
};

/** How an empty section is named in the "Quiet: no …" line. */
const QUIET_NAMES: Record<ReviewSectionKind, string> = {
  new: 'new backorders',
  slippedAgain: 'repeat slips',
  escalated: 'escalations',
  pastVpThreshold: 'lines past the VP threshold',
  awaitingDecision: 'open customer decisions',
  nextActions: 'due actions',
  notices: 'notice problems',
  closed: 'closings',
};

/**
 * The review as an email: a subject that carries the headline counts, a plain-text part, and
 * an HTML part made of presentation tables with inline styles (the one layout every mail
 * client renders), every value escaped. Empty sections are left out of the body and named as
 * quiet in the summary line, so the reader only scrolls through what needs them.
 * @throws RangeError when `backorderBaseUrl` is not an http(s) URL.
 */
export function renderReviewEmail(review: MorningReview, company: ReviewCompany): ReviewEmail {
  const locale = company.locale ?? 'en-US';
  const link = linker(company.backorderBaseUrl);
  const day = new Intl.DateTimeFormat('en-US', {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(`${review.date}T12:00:00Z`));
  const listed = review.sections.filter((section) => section.total > 0);
  const headline = listed
    .filter((section) => section.kind !== 'closed')
    .map((section) => `${section.total} ${SHORT_NAMES[section.kind]}`);
  const quiet = review.sections
    .filter((section) => section.total === 0)
    .map((section) => QUIET_NAMES[section.kind]);
  const totals = totalsLine(review.totals, locale);
  const since = `Since ${formatInstant(review.lastReviewAt, review.timeZone)}`;
  const summary = `${since}: ${headline.length > 0 ? headline.join(', ') : 'nothing needs attention'}.`;
  const quietLine = quiet.length > 0 ? `Quiet: no ${quiet.join(', no ')}.` : '';
  const subject = oneLine(
    `Morning review ${day}: ${[...headline.slice(0, 3), `${review.totals.open} open`].join(' · ')}`,
  );
  const title = `Morning review — ${company.name} — ${day}`;

  const text = [
    title,
    summary,
    totals,
    ...(quietLine ? [quietLine] : []),
    ...listed.map((section) => sectionText(section, link)),
  ].join('\n\n');

  const html = [
    '<!doctype html>',
    `<html lang="${escapeHtml(locale)}"><head><meta charset="utf-8">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>${HEAD_STYLE}</head>`,
    '<body style="margin:0;padding:0;background:#f3f4f6;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6;">',
    '<tr><td align="center" style="padding:16px 8px;">',
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:1000px;background:#ffffff;border:1px solid #d1d5db;${FONT}">`,
    `<tr><td style="padding:16px 16px 8px 16px;"><h1 style="margin:0 0 6px 0;font-size:18px;">${escapeHtml(title)}</h1>`,
    `<p style="margin:0 0 4px 0;">${escapeHtml(summary)}</p>`,
    `<p style="margin:0 0 4px 0;font-weight:bold;">${escapeHtml(totals)}</p>`,
    quietLine ? `<p style="margin:0;color:#6b7280;">${escapeHtml(quietLine)}</p>` : '',
    '</td></tr>',
    ...listed.map((section) => sectionHtml(section, link)),
    '</table></td></tr></table></body></html>',
  ].join('\n');
  return { subject, text, html };
}

const FONT = 'font-family:Arial,Helvetica,sans-serif;font-size:13px;line-height:1.35;color:#111827;';
// Cell styles live once in the head rather than inline in each of ~600 cells: inline they would
// take a full review past Gmail's ~102 KB clipping size. Gmail, Outlook and Apple Mail honour
// head classes; a client that strips them still gets padding and alignment from the attributes.
const HEAD_STYLE =
  '<style>.bw td,.bw th{padding:3px 5px;text-align:left;vertical-align:top}.bw td{border-top:1px solid #e5e7eb}.bw .m,.bw th{color:#6b7280}.bw th{font-size:11px}.bw .g{background:#f9fafb;font-weight:bold}</style>';
/** Five columns, two lines each where it helps, so the table also fits a phone. */
const COLUMNS = ['Line · customer', 'Item · mill', 'Ship date', 'Owner', 'Why it is here'];

function sectionHtml(section: ReviewSection, link: (row: ReviewRow) => string | undefined): string {
  const td = (content: string) => `<td valign="top">${content}</td>`;
  const wide = (content: string, className: string) =>
    `<tr><td colspan="${COLUMNS.length}" class="${className}">${content}</td></tr>`;
  const muted = (text: string) => `<br><span class="m">${escapeHtml(text)}</span>`;
  const header = COLUMNS.map((column) => `<th align="left">${escapeHtml(column)}</th>`).join('');
  const lines: string[] = [];
  let owner: string | undefined;
  const groups = new Map((section.groups ?? []).map((group) => [group.owner.id, group]));
  for (const row of section.rows) {
    if (section.kind === 'nextActions' && row.owner.id !== owner) {
      owner = row.owner.id;
      const due = groups.get(owner)?.total ?? 0;
      lines.push(wide(`<b>${escapeHtml(`${row.owner.name} — ${due} due`)}</b>`, 'g'));
    }
    const href = link(row);
    const label = escapeHtml(`${row.orderId} line ${row.lineId}`);
    lines.push(
      `<tr>${[
        td(`${href ? `<a href="${escapeHtml(href)}">${label}</a>` : label}${muted(row.customer)}`),
        td(
          `${escapeHtml(row.item.product ?? row.item.description)}${muted(`${row.item.sku} · ${row.supplier}`)}`,
        ),
        td(
          `<nobr>${escapeHtml(`${formatDate(row.originalShipDate)} → ${formatDate(row.expectedShipDate)}`)}</nobr>${muted(`+${row.daysLate} days`)}`,
        ),
        td(escapeHtml(row.owner.name)),
        td(escapeHtml(row.why)),
      ].join('')}</tr>`,
    );
  }
  const more = section.total - section.rows.length;
  if (more > 0) {
    lines.push(
      wide(escapeHtml(`…and ${more} more (the ${section.rows.length} most urgent are listed).`), 'm'),
    );
  }
  return [
    '<tr><td style="padding:12px 16px 4px 16px;">',
    `<h2 style="margin:0 0 6px 0;font-size:15px;">${escapeHtml(`${section.title} (${section.total})`)}</h2>`,
    `<table class="bw" role="presentation" width="100%" cellpadding="3" cellspacing="0" border="0" style="border-collapse:collapse;${FONT}">`,
    `<tr>${header}</tr>`,
    ...lines,
    '</table></td></tr>',
  ].join('\n');
}

function sectionText(section: ReviewSection, link: (row: ReviewRow) => string | undefined): string {
  const lines = [`${section.title.toUpperCase()} (${section.total})`];
  // ERP text may hold line breaks: each piece is collapsed so one row stays one bullet.
  const add = (indent: string, content: string) => lines.push(`${indent}${oneLine(content)}`);
  let owner: string | undefined;
  for (const row of section.rows) {
    if (section.kind === 'nextActions' && row.owner.id !== owner) {
      owner = row.owner.id;
      add('  ', `${row.owner.name}:`);
    }
    const item = `${row.item.product ?? row.item.description} (${row.item.sku})`;
    add('- ', `${row.orderId} line ${row.lineId} · ${row.customer} · ${item} · ${row.supplier}`);
    add(
      '  ',
      `${formatDate(row.originalShipDate)} → ${formatDate(row.expectedShipDate)} (+${row.daysLate} d) · ${row.owner.name} · ${row.why}`,
    );
    const href = link(row);
    if (href) add('  ', href);
  }
  const more = section.total - section.rows.length;
  if (more > 0) add('', `…and ${more} more.`);
  return lines.join('\n');
}

function totalsLine(totals: ReviewTotals, locale: string): string {
  const values = Object.entries(totals.openValue)
    .sort(([a], [b]) => compareText(a, b))
    .map(([currency, amount]) =>
      new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount),
    );
  const parts = [`${totals.open} open`];
  if (values.length > 0) {
    const unvalued = totals.openWithoutValue > 0 ? ` (${totals.openWithoutValue} without a value)` : '';
    parts.push(`${values.join(' + ')}${unvalued}`);
  }
  if (totals.openTons > 0) {
    parts.push(`${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(totals.openTons)} tons`);
  }
  parts.push(`${totals.closedSinceLastReview} closed since the last review`);
  return oneLine(parts.join(' · ').replaceAll('\u202f', ' '));
}

function linker(base: string | undefined): (row: ReviewRow) => string | undefined {
  if (base === undefined) return () => undefined;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new RangeError(`backorderBaseUrl is not a URL: ${base}`);
  }
  // Any other scheme is a configuration bug; it must not reach a mailbox as a link.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RangeError(`backorderBaseUrl must be http(s), got ${url.protocol}`);
  }
  const trimmed = base.replace(/\/+$/, '');
  return (row) => `${trimmed}/${row.backorderId}`;
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes for element content and quoted attributes: every value the ERP sent goes through it. */
function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

/** Subjects and plain-text lines: no line breaks smuggled in from ERP fields. */
function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}
