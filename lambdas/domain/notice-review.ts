import type { Backorder, Notice } from '#domain/backorder.ts';
import { offeredAlternatives } from '#domain/backorder.ts';
import { BackorderClosedError, SupersededNoticeError } from '#domain/decision.ts';
import { signReviewToken } from '#domain/decision-token.ts';
import { Alternative } from '#domain/events.ts';

/**
 * Review mode (CONTRACT §2.2): before a customer notice goes out, its owner may edit the
 * alternatives it offers and approve it, which sends it at once. Without approval it goes out
 * as it stands at its deadline, so the customer always hears in time.
 */

/** The most alternatives a notice offers (as the ERP's schema allows). */
export const MAX_ALTERNATIVES = 20;

/** The notice already left (sent, or failed for good): nothing about it can change now. */
export class NoticeSettledError extends Error {
  override readonly name = 'NoticeSettledError';
  readonly notice: Notice;
  constructor(notice: Notice) {
    super(`notice ${notice.revision} is ${notice.status}`);
    this.notice = notice;
  }
}

/** The owner approved the notice already; it is on its way. */
export class AlreadyApprovedError extends Error {
  override readonly name = 'AlreadyApprovedError';
  readonly notice: Notice;
  constructor(notice: Notice) {
    super(`notice ${notice.revision} was approved at ${notice.approvedAt}`);
    this.notice = notice;
  }
}

/**
 * The notice a review link names, if it can still be reviewed; otherwise throws why not, in the
 * order the owner most needs to hear it: the line closed, the notice already left, newer news
 * replaced it, it was approved already.
 */
export function reviewableNotice(record: Backorder, revision: number): Notice {
  const notice = record.notices.find((candidate) => candidate.revision === revision);
  if (notice?.status === 'sent' || notice?.status === 'failed') throw new NoticeSettledError(notice);
  if (record.status === 'closed') throw new BackorderClosedError(record.closedAs);
  if (notice?.status !== 'pending') throw new SupersededNoticeError(revision, record.noticeRevision);
  if (notice.approvedAt) throw new AlreadyApprovedError(notice);
  return notice;
}

/** Review links outlive the deadline by a week, so a late click explains what happened. */
const REVIEW_LINK_GRACE_MS = 7 * 86_400_000;

/** The owner's review link for a pending notice: `${baseUrl}/v1/reviews/${token}`. */
export function reviewLink(record: Backorder, notice: Notice, secret: Buffer, baseUrl: string): string {
  const token = signReviewToken(
    {
      orderId: record.orderId,
      lineId: record.lineId,
      revision: notice.revision,
      expiresAt: new Date(new Date(notice.deadline).getTime() + REVIEW_LINK_GRACE_MS),
    },
    secret,
  );
  return `${baseUrl.replace(/\/+$/, '')}/v1/reviews/${token}`;
}

export type ReviewAction = 'save' | 'approve';

/**
 * Records the owner's alternatives on the pending notice and, on approval, when they approved.
 * Approval bumps the generation: the workflow re-plans and sends the notice at once. A save
 * changes nothing that is due, so the running workflow carries on and sends the edited notice.
 */
export function reviewNotice(
  record: Backorder,
  revision: number,
  alternatives: Alternative[],
  action: ReviewAction,
  at: Date,
): Backorder {
  const notice = reviewableNotice(record, revision);
  const reviewed: Notice = {
    ...notice,
    alternatives,
    ...(action === 'approve' ? { approvedAt: at.toISOString() } : {}),
  };
  return {
    ...record,
    notices: record.notices.map((candidate) => (candidate === notice ? reviewed : candidate)),
    generation: action === 'approve' ? record.generation + 1 : record.generation,
  };
}

// ---------------------------------------------------------------------------------------------
// The review form

/** One row of the form as typed, kept to show it again next to its errors. */
export interface AlternativeRow {
  id: string;
  description: string;
  shipDate: string;
  price: string;
  currency: string;
  per: string;
}

export type RowField = keyof AlternativeRow;

/** What is wrong with the form: in one field of one row, or (without them) in the form as a whole. */
export interface RowError {
  row?: number;
  field?: RowField;
  message: string;
}

export type ReviewForm =
  | { ok: true; action: ReviewAction; alternatives: Alternative[] }
  | { ok: false; rows: AlternativeRow[]; errors: RowError[] };

const FIELDS: readonly RowField[] = ['id', 'description', 'shipDate', 'price', 'currency', 'per'];
/** Blank rows the form offers for new alternatives. */
export const BLANK_ROWS = 2;

