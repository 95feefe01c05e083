import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { classify } from '#adapters/mailer.ts';

export type Audience = 'owner' | 'manager' | 'vp';

export interface Text {
  /** The person's id: the SMS subscription of that person filters on it. */
  recipient: string;
  audience: Audience;
  message: string;
}

/** Publishes texts to the alerts topic; the subscriptions deliver each to its one person. */
export class Texter {
  private readonly client: SNSClient;
  private readonly topicArn: string;

  constructor(client: SNSClient, topicArn: string) {
    this.client = client;
    this.topicArn = topicArn;
  }

  async send(text: Text): Promise<string> {
    try {
      const result = await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Message: text.message,
          MessageAttributes: {
            recipient: { DataType: 'String', StringValue: text.recipient },
            audience: { DataType: 'String', StringValue: text.audience },
            'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
          },
        }),
      );
      return result.MessageId ?? 'unknown';
    } catch (error) {
      throw classify(error);
    }
  }
}
