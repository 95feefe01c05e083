import { type DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
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
 * times (CONTRACT §2.7).
 */

export interface QueuedText {
  recipient: string;
  audience: Audience;
  message: string;
  /** Unique per trigger per backorder, e.g. `SO-10042/3#managerAlert:slip-2`. */
  trigger: string;
  queuedAt: string;
  status: 'pending' | 'sending' | 'sent';
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

  async markSent(texts: QueuedText[], messageId: string): Promise<void> {
    for (const text of texts) {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: partition(text.recipient), sk: text.sk },
          UpdateExpression: 'SET #status = :sent, messageId = :id',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':sent': 'sent', ':id': messageId },
        }),
      );
    }
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
