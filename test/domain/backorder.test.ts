import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Applied,
  applyEvent,
  type Backorder,
  lineLabel,
  NotADelayError,
  type RuleContext,
  UnknownBackorderError,
} from '#domain/backorder.ts';
import { type BackorderEvent, ErpEvent } from '#domain/events.ts';
import { closing, delayed, erpFixture } from '#test/support/erp-events.ts';

const HOUR = 3_600_000;
// The reducer's own rules do not depend on the calendar: fixed offsets keep these tests about the reducer.
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};

function replay(events: BackorderEvent[]): Applied[] {
  const results: Applied[] = [];
  let record: Backorder | undefined;
  for (const event of events) {
    const applied = applyEvent(record, event, rules);
    results.push(applied);
    record = applied.record;
  }
  return results;
}

function last(results: Applied[]): Backorder {
  const final = results.at(-1);
  if (!final) throw new Error('no events applied');
  return final.record;
}

describe('the ERP event schema', () => {
  it('accepts the contract example and every versioned fixture', () => {
    for (const name of ['backorder.delayed', 'backorder.shipped', 'backorder.cancelled'] as const) {
      expect(ErpEvent.safeParse(erpFixture(name)).success).toBe(true);
    }
    const demand = JSON.parse(
      readFileSync(new URL('../fixtures/erp/v1/sku.demand.json', import.meta.url), 'utf8'),
    );
    expect(ErpEvent.safeParse(demand).success).toBe(true);
  });

  it('names the offending field of a bad date', () => {
    const event = delayed('2026-03-10T14:05:00-05:00', '2026-02-30');
    const parsed = ErpEvent.safeParse(event);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['data', 'expectedShipDate']);
  });

  it('requires an offset on occurredAt and a known reason code', () => {
    expect(ErpEvent.safeParse(delayed('2026-03-10T14:05:00', '2026-03-22')).success).toBe(false);
    const badReason = delayed('2026-03-10T14:05:00Z', '2026-03-22', {
      reason: { code: 'ALIENS' as 'OTHER', text: 'x' },
    });
    expect(ErpEvent.safeParse(badReason).success).toBe(false);
  });
});

describe('opening a backorder', () => {
  it('opens with one pending notice due by the SLA deadline', () => {
    const [opened] = replay([delayed('2026-03-10T14:05:00-05:00', '2026-03-22')]);

    expect(opened?.result).toBe('opened');
    expect(opened?.record).toMatchObject({
      status: 'open',
      originalShipDate: '2026-03-15',
      expectedShipDate: '2026-03-22',
      slipCount: 1,
      escalationLevel: 'none',
      generation: 1,
      nextActionAt: '2026-03-11T13:05:00.000Z',
    });
    expect(opened?.record.notices).toEqual([
      expect.objectContaining({
        revision: 1,
        kind: 'opened',
        learnedAt: '2026-03-10T19:05:00.000Z',
        deadline: '2026-03-10T23:05:00.000Z',
        status: 'pending',
      }),
    ]);
  });

  it('refuses a first report whose expected date is not after the original', () => {
    expect(() => replay([delayed('2026-03-10T14:05:00-05:00', '2026-03-15')])).toThrow(NotADelayError);
    expect(() => replay([delayed('2026-03-10T14:05:00-05:00', '2026-03-14')])).toThrow(NotADelayError);
  });

  it('cannot ship or cancel a line it never heard of', () => {
    expect(() => replay([closing('backorder.shipped', '2026-03-10T14:05:00Z')])).toThrow(
      UnknownBackorderError,
    );
  });

  it('labels a line for people', () => {
    expect(lineLabel({ orderId: 'SO-10042', lineId: '3' })).toBe('SO-10042 line 3');
  });
});

