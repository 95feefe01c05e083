import { TimeZone } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '#lib/nag.ts';

export interface MorningReviewProps {
  /** Builds and emails the review; it skips holidays itself (the business calendar). */
  readonly digest: IFunction;
  /** Local time of day, `HH:MM` (organisation configuration `morningReview.time`). */
  readonly time: string;
  /** IANA time zone of the company: the schedule follows its daylight saving. */
  readonly timeZone: string;
  /** ISO weekdays the company works (1 = Monday). */
  readonly days: readonly number[];
}

const CRON_DAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'];

/** The morning review's schedule: EventBridge Scheduler, on working days at the company's local time. */
export class MorningReview extends Construct {
  public readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: MorningReviewProps) {
    super(scope, id);
    const [hour = '7', minute = '30'] = props.time.split(':');
    const role = new Role(this, 'InvokeRole', { assumedBy: new ServicePrincipal('scheduler.amazonaws.com') });
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'The morning review of open backorders',
      schedule: ScheduleExpression.cron({
        minute: String(Number(minute)),
        hour: String(Number(hour)),
        weekDay: props.days.map((day) => CRON_DAYS[day - 1]).join(','),
        timeZone: TimeZone.of(props.timeZone),
      }),
      target: new LambdaInvoke(props.digest, { retryAttempts: 2, role }),
    });
    acknowledgeWildcardResource(
      role,
      `${props.digest.functionArn}:*`,
      'Versions and aliases of the one review function the schedule invokes; no other function matches.',
    );
  }
}
