import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  type Backorder,
  type CustomerDecision,
  type Notice,
  type RuleContext,
} from '#domain/backorder.ts';
import type { BackorderEvent, DelayedData } from '#domain/events.ts';
import {
  type CompanyProfile,
  customerNotice,
  type DecisionLinks,
  escapeHtml,
  formatPriceDelta,
  formatQuantity,
  MissingDecisionLinkError,
  managerAutoSentNotice,
  ownerDecisionEmail,
  ownerDeliveryFailure,
  ownerReviewRequest,
  ownerReviewWarning,
  type RenderedEmail,
  shippedConfirmation,
  UnsafeLinkError,
} from '#domain/messages.ts';
import { delayed, erpFixture } from '#test/support/erp-events.ts';

const HOUR = 3_600_000;
// Fixed offsets: these tests are about wording, not the business calendar.
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};

const company: CompanyProfile = {
  name: 'Gulf Coast Steel Service',
  locale: 'en-US',
  timeZone: 'America/Chicago',
};
const links: DecisionLinks = {
  wait: 'https://watch.example/v1/decisions/tok-wait',
  alternatives: [{ alternativeId: 'ALT-1', url: 'https://watch.example/v1/decisions/tok-alt-1' }],
};
const reviewUrl = 'https://watch.example/review/SO-10042/3';

// The fixture delay, typed as a delay (the fixture reader returns any ERP event).
const opening = delayed(erpFixture('backorder.delayed').occurredAt, '2026-03-22');

function replay(...events: BackorderEvent[]): Backorder {
  let record: Backorder | undefined;
  for (const event of events) record = applyEvent(record, event, rules).record;
  if (!record) throw new Error('no events');
  return record;
}

/** The record after the fixture delay, with the fixture's details changed as a test needs. */
function openedWith(data: Partial<DelayedData>): Backorder {
  return replay(delayed(opening.occurredAt, '2026-03-22', data));
}

function latestNotice(record: Backorder): Notice {
  const notice = record.notices.at(-1);
  if (!notice) throw new Error('no notice');
  return notice;
}

const opened = replay(opening);
const slipped = replay(opening, delayed('2026-03-12T10:00:00-05:00', '2026-03-29'));
const improved = replay(opening, delayed('2026-03-11T09:00:00-05:00', '2026-03-18'));
const shipped = replay(opening, erpFixture('backorder.shipped'));

function noticeFor(record: Backorder, overrides: Partial<CompanyProfile> = {}): RenderedEmail {
  return customerNotice({
    record,
    notice: latestNotice(record),
    company: { ...company, ...overrides },
    links,
  });
}

/** Both parts must say it: the text as written, the HTML escaped. */
function expectBothParts(email: RenderedEmail, phrases: string[]): void {
  for (const phrase of phrases) {
    expect(email.text).toContain(phrase);
    expect(email.html).toContain(escapeHtml(phrase));
  }
}

const decision = (choice: CustomerDecision['choice'], revision = 1): CustomerDecision => ({
  revision,
  choice,
  decidedAt: '2026-03-11T15:20:00.000Z',
});

