import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvalidParameterException,
  type MessageAttributeValue,
  NotFoundException,
  PublishBatchCommand,
  PublishCommand,
  SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Subscription, SubscriptionFilter, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localClientConfig } from '#local/http-service.ts';
import {
  compileFilterPolicy,
  type LocalSns,
  type MessageAttribute,
  matchesFilterPolicy,
  smsSubscriptionsFromTemplate,
  startSns,
  topicArnsFromTemplate,
} from '#local/sns.ts';

const OWNER = '+15550100001';
const MANAGER = '+15550100002';
const VP = '+15550100003';
const ALL_TEXTS = '+15550100004';
const SO_WATCHER = '+15550100005';

/** The template of a throwaway stack, synthesized into a directory removed straight after. */
function synthesized(build: (stack: Stack) => void): Record<string, unknown> {
  const outdir = mkdtempSync(join(tmpdir(), 'sns-fixture-'));
  try {
    const stack = new Stack(new App({ outdir }), 'Fixture');
    build(stack);
    return Template.fromStack(stack).toJSON() as Record<string, unknown>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** A tiny stack with the subscription shapes the real one uses: SMS, filter policies on attributes. */
function fixtureTemplate(): Record<string, unknown> {
  return synthesized(addTopicsAndSubscriptions);
}

function addTopicsAndSubscriptions(stack: Stack): void {
  const alerts = new Topic(stack, 'Alerts');
  new Topic(stack, 'Quiet');
  const sms = (id: string, endpoint: string, filterPolicy?: Record<string, SubscriptionFilter>) =>
    new Subscription(stack, id, {
      topic: alerts,
      protocol: SubscriptionProtocol.SMS,
      endpoint,
      filterPolicy,
    });
  sms('Owner', OWNER, {
    audience: SubscriptionFilter.stringFilter({ allowlist: ['owner'] }),
    recipient: SubscriptionFilter.stringFilter({ allowlist: ['U-17'] }),
  });
  sms('Manager', MANAGER, { audience: SubscriptionFilter.stringFilter({ allowlist: ['manager'] }) });
  sms('Vp', VP, {
    audience: SubscriptionFilter.stringFilter({ denylist: ['owner', 'manager'] }),
    daysLate: SubscriptionFilter.numericFilter({ greaterThanOrEqualTo: 14 }),
  });
  sms('Everything', ALL_TEXTS);
  sms('OrderWatcher', SO_WATCHER, {
    order: SubscriptionFilter.stringFilter({ matchPrefixes: ['SO-'] }),
    test: SubscriptionFilter.notExistsFilter(),
  });
}

function strings(values: Record<string, string>): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
  );
}

