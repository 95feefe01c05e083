import {
  BadRequestException,
  MessageRejected,
  SESv2Client,
  SendEmailCommand,
  type SendEmailCommandInput,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localClientConfig } from '#local/http-service.ts';
import { type LocalSes, startSes } from '#local/ses.ts';

const VIRTUAL_NOW = new Date('2026-03-10T19:05:00.000Z');

function notice(overrides: Partial<SendEmailCommandInput> = {}): SendEmailCommandInput {
  return {
    FromEmailAddress: 'Backorder Watch <notices@svc.example>',
    Destination: {
      ToAddresses: ['purchasing@lonestarfab.example'],
      CcAddresses: ['dana.ortiz@svc.example'],
      BccAddresses: ['archive@svc.example'],
    },
    ReplyToAddresses: ['dana.ortiz@svc.example'],
    ConfigurationSetName: 'notices',
    EmailTags: [{ Name: 'kind', Value: 'customer-notice' }],
    Content: {
      Simple: {
        Subject: { Data: 'SO-10042 line 3 is delayed' },
        Body: {
          Text: { Data: 'Now expected on 2026-03-22.' },
          Html: { Data: '<p>Now expected on 2026-03-22.</p>' },
        },
      },
    },
    ...overrides,
  };
}

describe('the local SES', () => {
  let ses: LocalSes;
  let client: SESv2Client;
  // One attempt: each fault surfaces as the exception the SDK raises for it.
  let once: SESv2Client;
  let clock = VIRTUAL_NOW;

  beforeAll(async () => {
    ses = await startSes({ now: () => clock });
    client = new SESv2Client(localClientConfig(ses.endpoint));
    once = new SESv2Client({ ...localClientConfig(ses.endpoint), maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    once.destroy();
    await ses.stop();
  });
  beforeEach(() => {
    ses.clear();
    clock = VIRTUAL_NOW;
  });

  it('records a simple email with its html and text parts at the virtual time', async () => {
    // Act
    const { MessageId } = await client.send(new SendEmailCommand(notice()));

    // Assess
    expect(ses.records()).toEqual([
      {
        id: MessageId,
        at: '2026-03-10T19:05:00.000Z',
        arrival: expect.any(Number),
        from: 'Backorder Watch <notices@svc.example>',
        to: ['purchasing@lonestarfab.example'],
        cc: ['dana.ortiz@svc.example'],
        bcc: ['archive@svc.example'],
        replyTo: ['dana.ortiz@svc.example'],
        subject: 'SO-10042 line 3 is delayed',
        text: 'Now expected on 2026-03-22.',
        html: '<p>Now expected on 2026-03-22.</p>',
        configurationSetName: 'notices',
        tags: { kind: 'customer-notice' },
      },
    ]);
  });

  it('records a raw MIME email, its recipients taken from its headers', async () => {
    // Prepare
    const mime = [
      'From: notices@svc.example',
      'To: purchasing@lonestarfab.example',
      'Subject: Raw notice',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Plain body.',
    ].join('\r\n');

    // Act
    await client.send(new SendEmailCommand({ Content: { Raw: { Data: new TextEncoder().encode(mime) } } }));

    // Assess
    expect(ses.records()).toMatchObject([
      { from: 'notices@svc.example', to: ['purchasing@lonestarfab.example'], subject: 'Raw notice' },
    ]);
    expect(ses.records()[0]?.text?.trim()).toBe('Plain body.');
  });

  it('rejects an address at bounce.example with MessageRejected and records nothing', async () => {
    // Act
    const failure = await client
      .send(new SendEmailCommand(notice({ Destination: { ToAddresses: ['gone@bounce.example'] } })))
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(MessageRejected);
    expect(failure).toMatchObject({
      $metadata: { httpStatusCode: 400 },
      message: expect.stringContaining('gone@bounce.example'),
    });
    expect(ses.records()).toEqual([]);
  });

  it('raises TooManyRequestsException for an injected transient fault', async () => {
    // Prepare
    ses.failNext(1);

    // Act
    const failure = await once.send(new SendEmailCommand(notice())).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(TooManyRequestsException);
    expect(failure).toMatchObject({ $metadata: { httpStatusCode: 429 } });
    expect(ses.records()).toEqual([]);
  });

  it('lets the SDK retry a transient fault into one delivered email', async () => {
    // Prepare
    ses.failNext(1);

    // Act
    const response = await client.send(new SendEmailCommand(notice()));

    // Assess
    expect(response.$metadata.attempts).toBe(2);
    expect(ses.records()).toHaveLength(1);
  });

  it('injects any named fault, in the SES v2 error shape', async () => {
    // Prepare
    ses.failNext(1, { name: 'BadRequestException', status: 400, message: 'Injected' });

    // Act
    const failure = await once.send(new SendEmailCommand(notice())).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(BadRequestException);
    expect(failure).toMatchObject({ message: 'Injected' });
  });

  it('answers an email without a sender with BadRequestException', async () => {
    // Act
    const failure = await once
      .send(new SendEmailCommand(notice({ FromEmailAddress: undefined })))
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(BadRequestException);
  });

  it('keeps the mail viewer for people, showing virtual times', async () => {
    // Prepare
    clock = new Date('2026-03-12T08:00:00.000Z');
    const { MessageId } = await client.send(new SendEmailCommand(notice()));

    // Act
    const page = await fetch(`${ses.endpoint}/`);
    const store = (await (await fetch(`${ses.endpoint}/store?since=0`)).json()) as {
      emails: { messageId: string; at: number }[];
    };

    // Assess
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    expect(store.emails).toEqual([
      expect.objectContaining({ messageId: MessageId, at: Date.parse('2026-03-12T08:00:00.000Z') / 1000 }),
    ]);
  });

  it('keeps each instance to its own emails', async () => {
    // Prepare
    const other = await startSes({ now: () => VIRTUAL_NOW });
    const otherClient = new SESv2Client(localClientConfig(other.endpoint));

    // Act
    await otherClient.send(new SendEmailCommand(notice()));
    otherClient.destroy();
    await other.stop();

    // Assess
    expect(other.records()).toHaveLength(1);
    expect(ses.records()).toEqual([]);
  });
});
