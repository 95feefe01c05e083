import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { localClientConfig } from '#local/http-service.ts';
import { eventually } from '#test/support/eventually.ts';
import { startTestMessaging } from '#test/support/messaging.ts';

const TEMPLATE = {
  Resources: {
    Alerts: { Type: 'AWS::SNS::Topic', Properties: {} },
    Sms: {
      Type: 'AWS::SNS::Subscription',
      Properties: { Protocol: 'sms', Endpoint: '+15550100001', TopicArn: { Ref: 'Alerts' } },
    },
  },
};

/** How many handles of each kind keep this process alive (servers, sockets, timers, child processes). */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

describe('starting and stopping the local services', () => {
  it('leaves no server, socket or timer behind once SES and SNS have stopped', async () => {
    // Prepare
    const before = handles();
    const messaging = await startTestMessaging({ template: TEMPLATE });
    const ses = new SESv2Client(localClientConfig(messaging.ses.endpoint));
    const sns = new SNSClient(localClientConfig(messaging.sns.endpoint));
    await ses.send(
      new SendEmailCommand({
        FromEmailAddress: 'notices@svc.example',
        Destination: { ToAddresses: ['a@lonestarfab.example'] },
        Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } },
      }),
    );
    await sns.send(new PublishCommand({ TopicArn: messaging.topicArns.get('Alerts'), Message: 'm' }));
    ses.destroy();
    sns.destroy();

    // Act
    await messaging.stop();
    await messaging.stop();

    // Assess
    await eventually(() => {
      const after = handles();
      for (const kind of ['TCPServerWrap', 'TCPSocketWrap', 'Timeout', 'ProcessWrap']) {
        expect(after[kind] ?? 0, kind).toBeLessThanOrEqual(before[kind] ?? 0);
      }
    });
    await expect(fetch(`${messaging.ses.endpoint}/`)).rejects.toThrow();
    await expect(fetch(messaging.sns.endpoint, { method: 'POST' })).rejects.toThrow();
  });
});
