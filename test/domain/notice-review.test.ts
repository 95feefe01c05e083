import { describe, expect, it } from 'vitest';
import { applyEvent, type Backorder, type RuleContext } from '#domain/backorder.ts';
import { BackorderClosedError, decisionLinks, SupersededNoticeError } from '#domain/decision.ts';
import {
  ExpiredReviewTokenError,
  ForgedTokenError,
  signDecisionToken,
  verifyDecisionToken,
  verifyReviewToken,
} from '#domain/decision-token.ts';
import { customerNotice } from '#domain/messages/customer.ts';
import {
  AlreadyApprovedError,
  formRows,
  NoticeSettledError,
  parseReviewForm,
  reviewableNotice,
  reviewLink,
  reviewNotice,
} from '#domain/notice-review.ts';
import { renderNoticeReviewPage } from '#domain/notice-review-page.ts';
import { DEFAULT_PAGE_CONTEXT } from '#domain/page.ts';
import { closing, delayed } from '#test/support/erp-events.ts';

const HOUR = 3_600_000;
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};
const secret = Buffer.from('review-secret-for-tests-0123456789');
const AT = new Date('2026-03-09T15:00:00Z');

function opened(): Backorder {
  return applyEvent(undefined, delayed('2026-03-09T14:00:00Z', '2026-03-30'), rules).record;
}

function firstNotice(record: Backorder) {
  const [notice] = record.notices;
  if (!notice) throw new Error('the record has no notice');
  return notice;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields);
const row = (index: number, fields: Partial<Record<string, string>>) =>
  Object.fromEntries(
    ['id', 'description', 'shipDate', 'price', 'currency', 'per'].map((field) => [
      `${field}-${index}`,
      fields[field] ?? '',
    ]),
  );

describe('which notice a review link can still change', () => {
  it('is the pending one it names', () => {
    expect(reviewableNotice(opened(), 1).status).toBe('pending');
  });

  it('refuses a notice newer news replaced', () => {
    const slipped = applyEvent(opened(), delayed('2026-03-09T14:30:00Z', '2026-04-06'), rules).record;
    expect(() => reviewableNotice(slipped, 1)).toThrow(SupersededNoticeError);
    expect(reviewableNotice(slipped, 2).revision).toBe(2);
  });

  it('refuses a closed line, and a notice that already left, saying it left', () => {
    const closed = applyEvent(opened(), closing('backorder.shipped', '2026-03-09T15:00:00Z'), rules).record;
    expect(() => reviewableNotice(closed, 1)).toThrow(BackorderClosedError);
    const record = opened();
    const sent: Backorder = { ...record, notices: [{ ...firstNotice(record), status: 'sent' }] };
    expect(() => reviewableNotice(sent, 1)).toThrow(NoticeSettledError);
  });

  it('refuses a second approval', () => {
    const approved = reviewNotice(opened(), 1, [], 'approve', AT);
    expect(() => reviewableNotice(approved, 1)).toThrow(AlreadyApprovedError);
  });
});

describe('reviewing a notice', () => {
  it('keeps the alternatives on the notice; a save leaves the workflow alone, approval re-plans', () => {
    const record = opened();
    const alternatives = [{ id: 'B', description: 'Plate', shipDate: '2026-03-12' }];
    const saved = reviewNotice(record, 1, alternatives, 'save', AT);
    expect(saved.notices[0]).toMatchObject({ alternatives, status: 'pending' });
    expect(saved.notices[0]?.approvedAt).toBeUndefined();
    expect(saved.generation).toBe(record.generation);
    const approved = reviewNotice(saved, 1, alternatives, 'approve', AT);
    expect(approved.notices[0]?.approvedAt).toBe(AT.toISOString());
    expect(approved.generation).toBe(record.generation + 1);
  });

  it("offers the owner's alternatives in the notice and its links, not the ERP's", () => {
    const record = reviewNotice(
      opened(),
      1,
      [{ id: 'B', description: 'Cut from plate', shipDate: '2026-03-12' }],
      'approve',
      AT,
    );
    const links = decisionLinks(record, 1, secret, 'https://x.example', new Date('2026-03-30T00:00:00Z'));
    expect(links.alternatives.map((link) => link.alternativeId)).toEqual(['B']);
    const email = customerNotice({
      record,
      notice: firstNotice(record),
      links,
      company: { name: 'Gulf Plains Steel Service', locale: 'en-US', timeZone: 'America/Chicago' },
    });
    expect(email.text).toContain('Cut from plate');
    expect(email.text).not.toContain('alternate source');
  });
});

