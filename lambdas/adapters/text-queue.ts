import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Audience } from '#adapters/texter.ts';

/**
 * Texts waiting to go to one person. Every text is queued under its recipient, once per trigger
 * (a conditional put on a deterministic key), and a short-lived batch per recipient sends what
 * is queued as one text: a mill delay touching thirty lines texts the manager once, not thirty
 * times (CONTRACT §2.7). A counter per person and day holds how many texts went out that day, so
 * the daily allowance holds however many batches run at once (lambdas/domain/text-allowance.ts).
 */

export interface QueuedText {
  recipient: string;
  audience: Audience;
  message: string;
  /** Where the text goes instead once the person has had the day's allowance of texts. */
  email: string;
  /** Unique per trigger per backorder, e.g. `SO-10042/3#managerAlert:slip-2`. */
  trigger: string;
  queuedAt: string;
  status: 'pending' | 'sending' | 'sent';
  /** How it went out: as (part of) a text, or by email past the daily allowance; unset if uncertain. */
  sentBy?: 'sms' | 'email';
  /** DynamoDB sort key, kept to address the item. */
  sk: string;
}

/** Queued texts are kept 30 days for the record, then expire. */
const KEEP_DAYS = 30;

const partition = (recipient: string) => `TEXTS#${recipient}`;

export class TextQueue {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = tableName;
  }

  /** Queues a text; a second queueing of the same trigger is a no-op. */
  async enqueue(text: Omit<QueuedText, 'status' | 'sk' | 'queuedAt'>, at: Date): Promise<void> {
    const expiresAt = Math.floor(at.getTime() / 1000) + KEEP_DAYS * 86_400;
    const pk = partition(text.recipient);
    try {
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              // The trigger's marker makes queueing idempotent whatever instant a retry runs at.
              Put: {
                TableName: this.tableName,
                Item: { pk, sk: `TRIGGER#${text.trigger}`, expiresAt },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk,
                  sk: `QUEUED#${at.toISOString()}#${text.trigger}`,
                  ...text,
                  queuedAt: at.toISOString(),
                  status: 'pending',
                  expiresAt,
                },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        return;
      }
      throw error;
    }
  }

  /** Texts queued for a person and not yet sent (including any a crashed batch left `sending`). */
  async unsent(recipient: string): Promise<QueuedText[]> {
    const texts: QueuedText[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :queued)',
          FilterExpression: '#status <> :sent',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pk': partition(recipient), ':queued': 'QUEUED#', ':sent': 'sent' },
          ConsistentRead: true,
          ExclusiveStartKey: cursor,
        }),
      );
      texts.push(...((page.Items ?? []) as QueuedText[]));
      cursor = page.LastEvaluatedKey;
    } while (cursor);
    return texts;
  }

  /** Claims pending texts for one send; fails (and the batch retries) if another batch took any. */
  claim(texts: QueuedText[]): Promise<void> {
    return this.transition(texts, 'pending', 'sending');
  }

  /** Gives claimed texts back after a send that failed cleanly. */
  release(texts: QueuedText[]): Promise<void> {
    return this.transition(texts, 'sending', 'pending');
  }

  /** Records texts as sent, and how. */
  async markSent(texts: QueuedText[], messageId: string, sentBy: 'sms' | 'email'): Promise<void> {
    for (const text of texts) {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: partition(text.recipient), sk: text.sk },
          UpdateExpression: 'SET #status = :sent, messageId = :id, sentBy = :by',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':sent': 'sent', ':id': messageId, ':by': sentBy },
        }),
      );
    }
  }

  /**
   * Records texts that a batch claimed but never marked sent as possibly sent (`uncertain`), and
   * answers how many. Each write is conditional on the text still being claimed: should a duplicate
   * batch be sending it right now, that batch's record (message id, channel) stands either way.
   */
  async markAbandoned(texts: QueuedText[]): Promise<number> {
    let marked = 0;
    for (const text of texts) {
      try {
        await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: partition(text.recipient), sk: text.sk },
            UpdateExpression: 'SET #status = :sent, messageId = :id',
            ConditionExpression: '#status = :sending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':sent': 'sent', ':sending': 'sending', ':id': 'uncertain' },
          }),
        );
        marked += 1;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return marked;
  }

  /**
   * Takes the next of a person's texts on `day`, if fewer than `allowance` went out: an atomic
   * conditional increment, so concurrent batches never take more than the allowance between them.
   * Answers the slot taken (1 for the day's first text), or `undefined` when none is left.
   */
  async takeTextSlot(
    recipient: string,
    day: string,
    allowance: number,
    at: Date,
  ): Promise<number | undefined> {
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: partition(recipient), sk: `SENT#${day}` },
          UpdateExpression: 'ADD texts :one SET expiresAt = if_not_exists(expiresAt, :expires)',
          ConditionExpression: 'attribute_not_exists(texts) OR texts < :allowance',
          ExpressionAttributeValues: {
            ':one': 1,
            ':allowance': allowance,
            ':expires': Math.floor(at.getTime() / 1000) + KEEP_DAYS * 86_400,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(result.Attributes?.texts);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** Gives back a slot whose text failed cleanly (nothing went out), so the retry can use it. */
  async returnTextSlot(recipient: string, day: string): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: partition(recipient), sk: `SENT#${day}` },
        UpdateExpression: 'ADD texts :minusOne',
        ConditionExpression: 'texts > :zero',
        ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
      }),
    );
  }

  private async transition(texts: QueuedText[], from: QueuedText['status'], to: QueuedText['status']) {
    // TransactWriteItems takes 100 items: a larger burst is claimed in chunks.
    for (let start = 0; start < texts.length; start += 100) {
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: texts.slice(start, start + 100).map((text) => ({
            Update: {
              TableName: this.tableName,
              Key: { pk: partition(text.recipient), sk: text.sk },
              UpdateExpression: 'SET #status = :to',
              ConditionExpression: '#status = :from',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':from': from, ':to': to },
            },
          })),
        }),
      );
    }
  }
}
