import { Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '#lib/nag.ts';

export interface NoticeWatchdogProps {
  /** Finds customer notices unsent past their deadline and hands their lines to the timer again. */
  readonly watchdog: IFunction;
}

/** How often the watchdog runs; its alarm looks at two runs in a row (lib/observability.ts). */
const WATCHDOG_INTERVAL = Duration.minutes(10);

/** The notice watchdog's schedule: EventBridge Scheduler, every ten minutes, day and night. */
export class NoticeWatchdog extends Construct {
  public readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: NoticeWatchdogProps) {
    super(scope, id);
    const role = new Role(this, 'InvokeRole', { assumedBy: new ServicePrincipal('scheduler.amazonaws.com') });
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'Customer notices unsent past their deadline',
      schedule: ScheduleExpression.rate(WATCHDOG_INTERVAL),
      target: new LambdaInvoke(props.watchdog, { retryAttempts: 0, role }),
    });
    acknowledgeWildcardResource(
      role,
      `${props.watchdog.functionArn}:*`,
      'Versions and aliases of the one watchdog function the schedule invokes; no other function matches.',
    );
  }
}
