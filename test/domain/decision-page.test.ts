import { describe, expect, it } from 'vitest';
import { applyEvent, type Backorder, type CustomerDecision, type RuleContext } from '#domain/backorder.ts';
import { type DecisionPage, renderDecisionPage } from '#domain/decision-page.ts';
import { escapeHtml } from '#domain/messages/document.ts';
import type { PageContext } from '#domain/page.ts';
import { closing, delayed } from '#test/support/erp-events.ts';

const HOUR = 3_600_000;
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};
const context: PageContext = {
  companyName: 'Gulf Plains Steel Service',
  locale: 'en-US',
  timeZone: 'America/Chicago',
};

const record: Backorder = applyEvent(
  undefined,
  delayed('2026-03-10T14:05:00-05:00', '2026-03-22'),
  rules,
).record;
const decision: CustomerDecision = {
  revision: 1,
  choice: { kind: 'alternative', alternativeId: 'ALT-1' },
  decidedAt: '2026-03-11T15:30:00.000Z',
};

const HOSTILE = `<script>alert("x")</script>" onmouseover="alert(1)' &amp; <img src=x onerror=alert(2)>`;

/** The contract's backorder with every free text a hostile ERP (or a hostile customer record) could send. */
const hostile: Backorder = (() => {
  const base = applyEvent(
    undefined,
    delayed('2026-03-10T14:05:00-05:00', '2026-03-22', {
      orderId: `SO-<b>1</b>"'`,
      lineId: '<i>3</i>',
      customer: { id: 'C-1', name: HOSTILE, email: 'buyer@example.com', timeZone: 'America/Chicago' },
      item: { sku: HOSTILE, description: HOSTILE, product: HOSTILE },
      quantity: { amount: 20, unit: '<u>ton</u>' },
      owner: { id: 'U-1', name: HOSTILE, email: 'o"wner@example.com', phone: '+15125550123' },
      alternatives: [
        {
          id: `ALT-<svg onload=alert(3)>`,
          description: HOSTILE,
          shipDate: '2026-03-11',
          priceDelta: { amount: 12, currency: 'USD', per: '<b>ton</b>' },
        },
      ],
    }),
    rules,
  ).record;
  return { ...base, closedAs: undefined };
})();
const hostileChoice = { kind: 'alternative' as const, alternativeId: `ALT-<svg onload=alert(3)>` };
const hostileDecision: CustomerDecision = { ...decision, choice: hostileChoice };

function everyPage(of: Backorder, choice: CustomerDecision): DecisionPage[] {
  const closed = applyEvent(of, closing('backorder.shipped', '2026-03-13T10:00:00-05:00', of), rules).record;
  return [
    { kind: 'confirm', record: of, choice: choice.choice },
    { kind: 'confirm', record: of, choice: { kind: 'wait' } },
    { kind: 'recorded', record: { ...of, customerDecision: choice }, decision: choice },
    { kind: 'recordedPending', record: { ...of, customerDecision: choice }, decision: choice },
    { kind: 'alreadyDecided', record: { ...of, customerDecision: choice }, decision: choice },
    { kind: 'superseded', record: of },
    { kind: 'expired', record: of },
    { kind: 'expired' },
    { kind: 'invalid' },
    { kind: 'closed', record: { ...closed, customerDecision: choice } },
    {
      kind: 'optionUnavailable',
      record: of,
      alternativeId: choice.choice.kind === 'alternative' ? choice.choice.alternativeId : 'X',
    },
    { kind: 'notFound' },
    { kind: 'error' },
  ];
}

const ALLOWED_TAGS = new Set([
  '!doctype',
  'html',
  'head',
  'meta',
  'title',
  'style',
  'body',
  'main',
  'div',
  'p',
  'h1',
  'h2',
  'section',
  'ul',
  'li',
  'dl',
  'dt',
  'dd',
  'strong',
  'a',
  'form',
  'button',
]);

