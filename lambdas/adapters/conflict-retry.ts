import { setTimeout as sleep } from 'node:timers/promises';
import { VersionConflictError } from '#adapters/backorder-store.ts';

/**
 * How long concurrent writers of one line keep trying: well inside the functions' 10-second
 * timeout, and long enough for dozens of writers of one line to take their turns. A budget of
 * attempts ran out under twenty concurrent writers while the line was free again within a second.
 */
const RETRY_BUDGET_MS = 5_000;
/** The longest pause between attempts: a line is written in milliseconds, so longer only idles. */
const MAX_PAUSE_MS = 200;

/**
 * Runs `attempt` (read, decide, write with the version read) until it writes without a version
 * conflict, rethrowing the conflict once the budget is spent. Full jitter keeps concurrent writers
 * of one line from colliding in lockstep.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + RETRY_BUDGET_MS;
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      const pause = Math.random() * Math.min(MAX_PAUSE_MS, 10 * 2 ** tries);
      if (performance.now() + pause >= deadline) throw error;
      await sleep(pause);
    }
  }
}
