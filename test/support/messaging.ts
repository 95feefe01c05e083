import { createOutbox, type Outbox } from '#local/outbox.ts';
import { type LocalSes, type StartSesOptions, startSes } from '#local/ses.ts';
import { type LocalSns, smsSubscriptionsFromTemplate, startSns, topicArnsFromTemplate } from '#local/sns.ts';
import { localTemplate } from '#test/support/dynamodb.ts';

/** A local SES and SNS for one test file, and the outbox over both. */
export interface TestMessaging {
  readonly ses: LocalSes;
  readonly sns: LocalSns;
  readonly outbox: Outbox;
  /** Topic ARN by the template's logical id. */
  readonly topicArns: ReadonlyMap<string, string>;
  /** The variables that point the SDK clients of handlers at these services. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * Starts SES and SNS on free ports, with the topics and SMS subscriptions of `template` (by
 * default the stack synthesized for this run). Cheap: start one per test file, in `beforeAll`.
 */
export async function startTestMessaging(
  options: { now?: () => Date; template?: Record<string, unknown>; rejectRecipients?: RegExp } = {},
): Promise<TestMessaging> {
  const template = options.template ?? (await localTemplate());
  const topicArns = topicArnsFromTemplate(template);
  const sesOptions: StartSesOptions = { now: options.now, rejectRecipients: options.rejectRecipients };
  const [ses, sns] = await Promise.all([
    startSes(sesOptions),
    startSns({
      now: options.now,
      topicArns: topicArns.values(),
      subscriptions: smsSubscriptionsFromTemplate(template, topicArns),
    }),
  ]);
  return {
    ses,
    sns,
    outbox: createOutbox({ ses, sns }),
    topicArns,
    env: {
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    },
    stop: async () => {
      await Promise.all([ses.stop(), sns.stop()]);
    },
  };
}
