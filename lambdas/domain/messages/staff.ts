import {
  type Backorder,
  type CustomerDecision,
  lineLabel,
  type Notice,
  offeredAlternatives,
} from '#domain/backorder.ts';
import {
  type CompanyProfile,
  customerNoticeDocument,
  describeAlternative,
  type NoticeView,
} from './customer.ts';
import { type Block, type Inline, mailto, type RenderedEmail, renderEmail, tel } from './document.ts';
import {
  formatInstant,
  formatPhone,
  formatQuantity,
  formatShipDate,
  formatShortInstant,
  oneLine,
  shorten,
} from './format.ts';

/**
 * Emails to the company's own people: the owner of a backorder and their manager. Times are
 * on the company's clock; every email says which line it is about in the subject and what to
 * do next in its first lines.
 */

/** A notice as the owner's emails need it: what it says and when it must go out. */
export type NoticeWithDeadline = NoticeView & Pick<Notice, 'deadline'> & Partial<Pick<Notice, 'sentAt'>>;

const ITEM_LENGTH = 40;

function customerName(record: Backorder): string {
  return record.details.customer.name;
}

/** The facts an owner needs to act on a line without opening the ERP. */
function lineFacts(record: Backorder, company: CompanyProfile): Block {
  const { details } = record;
  const locale = company.locale;
  const customer = details.customer;
  const phone: Inline[] = customer.phone ? [', ', tel(customer.phone, formatPhone(customer.phone))] : [];
  return {
    kind: 'facts',
    rows: [
      { label: 'Customer', value: [`${customer.name} (${customer.id}), `, mailto(customer.email), ...phone] },
      { label: 'Order', value: [`${record.orderId}, line ${record.lineId}`] },
      { label: 'Item', value: [`${details.item.description} (SKU ${details.item.sku})`] },
      { label: 'Quantity', value: [formatQuantity(details.quantity, locale)] },
      { label: 'Supplier', value: [details.supplier.name] },
      { label: 'Reason', value: [details.reason.text] },
      { label: 'Original ship date', value: [formatShipDate(record.originalShipDate, locale)] },
      { label: 'Now expected', value: [formatShipDate(record.expectedShipDate, locale)] },
    ],
  };
}

/** "now ships Sunday, March 22, 2026 (was Sunday, March 15, 2026)". */
function change(notice: NoticeView, company: CompanyProfile): string {
  return (
    `now ships ${formatShipDate(notice.expectedShipDate, company.locale)} ` +
    `(was ${formatShipDate(notice.previousShipDate, company.locale)})`
  );
}

function preview(record: Backorder, notice: NoticeView, company: CompanyProfile, caption: string): Block {
  const document = customerNoticeDocument({ record, notice, company, links: undefined });
  return { kind: 'quote', caption, subject: document.subject, blocks: document.blocks };
}

function signOff(company: CompanyProfile): Block {
  return { kind: 'fineprint', text: `Backorder Watch for ${company.name}` };
}

/**
 * Review mode: asks the owner to review a pending customer notice before its deadline, and
 * shows the notice as the customer will see it.
 */
export function ownerReviewRequest(
  record: Backorder,
  notice: NoticeView,
  reviewUrl: string,
  deadline: string | Date,
  company: CompanyProfile,
): RenderedEmail {
  const label = lineLabel(record);
  const short = formatShortInstant(deadline, company.locale, company.timeZone);
  return renderEmail({
    subject: oneLine(`Review by ${short}: notice to ${customerName(record)} about ${label}`),
    preheader: oneLine(`${label} ${change(notice, company)}. It goes out at ${short} unless you review it.`),
    brand: company.name,
    locale: company.locale,
    blocks: [
      { kind: 'paragraph', content: [`Hello ${record.details.owner.name},`] },
      {
        kind: 'paragraph',
        content: [
          `A notice to ${customerName(record)} is waiting for your review: `,
          { strong: label },
          ` ${change(notice, company)}.`,
        ],
      },
      {
        kind: 'paragraph',
        content: [
          'Please review it by ',
          { strong: formatInstant(deadline, company.locale, company.timeZone) },
          '. If it is not approved by then, it is sent as it is, so the customer still hears in time.',
        ],
      },
      { kind: 'button', tone: 'primary', action: { label: 'Review the notice', href: reviewUrl } },
      lineFacts(record, company),
      preview(
        record,
        notice,
        company,
        'The notice as the customer will see it (links disabled in this preview):',
      ),
      signOff(company),
    ],
  });
}

