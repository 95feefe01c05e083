/**
 * Formatting shared by every message: dates, instants, money, quantities and short labels.
 * Intl does the locale work; formatters are cached because Lambda renders many messages per
 * warm container and building an Intl formatter costs far more than using one.
 */

/** A calendar date as the ERP sends it: `YYYY-MM-DD`. */
export type IsoDate = string;

const formatters = new Map<string, Intl.DateTimeFormat>();
const numberFormatters = new Map<string, Intl.NumberFormat>();

function dateFormatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, formatter);
  }
  return formatter;
}

function numberFormatter(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let formatter = numberFormatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, options);
    numberFormatters.set(key, formatter);
  }
  return formatter;
}

// ICU puts a narrow no-break space before AM/PM; plain spaces render everywhere, including SMS.
const tidy = (value: string): string => value.replaceAll('\u202f', ' ');

/** Noon UTC of a calendar date: far from midnight, so no time zone can move it to another day. */
function calendarDay(date: IsoDate): Date {
  const parsed = new Date(`${date}T12:00:00Z`);
  if (Number.isNaN(parsed.getTime())) throw new RangeError(`not a calendar date: ${date}`);
  return parsed;
}

/**
 * A ship date for people: `Sunday, March 22, 2026` (long) or `Mar 22` (short).
 * A ship date is a day on the shipping plant's calendar, not an instant, so it names the same
 * day for every reader wherever they are; only the locale changes how it is written.
 */
export function formatShipDate(date: IsoDate, locale: string, style: 'long' | 'short' = 'long'): string {
  const options: Intl.DateTimeFormatOptions =
    style === 'long'
      ? { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }
      : { month: 'short', day: 'numeric', timeZone: 'UTC' };
  return tidy(dateFormatter(locale, options).format(calendarDay(date)));
}

/**
 * An instant for the reader's wall clock: `Tuesday, March 10, 2026 at 2:05 PM CDT`.
 * Unlike ship dates, instants do shift: 2:30 PM in Chicago is the next morning in Sydney.
 */
export function formatInstant(at: string | Date, locale: string, timeZone: string): string {
  return tidy(
    dateFormatter(locale, {
      weekday: 'long',
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZoneName: 'short',
      timeZone,
    }).format(new Date(at)),
  );
}

/** The day of an instant on the reader's calendar: `Monday, March 23, 2026`. */
export function formatInstantDay(at: string | Date, locale: string, timeZone: string): string {
  return tidy(
    dateFormatter(locale, {
      weekday: 'long',
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      timeZone,
    }).format(new Date(at)),
  );
}

/** A short instant for subjects: `Mar 10, 6:05 PM CDT`. */
export function formatShortInstant(at: string | Date, locale: string, timeZone: string): string {
  return tidy(
    dateFormatter(locale, {
      month: 'short',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZoneName: 'short',
      timeZone,
    }).format(new Date(at)),
  );
}

/** Whole calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  return Math.round((calendarDay(to).getTime() - calendarDay(from).getTime()) / 86_400_000);
}

/** An amount of money in the locale's way: `$18,400.00`, `18.400,00 €`. */
export function formatMoney(money: { amount: number; currency: string }, locale: string): string {
  return numberFormatter(locale, { style: 'currency', currency: money.currency }).format(money.amount);
}

/**
 * A price difference as a buyer reads it: `+$12.00/ton`, `−$5.00/lb`, `no price change`.
 * The minus is the typographic U+2212 so it cannot be mistaken for a hyphen.
 */
export function formatPriceDelta(
  delta: { amount: number; currency: string; per?: string | undefined },
  locale: string,
): string {
  if (delta.amount === 0) return 'no price change';
  const parts = numberFormatter(locale, {
    style: 'currency',
    currency: delta.currency,
    signDisplay: 'exceptZero',
  }).formatToParts(delta.amount);
  const amount = parts.map((part) => (part.type === 'minusSign' ? '\u2212' : part.value)).join('');
  return delta.per ? `${amount}/${delta.per}` : amount;
}

// Units the ERP spells as English count nouns; anything else (lb, EA, pcs, kg) is kept as sent.
const countNouns = new Set([
  'bar',
  'beam',
  'bundle',
  'coil',
  'length',
  'pallet',
  'piece',
  'pipe',
  'plate',
  'sheet',
  'skid',
  'ton',
  'tonne',
  'tube',
]);

/** A quantity with its unit: `20 tons`, `1,250 lb`, `3 sheets`. */
export function formatQuantity(quantity: { amount: number; unit: string }, locale: string): string {
  const amount = numberFormatter(locale, { maximumFractionDigits: 3 }).format(quantity.amount);
  const plural =
    quantity.amount !== 1 && locale.toLowerCase().startsWith('en') && countNouns.has(quantity.unit);
  return `${amount} ${plural ? `${quantity.unit}s` : quantity.unit}`;
}

/** An E.164 number for reading: North American numbers as `+1 512-555-0123`, others unchanged. */
export function formatPhone(e164: string): string {
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return nanp ? `+1 ${nanp[1]}-${nanp[2]}-${nanp[3]}` : e164;
}

/** Collapses runs of whitespace (incl. line breaks) to one space: for subjects, texts and labels. */
export function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/**
 * Shortens to at most `max` characters, cutting at a word boundary when one is near and marking
 * the cut with an ellipsis: `3/16" HRC 48" x 96" pickled and oiled` → `3/16" HRC 48" x 96"…`.
 */
export function shorten(value: string, max: number, ellipsis = '…'): string {
  const text = oneLine(value);
  if (text.length <= max) return text;
  const room = Math.max(0, max - ellipsis.length);
  const cut = text.slice(0, room);
  const space = cut.lastIndexOf(' ');
  // A word boundary is only worth it if it keeps most of the room; else cut mid-word.
  const kept = space >= room * 0.6 ? cut.slice(0, space) : cut;
  return `${kept.replace(/[\s,;:.\-–—(]+$/, '')}${ellipsis}`;
}
