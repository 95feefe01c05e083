import { type Backorder, lineLabel, type Notice, offeredAlternatives } from '#domain/backorder.ts';
import type { Alternative } from '#domain/events.ts';
import {
  type Block,
  type EmailDocument,
  type Inline,
  mailto,
  type RenderedEmail,
  renderEmail,
  tel,
} from './document.ts';
import {
  formatInstant,
  formatInstantDay,
  formatPhone,
  formatPriceDelta,
  formatQuantity,
  formatShipDate,
  oneLine,
  shorten,
} from './format.ts';

/**
 * The emails a customer receives: the notice that a line is late (or less late), and the
 * confirmation that it shipped. Written for a purchasing manager who reads the subject line
 * in a list of fifty and decides from the body alone what to do.
 */

/** What the messages need to know about the company: its name and how it writes dates and money. */
export interface CompanyProfile {
  name: string;
  /** BCP 47, e.g. `en-US`: number, money and date formats (the wording is English). */
  locale: string;
  /** IANA zone: the company's clock, and the customer's when the ERP sends none. */
  timeZone: string;
}

/** The choice links of one notice, built by the caller (signed tokens, CONTRACT §3). */
export interface DecisionLinks {
  wait: string;
  alternatives: readonly { alternativeId: string; url: string }[];
}

/** The part of a notice the customer is told about. A full `Notice` fits. */
export type NoticeView = Pick<Notice, 'revision' | 'kind' | 'previousShipDate' | 'expectedShipDate'> & {
  /** When the news was learned: shown as "as of" in the customer's time zone. */
  learnedAt?: string;
};

export interface CustomerNoticeInput {
  record: Backorder;
  notice: NoticeView;
  company: CompanyProfile;
  links: DecisionLinks;
}

export class MissingDecisionLinkError extends Error {
  override readonly name = 'MissingDecisionLinkError';
}

/** The customer's clock: their own zone if the ERP knows it, else the company's. */
export function readerTimeZone(record: Backorder, company: CompanyProfile): string {
  return record.details.customer.timeZone ?? company.timeZone;
}

const SUBJECT_ITEM_LENGTH = 40;

/** The subject of a customer notice: order, line, item and both dates at a glance. */
export function customerNoticeSubject(
  record: Backorder,
  notice: NoticeView,
  company: CompanyProfile,
): string {
  const label = lineLabel(record);
  const now = formatShipDate(notice.expectedShipDate, company.locale, 'short');
  const was = formatShipDate(notice.previousShipDate, company.locale, 'short');
  if (notice.kind === 'improved') return oneLine(`Good news — ${label} now ships ${now} (was ${was})`);
  const item = shorten(record.details.item.description, SUBJECT_ITEM_LENGTH);
  return oneLine(`${label}: ${item} now ships ${now} (was ${was})`);
}

/**
 * The customer notice as blocks. With `links` undefined it is a preview: the buttons are drawn
 * but lead nowhere, so an owner reviewing it cannot choose on the customer's behalf.
 */