describe('the review form', () => {
  it('offers the ERP alternatives and two blank rows in the order currency', () => {
    const record = opened();
    const rows = formRows(record, firstNotice(record));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ id: 'ALT-1', price: '12', currency: 'USD', per: 'ton' });
    expect(rows[2]).toEqual({ id: '', description: '', shipDate: '', price: '', currency: 'USD', per: '' });
  });

  it('reads edited, added, removed and blank rows, naming new ones by the first free letter', () => {
    const parsed = parseReviewForm(
      form({
        action: 'approve',
        ...row(0, {
          id: 'A',
          description: 'Plate',
          shipDate: '2026-03-12',
          price: '1,200.50',
          currency: 'usd',
        }),
        ...row(1, { id: 'ALT-9', description: 'Gone', shipDate: '2026-03-13' }),
        'remove-1': '1',
        ...row(2, { description: 'Coil', shipDate: '2026-03-14', price: '-4', currency: 'USD', per: 'cwt' }),
        ...row(3, { currency: 'USD' }),
      }),
    );
    expect(parsed).toEqual({
      ok: true,
      action: 'approve',
      alternatives: [
        {
          id: 'A',
          description: 'Plate',
          shipDate: '2026-03-12',
          priceDelta: { amount: 1200.5, currency: 'USD' },
        },
        {
          id: 'B',
          description: 'Coil',
          shipDate: '2026-03-14',
          priceDelta: { amount: -4, currency: 'USD', per: 'cwt' },
        },
      ],
    });
  });

  it('accepts removing every alternative', () => {
    expect(
      parseReviewForm(form({ action: 'save', ...row(0, { id: 'A', description: 'x' }), 'remove-0': '1' })),
    ).toEqual({ ok: true, action: 'save', alternatives: [] });
  });

  it('names every error with its row and field, and keeps what was typed', () => {
    const parsed = parseReviewForm(
      form({
        action: 'save',
        ...row(0, { id: 'A', description: 'Plate', shipDate: '2026-02-30', price: 'lots', currency: 'USD' }),
        ...row(1, { id: 'A', description: '', shipDate: '2026-03-12', price: '5', currency: 'dollars' }),
      }),
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.rows[0]?.price).toBe('lots');
    expect(parsed.errors.map((error) => `${error.row}:${error.field}`).sort()).toEqual(
      ['0:price', '0:shipDate', '1:currency', '1:description', '1:id'].sort(),
    );
  });

  it('refuses a form without a known action', () => {
    expect(parseReviewForm(form({ action: 'delete' }))).toMatchObject({
      ok: false,
      errors: [{ message: 'choose Save or Approve' }],
    });
  });

  it('refuses more than twenty alternatives', () => {
    const rows = Object.assign(
      {},
      ...Array.from({ length: 25 }, (_, index) =>
        row(index, { id: `X${index}`, description: 'x', shipDate: '2026-03-12' }),
      ),
    );
    expect(parseReviewForm(form({ action: 'save', ...rows }))).toMatchObject({
      ok: false,
      errors: [{ message: 'offer at most 20 alternatives' }],
    });
  });
});

describe('review links', () => {
  it('name the notice and expire a week after its deadline', () => {
    const record = opened();
    const url = reviewLink(record, firstNotice(record), secret, 'https://watch.example/');
    const token = url.replace('https://watch.example/v1/reviews/', '');
    expect(verifyReviewToken(token, [secret], AT)).toEqual({
      orderId: 'SO-10042',
      lineId: '3',
      revision: 1,
      expiresAt: new Date('2026-03-16T18:00:00Z'),
    });
    expect(() => verifyReviewToken(token, [secret], new Date('2026-03-16T18:00:00Z'))).toThrow(
      ExpiredReviewTokenError,
    );
  });

  it('are never accepted as decision links, nor decision links as review links', () => {
    const record = opened();
    const review =
      reviewLink(record, firstNotice(record), secret, 'https://w.example').split('/').pop() ?? '';
    expect(() => verifyDecisionToken(review, [secret], AT)).toThrow(ForgedTokenError);
    const decision = signDecisionToken(
      {
        orderId: 'SO-10042',
        lineId: '3',
        revision: 1,
        choice: { kind: 'wait' },
        expiresAt: new Date('2027-01-01'),
      },
      secret,
    );
    expect(() => verifyReviewToken(decision, [secret], AT)).toThrow(ForgedTokenError);
  });
});

describe('the review page', () => {
  it('escapes what the ERP and the owner typed, and marks each field in error', () => {
    const record = opened();
    const notice = firstNotice(record);
    const html = renderNoticeReviewPage(
      {
        kind: 'form',
        record,
        notice,
        rows: [
          {
            id: 'A',
            description: '<script>x</script>',
            shipDate: 'soon',
            price: '',
            currency: 'USD',
            per: '',
          },
        ],
        errors: [{ row: 0, field: 'shipDate', message: 'expected a date as YYYY-MM-DD' }],
      },
      DEFAULT_PAGE_CONTEXT,
    );
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html).toContain('name="shipDate-0" value="soon" aria-invalid="true"');
    expect(html).toContain('Nothing was saved');
  });

  it('says when an auto-sent notice went out', () => {
    const record = opened();
    const notice = {
      ...firstNotice(record),
      status: 'sent' as const,
      sentAt: '2026-03-09T18:00:00Z',
      autoSent: true,
    };
    const html = renderNoticeReviewPage({ kind: 'settled', record, notice }, DEFAULT_PAGE_CONTEXT);
    expect(html).toContain('This notice has already gone out');
    expect(html).toContain('at its deadline, without review');
  });
});
