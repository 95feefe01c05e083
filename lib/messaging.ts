import { ArnFormat, Stack } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import {
  CloudWatchDimensionSource,
  ConfigurationSet,
  EmailIdentity,
  EmailSendingEvent,
  EventDestination,
  Identity,
} from 'aws-cdk-lib/aws-ses';
import { Subscription, SubscriptionFilter, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { OrganisationConfig } from '#domain/organisation.ts';
import { acknowledge } from '#lib/nag.ts';

export interface MessagingProps {
  readonly config: OrganisationConfig;
  /**
   * Verify the sender's whole domain (DKIM records to publish) instead of its one address; any
   * address of the domain can then send, and mail authenticates better.
   * @default the configuration's `company.senderEmail` address alone
   */
  readonly senderDomain?: string;
}

/** The events SES publishes to EventBridge for the delivery-feedback handler. */
export const FEEDBACK_EVENTS = [
  EmailSendingEvent.BOUNCE,
  EmailSendingEvent.COMPLAINT,
  EmailSendingEvent.DELIVERY,
];

/**
 * Texts and emails. One alerts topic; every person with a phone gets an SMS subscription that
 * only accepts messages whose `recipient` attribute is their id, so each hears only their own.
 * Every email goes through one configuration set, which reports bounces, complaints and
 * deliveries to EventBridge (for the handler that records them on the notice) and counts every
 * sending event in CloudWatch (for the dashboard and the bounce alarm).
 */
export class Messaging extends Construct {
  public readonly alerts: Topic;
  public readonly sender: EmailIdentity;
  public readonly configurationSet: ConfigurationSet;
  public readonly configurationSetName: string;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    const { config } = props;
    this.alerts = new Topic(this, 'Alerts', { displayName: 'Backorder alerts', enforceSSL: true });

    const people = [
      ...config.people.managers.map((person) => ({ id: person.id, phone: person.phone })),
      ...config.people.vps.map((person) => ({ id: person.id, phone: person.phone })),
      ...Object.entries(config.people.ownerPhones).map(([ownerId, phone]) => ({ id: ownerId, phone })),
    ];
    for (const person of people) {
      if (!person.phone) continue;
      const subscription = new Subscription(this, `Sms-${person.id}`, {
        topic: this.alerts,
        protocol: SubscriptionProtocol.SMS,
        endpoint: person.phone,
        filterPolicy: { recipient: SubscriptionFilter.stringFilter({ allowlist: [person.id] }) },
      });
      acknowledge(
        subscription,
        'Serverless-SNSRedrivePolicy',
        'An SMS to a person cannot be redriven from a queue once the carrier refused it; failed texts raise the alerts-topic NumberOfNotificationsFailed alarm and are in the SNS SMS delivery logs (docs/deploy.md).',
      );
    }

    this.sender = new EmailIdentity(this, 'Sender', {
      identity: props.senderDomain
        ? Identity.domain(props.senderDomain)
        : Identity.email(config.company.senderEmail),
    });
    this.configurationSet = new ConfigurationSet(this, 'Notices', {
      reputationMetrics: true,
      sendingEnabled: true,
    });
    this.configurationSetName = this.configurationSet.configurationSetName;
    // SES publishes to the default bus only.
    this.configurationSet.addEventDestination('Feedback', {
      destination: EventDestination.eventBus(EventBus.fromEventBusName(this, 'DefaultBus', 'default')),
      events: FEEDBACK_EVENTS,
    });
    this.configurationSet.addEventDestination('Metrics', {
      destination: EventDestination.cloudWatchDimensions([
        {
          name: 'ses:configuration-set',
          source: CloudWatchDimensionSource.MESSAGE_TAG,
          defaultValue: 'none',
        },
      ]),
      events: [
        EmailSendingEvent.SEND,
        EmailSendingEvent.DELIVERY,
        EmailSendingEvent.BOUNCE,
        EmailSendingEvent.COMPLAINT,
        EmailSendingEvent.REJECT,
      ],
    });
  }

  /**
   * Lets a handler send through the sender identity and the configuration set (SES v2 authorises
   * both when a configuration set is named), and tells it the set's name.
   */
  grantSendEmail(grantee: IGrantable & { addEnvironment(key: string, value: string): unknown }): void {
    const configurationSetArn = Stack.of(this).formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSetName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['ses:SendEmail'],
      resourceArns: [this.sender.emailIdentityArn, configurationSetArn],
    });
    grantee.addEnvironment('SES_CONFIGURATION_SET', this.configurationSetName);
  }
}
