import { type Backorder, type CustomerChoice, type CustomerDecision, lineLabel } from '#domain/backorder.ts';
import { alternativeOf } from '#domain/decision.ts';
import { formatInstant, formatPriceDelta, formatShipDate } from '#domain/messages/format.ts';
import {
  capitalised,
  contact,
  DEFAULT_PAGE_CONTEXT,
  facts,
  h,
  type Markup,
  type PageContext,
  renderPage,
} from '#domain/page.ts';

/** The pages a customer sees after following a choice link (CONTRACT §3), in the shell of page.ts. */

/** Every page the decision links can lead to; the handler picks the HTTP status for each. */
export type DecisionPage =
  /** GET of a valid link: what will be recorded, and the button that records it. */
  | { kind: 'confirm'; record: Backorder; choice: CustomerChoice }
  /** POST recorded the choice. */
  | { kind: 'recorded'; record: Backorder; decision: CustomerDecision }
  /** POST recorded the choice, but the owner could not be told yet: the button finishes it. */
  | { kind: 'recordedPending'; record: Backorder; decision: CustomerDecision }
  /** A choice for this notice is on record already. */
  | { kind: 'alreadyDecided'; record: Backorder; decision: CustomerDecision }
  | { kind: 'superseded'; record: Backorder }
  | { kind: 'expired'; record?: Backorder | undefined }
  /** Forged, truncated or otherwise unreadable link. */
  | { kind: 'invalid' }
  | { kind: 'closed'; record: Backorder }
  | { kind: 'optionUnavailable'; record: Backorder; alternativeId: string }
  /** A genuine link for a backorder that is no longer on record. */
  | { kind: 'notFound' }
  /** Something failed on our side. */
  | { kind: 'error' };

export type DecisionPageKind = DecisionPage['kind'];

/** Renders one page as a complete HTML document; its `<title>` and `<h1>` are `title`. */
export function renderDecisionPage(
  page: DecisionPage,
  context: PageContext = DEFAULT_PAGE_CONTEXT,
): { title: string; html: string } {
  const { title, body } = content(page, context);
  return { title, html: renderPage(title, body, context) };
}

// ---------------------------------------------------------------------------------------------
// Pages

interface PageContent {
  title: string;
  body: Markup;
}

