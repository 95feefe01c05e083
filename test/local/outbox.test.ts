import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localClientConfig } from '#local/http-service.ts';
import { startTestMessaging, type TestMessaging } from '#test/support/messaging.ts';

/** The CloudFormation shape of one alerts topic with one owner's SMS subscription. */
const TEMPLATE = {
  Resources: {
    Alerts: { Type: 'AWS::SNS::Topic', Properties: {} },
    OwnerSms: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        Protocol: 'sms',
        Endpoint: '+15550100001',
        TopicArn: { Ref: 'Alerts' },
        FilterPolicy: { audience: ['owner'] },
      },
    },
  },
};

describe('the outbox', () => {
  let messaging: TestMessaging;
  let ses: SESv2Client;
  let sns: SNSClient;
  let clock = new Date('2026-03-10T15:00:00.000Z');
  const alerts = () => messaging.topicArns.get('Alerts') ?? '';

  const email = (subject: string) =>
    ses.send(
      new SendEmailCommand({
        FromEmailAddress: 'notices@svc.example',
        Destination: {
          ToAddresses: ['purchasing@lonestarfab.example'],
          CcAddresses: ['dana.ortiz@svc.example'],
        },
        Content: { Simple: { Subject: { Data: subject }, Body: { Text: { Data: `${subject} (text)` } } } },
      }),
    );
  const text = (message: string, audience = 'owner') =>
    sns.send(
      new PublishCommand({
        TopicArn: alerts(),
        Message: message,
        MessageAttributes: { audience: { DataType: 'String', StringValue: audience } },
      }),
    );

  beforeAll(async () => {
    messaging = await startTestMessaging({ template: TEMPLATE, now: () => clock });
    ses = new SESv2Client(localClientConfig(messaging.ses.endpoint));
    sns = new SNSClient(localClientConfig(messaging.sns.endpoint));
  });
  afterAll(async () => {
    ses.destroy();
    sns.destroy();
    await messaging.stop();
  });
  beforeEach(() => messaging.outbox.clear());

  it('lists emails and texts in the contract shape, oldest first by virtual time, then by arrival', async () => {
    // Prepare
    clock = new Date('2026-03-10T15:00:00.000Z');
    const { MessageId: second } = await email('second');
    const { MessageId: laterText } = await text('later text');
    const { MessageId: third } = await email('third');
    clock = new Date('2026-03-10T14:00:00.000Z');
    const { MessageId: first } = await email('first');
    const { MessageId: earlierText } = await text('earlier text');

    // Act
    const outbox = messaging.outbox.read();

    // Assess
    const delivered = (id: string | undefined, at: string, subject: string) => ({
      id,
      at,
      from: 'notices@svc.example',
      to: ['purchasing@lonestarfab.example'],
      subject,
      text: `${subject} (text)`,
      html: null,
    });
    expect(outbox).toEqual({
      emails: [
        delivered(first, '2026-03-10T14:00:00.000Z', 'first'),
        delivered(second, '2026-03-10T15:00:00.000Z', 'second'),
        delivered(third, '2026-03-10T15:00:00.000Z', 'third'),
      ],
      texts: [
        {
          id: earlierText,
          at: '2026-03-10T14:00:00.000Z',
          to: ['+15550100001'],
          audience: 'owner',
          message: 'earlier text',
        },
        {
          id: laterText,
          at: '2026-03-10T15:00:00.000Z',
          to: ['+15550100001'],
          audience: 'owner',
          message: 'later text',
        },
      ],
    });
  });

  it('leaves out a text that no subscription accepted: SNS delivered it to nobody', async () => {
    // Act
    await text('for a manager nobody subscribed', 'manager');

    // Assess
    expect(messaging.outbox.read().texts).toEqual([]);
    expect(messaging.sns.records()).toHaveLength(1);
  });

  it('forgets everything on clear', async () => {
    // Prepare
    await email('gone');
    await text('gone');

    // Act
    messaging.outbox.clear();

    // Assess
    expect(messaging.outbox.read()).toEqual({ emails: [], texts: [] });
  });
});
