import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { now } from '#adapters/clock.ts';
import { requireEnv } from '#adapters/environment.ts';
import { createLogger } from '#adapters/logger.ts';
import { Mailer } from '#adapters/mailer.ts';
import { loadOrganisation, type Organisation } from '#adapters/organisation.ts';
import type { TextBatchInput } from '#adapters/text-batches.ts';
import { type QueuedText, TextQueue } from '#adapters/text-queue.ts';
import { Texter } from '#adapters/texter.ts';
import { textsByEmail } from '#domain/messages.ts';
import { allowanceDay, textDelivery } from '#domain/text-allowance.ts';

const logger = createLogger({ service: 'text-batch' });

export interface TextBatchDependencies {
  queue: TextQueue;
  texter: Texter;
  mailer: Mailer;
  organisation: Pick<Organisation, 'config' | 'calendar'>;
  now: () => Date;
}

/**
 * Sends what is queued for one person as one text: the text itself when there is one, a summary
 * of all of them when a burst queued several, or one email once the person has had the day's
 * allowance of texts. Claim → send → mark sent, as the timer does, so a retried batch never
 * sends twice; texts a crashed batch left claimed are not sent again.
 */
export function createTextBatch(deps: TextBatchDependencies) {
  return async (input: TextBatchInput): Promise<{ sent: number }> => {
    let sent = 0;
    // Texts queued while this batch was sending go out in a further text, not never.
    for (let round = 0; round < 10; round++) {
      const unsent = await deps.queue.unsent(input.recipient);
      const claimed = unsent.filter((text) => text.status === 'sending');
      const abandoned = claimed.length > 0 ? await deps.queue.markAbandoned(claimed) : 0;
      if (abandoned > 0) logger.error('text delivery uncertain after a crash', { count: abandoned });
      const due = unsent.filter(
        (text) => text.status === 'pending' && Date.parse(text.queuedAt) <= deps.now().getTime(),
      );
      if (due.length === 0) return { sent };
      await send(due, deps);
      sent += due.length;
    }
    return { sent };
  };
}

async function send(texts: QueuedText[], deps: TextBatchDependencies): Promise<void> {
  const last = texts.at(-1);
  if (!last) return;
  const { config, calendar } = deps.organisation;
  const allowance = config.escalation.maxTextsPerPersonPerDay;
  await deps.queue.claim(texts);
  // After the claim, so a batch that lost the texts to another takes no slot. A crash between
  // taking the slot and sending uses it up: the day then has one text fewer, never one more.
  const at = deps.now();
  const day = allowanceDay(calendar, at);
  const slot = await deps.queue.takeTextSlot(last.recipient, day, allowance, at);
  const messages = texts.map((text) => text.message);
  const delivery = textDelivery(messages, slot, allowance);
  let messageId: string;
  try {
    messageId =
      delivery.channel === 'sms'
        ? await deps.texter.send({
            recipient: last.recipient,
            audience: last.audience,
            message: delivery.message,
          })
        : await deps.mailer.send({
            // The latest address the texts carry: an owner's comes from the ERP and may change.
            to: [last.email],
            email: textsByEmail(messages, allowance, config.company),
            tags: {},
          });
  } catch (error) {
    await deps.queue.release(texts);
    if (slot !== undefined) await deps.queue.returnTextSlot(last.recipient, day);
    throw error;
  }
  await deps.queue.markSent(texts, messageId, delivery.channel);
  if (delivery.channel === 'email') {
    logger.warn('daily text allowance spent: texts sent by email', { count: texts.length, day, allowance });
  } else if (delivery.lastToday) {
    logger.info('daily text allowance reached', { day, allowance });
  }
}

function fromEnvironment(): TextBatchDependencies {
  const organisation = loadOrganisation(requireEnv('ORGANISATION_CONFIG_FILE'));
  return {
    queue: new TextQueue(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
    texter: new Texter(new SNSClient({}), requireEnv('ALERTS_TOPIC_ARN')),
    mailer: Mailer.fromEnvironment(organisation.config.company.senderEmail),
    organisation,
    now,
  };
}

export const handler = middy<TextBatchInput, { sent: number }>().handler(createTextBatch(fromEnvironment()));
