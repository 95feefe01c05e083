import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { BackorderStore } from '#adapters/backorder-store.ts';
import { now } from '#adapters/clock.ts';
import { requireEnv } from '#adapters/environment.ts';
import { createLogger, type Logger } from '#adapters/logger.ts';
import { WorkflowStarter } from '#adapters/workflow-starter.ts';
import { backorderId } from '#domain/backorder.ts';

export interface NoticeWatchdogDependencies {
  store: BackorderStore;
  workflow: WorkflowStarter;
  logger: Logger;
  now: () => Date;
}

export interface WatchdogReport {
  /** Open lines whose customer notice was still unsent past its deadline and the grace. */
  overdue: number;
  /** Of those, the lines handed over to their timer again (a no-op where the timer exists). */
  handedOver: number;
  /** How long past its deadline the oldest of them is, in minutes (0 when none is overdue). */
  oldestOverdueMinutes: number;
}

/** A timer sends at the deadline itself: only a notice unsent this long after it is a fault. */
const GRACE_MS = 15 * 60_000;
/** Lines looked at per run; the metric still says the oldest is overdue when more are. */
const MAX_LINES = 50;

/**
 * Every ten minutes (EventBridge Scheduler): customer notices still unsent 15 minutes past their
 * deadline. A line whose timer never started (its hand-off failed and the ERP did not retry the
 * webhook) is handed over again, which starts it. A line whose timer failed or is stuck stays
 * overdue: the `OverdueUnsentNotices` metric is written on every run, and its alarm fires when two
 * runs in a row find one, so no customer waits unnoticed for the next morning review.
 */
export function createNoticeWatchdog(deps: NoticeWatchdogDependencies) {
  return async (): Promise<WatchdogReport> => {
    const at = deps.now();
    const listed = await deps.store.unsentNoticesDueBefore(new Date(at.getTime() - GRACE_MS), MAX_LINES);
    const overdue: typeof listed = [];
    let handedOver = 0;
    for (const line of listed) {
      const record = await deps.store.get(line);
      // Sent or closed since (the index lags its table a little): not overdue.
      if (record?.status !== 'open' || !record.notices.some((notice) => notice.status === 'pending'))
        continue;
      overdue.push(line);
      const fields = { backorderId: backorderId(record), deadline: line.deadline };
      deps.logger.warn(
        'customer notice unsent past its deadline: handing the line to its timer again',
        fields,
      );
      try {
        await deps.workflow.handOver(record);
        handedOver += 1;
      } catch (error) {
        // The next run tries again; the metric below keeps the line visible meanwhile.
        deps.logger.error('hand-over failed', { ...fields, error: (error as Error).name });
      }
    }
    const oldest = overdue[0];
    const oldestOverdueMinutes = oldest
      ? Math.floor((at.getTime() - Date.parse(oldest.deadline)) / 60_000)
      : 0;
    deps.logger.metrics({
      OverdueUnsentNotices: { value: overdue.length, unit: 'Count' },
      OldestOverdueNoticeMinutes: { value: oldestOverdueMinutes, unit: 'None' },
    });
    return { overdue: overdue.length, handedOver, oldestOverdueMinutes };
  };
}

function fromEnvironment(): NoticeWatchdogDependencies {
  return {
    store: new BackorderStore(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
    workflow: new WorkflowStarter(new SFNClient({}), requireEnv('STATE_MACHINE_ARN')),
    logger: createLogger({ service: 'notice-watchdog' }),
    now,
  };
}

export const handler = middy<unknown, WatchdogReport>().handler(createNoticeWatchdog(fromEnvironment()));
