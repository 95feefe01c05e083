import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErpEvent } from '#domain/events.ts';
import { closing, delayed } from '#test/support/erp-events.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';
import { captureLogs, linesWith, newTally, PERSONAL, personalData, saveTally } from './support.ts';

/*
 * Reordering: the events of one line delivered in random orders end where the same events
 * delivered in order end (CONTRACT §1: the latest occurredAt wins; shipping or cancelling closes
 * whatever the order). An event answered 404 or 422 (a closing before the line exists, a first
 * report that is no delay) is delivered again after the others, as a Standard Webhooks sender
 * retries anything but a 2xx.
 */

// Wednesday 2026-03-11, 10:00 in Chicago.
const NOW = '2026-03-11T15:00:00Z';
const ORIGINAL = '2026-03-20';
const tally = newTally('reordering');
const logs = captureLogs();
let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem(NOW);
}, 180_000);

afterAll(async () => {
  logs.restore();
  await system?.stop();
  saveTally(tally);
});

const dayAfterOriginal = (days: number) =>
  new Date(Date.parse(`${ORIGINAL}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** A line's history: delays (the first is late), and maybe a closing, ten minutes apart. */
const history = fc.record({
  firstDelay: fc.integer({ min: 1, max: 30 }),
  laterDelays: fc.array(fc.integer({ min: -5, max: 40 }), { minLength: 1, maxLength: 5 }),
  closing: fc.constantFrom(undefined, 'backorder.shipped' as const, 'backorder.cancelled' as const),
  orders: fc.array(fc.array(fc.nat(), { minLength: 7, maxLength: 7 }), { minLength: 3, maxLength: 3 }),
});

let line = 0;

function eventsFor(
  orderId: string,
  spec: {
    firstDelay: number;
    laterDelays: number[];
    closing: 'backorder.shipped' | 'backorder.cancelled' | undefined;
  },
): ErpEvent[] {
  const key = {
    orderId,
    lineId: '1',
    originalShipDate: ORIGINAL,
    customer: { id: 'C-REL', name: 'Reliability Fabrication', email: PERSONAL.customerEmail },
  };
  const at = (index: number) => new Date(Date.parse(NOW) - 6 * 3_600_000 + index * 600_000).toISOString();
  const events: ErpEvent[] = [spec.firstDelay, ...spec.laterDelays].map((days, index) =>
    delayed(at(index), dayAfterOriginal(days), key),
  );
  if (spec.closing) {
    events.push(closing(spec.closing, at(events.length), key));
  }
  return events;
}

/**
 * Delivers events in the given order, each under its own webhook id; whatever is refused is
 * delivered again, with the same id, after the rest.
 */
async function deliver(events: Array<{ event: ErpEvent; id: string }>): Promise<void> {
  let pending = events;
  for (let round = 0; pending.length > 0; round++) {
    if (round > events.length) throw new Error(`never accepted: ${pending.map(({ id }) => id).join(', ')}`);
    const refused: typeof events = [];
    for (const { event, id } of pending) {
      const answer = await system.post(event, { id });
      tally.deliveries += 1;
      if (answer.status >= 500) tally.serverErrors += 1;
      if (answer.status === 404 || answer.status === 422) refused.push({ event, id });
      else expect(answer.status).toBe(202);
    }
    pending = refused;
  }
}

async function finalState(orderId: string) {
  const { body } = await system.get(`/v1/backorders/${orderId}/1`);
  return {
    status: body.status,
    closedAs: body.closedAs ?? null,
    expectedShipDate: body.expectedShipDate,
    originalShipDate: body.originalShipDate,
  };
}

describe('random permutations of a line’s events', () => {
  it('end in the status and expected date of the in-order delivery', async () => {
    await fc.assert(
      fc.asyncProperty(history, async (spec) => {
        line += 1;
        const inOrderId = `SO-ORD-${line}`;
        const inOrder = eventsFor(inOrderId, spec).map((event, index) => ({
          event,
          id: `msg_${inOrderId}_${index}`,
        }));
        tally.eventsSent += inOrder.length * (1 + spec.orders.length);
        await deliver(inOrder);
        const expected = await finalState(inOrderId);

        for (const [copy, keys] of spec.orders.entries()) {
          const orderId = `SO-ORD-${line}-P${copy}`;
          const events = eventsFor(orderId, spec);
          const permuted = events
            .map((event, index) => ({ event, id: `msg_${orderId}_${index}`, key: keys[index] ?? 0, index }))
            .sort((a, b) => a.key - b.key || a.index - b.index);
          await deliver(permuted);
          expect(
            await finalState(orderId),
            `${orderId}: ${permuted.map(({ index }) => index).join(', ')}`,
          ).toEqual(expected);
        }
        await system.advance();
      }),
      { numRuns: 25, seed: 20260311, endOnFailure: true },
    );
    expect(tally.serverErrors).toBe(0);
  });

  it('writes no customer contact detail to any log line', () => {
    const lines = logs.lines();
    tally.logLines += lines.length;
    expect(linesWith(lines, personalData)).toEqual([]);
  });
});
