/**
 * The one source of "now" for every handler. In AWS it is the system clock; the local runtime
 * and the tests install the virtual clock here so that timers and handlers agree on the time.
 */
let source: () => number = Date.now;

export function now(): Date {
  return new Date(source());
}

/** Replaces the clock for this process (local runtime and tests). Returns a function that restores it. */
export function useClock(clock: { now(): Date }): () => void {
  const previous = source;
  source = () => clock.now().getTime();
  return () => {
    source = previous;
  };
}
