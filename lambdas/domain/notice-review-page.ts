import { type Backorder, lineLabel, type Notice } from '#domain/backorder.ts';
import { formatInstant, formatShipDate } from '#domain/messages/format.ts';
import { type AlternativeRow, formRows, type RowError, type RowField } from '#domain/notice-review.ts';
import { facts, h, type Markup, type PageContext, renderPage } from '#domain/page.ts';

/**
 * The page an owner's review link opens (review mode, CONTRACT §2.2): the pending customer notice,
 * a form to edit the alternatives it offers, and the buttons to save them or approve the notice,
 * which sends it at once. A GET only shows; the form posts back to the same link.
 */
export type NoticeReviewPage =
  /** GET of a reviewable notice, or a POST whose form had errors (shown next to their fields). */
  | { kind: 'form'; record: Backorder; notice: Notice; rows?: AlternativeRow[]; errors?: RowError[] }
  /** POST saved the alternatives; the notice still waits for approval or its deadline. */
  | { kind: 'saved'; record: Backorder; notice: Notice }
  /** Approved: the notice is on its way (also what a later visit shows until it is sent). */
  | { kind: 'approved'; record: Backorder; notice: Notice }
  /** Approved, but the workflow could not be told yet: the button finishes it. */
  | { kind: 'approvedPending'; record: Backorder; notice: Notice }
  /** The notice already went out (or failed for good). */
  | { kind: 'settled'; record: Backorder; notice: Notice }
  | { kind: 'superseded'; record: Backorder }
  | { kind: 'closed'; record: Backorder }
  | { kind: 'expired' }
  | { kind: 'invalid' }
  | { kind: 'notFound' }
  | { kind: 'error' };

export function renderNoticeReviewPage(page: NoticeReviewPage, context: PageContext): string {
  const { title, body } = content(page, context);
  return renderPage(title, body, context);
}

