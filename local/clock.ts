/**
 * The virtual clock of the local runtime: "now" for handlers (installed with `useClock` from
 * `#adapters/clock.ts`), the timers of the local Step Functions (Wait states, retry intervals,
 * timeouts), and the settlement that lets `POST /_local/clock` answer only once every timer it
 * made due has run and all the work those timers caused is over.
 */

/** An instant: a `Date`, epoch milliseconds, or an ISO-8601 string. */
export type Instant = Date | number | string;

/** Options of {@link VirtualClock}. */
export interface VirtualClockOptions {
  /** Where virtual time starts. @default real now */
  readonly start?: Instant;
  /**
   * Whether virtual time moves with real time between advances, so that `npm start` behaves like
   * a clock. Tests that want every instant to be explicit turn it off. @default true
   */
  readonly followRealTime?: boolean;
}

/**
 * Work the clock waits for before it calls itself settled, e.g. one Step Functions execution.
 * It is busy while it runs, idle while all of it sleeps on the clock, and gone once finished.
 */
export interface TrackedWork {
  /** Marks a unit of work in flight (e.g. a Lambda task): busy until the returned function is called. */
  begin(): () => void;
  /** Sleeps on the clock; while every part of the work sleeps, the work counts as idle. */
  sleepUntil(instant: Instant, signal?: AbortSignal): Promise<void>;
  /** The work is over; units still in flight (a handler that cannot be cancelled) keep it busy until they end. */
  finish(): void;
  /** Whether the clock would wait for this work now. */
  readonly busy: boolean;
}

/** Real timers overflow above 2^31-1 ms (Node then fires them at once): longer waits are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

interface Sleeper {
  readonly due: number;
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly work: Work | undefined;
  detach: () => void;
  done: boolean;
}

/** Parses an {@link Instant} to epoch milliseconds, refusing what is not a valid instant. */
export function toEpochMillis(instant: Instant): number {
  const ms =
    instant instanceof Date ? instant.getTime() : typeof instant === 'number' ? instant : Date.parse(instant);
  if (!Number.isFinite(ms)) throw new TypeError(`not a valid instant: ${String(instant)}`);
  return ms;
}

/**
 * A clock whose "now" follows real time plus an offset and can only be moved forward.
 *
 * Advancing runs every timer due by the new instant in order: it steps the clock to each due
 * instant in turn, wakes the sleepers due then, and waits until the work they caused has settled
 * before it takes the next step. While an advance runs, time stands still at the current step so
 * that every handler sees the instant its timer was due.
 */
export class VirtualClock {
  readonly #followRealTime: boolean;
  /** Virtual epoch ms at `#realBase`. */
  #base: number;
  /** `performance.now()` when `#base` was set: monotonic, unlike `Date.now()`. */
  #realBase: number;
  /** False while an advance steps through timers, and always when not following real time. */
  #running: boolean;
  readonly #sleepers = new SleeperHeap();
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #advancing: Promise<unknown> = Promise.resolve();
  #busyCount = 0;
  /** Bumped on every change of tracked work: settlement needs a quiet turn of the event loop. */
  #epoch = 0;
  #changeWaiters: Array<() => void> = [];
  #disposed = false;

  constructor(options: VirtualClockOptions = {}) {
    this.#followRealTime = options.followRealTime ?? true;
    this.#base = options.start === undefined ? Date.now() : toEpochMillis(options.start);
    this.#realBase = performance.now();
    this.#running = this.#followRealTime;
  }

