import { type Backorder, lineLabel } from '#domain/backorder.ts';
import { daysBetween, formatMoney, formatShipDate, oneLine, shorten } from './format.ts';

/**
 * Text messages (SMS) to owners, managers and VPs. Each one starts with
 * `Backorder <order> line <line> <what happened>:` so a lock screen shows what matters, and so
 * a burst can be grouped into one summary. Texts are kept to the GSM-7 alphabet where we can:
 * one character outside it (→, …, a curly quote) switches the whole SMS to UCS-2, cutting a
 * segment from 160 to 70 characters and tripling what a 160-character text costs.
 */

/** One SMS segment in GSM-7. */
export const SMS_LIMIT = 160;

export interface TextOptions {
  /** Locale for dates and money; default `en-US`. The wording is English. */
  locale?: string;
}

const GSM_REPLACEMENTS: [RegExp, string][] = [
  [/[\u2018\u2019\u201a\u2032]/g, "'"],
  [/[\u201c\u201d\u201e\u2033]/g, '"'],
  [/[\u2010-\u2015\u2212]/g, '-'],
  [/\u2026/g, '...'],
  [/\u2192/g, '->'],
  [/[\u00a0\u2007\u202f]/g, ' '],
];

/** Replaces the typographic characters that would force UCS-2 with their GSM-7 look-alikes. */
export function smsSafe(text: string): string {
  return GSM_REPLACEMENTS.reduce((value, [pattern, plain]) => value.replace(pattern, plain), oneLine(text));
}

/** How hard a text is squeezed to fit: each level shortens the free-text parts further. */
interface Squeeze {
  item: number;
  customer: number;
  /** Nice-to-have parts (order value) are kept only while there is room. */
  extras: boolean;
}

const SQUEEZES: Squeeze[] = [
  { item: Number.POSITIVE_INFINITY, customer: Number.POSITIVE_INFINITY, extras: true },
  { item: 32, customer: 28, extras: true },
  { item: 24, customer: 24, extras: false },
  { item: 16, customer: 18, extras: false },
  { item: 10, customer: 12, extras: false },
];

/**
 * Builds the text at the gentlest squeeze that fits one segment. The label comes first, so the
 * last resort (cutting the tail) never loses which order line it is about.
 */
function fitSegment(build: (squeeze: Squeeze) => string): string {
  // A full stop right after a cut reads as a typo: `ASTM....` becomes `ASTM...`.
  const render = (squeeze: Squeeze) => smsSafe(build(squeeze)).replaceAll('....', '...');
  for (const squeeze of SQUEEZES) {
    const text = render(squeeze);
    if (text.length <= SMS_LIMIT) return text;
  }
  const last = SQUEEZES.at(-1) ?? { item: 10, customer: 12, extras: false };
  return shorten(render(last), SMS_LIMIT, '...');
}

const cut = (value: string, max: number) => shorten(smsSafe(value), max, '...');

function who(record: Backorder, squeeze: Squeeze): string {
  const { customer, item } = record.details;
  return `${cut(customer.name, squeeze.customer)}, ${cut(item.description, squeeze.item)}`;
}

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

function ordinal(value: number): string {
  const tens = value % 100;
  if (tens >= 11 && tens <= 13) return `${value}th`;
  return `${value}${['th', 'st', 'nd', 'rd'][value % 10] ?? 'th'}`;
}

/**
 * The slip that made `slipCount`: the opening delay is slip 1, and the n-th `slipped` notice is
 * slip n + 1. The text names that slip's dates even if the line has moved since: a later slip
 * sends its own text.
 */
function slipDates(record: Backorder, slipCount: number): { from: string; to: string } {
  const slips = record.notices
    .filter((notice) => notice.kind === 'slipped')
    .sort((a, b) => a.revision - b.revision);
  const notice = slips[slipCount - 2] ?? slips.at(-1);
  if (notice) return { from: notice.previousShipDate, to: notice.expectedShipDate };
  return { from: record.originalShipDate, to: record.expectedShipDate };
}

/**
 * To the owner's manager when a line slips again (CONTRACT §2.2):
 * `Backorder SO-10042 line 3 slipped again: Mar 22 -> Mar 29, 14 days late. Lone Star Fabrication, 3/16" HRC 48" x 96". Owner: Dana Ortiz.`
 */
export function managerSlipText(record: Backorder, slipCount: number, options: TextOptions = {}): string {
  const locale = options.locale ?? 'en-US';
  const { from, to } = slipDates(record, slipCount);
  const late = daysBetween(record.originalShipDate, to);
  const again = slipCount > 2 ? `slipped again (${ordinal(slipCount)} delay)` : 'slipped again';
  const day = (date: string) => formatShipDate(date, locale, 'short');
  return fitSegment(
    (squeeze) =>
      `Backorder ${lineLabel(record)} ${again}: ${day(from)} -> ${day(to)}, ${plural(late, 'day', 'days')} late. ` +
      `${who(record, squeeze)}. Owner: ${record.details.owner.name}.`,
  );
}