describe('later reports', () => {
  const open = delayed('2026-03-10T14:05:00-05:00', '2026-03-22');

  it('raises a manager escalation and supersedes the unsent notice when the date slips again', () => {
    const results = replay([open, delayed('2026-03-11T09:00:00-05:00', '2026-03-29')]);
    const record = last(results);

    expect(results[1]?.result).toBe('slipped');
    expect(record.slipCount).toBe(2);
    expect(record.escalationLevel).toBe('manager');
    expect(record.escalations).toEqual([
      { trigger: 'slip-2', audience: 'manager', raisedAt: '2026-03-11T14:00:00.000Z', status: 'pending' },
    ]);
    expect(record.notices.map((n) => [n.revision, n.kind, n.status])).toEqual([
      [1, 'opened', 'superseded'],
      [2, 'slipped', 'pending'],
    ]);
    // The customer is still owed the first news by its own deadline.
    expect(record.notices[1]?.deadline).toBe(record.notices[0]?.deadline);
    expect(record.notices[1]?.previousShipDate).toBe('2026-03-22');
  });

  it('sends good news without an alert when the date improves', () => {
    const results = replay([open, delayed('2026-03-11T09:00:00-05:00', '2026-03-18')]);
    const record = last(results);

    expect(results[1]?.result).toBe('improved');
    expect(record.escalations).toEqual([]);
    expect(record.notices.at(-1)).toMatchObject({ kind: 'improved', expectedShipDate: '2026-03-18' });
  });

  it('keeps the original date whatever later reports say', () => {
    const record = last(
      replay([open, delayed('2026-03-11T09:00:00-05:00', '2026-03-25', { originalShipDate: '2026-03-20' })]),
    );
    expect(record.originalShipDate).toBe('2026-03-15');
    expect(record.details.originalShipDate).toBe('2026-03-15');
  });

  it('answers unchanged for the same date but keeps the newest details', () => {
    const newOwner = { id: 'U-22', name: 'Sam Lee', email: 'sam.lee@svc.example' };
    const results = replay([open, delayed('2026-03-11T09:00:00-05:00', '2026-03-22', { owner: newOwner })]);

    expect(results[1]?.result).toBe('unchanged');
    expect(last(results).details.owner).toEqual(newOwner);
    expect(last(results).notices).toHaveLength(1);
  });

  it('keeps an older report in the timeline as stale and changes nothing', () => {
    const newer = delayed('2026-03-12T09:00:00-05:00', '2026-03-29');
    const older = delayed('2026-03-11T09:00:00-05:00', '2026-03-25');
    const results = replay([open, newer, older]);

    expect(results[2]).toMatchObject({ result: 'stale', changed: false });
    expect(results[2]?.record).toBe(results[1]?.record);
  });

  it('closes on shipment, drops what is owed, and stays closed', () => {
    const slip = delayed('2026-03-11T09:00:00-05:00', '2026-03-29');
    const results = replay([
      open,
      slip,
      closing('backorder.shipped', '2026-03-12T10:00:00-05:00'),
      closing('backorder.cancelled', '2026-03-13T10:00:00-05:00'),
      delayed('2026-03-14T09:00:00-05:00', '2026-04-05'),
    ]);
    const record = last(results);

    expect(results.map((r) => r.result)).toEqual(['opened', 'slipped', 'closed', 'unchanged', 'unchanged']);
    expect(record).toMatchObject({ status: 'closed', closedAs: 'shipped', nextActionAt: undefined });
    expect(record.notices.every((n) => n.status !== 'pending')).toBe(true);
    expect(record.escalations).toEqual([]);
  });

  it('closes even when the closing event is older than the last report', () => {
    const results = replay([
      open,
      delayed('2026-03-14T09:00:00-05:00', '2026-03-29'),
      closing('backorder.cancelled', '2026-03-12T10:00:00-05:00'),
    ]);
    expect(results[2]?.result).toBe('closed');
    expect(last(results).lastEventAt).toBe('2026-03-14T14:00:00.000Z');
  });
});

describe('reducer invariants', () => {
  const base = Date.parse('2026-03-10T12:00:00Z');
  const day = (offset: number) =>
    new Date(Date.parse('2026-03-16T00:00:00Z') + offset * 24 * HOUR).toISOString().slice(0, 10);

  /** A delay that opens the line, then later reports with distinct instants, some of them closing. */
  const histories = fc
    .tuple(
      fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 20 })), {
        minLength: 12,
        maxLength: 12,
      }),
    )
    .map(([minutes, shapes]) => {
      const events: BackorderEvent[] = [delayed(new Date(base).toISOString(), day(3))];
      minutes.forEach((minute, index) => {
        const [date, kind] = shapes[index] ?? [0, 0];
        const at = new Date(base + minute * 60_000).toISOString();
        events.push(
          kind === 0
            ? closing('backorder.shipped', at)
            : kind === 1
              ? closing('backorder.cancelled', at)
              : delayed(at, day(date)),
        );
      });
      return events;
    });

  /** Delivers events in the given order; a closing event for a line not yet opened is retried later, as the ERP would. */
  function deliver(events: BackorderEvent[]): Applied[] {
    const queue = [...events];
    const results: Applied[] = [];
    let record: Backorder | undefined;
    let attempts = 0;
    while (queue.length > 0 && attempts++ < 1000) {
      const event = queue.shift() as BackorderEvent;
      try {
        const applied = applyEvent(record, event, rules);
        results.push(applied);
        record = applied.record;
      } catch (error) {
        if (error instanceof UnknownBackorderError) queue.push(event);
        else throw error;
      }
    }
    return results;
  }

  it('ends with the same status and expected date in any delivery order', () => {
    fc.assert(
      fc.property(
        histories.chain((events) =>
          fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length })),
        ),
        ([inOrder, shuffled]) => {
          const expected = last(deliver(inOrder));
          const actual = last(deliver(shuffled));
          expect(actual.status).toBe(expected.status);
          expect(actual.expectedShipDate).toBe(expected.expectedShipDate);
        },
      ),
    );
  });

  it('never owes two notices at once, stays closed once closed, and escalates only on a later date', () => {
    fc.assert(
      fc.property(histories, (events) => {
        let wasClosed = false;
        let previous: Backorder | undefined;
        for (const applied of deliver(events)) {
          const record = applied.record;
          expect(record.notices.filter((n) => n.status === 'pending').length).toBeLessThanOrEqual(1);
          expect(new Set(record.notices.map((n) => n.revision)).size).toBe(record.notices.length);
          if (wasClosed) expect(record.status).toBe('closed');
          wasClosed ||= record.status === 'closed';
          const newAlert = record.escalations.length > (previous?.escalations.length ?? 0);
          const movedLater =
            previous?.status === 'open' && record.expectedShipDate > previous.expectedShipDate;
          expect(newAlert).toBe(movedLater);
          previous = record;
        }
      }),
    );
  });

  it('changes nothing when the same event is replayed', () => {
    fc.assert(
      fc.property(histories, fc.nat(), (events, pick) => {
        const results = deliver(events);
        const record = last(results);
        const again = events[pick % events.length] as BackorderEvent;
        const replayed = applyEvent(record, again, rules);
        expect(replayed.record.status).toBe(record.status);
        expect(replayed.record.expectedShipDate).toBe(record.expectedShipDate);
        expect(replayed.record.notices).toEqual(record.notices);
        expect(replayed.record.escalations).toEqual(record.escalations);
      }),
    );
  });
});
