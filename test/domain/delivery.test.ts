import { describe, expect, it } from 'vitest';
import { applyEvent, type Backorder, type RuleContext } from '#domain/backorder.ts';
import {
  type DeliveryOutcome,
  recordDelivery,
  sentAfterDeadline,
  UnknownNoticeError,
} from '#domain/delivery.ts';
import { closing, delayed } from '#test/support/erp-events.ts';

const HOUR = 3_600_000;
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};

function sentBackorder(): Backorder {
  const opened = applyEvent(undefined, delayed('2026-03-10T14:05:00-05:00', '2026-03-22'), rules).record;
  return {
    ...opened,
    notices: opened.notices.map((notice) => ({ ...notice, status: 'sent' as const, messageId: 'm-1' })),
  };
}

function reported(record: Backorder, outcomes: DeliveryOutcome[]): Backorder {
  return outcomes.reduce((current, outcome) => recordDelivery(current, 1, outcome).record, record);
}

describe('recordDelivery', () => {
  it('writes the first report on the notice it is about', () => {
    const result = recordDelivery(sentBackorder(), 1, 'delivered');

    expect(result.changed).toBe(true);
    expect(result.previous).toBeUndefined();
    expect(result.notice.delivery).toBe('delivered');
    expect(result.record.notices[0]?.delivery).toBe('delivered');
    expect(result.ownerMustCall).toBe(false);
  });

  it('asks the owner to call when a notice of an open backorder bounces', () => {
    expect(recordDelivery(sentBackorder(), 1, 'bounced').ownerMustCall).toBe(true);
  });

  it('needs no call for a bounce once the line has shipped or been cancelled', () => {
    const closed = applyEvent(
      sentBackorder(),
      closing('backorder.shipped', '2026-03-12T10:00:00Z'),
      rules,
    ).record;

    const result = recordDelivery(closed, 1, 'bounced');

    expect(result.changed).toBe(true);
    expect(result.ownerMustCall).toBe(false);
  });

  it('lets a bounce or complaint replace a delivery, never the other way round', () => {
    expect(reported(sentBackorder(), ['delivered', 'bounced']).notices[0]?.delivery).toBe('bounced');
    expect(reported(sentBackorder(), ['delivered', 'complained']).notices[0]?.delivery).toBe('complained');
    expect(reported(sentBackorder(), ['bounced', 'delivered']).notices[0]?.delivery).toBe('bounced');
    expect(reported(sentBackorder(), ['complained', 'bounced']).notices[0]?.delivery).toBe('complained');
  });

  it('ends in the same outcome whatever order the reports arrive in', () => {
    const reports: DeliveryOutcome[][] = [
      ['delivered', 'bounced', 'delivered'],
      ['bounced', 'delivered', 'delivered'],
      ['delivered', 'delivered', 'bounced'],
    ];
    const outcomes = reports.map((order) => reported(sentBackorder(), order).notices[0]?.delivery);
    expect(new Set(outcomes)).toEqual(new Set(['bounced']));
  });

  it('changes nothing for a repeated report, so the owner is told once', () => {
    const once = recordDelivery(sentBackorder(), 1, 'bounced').record;

    const again = recordDelivery(once, 1, 'bounced');

    expect(again.changed).toBe(false);
    expect(again.ownerMustCall).toBe(false);
    expect(again.record).toBe(once);
  });

  it('refuses a revision the backorder never had', () => {
    expect(() => recordDelivery(sentBackorder(), 7, 'delivered')).toThrow(UnknownNoticeError);
  });
});

describe('sentAfterDeadline', () => {
  const notice = { deadline: '2026-03-10T23:05:00.000Z' };

  it('is false up to and at the deadline, true after it', () => {
    expect(sentAfterDeadline(notice, new Date('2026-03-10T19:06:01Z'))).toBe(false);
    expect(sentAfterDeadline(notice, new Date('2026-03-10T23:05:00Z'))).toBe(false);
    expect(sentAfterDeadline(notice, new Date('2026-03-10T23:05:01Z'))).toBe(true);
  });
});