  /** The current virtual instant. */
  now(): Date {
    return new Date(this.#nowMs());
  }

  /**
   * Resolves when virtual time reaches `instant`, whether by an advance or by real time passing.
   * Rejects with the signal's reason when aborted, and forgets the timer.
   */
  sleepUntil(instant: Instant, signal?: AbortSignal): Promise<void> {
    return this.#sleep(toEpochMillis(instant), signal, undefined);
  }

  /**
   * Moves the clock forward to `instant`, running every timer due by then in order, and resolves
   * with the new now once all work they caused has settled. Rejects with a `RangeError` when
   * `instant` is in the past. Advances queue behind each other.
   */
  advanceTo(instant: Instant): Promise<Date> {
    const target = toEpochMillis(instant);
    return this.#enqueue(() => target);
  }

  /** Moves the clock forward by `ms` milliseconds (measured when the advance starts); see {@link advanceTo}. */
  advanceBy(ms: number): Promise<Date> {
    if (!Number.isFinite(ms) || ms < 0) {
      return Promise.reject(new RangeError(`the clock only moves forward: advanceBy(${ms})`));
    }
    return this.#enqueue((now) => now + ms);
  }

  /**
   * Resolves once no tracked work is busy and the event loop has turned once without any
   * tracked work changing: what a Lambda task returns is picked up by the interpreter in
   * microtasks, so one quiet turn means the next state has begun or the work is asleep.
   */
  async settled(): Promise<void> {
    for (;;) {
      await nextTurn();
      if (this.#busyCount > 0) {
        await this.#nextChange();
        continue;
      }
      const epoch = this.#epoch;
      await nextTurn();
      if (this.#busyCount === 0 && epoch === this.#epoch) return;
    }
  }

  /** Registers work the clock waits for when settling (busy until it sleeps or finishes). */
  register(): TrackedWork {
    return new Work(this.#workChanged, (instant, signal, work) =>
      this.#sleep(toEpochMillis(instant), signal, work),
    );
  }

  /** Counts `promise` as busy work until it settles, and returns it. */
  track<T>(promise: Promise<T>): Promise<T> {
    const work = this.register();
    return promise.finally(() => work.finish());
  }

  /** The instant of the earliest pending timer, if any. */
  nextTimer(): Date | undefined {
    const first = this.#sleepers.peek();
    return first ? new Date(first.due) : undefined;
  }

  /** Number of pending timers. */
  get pendingTimers(): number {
    return this.#sleepers.size;
  }

  /** Clears the real timer and rejects every pending sleeper; the clock cannot be used afterwards. */
  dispose(): void {
    this.#disposed = true;
    this.#clearTimer();
    const error = new Error('the virtual clock was disposed');
    for (let sleeper = this.#sleepers.pop(); sleeper; sleeper = this.#sleepers.pop()) {
      this.#settle(sleeper, () => sleeper.reject(error));
    }
    this.#notify();
  }

  #nowMs(): number {
    return this.#running ? this.#base + (performance.now() - this.#realBase) : this.#base;
  }

  #setBase(ms: number): void {
    this.#base = ms;
    this.#realBase = performance.now();
  }

  #sleep(due: number, signal: AbortSignal | undefined, work: Work | undefined): Promise<void> {
    if (this.#disposed) return Promise.reject(new Error('the virtual clock was disposed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (due <= this.#nowMs()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = { due, seq: this.#seq++, resolve, reject, work, detach: noop, done: false };
      if (signal) {
        const onAbort = (): void => {
          this.#sleepers.remove(sleeper);
          this.#settle(sleeper, () => reject(signal.reason));
          this.#schedule();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        sleeper.detach = () => signal.removeEventListener('abort', onAbort);
      }
      work?.sleeping(+1);
      this.#sleepers.push(sleeper);
      this.#schedule();
    });
  }

  /** Ends a sleeper once: its work is awake again (synchronously, before anything resumes). */
  #settle(sleeper: Sleeper, finish: () => void): void {
    if (sleeper.done) return;
    sleeper.done = true;
    sleeper.detach();
    sleeper.work?.sleeping(-1);
    finish();
  }

  /** Wakes every sleeper due by now, earliest first (ties in the order they went to sleep). */
  #wakeDue(): void {
    const now = this.#nowMs();
    for (let first = this.#sleepers.peek(); first && first.due <= now; first = this.#sleepers.peek()) {
      const sleeper = this.#sleepers.pop();
      if (sleeper) this.#settle(sleeper, sleeper.resolve);
    }
    this.#schedule();
  }

  /** Arms one real timer for the earliest sleeper, so that real time passing wakes it too. */
  #schedule(): void {
    this.#clearTimer();
    const first = this.#sleepers.peek();
    if (!first || !this.#running || this.#disposed) return;
    const delay = Math.min(Math.max(0, Math.ceil(first.due - this.#nowMs())), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#wakeDue();
    }, delay);
    // The clock never keeps the process alive on its own: shutdown does not depend on it.
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #enqueue(target: (now: number) => number): Promise<Date> {
    const run = () => this.#advance(target);
    const next = this.#advancing.then(run, run);
    this.#advancing = next.catch(noop);
    return next;
  }

  /** `targetAt` is read against now when the advance starts, so "now + 0" is never in the past. */
  async #advance(targetAt: (now: number) => number): Promise<Date> {
    if (this.#disposed) throw new Error('the virtual clock was disposed');
    const now = this.#nowMs();
    const target = targetAt(now);
    if (target < now) {
      throw new RangeError(`the clock only moves forward: ${new Date(target).toISOString()} is before now`);
    }
    await this.settled();
    // Time stands still while stepping, so each timer's work sees exactly its own instant.
    this.#setBase(Math.max(this.#nowMs(), now));
    this.#running = false;
    this.#clearTimer();
    try {
      for (let first = this.#sleepers.peek(); first && first.due <= target; first = this.#sleepers.peek()) {
        if (first.due > this.#base) this.#setBase(first.due);
        this.#wakeDue();
        await this.settled();
      }
      if (target > this.#base) this.#setBase(target);
    } finally {
      this.#setBase(this.#base);
      this.#running = this.#followRealTime;
      this.#schedule();
    }
    return this.now();
  }

  readonly #workChanged = (delta: number): void => {
    this.#busyCount += delta;
    this.#notify();
  };

  #notify(): void {
    this.#epoch++;
    const waiters = this.#changeWaiters;
    this.#changeWaiters = [];
    for (const wake of waiters) wake();
  }

  #nextChange(): Promise<void> {
    return new Promise((resolve) => this.#changeWaiters.push(resolve));
  }
}

