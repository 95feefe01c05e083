import { SESv2Client, SESv2ServiceException, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { RenderedEmail } from '#domain/messages.ts';

/** SES refused the message for good (a rejected or unverified address): retrying will not help. */
export class PermanentDeliveryError extends Error {
  override readonly name = 'PermanentDeliveryError';
}
/** SES or SNS is throttling or briefly unavailable: the workflow retries with backoff. */
export class TransientDeliveryError extends Error {
  override readonly name = 'TransientDeliveryError';
}

const PERMANENT = new Set([
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'AccountSuspendedException',
  'SendingPausedException',
  'BadRequestException',
  'NotFoundException',
]);

export interface Mail {
  to: string[];
  email: RenderedEmail;
  /** Tags SES reports back with delivery events, so a bounce finds its backorder. */
  tags: Record<string, string>;
}

export class Mailer {
  private readonly client: SESv2Client;
  private readonly from: string;
  private readonly configurationSetName: string | undefined;

  constructor(client: SESv2Client, from: string, configurationSetName?: string) {
    this.client = client;
    this.from = from;
    this.configurationSetName = configurationSetName;
  }

  /** A mailer on the Lambda's SES client, tracking through `SES_CONFIGURATION_SET` when set. */
  static fromEnvironment(from: string): Mailer {
    return new Mailer(new SESv2Client({}), from, process.env.SES_CONFIGURATION_SET);
  }

  /** Sends one email and answers SES's message id. */
  async send(mail: Mail): Promise<string> {
    try {
      const result = await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: this.from,
          Destination: { ToAddresses: mail.to },
          ConfigurationSetName: this.configurationSetName,
          EmailTags: Object.entries(mail.tags).map(([Name, Value]) => ({ Name, Value: tagValue(Value) })),
          Content: {
            Simple: {
              Subject: { Data: mail.email.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: mail.email.text, Charset: 'UTF-8' },
                Html: { Data: mail.email.html, Charset: 'UTF-8' },
              },
            },
          },
        }),
      );
      return result.MessageId ?? 'unknown';
    } catch (error) {
      throw classify(error);
    }
  }
}

/** Sorts a failed AWS call into permanent (record and tell a person) or transient (retry). */
export function classify(error: unknown): Error {
  if (error instanceof SESv2ServiceException || isServiceError(error)) {
    const name = (error as Error).name;
    if (PERMANENT.has(name)) return new PermanentDeliveryError(`${name}: ${(error as Error).message}`);
    return new TransientDeliveryError(`${name}: ${(error as Error).message}`);
  }
  // Network failures before an answer: nothing was sent, so a retry is safe.
  if (error instanceof Error) return new TransientDeliveryError(`${error.name}: ${error.message}`);
  return new TransientDeliveryError(String(error));
}

function isServiceError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && '$metadata' in error;
}

/** SES tag values allow only [A-Za-z0-9_-.@] up to 256 characters. */
function tagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 256);
}