function tags(html: string): string[] {
  return [...html.matchAll(/<\/?([!a-z][a-z0-9]*)/gi)].map((match) => (match[1] ?? '').toLowerCase());
}

describe('every decision page', () => {
  for (const page of everyPage(record, decision)) {
    it(`renders the ${page.kind} page as a small, script-free, mobile-friendly document`, () => {
      const { title, html } = renderDecisionPage(page, context);

      expect(title.length).toBeGreaterThan(5);
      expect(html).toMatch(/^<!doctype html>\n<html lang="en-US">/);
      expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      expect(html).toContain(`<title>${escapeHtml(title)} · Gulf Plains Steel Service</title>`);
      expect(html).toContain(`<h1>${escapeHtml(title)}</h1>`);
      expect(html).not.toMatch(/<script|javascript:|<[^>]*\son[a-z]+\s*=/i);
      for (const tag of tags(html)) expect(ALLOWED_TAGS, tag).toContain(tag);
      expect(Buffer.byteLength(html)).toBeLessThan(8_000);
    });
  }

  it('leaves the brand out when the company is unknown', () => {
    const { html } = renderDecisionPage({ kind: 'invalid' });
    expect(html).not.toContain('class="brand"');
    expect(html).toContain('<title>This link is not valid</title>');
  });
});

describe('the confirm page', () => {
  it('shows the order line, item, new expected date and the chosen option with its ship date and price', () => {
    const { title, html } = renderDecisionPage({ kind: 'confirm', record, choice: decision.choice }, context);

    expect(title).toBe('Confirm your choice');
    expect(html).toContain('SO-10042 line 3');
    expect(html).toContain('3/16&quot; HRC 48&quot; x 96&quot; (HRC-0188-48)');
    expect(html).toContain('20 tons');
    expect(html).toContain('<dt>Originally due to ship</dt><dd>Sunday, March 15, 2026</dd>');
    expect(html).toContain('<dt>Now expected to ship</dt><dd>Sunday, March 22, 2026</dd>');
    expect(html).toContain('<h2>3/16&quot; HRC from alternate source</h2>');
    expect(html).toContain('<li>Ships Wednesday, March 11, 2026</li>');
    expect(html).toContain('<li>Price difference: +$12.00/ton</li>');
    expect(html).toContain('Dana Ortiz');
  });

  it('posts to the same URL with one confirm button, and is the only page that asks', () => {
    const { html } = renderDecisionPage({ kind: 'confirm', record, choice: decision.choice }, context);
    expect(html).toContain('<form method="post">');
    expect(html).not.toContain('action=');
    expect(html).toContain('<button type="submit">Confirm: ship ALT-1 instead</button>');
  });

  it('describes waiting with the new expected date and no price change', () => {
    const { html } = renderDecisionPage({ kind: 'confirm', record, choice: { kind: 'wait' } }, context);
    expect(html).toContain('<h2>Wait for the original</h2>');
    expect(html).toContain('<li>Ships Sunday, March 22, 2026 (expected)</li>');
    expect(html).toContain('<button type="submit">Confirm: wait for the original</button>');
  });

  it('says the price is to be confirmed when the ERP sent none', () => {
    const noPrice: Backorder = {
      ...record,
      details: {
        ...record.details,
        alternatives: [{ id: 'ALT-1', description: 'Alternate', shipDate: '2026-03-11' }],
      },
    };
    const { html } = renderDecisionPage(
      { kind: 'confirm', record: noPrice, choice: decision.choice },
      context,
    );
    expect(html).toContain('<li>Price difference: to be confirmed</li>');
  });
});

