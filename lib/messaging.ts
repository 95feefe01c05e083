import { CfnConfigurationSet, EmailIdentity, Identity } from 'aws-cdk-lib/aws-ses';
import { Subscription, SubscriptionFilter, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { OrganisationConfig } from '#domain/organisation.ts';

export interface MessagingProps {
  readonly config: OrganisationConfig;
}

/**
 * Texts and emails. One alerts topic; every person with a phone gets an SMS subscription that
 * only accepts messages whose `recipient` attribute is their id, so each hears only their own.
 */
export class Messaging extends Construct {
  public readonly alerts: Topic;
  public readonly sender: EmailIdentity;
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
      new Subscription(this, `Sms-${person.id}`, {
        topic: this.alerts,
        protocol: SubscriptionProtocol.SMS,
        endpoint: person.phone,
        filterPolicy: { recipient: SubscriptionFilter.stringFilter({ allowlist: [person.id] }) },
      });
    }

    this.sender = new EmailIdentity(this, 'Sender', { identity: Identity.email(config.company.senderEmail) });
    const configurationSet = new CfnConfigurationSet(this, 'Notices', {
      reputationOptions: { reputationMetricsEnabled: true },
      sendingOptions: { sendingEnabled: true },
    });
    this.configurationSetName = configurationSet.ref;
  }
}