/**
 * To the VP once a line is `daysPastOriginal` days past its original ship date (CONTRACT §2.3):
 * `Backorder SO-10042 line 3 is 14 days late: promised Mar 15, now Mar 29 (2 delays). …`
 */
export function vpText(record: Backorder, daysPastOriginal: number, options: TextOptions = {}): string {
  const locale = options.locale ?? 'en-US';
  const day = (date: string) => formatShipDate(date, locale, 'short');
  const value = record.details.orderValue;
  return fitSegment((squeeze) => {
    const worth = value && squeeze.extras ? `, ${formatMoney(value, locale)}` : '';
    return (
      `Backorder ${lineLabel(record)} is ${plural(daysPastOriginal, 'day', 'days')} late: ` +
      `promised ${day(record.originalShipDate)}, now ${day(record.expectedShipDate)} ` +
      `(${plural(record.slipCount, 'delay', 'delays')}). ${who(record, squeeze)}${worth}. Owner: ${record.details.owner.name}.`
    );
  });
}

/**
 * To the owner when the line's next-action date passed without an update (CONTRACT §2.5):
 * `Backorder SO-10042 line 3 is due for an update: ships Mar 22, promised Mar 15. …`
 */
export function ownerReminderText(record: Backorder, options: TextOptions = {}): string {
  const locale = options.locale ?? 'en-US';
  const day = (date: string) => formatShipDate(date, locale, 'short');
  return fitSegment(
    (squeeze) =>
      `Backorder ${lineLabel(record)} is due for an update: ships ${day(record.expectedShipDate)}, ` +
      `promised ${day(record.originalShipDate)}. ${who(record, squeeze)}. Post your next step in the ERP.`,
  );
}

interface Alert {
  /** `SO-10042 line 3`, when the text has the standard opening. */
  label?: string;
  /** What happened, as a heading for the lines it happened to: `Slipped again`. */
  event: string;
}

// `Backorder <label> <event>: …`, where a label ends in `line <id>`.
const OPENING = /^Backorder (.+? line \S+) (.+?): /;

function alertOf(text: string): Alert {
  const match = OPENING.exec(text);
  // Not one of ours: keep its start, without a full stop of its own (the summary adds them).
  if (!match?.[1] || !match[2]) return { event: cut(text, 60).replace(/(?<!\.)[.!?]$/, '') };
  const event = match[2].replace(/^is /, '');
  return { label: match[1], event: `${event.charAt(0).toUpperCase()}${event.slice(1)}` };
}

function summaryOf(total: number, alerts: Alert[], rest: number): string {
  const groups = new Map<string, string[]>();
  for (const alert of alerts) {
    const labels = groups.get(alert.event) ?? [];
    if (alert.label) labels.push(alert.label);
    groups.set(alert.event, labels);
  }
  const parts = [...groups].map(([event, labels]) =>
    labels.length > 0 ? `${event}: ${labels.join(', ')}` : event,
  );
  if (rest > 0) parts.push(`+${rest} more`);
  // Each part ends a sentence, except that an ellipsis already ends one.
  return `${total} backorder alerts. ${parts.map((part) => (part.endsWith('...') ? part : `${part}.`)).join(' ')}`;
}

/**
 * One text for a burst of texts due to the same person (CONTRACT §2.7), listing the order lines
 * grouped by what happened: `3 backorder alerts. Slipped again: SO-10042 line 3, SO-10043 line 1. …`.
 * Fits one segment when it can; otherwise lists as many as fit and counts the rest. A single
 * text is returned as it is.
 */
export function textSummary(texts: readonly string[]): string {
  const [only, ...others] = texts;
  if (only === undefined) throw new RangeError('no texts to summarise');
  if (others.length === 0) return smsSafe(only);
  const alerts = texts.map((text) => alertOf(smsSafe(text)));
  for (let shown = alerts.length; shown > 0; shown--) {
    const summary = summaryOf(texts.length, alerts.slice(0, shown), texts.length - shown);
    if (summary.length <= SMS_LIMIT) return summary;
  }
  // Even one entry is too long (a very long order id): cut it, but keep the count of the rest.
  const tail = ` +${texts.length - 1} more.`;
  return `${shorten(summaryOf(texts.length, alerts.slice(0, 1), 0), SMS_LIMIT - tail.length, '...')}${tail}`;
}