describe('the outcome pages', () => {
  it('thanks the customer and names the owner who will follow up', () => {
    const { title, html } = renderDecisionPage({ kind: 'recorded', record, decision }, context);
    expect(title).toBe('Thank you: your choice is recorded');
    expect(html).toContain('You chose: <strong>3/16&quot; HRC from alternate source</strong>');
    expect(html).toContain('Dana Ortiz will be told right away');
    expect(html).not.toContain('<form');
  });

  it('asks to finish when the owner could not be told yet', () => {
    const { html } = renderDecisionPage({ kind: 'recordedPending', record, decision }, context);
    expect(html).toContain('<form method="post"><button type="submit">Finish</button></form>');
  });

  it('shows what was already chosen and when, in the customer’s time zone', () => {
    const { title, html } = renderDecisionPage({ kind: 'alreadyDecided', record, decision }, context);
    expect(title).toBe('You already chose: 3/16" HRC from alternate source');
    expect(html).toContain('<h1>You already chose: 3/16&quot; HRC from alternate source</h1>');
    expect(html).toContain('Wednesday, March 11, 2026 at 10:30 AM CDT');
    expect(html).not.toContain('<form');
  });

  it('names an alternative that is no longer offered by its id', () => {
    const withdrawn: Backorder = { ...record, details: { ...record.details, alternatives: [] } };
    const { title } = renderDecisionPage({ kind: 'alreadyDecided', record: withdrawn, decision }, context);
    expect(title).toBe('You already chose: Option ALT-1');
  });

  it('gives each refusal a clear title', () => {
    const shipped = applyEvent(
      record,
      closing('backorder.shipped', '2026-03-13T10:00:00-05:00'),
      rules,
    ).record;
    const cancelled = applyEvent(
      record,
      closing('backorder.cancelled', '2026-03-13T10:00:00-05:00'),
      rules,
    ).record;
    const titles = [
      renderDecisionPage({ kind: 'superseded', record }).title,
      renderDecisionPage({ kind: 'expired' }).title,
      renderDecisionPage({ kind: 'invalid' }).title,
      renderDecisionPage({ kind: 'closed', record: shipped }).title,
      renderDecisionPage({ kind: 'closed', record: cancelled }).title,
      renderDecisionPage({ kind: 'closed', record: { ...shipped, closedAs: undefined } }).title,
      renderDecisionPage({ kind: 'optionUnavailable', record, alternativeId: 'ALT-9' }).title,
      renderDecisionPage({ kind: 'notFound' }).title,
      renderDecisionPage({ kind: 'error' }).title,
    ];
    expect(titles).toEqual([
      'A newer notice replaced this link',
      'This link has expired',
      'This link is not valid',
      'This order line has shipped',
      'This order line was cancelled',
      'This order line is closed',
      'This option is no longer available',
      'We cannot find this order line',
      'Something went wrong',
    ]);
  });

  it('says nothing was recorded on every refusal', () => {
    for (const page of everyPage(record, decision).filter((p) =>
      ['superseded', 'expired', 'invalid', 'closed', 'optionUnavailable', 'notFound'].includes(p.kind),
    )) {
      expect(renderDecisionPage(page).html, page.kind).toContain('Nothing was recorded');
    }
  });
});

describe('hostile input', () => {
  for (const page of everyPage(hostile, hostileDecision)) {
    it(`is escaped everywhere on the ${page.kind} page`, () => {
      const { html } = renderDecisionPage(page, { ...context, companyName: HOSTILE });

      expect(html).not.toMatch(/<script|<img|<svg|<b>|<i>|<u>/i);
      // No tag carries an event handler: the hostile ` onmouseover=` stays inside text.
      expect(html).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
      for (const tag of tags(html)) expect(ALLOWED_TAGS, tag).toContain(tag);
      // Attribute values cannot be broken out of: every quote inside one is an entity.
      for (const [, value = ''] of html.matchAll(/\s[a-z-]+="([^"]*)"/g)) expect(value).not.toMatch(/[<>']/);
    });
  }

  it('shows the hostile text as text', () => {
    const { html } = renderDecisionPage({ kind: 'confirm', record: hostile, choice: hostileChoice }, context);
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('&amp;amp;');
    expect(html).toContain('href="mailto:o&quot;wner@example.com"');
  });

  it('escapes the five characters that matter in text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
