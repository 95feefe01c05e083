import { afterEach, describe, expect, it } from 'vitest';
import { now as handlerNow, useClock } from '#adapters/clock.ts';
import { VirtualClock } from '#local/clock.ts';

const START = '2026-03-02T14:00:00.000Z';
const DAY = 86_400_000;

function at(offsetMs: number): Date {
  return new Date(Date.parse(START) + offsetMs);
}

/** Resolves after `turns` turns of the event loop: lets woken sleepers run without wall-clock sleeps. */
async function turns(count = 3): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

const clocks: VirtualClock[] = [];
function frozenClock(): VirtualClock {
  const clock = new VirtualClock({ start: START, followRealTime: false });
  clocks.push(clock);
  return clock;
}

afterEach(() => {
  for (const clock of clocks.splice(0)) clock.dispose();
});

describe('the virtual clock', () => {
  it('starts at the given instant and stands still when not following real time', async () => {
    const clock = frozenClock();
    await turns();
    expect(clock.now().toISOString()).toBe(START);
  });

  it('follows real time from its start when asked to', async () => {
    const clock = new VirtualClock({ start: START });
    clocks.push(clock);
    const first = clock.now().getTime();
    const deadline = Date.now() + 2_000;
    while (clock.now().getTime() === first && Date.now() < deadline) await turns(1);
    expect(clock.now().getTime()).toBeGreaterThan(first);
    expect(clock.now().getTime() - Date.parse(START)).toBeLessThan(2_000);
  });

  it('moves forward by advanceBy and advanceTo', async () => {
    const clock = frozenClock();
    await clock.advanceBy(5 * 60_000);
    expect(clock.now()).toEqual(at(5 * 60_000));
    await clock.advanceTo(at(DAY));
    expect(clock.now()).toEqual(at(DAY));
  });

  it('refuses to move back', async () => {
    const clock = frozenClock();
    await clock.advanceTo(at(DAY));
    await expect(clock.advanceTo(at(DAY - 1))).rejects.toThrow(RangeError);
    await expect(clock.advanceBy(-1)).rejects.toThrow(RangeError);
    expect(clock.now()).toEqual(at(DAY));
  });

  it('wakes a sleeper when time reaches its instant, not before', async () => {
    const clock = frozenClock();
    let woke = false;
    const sleeping = clock.sleepUntil(at(DAY)).then(() => {
      woke = true;
    });
    await clock.advanceBy(DAY - 1);
    expect(woke).toBe(false);
    await clock.advanceBy(1);
    await sleeping;
    expect(woke).toBe(true);
  });

  it('resolves at once for an instant already past', async () => {
    const clock = frozenClock();
    await expect(clock.sleepUntil(at(-1))).resolves.toBeUndefined();
  });

  it('wakes a sleeper by real time passing when following real time', async () => {
    const clock = new VirtualClock({ start: START });
    clocks.push(clock);
    await expect(clock.sleepUntil(clock.now().getTime() + 5)).resolves.toBeUndefined();
  });

  it('runs due timers in order, each seeing its own instant, with the work each caused settled before the next', async () => {
    const clock = frozenClock();
    const seen: string[] = [];
    const work = clock.register();
    // Registered out of order; the second timer's work is itself asynchronous and tracked.
    const later = clock.sleepUntil(at(3 * DAY)).then(() => seen.push(`c@${clock.now().toISOString()}`));
    const first = work.sleepUntil(at(DAY)).then(async () => {
      const end = work.begin();
      seen.push(`a@${clock.now().toISOString()}`);
      await turns(5);
      seen.push('a done');
      end();
      await work.sleepUntil(at(2 * DAY));
      seen.push(`b@${clock.now().toISOString()}`);
      work.finish();
    });
    await clock.advanceTo(at(10 * DAY));
    await Promise.all([later, first]);
    expect(seen).toEqual([
      `a@${at(DAY).toISOString()}`,
      'a done',
      `b@${at(2 * DAY).toISOString()}`,
      `c@${at(3 * DAY).toISOString()}`,
    ]);
    expect(clock.now()).toEqual(at(10 * DAY));
  });

  it('answers an advance only after the work it caused has settled', async () => {
    const clock = frozenClock();
    const work = clock.register();
    let finished = false;
    void work.sleepUntil(at(DAY)).then(async () => {
      const end = work.begin();
      await turns(10);
      end();
      finished = true;
      work.finish();
    });
    await clock.advanceBy(DAY);
    expect(finished).toBe(true);
  });

  it('counts work started by woken work (a follow-on execution) before calling itself settled', async () => {
    const clock = frozenClock();
    const log: string[] = [];
    const parent = clock.register();
    void parent.sleepUntil(at(DAY)).then(() => {
      const child = clock.register();
      parent.finish();
      void (async () => {
        await turns(5);
        log.push('child ran');
        child.finish();
      })();
    });
    await clock.advanceBy(DAY);
    expect(log).toEqual(['child ran']);
  });

  it('settles at once when nothing is busy, and waits for tracked promises', async () => {
    const clock = frozenClock();
    await expect(clock.settled()).resolves.toBeUndefined();
    let done = false;
    void clock.track(turns(5).then(() => (done = true)));
    await clock.settled();
    expect(done).toBe(true);
  });

  it('rejects and forgets an aborted sleeper', async () => {
    const clock = frozenClock();
    const controller = new AbortController();
    const sleeping = clock.sleepUntil(at(DAY), controller.signal);
    expect(clock.pendingTimers).toBe(1);
    controller.abort(new Error('stopped'));
    await expect(sleeping).rejects.toThrow('stopped');
    expect(clock.pendingTimers).toBe(0);
    expect(clock.nextTimer()).toBeUndefined();
  });

  it('treats aborted tracked work as awake again', async () => {
    const clock = frozenClock();
    const work = clock.register();
    const controller = new AbortController();
    const sleeping = work.sleepUntil(at(DAY), controller.signal).catch(() => 'aborted');
    expect(work.busy).toBe(false);
    controller.abort();
    await expect(sleeping).resolves.toBe('aborted');
    expect(work.busy).toBe(true);
    work.finish();
    expect(work.busy).toBe(false);
  });

  it('rejects a sleep whose signal is already aborted', async () => {
    const clock = frozenClock();
    await expect(clock.sleepUntil(at(DAY), AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    expect(clock.pendingTimers).toBe(0);
  });

  it('queues concurrent advances behind each other', async () => {
    const clock = frozenClock();
    const order: string[] = [];
    const one = clock.advanceBy(DAY).then(() => order.push('one'));
    const two = clock.advanceBy(DAY).then(() => order.push('two'));
    await Promise.all([one, two]);
    expect(order).toEqual(['one', 'two']);
    expect(clock.now()).toEqual(at(2 * DAY));
  });

  it('rejects pending sleepers when disposed', async () => {
    const clock = new VirtualClock({ start: START });
    const sleeping = clock.sleepUntil(at(DAY));
    clock.dispose();
    await expect(sleeping).rejects.toThrow('disposed');
  });

  it('is the now that handlers see once installed', async () => {
    const clock = frozenClock();
    const restore = useClock(clock);
    try {
      await clock.advanceBy(DAY);
      expect(handlerNow()).toEqual(at(DAY));
    } finally {
      restore();
    }
  });
});