function content(page: DecisionPage, context: PageContext): PageContent {
  switch (page.kind) {
    case 'confirm': {
      const option = describeChoice(page.record, page.choice, context);
      return {
        title: 'Confirm your choice',
        body: h`
<p>Please check the details below, then press the button to confirm. Nothing changes until you do.</p>
${facts(page.record, context)}
<section class="choice" aria-label="Your choice">
  <p class="label">Your choice</p>
  <h2>${option.title}</h2>
  <ul>${option.lines.map((line) => h`<li>${line}</li>`)}</ul>
</section>
<form method="post">
  <button type="submit">${option.confirmLabel}</button>
</form>
<p class="small">Changed your mind? Use another link in our email, or ${contact(page.record)}.</p>`,
      };
    }
    case 'recorded':
    case 'recordedPending': {
      const option = describeChoice(page.record, page.decision.choice, context);
      const owner = page.record.details.owner.name;
      const pending = page.kind === 'recordedPending';
      return {
        title: pending ? 'Your choice is saved: one more step' : 'Thank you: your choice is recorded',
        body: h`
<p class="ok">You chose: <strong>${option.title}</strong></p>
${
  pending
    ? h`<p>We saved your choice but could not pass it on to ${owner} just now. Please press the button below to finish; it is safe to press it again.</p>
<form method="post"><button type="submit">Finish</button></form>`
    : h`<p>${owner} will be told right away and will follow up with you about the next steps.</p>`
}
${facts(page.record, context)}
<p class="small">Recorded ${decidedAt(page.record, page.decision, context)}. To change it, ${contact(page.record)}.</p>`,
      };
    }
    case 'alreadyDecided': {
      const option = describeChoice(page.record, page.decision.choice, context);
      return {
        title: `You already chose: ${option.title}`,
        body: h`
<p>Your choice for this notice was recorded ${decidedAt(page.record, page.decision, context)}, so nothing more is needed.</p>
${facts(page.record, context)}
<p class="small">To change your choice, ${contact(page.record)}.</p>`,
      };
    }
    case 'superseded':
      return {
        title: 'A newer notice replaced this link',
        body: h`
<p>The details of ${lineLabel(page.record)} changed after the email with this link was sent, so this link no longer applies. Please use the links in our most recent email about this order; if it has not reached you yet, it is on its way.</p>
<p>Nothing was recorded.</p>
<p class="small">Questions? ${capitalised(contact(page.record))}.</p>`,
      };
    case 'expired':
      return {
        title: 'This link has expired',
        body: h`
<p>For your protection, choice links work for a limited time${page.record ? h` and the one for ${lineLabel(page.record)} has run out` : ''}. Nothing was recorded.</p>
<p>${page.record ? h`Please ${contact(page.record)} to tell us what you would like.` : 'Please contact your sales representative to tell us what you would like.'}</p>`,
      };
    case 'invalid':
      return {
        title: 'This link is not valid',
        body: h`
<p>The link may have been cut off or changed when it was copied. Please open it straight from our email, or copy the whole link into your browser.</p>
<p>Nothing was recorded. If it still does not work, please contact your sales representative.</p>`,
      };
    case 'closed': {
      const { closedAs } = page.record;
      const label = lineLabel(page.record);
      const decision = page.record.customerDecision;
      return {
        title:
          closedAs === 'shipped'
            ? 'This order line has shipped'
            : closedAs === 'cancelled'
              ? 'This order line was cancelled'
              : 'This order line is closed',
        body: h`
<p>${label} is closed, so no choice is needed any more. Nothing was recorded.</p>
${decision ? h`<p>The choice on record: <strong>${describeChoice(page.record, decision.choice, context).title}</strong>.</p>` : ''}
<p class="small">Questions? ${capitalised(contact(page.record))}.</p>`,
      };
    }
    case 'optionUnavailable':
      return {
        title: 'This option is no longer available',
        body: h`
<p>Option ${page.alternativeId} is no longer offered for ${lineLabel(page.record)}. Nothing was recorded.</p>
${facts(page.record, context)}
<p>Please use another link in our email, or ${contact(page.record)}.</p>`,
      };
    case 'notFound':
      return {
        title: 'We cannot find this order line',
        body: h`
<p>This link is for an order line we no longer have on record. Nothing was recorded.</p>
<p>Please contact your sales representative.</p>`,
      };
    case 'error':
      return {
        title: 'Something went wrong',
        body: h`
<p>We could not complete your request. Please try again in a few minutes; if you already pressed the button, trying again is safe and will not record anything twice.</p>`,
      };
  }
}

interface ChoiceView {
  title: string;
  lines: string[];
  confirmLabel: string;
}

/** How a choice reads, in the words of the customer notice. */
function describeChoice(record: Backorder, choice: CustomerChoice, context: PageContext): ChoiceView {
  if (choice.kind === 'wait') {
    return {
      title: 'Wait for the original',
      lines: [
        `Ships ${formatShipDate(record.expectedShipDate, context.locale)} (expected)`,
        'Price difference: none',
      ],
      confirmLabel: 'Confirm: wait for the original',
    };
  }
  const alternative = alternativeOf(record, choice.alternativeId);
  if (!alternative) {
    return {
      title: `Option ${choice.alternativeId}`,
      lines: [],
      confirmLabel: `Confirm: ship ${choice.alternativeId} instead`,
    };
  }
  const price = alternative.priceDelta
    ? formatPriceDelta(alternative.priceDelta, context.locale)
    : 'to be confirmed';
  return {
    title: alternative.description,
    lines: [
      `Option ${alternative.id}`,
      `Ships ${formatShipDate(alternative.shipDate, context.locale)}`,
      `Price difference: ${price}`,
    ],
    confirmLabel: `Confirm: ship ${alternative.id} instead`,
  };
}

function decidedAt(record: Backorder, decision: CustomerDecision, context: PageContext): string {
  const zone = record.details.customer.timeZone ?? context.timeZone;
  return `on ${formatInstant(decision.decidedAt, context.locale, zone)}`;
}
