import { type Backorder, lineLabel } from '#domain/backorder.ts';
import { escapeHtml } from '#domain/messages/document.ts';
import { formatPhone, formatQuantity, formatShipDate } from '#domain/messages/format.ts';

/**
 * The shell of every page a link in our emails opens (a customer's choice, an owner's review):
 * small, server-rendered, readable on a phone, with inline CSS and no JavaScript. Every value is
 * escaped by the `h` template tag below, and only there, so page code never concatenates HTML.
 */

/** Who the pages speak for and how they write dates and money. */
export interface PageContext {
  /** Shown above the title; omitted when unknown. */
  companyName?: string;
  /** BCP 47 locale for `<html lang>`, dates and money. */
  locale: string;
  /** For instants (when a choice was recorded) when the customer's own zone is unknown. */
  timeZone: string;
}

export const DEFAULT_PAGE_CONTEXT: PageContext = { locale: 'en-US', timeZone: 'UTC' };

// ---------------------------------------------------------------------------------------------
// Escaping

/** HTML that is already safe: the only thing `h` inserts without escaping. */
export class Markup {
  readonly html: string;
  constructor(html: string) {
    this.html = html;
  }
}

export type Content = Markup | string | number | false | null | undefined | Content[];

function fragment(value: Content): string {
  if (value instanceof Markup) return value.html;
  if (Array.isArray(value)) return value.map(fragment).join('');
  if (value === false || value === null || value === undefined) return '';
  return escapeHtml(String(value));
}

/** A template tag that escapes every interpolated value unless it is Markup made by `h` itself. */
export function h(strings: TemplateStringsArray, ...values: Content[]): Markup {
  let html = strings[0] ?? '';
  values.forEach((value, index) => {
    html += fragment(value) + (strings[index + 1] ?? '');
  });
  return new Markup(html);
}

export function facts(record: Backorder, context: PageContext): Markup {
  const { details } = record;
  const rows: [string, string][] = [
    ['Order', lineLabel(record)],
    ['Item', `${details.item.description} (${details.item.sku})`],
    ['Quantity', formatQuantity(details.quantity, context.locale)],
    ['Originally due to ship', formatShipDate(record.originalShipDate, context.locale)],
    ['Now expected to ship', formatShipDate(record.expectedShipDate, context.locale)],
  ];
  return h`<dl class="facts">${rows.map(([label, value]) => h`<dt>${label}</dt><dd>${value}</dd>`)}</dl>`;
}

export function contact(record: Backorder): Markup {
  const { owner } = record.details;
  return h`contact ${owner.name} at <a href="mailto:${owner.email}">${owner.email}</a>${
    owner.phone ? h` or <a href="tel:${owner.phone}">${formatPhone(owner.phone)}</a>` : ''
  }`;
}

export function capitalised(markup: Markup): Markup {
  return new Markup(markup.html.charAt(0).toUpperCase() + markup.html.slice(1));
}

// ---------------------------------------------------------------------------------------------
// Document

const STYLE = `
:root{color-scheme:light;--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--accent:#1d4ed8}
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
main{max-width:36rem;margin:0 auto;padding:1.5rem 1rem 3rem}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1.25rem}
.brand{margin:0 0 .75rem;color:var(--muted);font-size:.875rem;font-weight:600}
h1{margin:0 0 1rem;font-size:1.375rem;line-height:1.3;overflow-wrap:anywhere}
h2{margin:.25rem 0 .5rem;font-size:1.125rem;overflow-wrap:anywhere}
p{margin:0 0 1rem;overflow-wrap:anywhere}
.facts{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0 0 1rem;padding:.75rem 0;border-top:1px solid var(--line);border-bottom:1px solid var(--line)}
.facts dt{color:var(--muted)}
.facts dd{margin:0;overflow-wrap:anywhere}
.choice{border:2px solid var(--accent);border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem}
.choice ul{margin:0;padding-left:1.25rem}
.label{margin:0;color:var(--muted);font-size:.875rem;text-transform:uppercase;letter-spacing:.04em}
.ok{font-size:1.0625rem}
button{display:block;width:100%;min-height:3rem;padding:.75rem 1rem;border:0;border-radius:6px;background:var(--accent);color:#fff;font:inherit;font-weight:700;cursor:pointer}
button:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}
form{margin:0 0 1rem}
fieldset{margin:0 0 1rem;padding:.75rem 1rem;border:1px solid var(--line);border-radius:8px}
legend{padding:0 .25rem;font-weight:700}
label{display:block;margin:0 0 .5rem;font-size:.875rem;color:var(--muted)}
input[type=text],input[type=date]{display:block;width:100%;min-height:2.5rem;margin-top:.25rem;padding:.375rem .5rem;border:1px solid #9ca3af;border-radius:6px;color:var(--ink);font:inherit}
input[aria-invalid=true]{border-color:#b91c1c}
.row{display:grid;grid-template-columns:1fr 1fr 1fr;gap:0 .75rem}
.error{color:#b91c1c;font-weight:600}
button.secondary{background:#fff;color:var(--accent);border:2px solid var(--accent);margin-top:.5rem}
.small{color:var(--muted);font-size:.875rem}
a{color:var(--accent)}
@media (max-width:24rem){.facts,.row{grid-template-columns:1fr}.facts dd{margin-bottom:.5rem}}
`;

/** A complete HTML document whose `<title>` and `<h1>` are `title`. */
export function renderPage(title: string, body: Markup, context: PageContext): string {
  const fullTitle = context.companyName ? `${title} · ${context.companyName}` : title;
  return h`<!doctype html>
<html lang="${context.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${fullTitle}</title>
<style>${new Markup(STYLE)}</style>
</head>
<body>
<main>
<div class="card">
${context.companyName ? h`<p class="brand">${context.companyName}</p>` : ''}
<h1>${title}</h1>
${body}
</div>
</main>
</body>
</html>
`.html;
}