/**
 * Review mode: the deadline is near and the notice is still unreviewed. Names the deadline
 * itself rather than "1 hour left", which depends on configuration and business hours.
 */
export function ownerReviewWarning(
  record: Backorder,
  notice: NoticeWithDeadline,
  reviewUrl: string,
  company: CompanyProfile,
): RenderedEmail {
  const deadline = notice.deadline;
  const label = lineLabel(record);
  const short = formatShortInstant(deadline, company.locale, company.timeZone);
  return renderEmail({
    subject: oneLine(`Reminder: the notice about ${label} goes out unreviewed at ${short}`),
    preheader: oneLine(`Review it now, or ${customerName(record)} gets it as it is at ${short}.`),
    brand: company.name,
    locale: company.locale,
    blocks: [
      { kind: 'paragraph', content: [`Hello ${record.details.owner.name},`] },
      {
        kind: 'paragraph',
        content: [
          `The notice to ${customerName(record)} about `,
          { strong: label },
          ' is still waiting for your review. It will be sent as it is on ',
          { strong: formatInstant(deadline, company.locale, company.timeZone) },
          '.',
        ],
      },
      { kind: 'paragraph', content: [`It tells them the line ${change(notice, company)}.`] },
      { kind: 'button', tone: 'primary', action: { label: 'Review the notice now', href: reviewUrl } },
      signOff(company),
    ],
  });
}

/** Tells the owner what the customer chose on a notice: an alternative, or to wait. */
export function ownerDecisionEmail(
  record: Backorder,
  decision: CustomerDecision,
  company: CompanyProfile,
): RenderedEmail {
  const label = lineLabel(record);
  const customer = customerName(record);
  const decidedAt = formatInstant(decision.decidedAt, company.locale, company.timeZone);
  const choice = decision.choice;
  const alternative =
    choice.kind === 'alternative'
      ? offeredAlternatives(record, decision.revision).find(
          (candidate) => candidate.id === choice.alternativeId,
        )
      : undefined;

  const subject =
    choice.kind === 'alternative'
      ? `${customer} chose ${choice.alternativeId} for ${label}`
      : `${customer} will wait for ${label}`;

  const choiceBlocks: Block[] =
    choice.kind === 'alternative'
      ? [
          {
            kind: 'paragraph',
            content: [
              `${customer} chose to switch `,
              { strong: label },
              ' to alternative ',
              { strong: choice.alternativeId },
              ` on ${decidedAt}.`,
            ],
          },
          alternative
            ? {
                kind: 'facts',
                rows: [
                  { label: 'Alternative', value: [alternative.description] },
                  { label: 'Ships', value: [describeAlternative(alternative, company.locale).ships] },
                  {
                    label: 'Price difference',
                    value: [describeAlternative(alternative, company.locale).price],
                  },
                ],
              }
            : {
                kind: 'paragraph',
                content: [
                  `${choice.alternativeId} is no longer among the alternatives the ERP lists for this line: check with the customer what they expect.`,
                ],
              },
          {
            kind: 'paragraph',
            content: [
              { strong: 'Next step: ' },
              `change the order line in the ERP to ${choice.alternativeId} and confirm the new ship date with ${customer}.`,
            ],
          },
        ]
      : [
          {
            kind: 'paragraph',
            content: [
              `${customer} chose to wait for `,
              { strong: label },
              ` as ordered (decided ${decidedAt}).`,
            ],
          },
          {
            kind: 'paragraph',
            content: [
              { strong: 'Next step: ' },
              'nothing to change on the order; keep the expected date and next action current in the ERP.',
            ],
          },
        ];

  // A choice made on an older notice may rest on dates that have moved since.
  const stale: Block[] =
    decision.revision < record.noticeRevision
      ? [
          {
            kind: 'paragraph',
            content: [
              `Note: they chose on update ${decision.revision}; the line has changed since and now ships ${formatShipDate(record.expectedShipDate, company.locale)}.`,
            ],
          },
        ]
      : [];

  return renderEmail({
    subject: oneLine(subject),
    preheader: oneLine(`${subject}. ${shorten(record.details.item.description, ITEM_LENGTH)}.`),
    brand: company.name,
    locale: company.locale,
    blocks: [
      { kind: 'paragraph', content: [`Hello ${record.details.owner.name},`] },
      ...choiceBlocks,
      ...stale,
      lineFacts(record, company),
      signOff(company),
    ],
  });
}