describe('the customer notice for a new backorder', () => {
  it('says in the subject which line, which item and both dates', () => {
    // Act
    const email = noticeFor(opened);

    // Assess
    expect(email.subject).toBe('SO-10042 line 3: 3/16" HRC 48" x 96" now ships Mar 22 (was Mar 15)');
  });

  it('tells what happened, the dates, the item, the quantity and whom to ask, in both parts', () => {
    // Act
    const email = noticeFor(opened);

    // Assess
    expectBothParts(email, [
      'Hello Lone Star Fabrication,',
      'Reason for the delay: Mill production schedule change.',
      'Sunday, March 22, 2026',
      'Sunday, March 15, 2026',
      'SO-10042, line 3',
      '3/16" HRC 48" x 96" (SKU HRC-0188-48)',
      '20 tons',
      'Dana Ortiz',
      'dana.ortiz@svc.example',
    ]);
    // On a first notice the original date is the previous one: no "last told" line.
    expect(email.text).not.toContain('Last told');
  });

  it('offers every alternative with its ship date and price, and one link each plus one to wait', () => {
    // Act
    const email = noticeFor(opened);

    // Assess
    expectBothParts(email, [
      '3/16" HRC from alternate source',
      'Ships Wednesday, March 11, 2026',
      'Price difference: +$12.00/ton',
      'Ship ALT-1 instead',
      'Wait for the original',
    ]);
    expect(email.text).toContain('Ship ALT-1 instead:\n  https://watch.example/v1/decisions/tok-alt-1');
    expect(email.text).toContain('Wait for the original:\nhttps://watch.example/v1/decisions/tok-wait');
    expect(email.html).toContain('href="https://watch.example/v1/decisions/tok-alt-1"');
    expect(email.html).toContain('href="https://watch.example/v1/decisions/tok-wait"');
  });

  it('still offers the wait link, as an acknowledgement, when there are no alternatives', () => {
    // Prepare
    const record = openedWith({ alternatives: [] });

    // Act
    const email = customerNotice({
      record,
      notice: latestNotice(record),
      company,
      links: { ...links, alternatives: [] },
    });

    // Assess
    expectBothParts(email, ['Acknowledge and wait']);
    expect(email.text).not.toContain('Ship ALT');
    expect(email.html.match(/href="https:\/\/watch\.example\/v1\/decisions\//g)).toHaveLength(1);
  });

  it('refuses to render without a link for every alternative', () => {
    // Act
    const act = () =>
      customerNotice({
        record: opened,
        notice: latestNotice(opened),
        company,
        links: { ...links, alternatives: [] },
      });

    // Assess
    expect(act).toThrow(MissingDecisionLinkError);
  });

  it('gives the owner phone when the ERP sends one', () => {
    // Prepare
    const record = openedWith({
      owner: { ...opening.data.owner, phone: '+15125550123' },
    });

    // Act
    const email = noticeFor(record);

    // Assess
    expectBothParts(email, ['+1 512-555-0123']);
    expect(email.html).toContain('href="tel:+15125550123"');
  });
});

describe('the customer notice for a later change', () => {
  it('names the previous date in the subject and the body when the line slips again', () => {
    // Act
    const email = noticeFor(slipped);

    // Assess
    expect(email.subject).toBe('SO-10042 line 3: 3/16" HRC 48" x 96" now ships Mar 29 (was Mar 22)');
    expectBothParts(email, [
      'is delayed again',
      'Sunday, March 29, 2026',
      'Sunday, March 22, 2026',
      'Sunday, March 15, 2026',
    ]);
    expect(email.text).toContain('Last told: Sunday, March 22, 2026');
  });

  it('leads with the good news when the date improves', () => {
    // Act
    const email = noticeFor(improved);

    // Assess
    expect(email.subject).toBe('Good news — SO-10042 line 3 now ships Mar 18 (was Mar 22)');
    expectBothParts(email, ['Good news: your order', 'Wednesday, March 18, 2026']);
  });

  it('says so when the improved date is back on the original promise', () => {
    // Prepare
    const record = replay(opening, delayed('2026-03-11T09:00:00-05:00', '2026-03-15'));

    // Act
    const email = noticeFor(record);

    // Assess
    expectBothParts(email, ['That is the date we originally promised.']);
  });
});

describe('formatting for the company locale and the customer time zone', () => {
  it('writes prices with a sign, the currency and the unit', () => {
    // Act
    const formatted = [
      formatPriceDelta({ amount: 12, currency: 'USD', per: 'ton' }, 'en-US'),
      formatPriceDelta({ amount: -5, currency: 'USD', per: 'lb' }, 'en-US'),
      formatPriceDelta({ amount: 0, currency: 'USD', per: 'lb' }, 'en-US'),
      formatPriceDelta({ amount: 12.5, currency: 'EUR', per: 't' }, 'de-DE'),
      formatPriceDelta({ amount: -1250, currency: 'JPY' }, 'ja-JP'),
    ];

    // Assess
    expect(formatted).toEqual([
      '+$12.00/ton',
      '\u2212$5.00/lb',
      'no price change',
      '+12,50\u00a0€/t',
      '\u2212￥1,250',
    ]);
  });

  it('pluralises known English count units and leaves abbreviations alone', () => {
    // Act
    const formatted = [
      formatQuantity({ amount: 20, unit: 'ton' }, 'en-US'),
      formatQuantity({ amount: 1, unit: 'sheet' }, 'en-US'),
      formatQuantity({ amount: 1250.5, unit: 'lb' }, 'en-US'),
      formatQuantity({ amount: 1250.5, unit: 'kg' }, 'de-DE'),
    ];

    // Assess
    expect(formatted).toEqual(['20 tons', '1 sheet', '1,250.5 lb', '1.250,5 kg']);
  });

  it('writes dates and money in the company locale', () => {
    // Prepare
    const record = openedWith({
      alternatives: [
        {
          id: 'ALT-1',
          description: 'Ersatz',
          shipDate: '2026-03-11',
          priceDelta: { amount: 12, currency: 'EUR', per: 't' },
        },
      ],
    });

    // Act
    const email = noticeFor(record, { locale: 'de-DE' });

    // Assess
    expect(email.subject).toContain('now ships 22. März (was 15. März)');
    expectBothParts(email, ['Sonntag, 22. März 2026', 'Price difference: +12,00\u00a0€/t']);
    expect(email.html).toContain('<html lang="de-DE">');
  });

  it('shows instants on the customer clock, so a Sydney customer sees the next day', () => {
    // Prepare
    const sydney = openedWith({
      customer: { ...opening.data.customer, timeZone: 'Australia/Sydney' },
    });
    const closed = applyEvent(sydney, erpFixture('backorder.shipped'), rules).record;

    // Act
    const notice = noticeFor(sydney);
    const confirmation = shippedConfirmation(closed, company);
    const chicago = shippedConfirmation(shipped, company);

    // Assess
    // Learned 2:05 PM Tuesday in Chicago: 6:05 AM Wednesday in Sydney.
    expectBothParts(notice, ['as of Wednesday, March 11, 2026 at 6:05 AM GMT+11']);
    // A ship date is a day on the plant's calendar: it does not move with the reader.
    expect(notice.text).toContain('Now expected: Sunday, March 22, 2026');
    // Shipped 9:30 AM Sunday in Chicago: 1:30 AM Monday in Sydney.
    expectBothParts(confirmation, ['has shipped on Monday, March 23, 2026']);
    expectBothParts(chicago, [
      'has shipped on Sunday, March 22, 2026',
      'Sunday, March 22, 2026 at 9:30 AM CDT',
    ]);
  });

  it("falls back to the company's time zone when the ERP sends none for the customer", () => {
    // Prepare
    const record = openedWith({
      customer: { ...opening.data.customer, timeZone: undefined },
    });

    // Act
    const email = noticeFor(record, { timeZone: 'America/New_York' });

    // Assess
    expectBothParts(email, ['as of Tuesday, March 10, 2026 at 3:05 PM EDT']);
  });
});

describe('escaping what the ERP and callers send', () => {
  const hostile = openedWith({
    customer: { ...opening.data.customer, name: 'Smith & Sons <b>Fab</b>' },
    item: { sku: 'X-1', description: '<script>alert("x")</script> plate\n1/2"' },
    reason: { code: 'OTHER', text: "Mill's <img src=x onerror=alert(1)>" },
  });

  it('escapes every interpolated value in the HTML and leaves the text part readable', () => {
    // Act
    const email = noticeFor(hostile);

    // Assess
    expect(email.html).not.toMatch(/<script|<img|<b>Fab/);
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(email.html).toContain('Smith &amp; Sons &lt;b&gt;Fab&lt;/b&gt;');
    expect(email.html).toContain('Mill&#39;s &lt;img src=x onerror=alert(1)&gt;');
    expect(email.text).toContain('Hello Smith & Sons <b>Fab</b>,');
  });

  it('keeps subjects on one line whatever the description holds', () => {
    // Act
    const email = noticeFor(hostile);

    // Assess
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject).toBe(
      'SO-10042 line 3: <script>alert("x")</script> plate 1/2" now ships Mar 22 (was Mar 15)',
    );
  });

  it('escapes quotes in link URLs so they cannot leave the attribute', () => {
    // Prepare
    const url = 'https://watch.example/v1/decisions/a"><img/src=x/onerror=alert(1)>';

    // Act
    const email = customerNotice({
      record: opened,
      notice: latestNotice(opened),
      company,
      links: { ...links, wait: url },
    });

    // Assess
    expect(email.html).toContain(
      'href="https://watch.example/v1/decisions/a&quot;&gt;&lt;img/src=x/onerror=alert(1)&gt;"',
    );
    expect(email.html).not.toContain('"><img');
  });

  it('refuses links that are not http(s), mailto or tel', () => {
    // Prepare
    const unsafe = ['javascript:alert(1)', 'java\nscript:alert(1)', '/relative/path', 'data:text/html,x'];

    // Act
    const attempts = unsafe.map(
      (wait) => () =>
        customerNotice({ record: opened, notice: latestNotice(opened), company, links: { ...links, wait } }),
    );

    // Assess
    for (const attempt of attempts) expect(attempt).toThrow(UnsafeLinkError);
  });
});

describe('the shipped confirmation', () => {
  it('confirms the line and when it shipped', () => {
    // Act
    const email = shippedConfirmation(shipped, company);

    // Assess
    expect(email.subject).toBe('Shipped: SO-10042 line 3, 3/16" HRC 48" x 96"');
    expectBothParts(email, ['Sunday, March 15, 2026', 'Sunday, March 22, 2026 at 9:30 AM CDT', 'Dana Ortiz']);
    expect(email.text).toContain('Original ship date: Sunday, March 15, 2026');
  });

  it('refuses a line that has not shipped', () => {
    // Prepare
    const cancelled = replay(opening, erpFixture('backorder.cancelled'));

    // Act
    const acts = [() => shippedConfirmation(opened, company), () => shippedConfirmation(cancelled, company)];

    // Assess
    for (const act of acts) expect(act).toThrow('SO-10042 line 3 has not shipped');
  });
});

describe('the review emails to the owner', () => {
  const notice = latestNotice(opened);

  it('asks for a review by the deadline and shows the notice with its links disabled', () => {
    // Act
    const email = ownerReviewRequest(opened, notice, reviewUrl, notice.deadline, company);

    // Assess
    expect(email.subject).toBe(
      'Review by Mar 10, 6:05 PM CDT: notice to Lone Star Fabrication about SO-10042 line 3',
    );
    expectBothParts(email, [
      'Tuesday, March 10, 2026 at 6:05 PM CDT',
      reviewUrl,
      'SO-10042 line 3: 3/16" HRC 48" x 96" now ships Mar 22 (was Mar 15)',
      'Ship ALT-1 instead',
    ]);
    expect(email.text).toContain('>   [Ship ALT-1 instead]');
    // The owner must not be able to choose on the customer's behalf.
    const hrefs = [...email.html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
    expect(hrefs).toEqual([reviewUrl, 'mailto:purchasing@lonestarfab.example']);
  });

  it('warns before the deadline, naming when the notice goes out unreviewed', () => {
    // Act
    const email = ownerReviewWarning(opened, notice, reviewUrl, company);

    // Assess
    expect(email.subject).toBe(
      'Reminder: the notice about SO-10042 line 3 goes out unreviewed at Mar 10, 6:05 PM CDT',
    );
    expectBothParts(email, ['Review the notice now', reviewUrl, 'now ships Sunday, March 22, 2026']);
  });

  it("tells the owner's manager that a notice went out without review", () => {
    // Prepare
    const sent = { ...notice, status: 'sent' as const, sentAt: notice.deadline, autoSent: true };

    // Act
    const email = managerAutoSentNotice(opened, sent, company);

    // Assess
    expect(email.subject).toBe(
      'Sent without review: the notice to Lone Star Fabrication about SO-10042 line 3',
    );
    expectBothParts(email, [
      'before Dana Ortiz reviewed it',
      'Tuesday, March 10, 2026 at 6:05 PM CDT',
      'dana.ortiz@svc.example',
    ]);
    expect(email.html).not.toContain('/v1/decisions/');
  });
});

describe("telling the owner the customer's decision", () => {
  it('names the alternative chosen with its ship date and price', () => {
    // Prepare
    const record = { ...opened, customerDecision: decision({ kind: 'alternative', alternativeId: 'ALT-1' }) };

    // Act
    const email = ownerDecisionEmail(
      record,
      decision({ kind: 'alternative', alternativeId: 'ALT-1' }),
      company,
    );

    // Assess
    expect(email.subject).toBe('Lone Star Fabrication chose ALT-1 for SO-10042 line 3');
    expectBothParts(email, [
      'Wednesday, March 11, 2026 at 10:20 AM CDT',
      '3/16" HRC from alternate source',
      'Wednesday, March 11, 2026',
      '+$12.00/ton',
      'change the order line in the ERP to ALT-1',
    ]);
    expect(email.text).toContain('Ships: Wednesday, March 11, 2026\nPrice difference: +$12.00/ton');
  });

  it('says the customer will wait', () => {
    // Act
    const email = ownerDecisionEmail(opened, decision({ kind: 'wait' }), company);

    // Assess
    expect(email.subject).toBe('Lone Star Fabrication will wait for SO-10042 line 3');
    expectBothParts(email, ['chose to wait for', 'nothing to change on the order']);
  });

  it('flags a choice made on an older notice, and an alternative the ERP no longer lists', () => {
    // Act
    const email = ownerDecisionEmail(
      slipped,
      decision({ kind: 'alternative', alternativeId: 'ALT-9' }),
      company,
    );

    // Assess
    expectBothParts(email, [
      'they chose on update 1; the line has changed since and now ships Sunday, March 29, 2026',
      'ALT-9 is no longer among the alternatives',
    ]);
  });
});

describe('telling the owner a notice was not delivered', () => {
  it('asks the owner to call the customer, with the reason and the number when known', () => {
    // Prepare
    const record = openedWith({
      customer: { ...opening.data.customer, phone: '+61255501234' },
    });

    // Act
    const email = ownerDeliveryFailure(
      record,
      latestNotice(record),
      'bounced: mailbox does not exist',
      company,
    );

    // Assess
    expect(email.subject).toBe(
      'Call Lone Star Fabrication: the notice about SO-10042 line 3 was not delivered',
    );
    expectBothParts(email, [
      'Reason: bounced: mailbox does not exist',
      'Please call them at ',
      'purchasing@lonestarfab.example',
    ]);
    expect(email.text).toContain('Please call them at +61255501234');
    expect(email.html).toContain('href="tel:+61255501234"');
  });

  it('still asks for a call when no phone is on file', () => {
    // Act
    const email = ownerDeliveryFailure(opened, latestNotice(opened), 'rejected', company);

    // Assess
    expectBothParts(email, ['no phone number is on file']);
  });
});

describe('what a person reads: file snapshots of every email', () => {
  const sentNotice = {
    ...latestNotice(opened),
    status: 'sent' as const,
    sentAt: latestNotice(opened).deadline,
  };
  const emails: Record<string, RenderedEmail> = {
    'customer-notice-opened': noticeFor(opened),
    'customer-notice-slipped': noticeFor(slipped),
    'customer-notice-improved': noticeFor(improved),
    'customer-notice-no-alternatives': (() => {
      const record = openedWith({ alternatives: [] });
      return customerNotice({
        record,
        notice: latestNotice(record),
        company,
        links: { ...links, alternatives: [] },
      });
    })(),
    'shipped-confirmation': shippedConfirmation(shipped, company),
    'owner-review-request': ownerReviewRequest(
      opened,
      latestNotice(opened),
      reviewUrl,
      latestNotice(opened).deadline,
      company,
    ),
    'owner-review-warning': ownerReviewWarning(opened, latestNotice(opened), reviewUrl, company),
    'owner-decision-alternative': ownerDecisionEmail(
      opened,
      decision({ kind: 'alternative', alternativeId: 'ALT-1' }),
      company,
    ),
    'owner-decision-wait': ownerDecisionEmail(opened, decision({ kind: 'wait' }), company),
    'owner-delivery-failure': ownerDeliveryFailure(
      opened,
      latestNotice(opened),
      'bounced: mailbox does not exist',
      company,
    ),
    'manager-auto-sent-notice': managerAutoSentNotice(opened, sentNotice, company),
  };

  it('closes every element it opens', () => {
    for (const [name, email] of Object.entries(emails)) {
      for (const tag of ['table', 'tr', 'td', 'p', 'a', 'div', 'span', 'strong', 'h2']) {
        const opened = email.html.match(new RegExp(`<${tag}[ >]`, 'g'))?.length ?? 0;
        const closed = email.html.split(`</${tag}>`).length - 1;
        expect({ name, tag, opened }).toEqual({ name, tag, opened: closed });
      }
    }
  });

  for (const [name, email] of Object.entries(emails)) {
    it(`renders ${name} as it will read`, async () => {
      await expect(`Subject: ${email.subject}\n\n${email.text}`).toMatchFileSnapshot(
        `./__snapshots__/messages/${name}.txt`,
      );
      await expect(email.html).toMatchFileSnapshot(`./__snapshots__/messages/${name}.html`);
    });
  }
});
