/**
 * A tiny document model for emails. Every email is written once as blocks and rendered twice,
 * to plain text and to HTML, so the two parts cannot drift apart. The HTML is what MJML would
 * emit for a single column: nested presentation tables with inline styles, which is the only
 * layout Outlook, Gmail and Apple Mail all agree on. Every interpolated value is escaped here,
 * and only here, so message code never handles HTML.
 */

/** What every email renderer returns: the parts of one SES message. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** A piece of running text: plain, bold, or a link. */
export type Inline = string | { strong: string } | { text: string; href: string };

export interface Action {
  label: string;
  href: string;
  /** One line under the button saying what it does. */
  detail?: string;
}

export type Block =
  | { kind: 'paragraph'; content: Inline[] }
  | { kind: 'heading'; text: string }
  | { kind: 'facts'; rows: { label: string; value: Inline[] }[] }
  /** A choice the reader can make: a card with a few lines and one button. */
  | { kind: 'option'; title: string; lines: string[]; action: Action }
  | { kind: 'button'; action: Action; tone: 'primary' | 'secondary' }
  /** Another message shown inside this one (a preview): its links are never clickable. */
  | { kind: 'quote'; caption: string; subject: string; blocks: Block[] }
  | { kind: 'fineprint'; text: string };

export interface EmailDocument {
  subject: string;
  /** The inbox preview line; hidden in the body. */
  preheader: string;
  /** Shown at the top of the card: who the mail is from. */
  brand: string;
  /** BCP 47 locale of the text, for `<html lang>`. */
  locale: string;
  blocks: Block[];
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and double- or single-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:', 'tel:']);

export class UnsafeLinkError extends Error {
  override readonly name = 'UnsafeLinkError';
}

/**
 * Checks a link before it goes into an href. Links are built by callers, so anything but
 * http(s), mailto and tel is a bug; it fails loudly rather than mailing a `javascript:` link.
 */
export function safeHref(href: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject.
  if (/[\u0000-\u001f\u007f\s]/.test(href)) throw new UnsafeLinkError(`link contains whitespace: ${href}`);
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    throw new UnsafeLinkError(`not an absolute URL: ${href}`);
  }
  if (!SAFE_SCHEMES.has(url.protocol)) throw new UnsafeLinkError(`unsafe link scheme ${url.protocol}`);
  return href;
}

/** A mailto link for an address. */
export const mailto = (email: string): Inline => ({ text: email, href: `mailto:${email}` });
/** A tel link for an E.164 number, shown as `shown`. */
export const tel = (e164: string, shown: string): Inline => ({ text: shown, href: `tel:${e164}` });

/** Renders a document to the three parts SES needs. */
export function renderEmail(document: EmailDocument): RenderedEmail {
  return { subject: document.subject, text: renderText(document), html: renderHtml(document) };
}

// ---------------------------------------------------------------------------------------------
// Plain text

function inlineText(content: Inline[]): string {
  return content
    .map((part) => {
      if (typeof part === 'string') return part;
      if ('strong' in part) return part.strong;
      // Mail clients link a bare address or number themselves; anything else shows its target.
      const bare = part.href === `mailto:${part.text}` || part.href.startsWith('tel:');
      return bare ? part.text : `${part.text} <${part.href}>`;
    })
    .join('');
}

function actionText(action: Action, inert: boolean): string[] {
  const lines = inert ? [`[${action.label}]`] : [`${action.label}:`, action.href];
  return action.detail ? [...lines, action.detail] : lines;
}

function blockText(block: Block, inert: boolean): string[] {
  switch (block.kind) {
    case 'paragraph':
      return [inlineText(block.content)];
    case 'heading':
      return [block.text, '-'.repeat(Math.min(block.text.length, 70))];
    case 'facts':
      return block.rows.map((row) => `${row.label}: ${inlineText(row.value)}`);
    case 'option':
      return [
        block.title,
        ...block.lines.map((line) => `  ${line}`),
        ...actionText(block.action, inert).map((line) => `  ${line}`),
      ];
    case 'button':
      return actionText(block.action, inert);
    case 'quote': {
      const inner = [`Subject: ${block.subject}`, '', ...paragraphsText(block.blocks, true)];
      return [block.caption, ...inner.map((line) => (line ? `> ${line}` : '>'))];
    }
    case 'fineprint':
      return [block.text];
  }
}

function paragraphsText(blocks: Block[], inert: boolean): string[] {
  // One entry per physical line, so a quote can prefix every line of a multi-line paragraph.
  return blocks.flatMap((block, index) => [
    ...(index > 0 ? [''] : []),
    ...blockText(block, inert).flatMap((line) => line.split('\n')),
  ]);
}

