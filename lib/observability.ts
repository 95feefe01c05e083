import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge } from '#lib/nag.ts';

export interface ObservabilityProps {
  readonly stateMachine: StateMachine;
  /** Every function of the stack, by a short readable name. */
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly httpApi: HttpApi;
  /** The topic that texts people: failed SMS deliveries raise an alarm. */
  readonly alertsTopic: ITopic;
  readonly configurationSetName: string;
  /** Queues whose messages mean an event was not handled. */
  readonly deadLetterQueues: readonly IQueue[];
  /** The namespace the handlers write their own metrics in (`METRICS_NAMESPACE`). */
  readonly metricsNamespace: string;
  /** Whether alarms notify the ops topic. @default true */
  readonly alarmActions?: boolean;
  /** An address subscribed to the ops topic (it must confirm the subscription). @default none: subscribe after deploying, see docs/deploy.md */
  readonly opsEmail?: string;
  /** SES pauses an account at 10% bounces and reviews it at 5%. @default 0.05 */
  readonly maxBounceRate?: number;
  /** SES reviews an account at 0.1% complaints. @default 0.001 */
  readonly maxComplaintRate?: number;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The ops view of the stack: alarms on everything that means a customer or a person may not have
 * been told (failed timers, handler errors, 5xx to the ERP, bounces, late notices, unhandled
 * delivery feedback, failed texts), all notifying one ops topic, and a dashboard that shows them.
 *
 * Aborted executions are charted but not alarmed: every newer generation of a backorder stops
 * the execution it supersedes (StopExecution), so aborts are the normal way a timer ends.
 */
export class Observability extends Construct {
  public readonly opsTopic: Topic;
  public readonly dashboard: Dashboard;
  public readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.opsTopic = new Topic(this, 'Ops', { displayName: 'Backorder Watch alarms', enforceSSL: true });
    if (props.opsEmail) {
      const subscription = new Subscription(this, 'OpsEmail', {
        topic: this.opsTopic,
        protocol: SubscriptionProtocol.EMAIL,
        endpoint: props.opsEmail,
      });
      acknowledge(
        subscription,
        'Serverless-SNSRedrivePolicy',
        'Alarm emails to the ops mailbox: the alarm stays in ALARM on the dashboard and in CloudWatch whether or not the email arrives.',
      );
    }
    const alarmActions = props.alarmActions ?? true;
    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string) => {
      const created = new Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (alarmActions) created.addAlarmAction(new SnsAction(this.opsTopic));
      this.alarms.push(created);
      return created;
    };