/** The customer notice bounced or was rejected: the customer does not know, so the owner calls. */
export function ownerDeliveryFailure(
  record: Backorder,
  notice: NoticeView,
  reason: string,
  company: CompanyProfile,
): RenderedEmail {
  const label = lineLabel(record);
  const customer = record.details.customer;
  const call: Inline[] = customer.phone
    ? [
        'Please call them at ',
        tel(customer.phone, formatPhone(customer.phone)),
        ' and correct their email address in the ERP.',
      ]
    : ['Please call them (no phone number is on file for them) and correct their email address in the ERP.'];
  return renderEmail({
    subject: oneLine(`Call ${customer.name}: the notice about ${label} was not delivered`),
    preheader: oneLine(`They do not know that ${label} ${change(notice, company)}.`),
    brand: company.name,
    locale: company.locale,
    blocks: [
      { kind: 'paragraph', content: [`Hello ${record.details.owner.name},`] },
      {
        kind: 'paragraph',
        content: [
          `The notice to ${customer.name} about `,
          { strong: label },
          ' did not reach them at ',
          mailto(customer.email),
          `. Reason: ${oneLine(reason)}`,
        ],
      },
      {
        kind: 'paragraph',
        content: [`They do not know that the line ${change(notice, company)}. `, ...call],
      },
      lineFacts(record, company),
      signOff(company),
    ],
  });
}

/** Review mode: tells the owner's manager a notice went out at its deadline without approval. */
export function managerAutoSentNotice(
  record: Backorder,
  notice: NoticeWithDeadline,
  company: CompanyProfile,
): RenderedEmail {
  const label = lineLabel(record);
  const owner = record.details.owner;
  const sentAt = formatInstant(notice.sentAt ?? notice.deadline, company.locale, company.timeZone);
  return renderEmail({
    subject: oneLine(`Sent without review: the notice to ${customerName(record)} about ${label}`),
    preheader: oneLine(`${owner.name} did not review it before the deadline.`),
    brand: company.name,
    locale: company.locale,
    blocks: [
      { kind: 'paragraph', content: ['Hello,'] },
      {
        kind: 'paragraph',
        content: [
          'The notice to ',
          `${customerName(record)} about `,
          { strong: label },
          ` reached its deadline before ${owner.name} reviewed it, so it went out unreviewed on ${sentAt}, `,
          `and the customer heard in time. You may want to go over it with ${owner.name}.`,
        ],
      },
      {
        kind: 'paragraph',
        content: ['Owner: ', { strong: owner.name }, ', ', mailto(owner.email)],
      },
      lineFacts(record, company),
      preview(record, notice, company, 'What the customer received (links disabled in this copy):'),
      signOff(company),
    ],
  });
}

/**
 * The texts of one grouping window to a person who has had the day's allowance of texts
 * (`escalation.maxTextsPerPersonPerDay`): the same words, by email, so nothing is dropped.
 */
export function textsByEmail(
  messages: readonly string[],
  allowance: number,
  company: CompanyProfile,
): RenderedEmail {
  const [first] = messages;
  if (first === undefined) throw new RangeError('no texts to send by email');
  const count = messages.length;
  const texts = allowance === 1 ? 'text' : `${allowance} texts`;
  return renderEmail({
    subject: count === 1 ? shorten(first, 120) : `${count} backorder alerts`,
    preheader: `You have had today's ${texts}: further alerts today come by email.`,
    brand: company.name,
    locale: company.locale,
    blocks: [
      { kind: 'paragraph', content: ['Hello,'] },
      {
        kind: 'paragraph',
        content: [
          `You have had today's ${texts} from Backorder Watch, so ${count === 1 ? 'this alert comes' : 'these alerts come'} `,
          'by email instead. Texts start again tomorrow.',
        ],
      },
      ...messages.map((message): Block => ({ kind: 'paragraph', content: [oneLine(message)] })),
      signOff(company),
    ],
  });
}