export function customerNoticeDocument(
  input: Omit<CustomerNoticeInput, 'links'> & { links: DecisionLinks | undefined },
): EmailDocument {
  const { record, notice, company, links } = input;
  const { details } = record;
  const locale = company.locale;
  const label = lineLabel(record);
  const date = (value: string) => formatShipDate(value, locale);
  const now = date(notice.expectedShipDate);
  const previous = date(notice.previousShipDate);
  const original = date(record.originalShipDate);

  const lead = noticeLead(notice, record, label, now, previous);
  const facts: { label: string; value: Inline[] }[] = [
    { label: 'Order', value: [`${record.orderId}, line ${record.lineId}`] },
    { label: 'Item', value: [`${details.item.description} (SKU ${details.item.sku})`] },
    { label: 'Quantity', value: [formatQuantity(details.quantity, locale)] },
    { label: 'Original ship date', value: [original] },
  ];
  // On a first notice the previous date is the original one: saying it twice would confuse.
  if (notice.previousShipDate !== record.originalShipDate) {
    facts.push({ label: 'Last told', value: [previous] });
  }
  facts.push({ label: 'Now expected', value: [{ strong: now }] });

  const blocks: Block[] = [
    { kind: 'paragraph', content: [`Hello ${details.customer.name},`] },
    { kind: 'paragraph', content: lead },
    { kind: 'paragraph', content: [`Reason for the delay: ${sentence(details.reason.text)}`] },
    { kind: 'facts', rows: facts },
    ...choiceBlocks(record, notice, company, links),
    { kind: 'paragraph', content: contactLine(record) },
    { kind: 'paragraph', content: [`Thank you for your patience.\n${details.owner.name}\n${company.name}`] },
    { kind: 'fineprint', text: footnote(record, notice, company) },
  ];
  return {
    subject: customerNoticeSubject(record, notice, company),
    preheader: oneLine(`${label} now ships ${now}. ${sentence(details.reason.text)}`),
    brand: company.name,
    locale,
    blocks,
  };
}

function noticeLead(
  notice: NoticeView,
  record: Backorder,
  label: string,
  now: string,
  previous: string,
): Inline[] {
  switch (notice.kind) {
    case 'opened':
      return [
        'Your order ',
        { strong: label },
        ' will ship later than we promised. It is now expected to ship on ',
        { strong: now },
        `, instead of ${previous}.`,
      ];
    case 'slipped':
      return [
        'We are sorry: your order ',
        { strong: label },
        ' is delayed again. It is now expected to ship on ',
        { strong: now },
        `, not ${previous} as we last told you.`,
      ];
    case 'improved': {
      const against = notice.expectedShipDate.localeCompare(record.originalShipDate);
      // Tell them plainly when the delay is over, not only that it shrank.
      const verdict =
        against === 0
          ? ' That is the date we originally promised.'
          : against < 0
            ? ' That is ahead of the date we originally promised.'
            : '';
      return [
        'Good news: your order ',
        { strong: label },
        ' will ship sooner than we last told you. It is now expected to ship on ',
        { strong: now },
        `, instead of ${previous}.${verdict}`,
      ];
    }
  }
}

function choiceBlocks(
  record: Backorder,
  notice: NoticeView,
  company: CompanyProfile,
  links: DecisionLinks | undefined,
): Block[] {
  const alternatives = offeredAlternatives(record, notice.revision);
  const keep = `Keep ${lineLabel(record)} as ordered, now expected ${formatShipDate(notice.expectedShipDate, company.locale)}.`;
  const confirmNote: Block = {
    kind: 'fineprint',
    text: 'Each button opens a page where you confirm your choice. Nothing changes until you confirm.',
  };
  if (alternatives.length === 0) {
    // No alternatives to offer: the wait link is how the customer acknowledges the news.
    return [
      { kind: 'paragraph', content: ['Please let us know you have seen this update:'] },
      {
        kind: 'button',
        tone: 'primary',
        action: { label: 'Acknowledge and wait', href: links?.wait ?? '', detail: keep },
      },
      confirmNote,
    ];
  }
  return [
    { kind: 'heading', text: 'Your options' },
    {
      kind: 'paragraph',
      content: [
        alternatives.length === 1
          ? 'You can wait for the item you ordered, or we can ship this alternative instead:'
          : 'You can wait for the item you ordered, or we can ship one of these alternatives instead:',
      ],
    },
    ...alternatives.map(
      (alternative): Block => ({
        kind: 'option',
        title: alternative.description,
        lines: alternativeLines(alternative, company.locale),
        action: { label: `Ship ${alternative.id} instead`, href: alternativeLink(alternative, links) },
      }),
    ),
    {
      kind: 'button',
      tone: 'secondary',
      action: { label: 'Wait for the original', href: links?.wait ?? '', detail: keep },
    },
    confirmNote,
  ];
}

