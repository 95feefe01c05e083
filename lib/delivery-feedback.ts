import { Duration } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '#lib/nag.ts';

export interface DeliveryFeedbackProps {
  /** Only this configuration set's events are routed (other senders in the account are not ours). */
  readonly configurationSetName: string;
}

/**
 * Routes SES's bounce, complaint and delivery events for customer notices (emails tagged with a
 * notice `revision`) from the default event bus to the handler that records them. Whatever
 * cannot be delivered to it, or still fails after Lambda's retries, waits in one dead-letter
 * queue for two weeks; the ops alarm watches it.
 */
export class DeliveryFeedback extends Construct {
  public readonly deadLetterQueue: Queue;
  public readonly rule: Rule;

  constructor(scope: Construct, id: string, props: DeliveryFeedbackProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const deadLetterReason =
      'This queue is itself the dead-letter queue of the delivery-feedback rule and the on-failure destination of its function; its messages are read by a person after the alarm, not redriven automatically.';
    acknowledge(this.deadLetterQueue, 'AwsSolutions-SQS3', deadLetterReason);
    acknowledge(this.deadLetterQueue, 'Serverless-SQSRedrivePolicy', deadLetterReason);

    this.rule = new Rule(this, 'Rule', {
      description: 'SES delivery feedback on customer notices',
      eventPattern: {
        source: ['aws.ses'],
        detailType: ['Email Bounced', 'Email Complaint Received', 'Email Delivered'],
        detail: {
          mail: {
            tags: {
              'ses:configuration-set': [props.configurationSetName],
              revision: [{ exists: true }],
            },
          },
        },
      },
    });
  }

  /** Sends the events to `handler`, whose own failures should go to `deadLetterQueue` too (its on-failure destination). */
  deliverTo(handler: IFunction): void {
    this.rule.addTarget(
      new LambdaFunction(handler, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(6),
      }),
    );
  }
}