describe('the local SNS', () => {
  const template = fixtureTemplate();
  const topicArns = topicArnsFromTemplate(template);
  const alertsArn = [...topicArns].find(([logicalId]) => logicalId.startsWith('Alerts'))?.[1] ?? '';
  const quietArn = [...topicArns].find(([logicalId]) => logicalId.startsWith('Quiet'))?.[1] ?? '';
  let sns: LocalSns;
  let client: SNSClient;
  let once: SNSClient;
  const clock = new Date('2026-03-24T13:00:00.000Z');

  beforeAll(async () => {
    sns = await startSns({
      topicArns: topicArns.values(),
      subscriptions: smsSubscriptionsFromTemplate(template, topicArns),
      now: () => clock,
    });
    client = new SNSClient(localClientConfig(sns.endpoint));
    once = new SNSClient({ ...localClientConfig(sns.endpoint), maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    once.destroy();
    await sns.stop();
  });
  beforeEach(() => sns.clear());

  it('texts the subscribers whose filter policy the message attributes match', async () => {
    // Act
    const { MessageId } = await client.send(
      new PublishCommand({
        TopicArn: alertsArn,
        Message: 'SO-10042 line 3 slipped again, now 2026-03-29.',
        MessageAttributes: strings({ audience: 'manager', order: 'SO-10042' }),
      }),
    );

    // Assess
    expect(sns.records()).toEqual([
      {
        id: MessageId,
        at: '2026-03-24T13:00:00.000Z',
        arrival: expect.any(Number),
        to: [MANAGER, ALL_TEXTS, SO_WATCHER],
        audience: 'manager',
        message: 'SO-10042 line 3 slipped again, now 2026-03-29.',
        attributes: {
          audience: { dataType: 'String', value: 'manager' },
          order: { dataType: 'String', value: 'SO-10042' },
        },
        topicArn: alertsArn,
      },
    ]);
  });

  it('requires every key of a policy to match, and numbers to compare as numbers', async () => {
    // Act
    await client.send(
      new PublishCommand({
        TopicArn: alertsArn,
        Message: 'owner, but another one',
        MessageAttributes: strings({ audience: 'owner', recipient: 'U-99' }),
      }),
    );
    await client.send(
      new PublishCommand({
        TopicArn: alertsArn,
        Message: '14 days late',
        MessageAttributes: {
          ...strings({ audience: 'vp' }),
          daysLate: { DataType: 'Number', StringValue: '14' },
        },
      }),
    );

    // Assess
    expect(sns.records().map((text) => text.to)).toEqual([[ALL_TEXTS], [VP, ALL_TEXTS]]);
  });

  it('routes each entry of a batch on its own', async () => {
    // Act
    const result = await client.send(
      new PublishBatchCommand({
        TopicArn: alertsArn,
        PublishBatchRequestEntries: [
          {
            Id: 'a',
            Message: 'to the owner',
            MessageAttributes: strings({ audience: 'owner', recipient: 'U-17' }),
          },
          {
            Id: 'b',
            Message: 'to the manager',
            MessageAttributes: strings({ audience: 'manager', test: 'yes' }),
          },
        ],
      }),
    );

    // Assess
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(['a', 'b']);
    expect(result.Failed).toEqual([]);
    expect(sns.records().map(({ message, to, audience }) => ({ message, to, audience }))).toEqual([
      { message: 'to the owner', to: [OWNER, ALL_TEXTS], audience: 'owner' },
      { message: 'to the manager', to: [MANAGER, ALL_TEXTS], audience: 'manager' },
    ]);
  });

  it('records a publish to a topic without subscribers as reaching nobody', async () => {
    // Act
    await client.send(new PublishCommand({ TopicArn: quietArn, Message: 'nobody listens' }));

    // Assess
    expect(sns.records()).toMatchObject([{ to: [], audience: null, topicArn: quietArn }]);
  });

  it('texts a phone number published to directly, and refuses one not in E.164', async () => {
    // Act
    await client.send(new PublishCommand({ PhoneNumber: '+15550100009', Message: 'direct' }));
    const malformed = await once
      .send(new PublishCommand({ PhoneNumber: '555-0100', Message: 'direct' }))
      .catch((error: unknown) => error);

    // Assess
    expect(sns.records()).toMatchObject([{ to: ['+15550100009'], topicArn: null, message: 'direct' }]);
    expect(malformed).toBeInstanceOf(InvalidParameterException);
  });

  it('raises ThrottledException for an injected fault, which the SDK retries', async () => {
    // Prepare
    sns.failNext(1);
    const publish = new PublishCommand({ TopicArn: alertsArn, Message: 'm' });

    // Act
    const failure = await once.send(publish).catch((error: unknown) => error);
    sns.failNext(1);
    const retried = await client.send(publish);

    // Assess
    expect(failure).toBeInstanceOf(ThrottledException);
    expect(failure).toMatchObject({ $metadata: { httpStatusCode: 429 } });
    expect(retried.$metadata.attempts).toBe(2);
    expect(sns.records()).toHaveLength(1);
  });

  it('answers an unknown topic with NotFoundException and an empty message with InvalidParameterException', async () => {
    // Act
    const unknown = await once
      .send(new PublishCommand({ TopicArn: `${alertsArn}-missing`, Message: 'm' }))
      .catch((error: unknown) => error);
    const empty = await once
      .send(new PublishCommand({ TopicArn: alertsArn, Message: '' }))
      .catch((error: unknown) => error);

    // Assess
    expect(unknown).toBeInstanceOf(NotFoundException);
    expect(empty).toBeInstanceOf(InvalidParameterException);
    expect(sns.records()).toEqual([]);
  });
});

describe('reading subscriptions from a template', () => {
  it('refuses a protocol it cannot deliver rather than drop its messages', () => {
    // Prepare
    const template = synthesized((stack) => {
      const topic = new Topic(stack, 'Alerts');
      new Subscription(stack, 'Mail', {
        topic,
        protocol: SubscriptionProtocol.EMAIL,
        endpoint: 'ops@svc.example',
      });
    });

    // Act
    const reading = () => smsSubscriptionsFromTemplate(template, topicArnsFromTemplate(template));

    // Assess
    expect(reading).toThrow(/protocol email/);
  });
});

describe('filter policies', () => {
  const attribute = (dataType: string, value: string): MessageAttribute => ({ dataType, value });
  const cases: [string, Record<string, unknown>, Record<string, MessageAttribute>, boolean][] = [
    ['an exact string', { a: ['x', 'y'] }, { a: attribute('String', 'y') }, true],
    ['another string', { a: ['x'] }, { a: attribute('String', 'z') }, false],
    ['a missing attribute', { a: ['x'] }, {}, false],
    [
      'anything-but a listed value',
      { a: [{ 'anything-but': ['x'] }] },
      { a: attribute('String', 'x') },
      false,
    ],
    ['anything-but another value', { a: [{ 'anything-but': ['x'] }] }, { a: attribute('String', 'y') }, true],
    ['anything-but with no attribute', { a: [{ 'anything-but': ['x'] }] }, {}, false],
    [
      'anything-but a prefix',
      { a: [{ 'anything-but': { prefix: 'te' } }] },
      { a: attribute('String', 'test') },
      false,
    ],
    ['exists', { a: [{ exists: true }] }, { a: attribute('String', 'x') }, true],
    ['exists, absent', { a: [{ exists: true }] }, {}, false],
    ['not exists, absent', { a: [{ exists: false }] }, {}, true],
    ['a prefix', { a: [{ prefix: 'SO-' }] }, { a: attribute('String', 'SO-1') }, true],
    ['numeric equality', { n: [{ numeric: ['=', 2] }] }, { n: attribute('Number', '2.0') }, true],
    ['a numeric range', { n: [{ numeric: ['>', 0, '<=', 5] }] }, { n: attribute('Number', '6') }, false],
    ['a number against a string value', { n: ['2'] }, { n: attribute('Number', '2') }, false],
    ['one element of a string array', { a: ['x'] }, { a: attribute('String.Array', '["w","x"]') }, true],
    ['a binary attribute', { a: ['x'] }, { a: attribute('Binary', 'eA==') }, false],
    ['one branch of $or', { $or: [{ a: ['x'] }, { b: ['y'] }] }, { b: attribute('String', 'y') }, true],
  ];

  it.each(cases)('match %s: %j on %j → %s', (_name, policy, attributes, expected) => {
    // Act
    const matched = matchesFilterPolicy(compileFilterPolicy(policy), attributes);

    // Assess
    expect(matched).toBe(expected);
  });

  it('refuses an operator it does not implement when compiling, not when a message arrives', () => {
    // Act
    const compiling = () => compileFilterPolicy({ ip: [{ cidr: '10.0.0.0/24' }] });

    // Assess
    expect(compiling).toThrow(/not supported locally/);
  });
});