/** An alternative's ship date and price difference, worded the same in every message. */
export function describeAlternative(
  alternative: Alternative,
  locale: string,
): { ships: string; price: string } {
  return {
    ships: formatShipDate(alternative.shipDate, locale),
    price: alternative.priceDelta ? formatPriceDelta(alternative.priceDelta, locale) : 'to be confirmed',
  };
}

function alternativeLines(alternative: Alternative, locale: string): string[] {
  const { ships, price } = describeAlternative(alternative, locale);
  return [`Option ${alternative.id}`, `Ships ${ships}`, `Price difference: ${price}`];
}

function alternativeLink(alternative: Alternative, links: DecisionLinks | undefined): string {
  if (!links) return '';
  const link = links.alternatives.find((candidate) => candidate.alternativeId === alternative.id);
  // One link per alternative is the contract; a notice missing one must not go out.
  if (!link) throw new MissingDecisionLinkError(`no decision link for alternative ${alternative.id}`);
  return link.url;
}

function contactLine(record: Backorder): Inline[] {
  const { owner } = record.details;
  const phone: Inline[] = owner.phone ? [' or ', tel(owner.phone, formatPhone(owner.phone))] : [];
  // No full stop after the address: some clients would take it into the link.
  return ['Questions? Your contact is ', { strong: owner.name }, ': ', mailto(owner.email), ...phone];
}

function footnote(record: Backorder, notice: NoticeView, company: CompanyProfile): string {
  const asOf = notice.learnedAt
    ? `, as of ${formatInstant(notice.learnedAt, company.locale, readerTimeZone(record, company))}`
    : '';
  return (
    `Update ${notice.revision} about ${lineLabel(record)}${asOf}. ` +
    `You receive this because ${record.details.customer.name} has an open order with ${company.name}.`
  );
}

/** Ends a free text with a full stop unless it already ends a sentence. */
function sentence(text: string): string {
  const trimmed = oneLine(text);
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/**
 * The email telling a customer their order is late, later again, or sooner than last told
 * (CONTRACT §2.1): reason, dates, every alternative with its ship date and price difference,
 * one choice link per alternative and one to wait, and the owner to call.
 */
export function customerNotice(input: CustomerNoticeInput): RenderedEmail {
  return renderEmail(customerNoticeDocument(input));
}

/**
 * A short email that a late line has shipped, for a record closed as shipped (its `closedAt`
 * is the shipping instant). Throws for any other record.
 */
export function shippedConfirmation(record: Backorder, company: CompanyProfile): RenderedEmail {
  if (record.closedAs !== 'shipped' || !record.closedAt) {
    throw new RangeError(`${lineLabel(record)} has not shipped`);
  }
  const { details } = record;
  const locale = company.locale;
  const zone = readerTimeZone(record, company);
  const label = lineLabel(record);
  const day = formatInstantDay(record.closedAt, locale, zone);
  const item = shorten(details.item.description, SUBJECT_ITEM_LENGTH);
  return renderEmail({
    subject: oneLine(`Shipped: ${label}, ${item}`),
    preheader: oneLine(`${label} shipped on ${day}.`),
    brand: company.name,
    locale,
    blocks: [
      { kind: 'paragraph', content: [`Hello ${details.customer.name},`] },
      {
        kind: 'paragraph',
        content: ['Your order ', { strong: label }, ` has shipped on ${day}. Thank you for waiting for it.`],
      },
      {
        kind: 'facts',
        rows: [
          { label: 'Order', value: [`${record.orderId}, line ${record.lineId}`] },
          { label: 'Item', value: [`${details.item.description} (SKU ${details.item.sku})`] },
          { label: 'Quantity', value: [formatQuantity(details.quantity, locale)] },
          { label: 'Original ship date', value: [formatShipDate(record.originalShipDate, locale)] },
          { label: 'Shipped', value: [{ strong: formatInstant(record.closedAt, locale, zone) }] },
        ],
      },
      { kind: 'paragraph', content: contactLine(record) },
      { kind: 'paragraph', content: [`${details.owner.name}\n${company.name}`] },
    ],
  });
}
