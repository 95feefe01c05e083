import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { now } from '#adapters/clock.ts';
import { requireEnv } from '#adapters/environment.ts';
import { createLogger } from '#adapters/logger.ts';
import type { TextBatchInput } from '#adapters/text-batches.ts';
import { type QueuedText, TextQueue } from '#adapters/text-queue.ts';
import { Texter } from '#adapters/texter.ts';
import { textSummary } from '#domain/messages.ts';

const logger = createLogger({ service: 'text-batch' });

export interface TextBatchDependencies {
  queue: TextQueue;
  texter: Texter;
  now: () => Date;
}

/**
 * Sends what is queued for one person as one text: the text itself when there is one, a summary
 * of all of them when a burst queued several. Claim → send → mark sent, as the timer does, so a
 * retried batch never texts twice; texts a crashed batch left claimed are not sent again.
 */
export function createTextBatch(deps: TextBatchDependencies) {
  return async (input: TextBatchInput): Promise<{ sent: number }> => {
    let sent = 0;
    // Texts queued while this batch was sending go out in a further text, not never.
    for (let round = 0; round < 10; round++) {
      const unsent = await deps.queue.unsent(input.recipient);
      const abandoned = unsent.filter((text) => text.status === 'sending');
      if (abandoned.length > 0) {
        logger.error('text delivery uncertain after a crash', { count: abandoned.length });
        await deps.queue.markSent(abandoned, 'uncertain');
      }
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
  const [first] = texts;
  if (!first) return;
  await deps.queue.claim(texts);
  let messageId: string;
  try {
    messageId = await deps.texter.send({
      recipient: first.recipient,
      audience: first.audience,
      message: texts.length === 1 ? first.message : textSummary(texts.map((text) => text.message)),
    });
  } catch (error) {
    await deps.queue.release(texts);
    throw error;
  }
  await deps.queue.markSent(texts, messageId);
}

function fromEnvironment(): TextBatchDependencies {
  return {
    queue: new TextQueue(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
    texter: new Texter(new SNSClient({}), requireEnv('ALERTS_TOPIC_ARN')),
    now,
  };
}

export const handler = middy<TextBatchInput, { sent: number }>().handler(createTextBatch(fromEnvironment()));
