import { Duration, TimeZone } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '#lib/nag.ts';

export interface FunctionScheduleProps {
  /** The one function the schedule invokes. */
  readonly target: IFunction;
  readonly schedule: ScheduleExpression;
  readonly description: string;
  /** Scheduler's own retries of a failed invocation. @default 2 */
  readonly retryAttempts?: number;
}

/** An EventBridge Scheduler schedule that invokes one function, with a role allowed nothing else. */
export class FunctionSchedule extends Construct {
  public readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: FunctionScheduleProps) {
    super(scope, id);
    const role = new Role(this, 'InvokeRole', { assumedBy: new ServicePrincipal('scheduler.amazonaws.com') });
    this.schedule = new Schedule(this, 'Schedule', {
      description: props.description,
      schedule: props.schedule,
      target: new LambdaInvoke(props.target, { retryAttempts: props.retryAttempts ?? 2, role }),
    });
    acknowledgeWildcardResource(
      role,
      `${props.target.functionArn}:*`,
      'Versions and aliases of the one function the schedule invokes; no other function matches.',
    );
  }
}

const CRON_DAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'];

/**
 * The morning review's schedule: on the company's working days (ISO weekdays, 1 = Monday) at its
 * local `HH:MM`, following the time zone's daylight saving. The review skips holidays itself.
 */
export function workingDaysAt(time: string, timeZone: string, days: readonly number[]): ScheduleExpression {
  const [hour = '7', minute = '30'] = time.split(':');
  return ScheduleExpression.cron({
    minute: String(Number(minute)),
    hour: String(Number(hour)),
    weekDay: days.map((day) => CRON_DAYS[day - 1]).join(','),
    timeZone: TimeZone.of(timeZone),
  });
}

/** The notice watchdog runs this often, day and night; its alarm looks at two runs in a row. */
export const WATCHDOG_EVERY = Duration.minutes(10);