/** The form's rows for the notice's alternatives as they stand, plus blank rows to add more. */
export function formRows(record: Backorder, notice: Notice): AlternativeRow[] {
  const rows = offeredAlternatives(record, notice.revision).map((alternative) => ({
    id: alternative.id,
    description: alternative.description,
    shipDate: alternative.shipDate,
    price: alternative.priceDelta ? String(alternative.priceDelta.amount) : '',
    currency: alternative.priceDelta?.currency ?? '',
    per: alternative.priceDelta?.per ?? '',
  }));
  const currency = rows.find((row) => row.currency)?.currency ?? record.details.orderValue?.currency ?? '';
  const blanks = Math.min(BLANK_ROWS, MAX_ALTERNATIVES - rows.length);
  for (let added = 0; added < blanks; added++) {
    rows.push({ id: '', description: '', shipDate: '', price: '', currency, per: '' });
  }
  return rows;
}

/**
 * Reads a posted review form: `action` and, per row n, `id-n`, `description-n`, `shipDate-n`,
 * `price-n` (blank: to be confirmed), `currency-n`, `per-n` and the `remove-n` checkbox. Blank and
 * removed rows are dropped; a row without an id gets the first free letter. Every row is checked
 * by the ERP's own `Alternative` schema, and every error is named, with the row and field.
 */
export function parseReviewForm(form: URLSearchParams): ReviewForm {
  const action = form.get('action');
  const rows: AlternativeRow[] = [];
  // Every posted row is read (the body's size bounds them), so none is dropped unseen.
  for (let index = 0; form.has(`description-${index}`) || form.has(`id-${index}`); index++) {
    const field = (name: RowField) => (form.get(`${name}-${index}`) ?? '').trim();
    const row: AlternativeRow = {
      id: field('id'),
      description: field('description'),
      shipDate: field('shipDate'),
      price: field('price'),
      currency: field('currency'),
      per: field('per'),
    };
    if (form.get(`remove-${index}`) !== null) continue;
    if (!row.id && !row.description && !row.shipDate && !row.price) continue;
    rows.push(row);
  }

  const errors: RowError[] = [];
  if (!isAction(action)) errors.push({ message: 'choose Save or Approve' });
  if (rows.length > MAX_ALTERNATIVES) {
    errors.push({ message: `offer at most ${MAX_ALTERNATIVES} alternatives` });
  }
  const taken = new Set(rows.map((row) => row.id).filter(Boolean));
  const alternatives: Alternative[] = [];
  rows.forEach((row, index) => {
    const id = row.id || freeId(taken);
    taken.add(id);
    if (rows.some((other, at) => at < index && other.id && other.id === row.id)) {
      errors.push({ row: index, field: 'id', message: `${row.id} is used by another alternative` });
    }
    const price = row.price === '' ? undefined : Number(row.price.replace(/,/g, ''));
    const parsed = Alternative.safeParse({
      id,
      description: row.description,
      shipDate: row.shipDate,
      priceDelta:
        price === undefined
          ? undefined
          : { amount: price, currency: row.currency.toUpperCase(), per: row.per || undefined },
    });
    if (parsed.success) {
      alternatives.push(parsed.data);
      return;
    }
    for (const issue of parsed.error.issues) {
      errors.push({ row: index, field: fieldOf(issue.path), message: messageOf(issue.path, issue.message) });
    }
  });
  if (errors.length > 0 || !isAction(action)) return { ok: false, rows, errors };
  return { ok: true, action, alternatives };
}

function isAction(action: string | null): action is ReviewAction {
  return action === 'save' || action === 'approve';
}

function freeId(taken: Set<string>): string {
  for (let code = 65; code <= 90; code++) {
    const letter = String.fromCharCode(code);
    if (!taken.has(letter)) return letter;
  }
  for (let n = 1; ; n++) if (!taken.has(`ALT-${n}`)) return `ALT-${n}`;
}

function fieldOf(path: readonly PropertyKey[]): RowField {
  const [first, second] = path;
  if (first === 'priceDelta') return second === 'currency' ? 'currency' : second === 'per' ? 'per' : 'price';
  return FIELDS.includes(first as RowField) ? (first as RowField) : 'id';
}

function messageOf(path: readonly PropertyKey[], message: string): string {
  const field = fieldOf(path);
  if (field === 'price') return 'enter the price difference as a number, such as 40 or -12.50';
  if (field === 'currency') return 'enter a three-letter currency code, such as USD';
  if (field === 'description') return 'describe the alternative (up to 500 characters)';
  return message;
}