type WorkSleep = (instant: Instant, signal: AbortSignal | undefined, work: Work) => Promise<void>;

/** Tracked work: busy = units in flight, or running between units (not asleep and not finished). */
class Work implements TrackedWork {
  #inFlight = 0;
  #asleep = 0;
  #finished = false;
  #wasBusy: boolean;
  readonly #changed: (delta: number) => void;
  readonly #sleep: WorkSleep;

  constructor(changed: (delta: number) => void, sleep: WorkSleep) {
    this.#changed = changed;
    this.#sleep = sleep;
    this.#wasBusy = this.busy;
    changed(this.#wasBusy ? 1 : 0);
  }

  get busy(): boolean {
    return this.#inFlight > 0 || (!this.#finished && this.#asleep === 0);
  }

  begin(): () => void {
    this.#update(() => this.#inFlight++);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#update(() => this.#inFlight--);
    };
  }

  sleepUntil(instant: Instant, signal?: AbortSignal): Promise<void> {
    return this.#sleep(instant, signal, this);
  }

  /** Called by the clock, synchronously, as a sleep starts (+1) or ends (-1). */
  sleeping(delta: number): void {
    this.#update(() => {
      this.#asleep += delta;
    });
  }

  finish(): void {
    this.#update(() => {
      this.#finished = true;
    });
  }

  #update(change: () => void): void {
    change();
    const busy = this.busy;
    const delta = (busy ? 1 : 0) - (this.#wasBusy ? 1 : 0);
    this.#wasBusy = busy;
    this.#changed(delta);
  }
}

/** A binary min-heap of sleepers by (due, seq); aborted sleepers are removed lazily. */
class SleeperHeap {
  #items: Sleeper[] = [];
  #live = 0;

  get size(): number {
    return this.#live;
  }

  push(sleeper: Sleeper): void {
    this.#items.push(sleeper);
    this.#live++;
    this.#up(this.#items.length - 1);
  }

  peek(): Sleeper | undefined {
    this.#dropDone();
    return this.#items[0];
  }

  pop(): Sleeper | undefined {
    this.#dropDone();
    const first = this.#items[0];
    if (first) {
      this.#removeTop();
      this.#live--;
    }
    return first;
  }

  /** Forgets a sleeper that is about to be marked done (an abort): dropped when it reaches the top. */
  remove(sleeper: Sleeper): void {
    if (!sleeper.done) this.#live--;
  }

  #dropDone(): void {
    for (let first = this.#items[0]; first?.done; first = this.#items[0]) this.#removeTop();
  }

  #removeTop(): void {
    const last = this.#items.pop();
    if (last && this.#items.length > 0) {
      this.#items[0] = last;
      this.#down(0);
    }
  }

  #less(a: Sleeper, b: Sleeper): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  #up(index: number): void {
    const items = this.#items;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const child = items[i];
      const above = items[parent];
      if (!child || !above || !this.#less(child, above)) return;
      items[i] = above;
      items[parent] = child;
      i = parent;
    }
  }

  #down(index: number): void {
    const items = this.#items;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      const l = items[left];
      const r = items[right];
      const s0 = items[smallest];
      if (l && s0 && this.#less(l, s0)) smallest = left;
      const s1 = items[smallest];
      if (r && s1 && this.#less(r, s1)) smallest = right;
      if (smallest === i) return;
      const a = items[i];
      const b = items[smallest];
      if (!a || !b) return;
      items[i] = b;
      items[smallest] = a;
      i = smallest;
    }
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function noop(): void {}