function renderText(document: EmailDocument): string {
  return `${paragraphsText(document.blocks, false).join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML

const FONT = 'font-family:Arial,Helvetica,sans-serif;';
const BODY_TEXT = `${FONT}font-size:16px;line-height:24px;color:#1f2937;`;
const SMALL_TEXT = `${FONT}font-size:13px;line-height:20px;color:#6b7280;`;
const LINK = 'color:#1d4ed8;text-decoration:underline;';
const TABLE = 'role="presentation" cellpadding="0" cellspacing="0" border="0"';

const buttonColours = {
  primary: { background: '#1d4ed8', border: '#1d4ed8', text: '#ffffff' },
  secondary: { background: '#ffffff', border: '#1d4ed8', text: '#1d4ed8' },
} as const;

function inlineHtml(content: Inline[], inert: boolean): string {
  return content
    .map((part) => {
      // Line breaks are the one piece of layout running text may carry (a sign-off).
      if (typeof part === 'string') return escapeHtml(part).replaceAll('\n', '<br>');
      if ('strong' in part) return `<strong>${escapeHtml(part.strong)}</strong>`;
      if (inert) return `<span style="color:#1d4ed8;">${escapeHtml(part.text)}</span>`;
      return `<a href="${escapeHtml(safeHref(part.href))}" style="${LINK}">${escapeHtml(part.text)}</a>`;
    })
    .join('');
}

function buttonHtml(action: Action, tone: 'primary' | 'secondary', inert: boolean): string {
  const colours = buttonColours[tone];
  const label = escapeHtml(action.label);
  const style = `display:inline-block;padding:12px 20px;${FONT}font-size:16px;line-height:20px;font-weight:bold;color:${colours.text};text-decoration:none;border-radius:4px;`;
  // A preview shows the button as it will look, but nothing in it can be clicked.
  const face = inert
    ? `<span style="${style}">${label}</span>`
    : `<a href="${escapeHtml(safeHref(action.href))}" target="_blank" style="${style}">${label}</a>`;
  const detail = action.detail
    ? `<div style="${SMALL_TEXT}padding-top:6px;">${escapeHtml(action.detail)}</div>`
    : '';
  return (
    `<table ${TABLE}><tr><td align="center" bgcolor="${colours.background}" ` +
    `style="border:2px solid ${colours.border};border-radius:4px;background-color:${colours.background};">` +
    `${face}</td></tr></table>${detail}`
  );
}

function blockHtml(block: Block, inert: boolean): string {
  switch (block.kind) {
    case 'paragraph':
      return `<p style="margin:0;${BODY_TEXT}">${inlineHtml(block.content, inert)}</p>`;
    case 'heading':
      return `<h2 style="margin:8px 0 0;${FONT}font-size:18px;line-height:24px;color:#111827;">${escapeHtml(block.text)}</h2>`;
    case 'facts': {
      const rows = block.rows
        .map(
          (row) =>
            `<tr><td valign="top" style="padding:4px 16px 4px 0;${FONT}font-size:14px;line-height:20px;color:#6b7280;white-space:nowrap;">${escapeHtml(row.label)}</td>` +
            `<td valign="top" style="padding:4px 0;${FONT}font-size:14px;line-height:20px;color:#111827;">${inlineHtml(row.value, inert)}</td></tr>`,
        )
        .join('');
      return `<table ${TABLE} width="100%" style="border-top:1px solid #e5e7eb;border-bottom:1px solid #e5e7eb;">${rows}</table>`;
    }
    case 'option': {
      const lines = block.lines
        .map(
          (line) =>
            `<div style="${FONT}font-size:14px;line-height:20px;color:#374151;">${escapeHtml(line)}</div>`,
        )
        .join('');
      return (
        `<table ${TABLE} width="100%" style="border:1px solid #d1d5db;border-radius:6px;"><tr><td style="padding:16px;">` +
        `<div style="${FONT}font-size:16px;line-height:24px;font-weight:bold;color:#111827;">${escapeHtml(block.title)}</div>` +
        `${lines}<div style="height:12px;line-height:12px;font-size:12px;">&nbsp;</div>` +
        `${buttonHtml(block.action, 'primary', inert)}</td></tr></table>`
      );
    }
    case 'button':
      return buttonHtml(block.action, block.tone, inert);
    case 'quote':
      return (
        `<p style="margin:0 0 8px;${SMALL_TEXT}">${escapeHtml(block.caption)}</p>` +
        `<table ${TABLE} width="100%" style="border-left:4px solid #d1d5db;background-color:#f9fafb;"><tr><td style="padding:16px;">` +
        `<p style="margin:0 0 16px;${FONT}font-size:14px;line-height:20px;color:#374151;"><strong>Subject:</strong> ${escapeHtml(block.subject)}</p>` +
        `<table ${TABLE} width="100%">${rowsHtml(block.blocks, true, '0 0 16px')}</table></td></tr></table>`
      );
    case 'fineprint':
      return `<p style="margin:0;${SMALL_TEXT}">${escapeHtml(block.text)}</p>`;
  }
}

function rowsHtml(blocks: Block[], inert: boolean, padding: string): string {
  return blocks
    .map((block) => `<tr><td style="padding:${padding};">${blockHtml(block, inert)}</td></tr>`)
    .join('\n');
}

// The preheader is hidden from every client but Outlook desktop, which would show it: it gets none.
function renderHtml(document: EmailDocument): string {
  const lang = escapeHtml(document.locale);
  const title = escapeHtml(document.subject);
  return `<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<title>${title}</title>
</head>
<body style="margin:0;padding:0;background-color:#f3f4f6;">
<!--[if !mso]><!--><div style="display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;">${escapeHtml(document.preheader)}</div><!--<![endif]-->
<table ${TABLE} width="100%" style="background-color:#f3f4f6;">
<tr><td align="center" style="padding:24px 12px;">
<table ${TABLE} width="600" style="width:100%;max-width:600px;background-color:#ffffff;border-radius:6px;">
<tr><td style="padding:24px 32px 8px;${FONT}font-size:14px;line-height:20px;font-weight:bold;color:#6b7280;text-transform:uppercase;letter-spacing:1px;">${escapeHtml(document.brand)}</td></tr>
${rowsHtml(document.blocks, false, '8px 32px 16px')}
<tr><td style="height:16px;line-height:16px;font-size:16px;">&nbsp;</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
}