function content(page: NoticeReviewPage, context: PageContext): { title: string; body: Markup } {
  switch (page.kind) {
    case 'form': {
      const errors = page.errors ?? [];
      return {
        title: `Review the notice about ${lineLabel(page.record)}`,
        body: h`
${errors.length > 0 ? h`<p class="error" role="alert">Nothing was saved: please correct the fields marked below.</p>` : ''}
${errors.filter((error) => error.row === undefined).map((error) => h`<p class="error">${error.message}.</p>`)}
<p>${customer(page.record)} has not been told yet. ${deadline(page.notice, context)}</p>
${facts(page.record, context)}
<p><strong>Reason:</strong> ${page.record.details.reason.text}</p>
<form method="post">
${(page.rows ?? formRows(page.record, page.notice)).map((row, index) => alternativeFields(row, index, errors))}
<p class="small">Leave the price blank when it is still to be confirmed. Blank rows are ignored.</p>
<button type="submit" name="action" value="approve">Approve and send now</button>
<button type="submit" name="action" value="save" class="secondary">Save changes, send at the deadline</button>
</form>`,
      };
    }
    case 'saved':
      return {
        title: 'Your changes are saved',
        body: h`
<p>The notice to ${customer(page.record)} now offers ${alternatives(page.notice)}. ${deadline(page.notice, context)}</p>
<p>To approve it now, open the review link again.</p>`,
      };
    case 'approved':
      return {
        title: 'Approved: the notice is on its way',
        body: h`
<p>${customer(page.record)} will receive the notice about ${lineLabel(page.record)} within a minute${page.notice.approvedAt ? h` (approved ${formatInstant(page.notice.approvedAt, context.locale, context.timeZone)})` : ''}.</p>
${facts(page.record, context)}`,
      };
    case 'approvedPending':
      return {
        title: 'Approved: one more step',
        body: h`
<p>Your approval is saved, but the notice could not be handed on just now. Please press the button to finish; it is safe to press it again. If you do not, the notice still goes out at its deadline.</p>
<form method="post"><input type="hidden" name="action" value="approve"><button type="submit">Finish</button></form>`,
      };
    case 'settled': {
      const { notice } = page;
      const at = notice.sentAt ? formatInstant(notice.sentAt, context.locale, context.timeZone) : undefined;
      return {
        title:
          notice.status === 'sent' ? 'This notice has already gone out' : 'This notice could not be sent',
        body:
          notice.status === 'sent'
            ? h`<p>The notice about ${lineLabel(page.record)} was sent to ${customer(page.record)}${at ? h` on ${at}` : ''}${notice.autoSent ? ' at its deadline, without review' : ''}. Nothing was changed.</p>`
            : h`<p>The notice about ${lineLabel(page.record)} could not be delivered to ${customer(page.record)}${notice.failure ? h` (${notice.failure})` : ''}. Please contact the customer directly.</p>`,
      };
    }
    case 'superseded':
      return {
        title: 'Newer news replaced this notice',
        body: h`<p>The expected date of ${lineLabel(page.record)} changed after this review link was sent. Nothing was changed: please use the link in the newest review email, now expecting ${formatShipDate(page.record.expectedShipDate, context.locale)}.</p>`,
      };
    case 'closed':
      return {
        title: 'This order line is closed',
        body: h`<p>${lineLabel(page.record)} ${page.record.closedAs === 'cancelled' ? 'was cancelled' : 'has shipped'}, so the notice will not be sent. Nothing was changed.</p>`,
      };
    case 'expired':
      return {
        title: 'This review link has expired',
        body: h`<p>Review links work until a week after the notice's deadline. Nothing was changed; the backorder is in Backorder Watch.</p>`,
      };
    case 'invalid':
      return {
        title: 'This link is not valid',
        body: h`<p>The link may have been cut off when it was copied. Please open it straight from the review email. Nothing was changed.</p>`,
      };
    case 'notFound':
      return {
        title: 'We cannot find this order line',
        body: h`<p>This review link is for an order line no longer on record. Nothing was changed.</p>`,
      };
    case 'error':
      return {
        title: 'Something went wrong',
        body: h`<p>We could not complete your request. Please try again in a few minutes; pressing the button again is safe.</p>`,
      };
  }
}

const LABELS: Record<RowField, string> = {
  id: 'Option id',
  description: 'Description',
  shipDate: 'Ships on',
  price: 'Price difference',
  currency: 'Currency',
  per: 'Per (ton, lb, piece…)',
};

function alternativeFields(row: AlternativeRow, index: number, errors: RowError[]): Markup {
  const field = (name: RowField, type: 'text' | 'date' = 'text') => {
    const error = errors.find((candidate) => candidate.row === index && candidate.field === name);
    return h`<label>${LABELS[name]}<input type="${type}" name="${name}-${index}" value="${row[name]}"${
      error ? h` aria-invalid="true" aria-describedby="${name}-${index}-error"` : ''
    }>${error ? h`<span class="error" id="${name}-${index}-error">${error.message}</span>` : ''}</label>`;
  };
  const isNew = row.id === '' && row.description === '';
  return h`<fieldset>
<legend>${isNew ? 'Add an alternative' : `Option ${row.id || index + 1}`}</legend>
${field('description')}
<div class="row">${field('id')}${field('shipDate', 'date')}${field('price')}</div>
<div class="row">${field('currency')}${field('per')}</div>
${isNew ? '' : h`<label><input type="checkbox" name="remove-${index}" value="1"> Remove this alternative</label>`}
</fieldset>`;
}

function customer(record: Backorder): string {
  return record.details.customer.name;
}

function deadline(notice: Notice, context: PageContext): Markup {
  return h`Unless you approve it sooner, it goes out as it stands on <strong>${formatInstant(notice.deadline, context.locale, context.timeZone)}</strong>.`;
}

function alternatives(notice: Notice): string {
  const count = notice.alternatives?.length ?? 0;
  return count === 0 ? 'no alternatives' : `${count} alternative${count === 1 ? '' : 's'}`;
}