    const timer = props.stateMachine;
    const sum = { period: FIVE_MINUTES, statistic: 'Sum' };
    alarm(
      'TimerFailed',
      timer.metricFailed(sum),
      1,
      'A backorder timer failed after its retries: its owner was emailed, but check what was not sent.',
    );
    alarm(
      'TimerTimedOut',
      timer.metricTimedOut(sum),
      1,
      'A backorder timer timed out: what it owed may not have been sent.',
    );
    alarm(
      'TimerThrottled',
      timer.metricThrottled(sum),
      1,
      'Step Functions throttled the backorder timers: notices may be late.',
    );

    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`${name}Errors`, fn.metricErrors(sum), 1, `The ${name} function failed (see its logs).`);
      alarm(`${name}Throttles`, fn.metricThrottles(sum), 1, `The ${name} function was throttled.`);
    }

    alarm(
      'Api5xx',
      props.httpApi.metricServerError(sum),
      1,
      'The HTTP API answered 5xx: the ERP retries its webhooks, but customers and operators saw an error.',
    );

    const bounceRate = new Metric({
      namespace: 'AWS/SES',
      metricName: 'Reputation.BounceRate',
      period: Duration.hours(1),
      statistic: 'Maximum',
    });
    const complaintRate = new Metric({
      namespace: 'AWS/SES',
      metricName: 'Reputation.ComplaintRate',
      period: Duration.hours(1),
      statistic: 'Maximum',
    });
    alarm(
      'SesBounceRate',
      bounceRate,
      props.maxBounceRate ?? 0.05,
      'The account bounce rate reached the level at which SES reviews sending (5%); clean customer addresses in the ERP.',
    );
    alarm(
      'SesComplaintRate',
      complaintRate,
      props.maxComplaintRate ?? 0.001,
      'The account complaint rate reached the level at which SES reviews sending (0.1%).',
    );

    const custom = (metricName: string, period = Duration.hours(1)) =>
      new Metric({ namespace: props.metricsNamespace, metricName, period, statistic: 'Sum' });
    alarm(
      'NoticesSentAfterDeadline',
      custom('NoticesSentAfterDeadline'),
      1,
      'A customer notice reached SES after its SLA deadline (4 business hours after the delay was learned).',
    );

    // The notice watchdog writes this every ten minutes. The least of a 20-minute window's two runs
    // is at least one only when both found a notice unsent, after the first had handed its line to
    // the timer again.
    alarm(
      'NoticesOverdueUnsent',
      new Metric({
        namespace: props.metricsNamespace,
        metricName: 'OverdueUnsentNotices',
        period: Duration.minutes(20),
        statistic: 'Minimum',
      }),
      1,
      'A customer notice is still unsent 15 minutes past its deadline although the watchdog handed its line to the timer again: the timer failed or is stuck. Tell the customer, then look at the line.',
    );

    props.deadLetterQueues.forEach((queue, index) => {
      alarm(
        `DeadLetters${index + 1}`,
        queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        1,
        'An event could not be handled even after retries: read the dead-letter queue.',
      );
    });

    alarm(
      'TextsFailed',
      props.alertsTopic.metricNumberOfNotificationsFailed(sum),
      1,
      'SNS could not deliver a text to a manager, VP or owner (opted out, invalid number or spend limit reached).',
    );

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: Stack.of(this).stackName,
      defaultInterval: Duration.days(1),
    });
    const functions = Object.entries(props.functions);
    const sesMetric = (metricName: string) =>
      new Metric({
        namespace: 'AWS/SES',
        metricName,
        dimensionsMap: { 'ses:configuration-set': props.configurationSetName },
        period: Duration.hours(1),
        statistic: 'Sum',
        label: metricName,
      });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# Backorder Watch\nAlarms notify the ops topic. Aborted timers are normal: each newer generation of a backorder stops the one it supersedes.',
        width: 24,
        height: 2,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Backorder timers',
        width: 12,
        left: [
          timer.metricStarted(sum),
          timer.metricSucceeded(sum),
          timer.metricAborted(sum),
          timer.metricFailed(sum),
          timer.metricTimedOut(sum),
        ],
      }),
      new GraphWidget({
        title: 'HTTP API',
        width: 12,
        left: [
          props.httpApi.metricCount(sum),
          props.httpApi.metricClientError(sum),
          props.httpApi.metricServerError(sum),
        ],
        right: [props.httpApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p90' })],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        width: 8,
        left: functions.map(([name, fn]) => fn.metricErrors({ ...sum, label: name })),
      }),
      new GraphWidget({
        title: 'Function throttles',
        width: 8,
        left: functions.map(([name, fn]) => fn.metricThrottles({ ...sum, label: name })),
      }),
      new GraphWidget({
        title: 'Function duration (p90)',
        width: 8,
        left: functions.map(([name, fn]) =>
          fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p90', label: name }),
        ),
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Emails (configuration set)',
        width: 8,
        left: ['Send', 'Delivery', 'Bounce', 'Complaint', 'Reject'].map(sesMetric),
      }),
      new GraphWidget({
        title: 'Customer notices',
        width: 8,
        left: [
          custom('CustomerNoticesDelivered'),
          custom('CustomerNoticesBounced'),
          custom('CustomerNoticesComplained'),
          custom('NoticesSentAfterDeadline'),
        ],
      }),
      new GraphWidget({
        title: 'SES reputation (account)',
        width: 8,
        left: [bounceRate, complaintRate],
        leftYAxis: { min: 0, max: 0.1 },
      }),
    );
  }
}
