import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CancellationReason,
  type DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { Backorder } from '#domain/backorder.ts';
import {
  type CounterRow,
  type CounterShardRow,
  type CounterUpdate,
  counterItemKey,
  counterRangeKeys,
  counterShard,
  sumShards,
} from '#domain/insights.ts';
import { type ReviewEntry, type ReviewNotice, reviewEntry } from '#domain/review.ts';

/** What the insight counters must add when a record goes from `before` to `after`. */
export type CounterChanges = (before: Backorder | undefined, after: Backorder) => CounterUpdate[];

/**
 * The backorder table (docs/data-model.md). One item per backorder, one per timeline entry and
 * one per webhook message id; a change to a backorder, its timeline entry and the message id
 * are written in one transaction, so a duplicate delivery can never apply twice.
 */

export interface BackorderKey {
  orderId: string;
  lineId: string;
}

export interface TimelineEntry {
  /** When the business says it happened (the event's `occurredAt`, or the decision time). */
  occurredAt: string;
  receivedAt: string;
  type: string;
  result: string;
  /** The webhook message id, or another id unique to the entry. */
  id: string;
  summary: string;
}

export interface StoredResponse {
  status: number;
  body: Record<string, unknown>;
}

/** Seen webhook ids are kept a week: ERP retry schedules run up to three days. */
const IDEMPOTENCY_DAYS = 7;

const recordKey = (key: BackorderKey) => ({
  pk: `BACKORDER#${encodeURIComponent(key.orderId)}#${encodeURIComponent(key.lineId)}`,
  sk: 'RECORD',
});
const messageKey = (id: string) => ({ pk: `MESSAGE#${id}`, sk: 'MESSAGE' });
/** The order and line of a record's `pk`, undoing `recordKey`. */
function keyOfRecord(pk: string): BackorderKey {
  const [, orderId = '', lineId = ''] = pk.split('#').map(decodeURIComponent);
  return { orderId, lineId };
}

const demandKey = (sku: string, period: string) => ({ pk: `DEMAND#${encodeURIComponent(sku)}`, sk: period });
/** One item per SKU that ever reported demand: the top SKUs are listed by one Query, never a scan. */
const DEMAND_SKUS = 'DEMAND_SKUS';

/** What one SKU sold in one period, as the ERP last reported it (`sku.demand`). */
export interface DemandReport {
  sku: string;
  /** `YYYY-MM` or `YYYY-Www`. */
  period: string;
  quantity: number;
  unit: string;
  supplierIds?: string[];
  baseLeadTimeDays?: number;
  /** ISO instant (UTC) of the report; the latest one for a period wins. */
  occurredAt: string;
  receivedAt: string;
  messageId: string;
}

export type DemandSaveOutcome =
  | { saved: true; response: StoredResponse }
  | { saved: false; duplicateOf: StoredResponse };

export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
}

export type SaveOutcome = { saved: true } | { saved: false; duplicateOf: StoredResponse };

export interface ChangeSet {
  /** The record as read, before this change; none for a new backorder. */
  previous?: Backorder;
  /** The new record, written only when `changed`; else its version is checked, not written. */
  record: Backorder;
  changed: boolean;
  /** The version the change was computed from; none for a new backorder. */
  expectedVersion?: number;
  timeline: TimelineEntry;
  /** The webhook message this change answers, with the response to replay to a duplicate. */
  message?: { id: string; response: StoredResponse; now: Date };
}

export class BackorderStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly counterChanges: CounterChanges | undefined;

  /**
   * @param counterChanges the insight counters kept with every record write, in the same
   * transaction, so a retried event can never count twice; none for readers.
   */
  constructor(client: DynamoDBClient, tableName: string, counterChanges?: CounterChanges) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = tableName;
    this.counterChanges = counterChanges;
  }

  async get(key: BackorderKey): Promise<Backorder | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: recordKey(key), ConsistentRead: true }),
    );
    return Item ? Backorder.parse(Item.record) : undefined;
  }

  /** The first response given to a webhook message id, if that id was seen. */
  async response(messageId: string): Promise<StoredResponse | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: messageKey(messageId), ConsistentRead: true }),
    );
    return Item ? (Item.response as StoredResponse) : undefined;
  }

  /**
   * Writes a change atomically. Throws VersionConflictError when the record moved on since it was
   * read (the caller re-reads and re-applies); answers the stored response when the message id
   * was already processed, even by a concurrent delivery.
   */
  async save(change: ChangeSet): Promise<SaveOutcome> {
    const { record, expectedVersion } = change;
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
    const versionCondition =
      expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': expectedVersion },
          };
    if (change.changed) {
      items.push({ Put: { TableName: this.tableName, Item: recordItem(record), ...versionCondition } });
      items.push(this.reviewEntryWrite(record), ...this.counterItems(change.previous, record));
    } else {
      items.push({
        ConditionCheck: { TableName: this.tableName, Key: recordKey(record), ...versionCondition },
      });
    }
    items.push({ Put: { TableName: this.tableName, Item: timelineItem(record, change.timeline) } });
    if (change.message) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            ...messageKey(change.message.id),
            response: change.message.response,
            backorder: { orderId: record.orderId, lineId: record.lineId },
            expiresAt: Math.floor(change.message.now.getTime() / 1000) + IDEMPOTENCY_DAYS * 86_400,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      });
    }
    try {
      await this.documents.send(new TransactWriteCommand({ TransactItems: items }));
      return { saved: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const messageReason = change.message ? reasons[items.length - 1] : undefined;
      if (messageReason?.Code === 'ConditionalCheckFailed' && messageReason.Item) {
        return { saved: false, duplicateOf: unmarshall(messageReason.Item).response as StoredResponse };
      }
      if (reasons[0]?.Code === 'ConditionalCheckFailed') throw new VersionConflictError(lineKeyText(record));
      // TransactionConflict: another transaction touched these items at the same moment.
      if (reasons.some((reason) => reason.Code === 'TransactionConflict')) {
        throw new VersionConflictError(lineKeyText(record));
      }
      throw error;
    }
  }

  /**
   * Writes the record if nobody else changed it since `expectedVersion` (workflow bookkeeping).
   * `previous`, the record as read at that version, keeps the insight counters; without it the
   * store reads it.
   */
  async update(record: Backorder, expectedVersion: number, previous?: Backorder): Promise<void> {
    const before = previous ?? (this.counterChanges ? await this.get(record) : undefined);
    if (before && before.version !== expectedVersion) throw new VersionConflictError(lineKeyText(record));
    const put = {
      TableName: this.tableName,
      Item: recordItem(record),
      ConditionExpression: 'version = :expected',
      ExpressionAttributeValues: { ':expected': expectedVersion },
    };
    const items = [{ Put: put }, this.reviewEntryWrite(record), ...this.counterItems(before, record)];
    try {
      await this.documents.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) throw new VersionConflictError(lineKeyText(record));
      throw error;
    }
  }

  /** The insight counters of the periods `from`..`to` (`YYYY-MM`), their shards summed, in one Query. */
  async counters(from: string, to: string): Promise<CounterRow[]> {
    const range = counterRangeKeys(from, to);
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': range.pk, ':from': range.from, ':to': range.to },
    });
    const shards: CounterShardRow[] = [];
    for (const item of items) {
      const { pk: _pk, sk: _sk, period, dimension, key, label, labelAt, ...fields } = item;
      shards.push({ period, dimension, key, label, labelAt, fields } as CounterShardRow);
    }
    return sumShards(shards);
  }

  /**
   * Records a SKU's demand for a period with the webhook message id, in one transaction, unless a
   * report that occurred at the same time or later is on record: then only the message id is
   * recorded, with the `stale` response. A message id seen before answers its first response.
   * Throws VersionConflictError when a concurrent write touched the same items (retry).
   */
  async saveDemand(
    report: DemandReport,
    message: { now: Date; recorded: StoredResponse; stale: StoredResponse },
  ): Promise<DemandSaveOutcome> {
    const messageItem = (response: StoredResponse) => ({
      Put: {
        TableName: this.tableName,
        Item: {
          ...messageKey(report.messageId),
          response,
          demand: { sku: report.sku, period: report.period },
          expiresAt: Math.floor(message.now.getTime() / 1000) + IDEMPOTENCY_DAYS * 86_400,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    });
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      {
        Put: {
          TableName: this.tableName,
          Item: { ...demandKey(report.sku, report.period), ...report },
          ConditionExpression: 'attribute_not_exists(pk) OR occurredAt < :occurredAt',
          ExpressionAttributeValues: { ':occurredAt': report.occurredAt },
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: { pk: DEMAND_SKUS, sk: report.sku, sku: report.sku },
        },
      },
      messageItem(message.recorded),
    ];
    try {
      await this.documents.send(new TransactWriteCommand({ TransactItems: items }));
      return { saved: true, response: message.recorded };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const duplicate = duplicateOf(reasons[2]);
      if (duplicate) return { saved: false, duplicateOf: duplicate };
      if (reasons.some((reason) => reason.Code === 'TransactionConflict')) {
        throw new VersionConflictError(`demand for ${report.sku} in ${report.period}`);
      }
      if (reasons[0]?.Code !== 'ConditionalCheckFailed') throw error;
    }
    // A report as recent or more recent is on record: remember only that this message was stale.
    try {
      await this.documents.send(new TransactWriteCommand({ TransactItems: [messageItem(message.stale)] }));
      return { saved: true, response: message.stale };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const duplicate = duplicateOf(error.CancellationReasons?.[0]);
      if (duplicate) return { saved: false, duplicateOf: duplicate };
      throw new VersionConflictError(`demand for ${report.sku} in ${report.period}`);
    }
  }

  /** Every SKU that reported demand, in SKU order, from the SKU index (one Query, paged). */
  async demandSkus(): Promise<string[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': DEMAND_SKUS },
    });
    const skus: string[] = [];
    for (const item of items) skus.push(String(item.sku));
    return skus;
  }

  /** A SKU's demand reports for the periods whose keys sort between `from` and `to`, inclusive. */
  async demand(sku: string, from: string, to: string): Promise<DemandReport[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': demandKey(sku, from).pk, ':from': from, ':to': to },
    });
    const reports: DemandReport[] = [];
    for (const item of items) {
      const { pk: _pk, sk: _sk, ...report } = item;
      reports.push(report as unknown as DemandReport);
    }
    return reports;
  }

  /**
   * The review entry of every open backorder (never a scan): one ~200-byte item per open line,
   * kept beside the record in the same transaction, its partitions read in parallel.
   */
  async openReviewEntries(): Promise<ReviewEntry[]> {
    const partitions = await Promise.all(
      Array.from({ length: REVIEW_PARTITIONS }, (_, partition) =>
        this.queryAll({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `${REVIEW_ENTRY_PREFIX}${partition}` },
          ProjectionExpression: 'sk, review',
          Limit: REVIEW_PAGE,
        }),
      ),
    );
    const entries: ReviewEntry[] = [];
    for (const items of partitions) {
      for (const item of items) entries.push(decodeReviewEntry(String(item.sk), String(item.review)));
    }
    return entries;
  }

  /**
   * Writes every open backorder again as this version stores it (upgrades): its review entry
   * item and the attributes of the indexes added since it was last written. Each record is put
   * only while it still has the version read, so a line written or closed meanwhile keeps what its
   * own write did. Idempotent; reads the open lines from `byStatus`, never a scan.
   */
  async rewriteOpenRecords(): Promise<{ written: number; changedMeanwhile: number }> {
    let written = 0;
    let changedMeanwhile = 0;
    let cursor: string | undefined;
    do {
      const page = await this.list('open', { limit: 100, cursor });
      for (const record of page.items) {
        try {
          await this.documents.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Put: {
                    TableName: this.tableName,
                    Item: recordItem(record),
                    ConditionExpression: 'version = :version',
                    ExpressionAttributeValues: { ':version': record.version },
                  },
                },
                this.reviewEntryWrite(record),
              ],
            }),
          );
          written += 1;
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) throw error;
          changedMeanwhile += 1;
        }
      }
      cursor = page.cursor;
    } while (cursor);
    return { written, changedMeanwhile };
  }

  /**
   * Open lines whose customer notice is still unsent and was due before `before`, most overdue
   * first, at most `limit` (the sparse byNoticeDeadline index: only lines with an unsent notice).
   */
  async unsentNoticesDueBefore(
    before: Date,
    limit: number,
  ): Promise<Array<BackorderKey & { deadline: string }>> {
    const page = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byNoticeDeadline',
        KeyConditionExpression: 'noticePending = :pending AND noticeDeadline < :before',
        ExpressionAttributeValues: { ':pending': 'PENDING', ':before': before.toISOString() },
        Limit: limit,
      }),
    );
    return (page.Items ?? []).map((item) => ({
      ...keyOfRecord(String(item.pk)),
      deadline: String(item.noticeDeadline).split('#')[0] ?? '',
    }));
  }

  /** The records of these backorders, in batches of 100 (BatchGetItem); unknown keys are left out. */
  async getMany(keys: readonly BackorderKey[]): Promise<Backorder[]> {
    const batches: BackorderKey[][] = [];
    for (let start = 0; start < keys.length; start += 100) batches.push(keys.slice(start, start + 100));
    const read = await Promise.all(
      batches.map(async (batch) => {
        const records: Backorder[] = [];
        let pending: Record<string, unknown>[] | undefined = batch.map(recordKey);
        for (let attempt = 0; pending && pending.length > 0; attempt++) {
          // Keys DynamoDB left unprocessed (throttling) are asked again, with a growing pause.
          if (attempt > 0) await sleep(Math.min(1_000, 25 * 2 ** attempt));
          const answer: BatchGetCommandOutput = await this.documents.send(
            new BatchGetCommand({
              RequestItems: {
                [this.tableName]: {
                  Keys: pending,
                  ProjectionExpression: '#record',
                  ExpressionAttributeNames: { '#record': 'record' },
                },
              },
            }),
          );
          for (const item of answer.Responses?.[this.tableName] ?? [])
            records.push(Backorder.parse(item.record));
          pending = answer.UnprocessedKeys?.[this.tableName]?.Keys;
        }
        return records;
      }),
    );
    return read.flat();
  }

  /** Backorders closed at or after `since`. */
  async closedSince(since: Date): Promise<Backorder[]> {
    return this.queryStatus('STATUS#closed', since.toISOString());
  }

  /** When the last morning review went out, if one did. */
  async lastReviewAt(): Promise<Date | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: 'REVIEW', sk: 'LAST' }, ConsistentRead: true }),
    );
    return typeof Item?.at === 'string' ? new Date(Item.at) : undefined;
  }

  async recordReview(at: Date): Promise<void> {
    await this.documents.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: 'REVIEW', sk: 'LAST', at: at.toISOString() } }),
    );
  }

  private async queryStatus(statusKey: string, from?: string): Promise<Backorder[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: 'byStatus',
      KeyConditionExpression: from ? 'statusKey = :status AND statusSort >= :from' : 'statusKey = :status',
      ExpressionAttributeValues: from ? { ':status': statusKey, ':from': from } : { ':status': statusKey },
    });
    const records: Backorder[] = [];
    for (const item of items) records.push(item.record as Backorder);
    return records;
  }

  /** Every item a Query returns, following its pages. */
  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(new QueryCommand({ ...input, ExclusiveStartKey: cursor }));
      items.push(...(page.Items ?? []));
      cursor = page.LastEvaluatedKey;
    } while (cursor);
    return items;
  }

  /** The line's review entry follows its record: written while open, deleted once closed. */
  private reviewEntryWrite(record: Backorder) {
    const item = reviewEntryItem(record);
    return item
      ? { Put: { TableName: this.tableName, Item: item } }
      : { Delete: { TableName: this.tableName, Key: reviewEntryKey(recordKey(record).pk) } };
  }

  private counterItems(previous: Backorder | undefined, record: Backorder) {
    const shard = counterShard(record);
    return (this.counterChanges?.(previous, record) ?? []).map((update) => {
      const names: Record<string, string> = { '#period': 'period', '#dimension': 'dimension', '#key': 'key' };
      const values: Record<string, unknown> = {
        ':period': update.period,
        ':dimension': update.dimension,
        ':key': update.key,
      };
      const adds = Object.entries(update.add).map(([field, amount], index) => {
        names[`#f${index}`] = field;
        values[`:a${index}`] = amount;
        return `#f${index} :a${index}`;
      });
      let set = 'SET #period = :period, #dimension = :dimension, #key = :key';
      if (update.label !== undefined) {
        // Shards may hold different names after a rename: readers take the one of the newest news.
        names['#label'] = 'label';
        names['#labelAt'] = 'labelAt';
        values[':label'] = update.label;
        values[':labelAt'] = record.lastEventAt;
        set += ', #label = :label, #labelAt = :labelAt';
      }
      return {
        Update: {
          TableName: this.tableName,
          Key: counterItemKey(update.period, update.dimension, update.key, shard),
          UpdateExpression: adds.length > 0 ? `${set} ADD ${adds.join(', ')}` : set,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      };
    });
  }

  /** The timeline of one backorder, in the order things happened (`occurredAt`). */
  async timeline(key: BackorderKey): Promise<TimelineEntry[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': recordKey(key).pk, ':prefix': 'EVENT#' },
    });
    const entries: TimelineEntry[] = [];
    for (const item of items) entries.push(item.entry as TimelineEntry);
    return entries;
  }

  /** One page of backorders with a status, newest first. */
  async list(
    status: 'open' | 'closed',
    options: { limit: number; cursor?: string },
  ): Promise<{ items: Backorder[]; cursor?: string }> {
    const page = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byStatus',
        KeyConditionExpression: 'statusKey = :status',
        ExpressionAttributeValues: { ':status': `STATUS#${status}` },
        ScanIndexForward: false,
        Limit: options.limit,
        ExclusiveStartKey: options.cursor ? decodeCursor(options.cursor) : undefined,
      }),
    );
    return {
      items: (page.Items ?? []).map((item) => Backorder.parse(item.record)),
      cursor: page.LastEvaluatedKey ? encodeCursor(page.LastEvaluatedKey) : undefined,
    };
  }
}

/** The item of a backorder's record, with its index keys (exported for the scale bench's seeding). */
export function recordItem(record: Backorder): Record<string, unknown> {
  const key = recordKey(record);
  const pending =
    record.status === 'open' ? record.notices.find((notice) => notice.status === 'pending') : undefined;
  return {
    ...key,
    version: record.version,
    statusKey: `STATUS#${record.status}`,
    // Open lines sort by when they opened, closed ones by when they closed (the review reads both).
    statusSort: `${record.status === 'open' ? record.openedAt : (record.closedAt ?? record.openedAt)}#${key.pk}`,
    // Sparse: an open line is in byNoticeDeadline only while its customer notice is unsent.
    ...(pending ? { noticePending: 'PENDING', noticeDeadline: `${pending.deadline}#${key.pk}` } : {}),
    record,
  };
}

/**
 * The review entry item of an open backorder; none once it is closed (exported for the scale
 * bench's seeding). A small item of its own rather than an index projection of the record: a
 * global secondary index costs DynamoDB Local a read of the whole ~1.3 KB record per entry
 * (17 s rather than 1 s at 100,000 lines), and the entry is then exactly as current as the record.
 */
export function reviewEntryItem(record: Backorder): Record<string, unknown> | undefined {
  if (record.status !== 'open') return undefined;
  return { ...reviewEntryKey(recordKey(record).pk), review: encodeReviewEntry(reviewEntry(record)) };
}

/** The open lines' entries are spread over this many partitions, which the review reads in parallel. */
const REVIEW_PARTITIONS = 8;
const REVIEW_ENTRY_PREFIX = 'REVIEWENTRY#';
/**
 * Entries per page of the review's read. Without a Limit, DynamoDB Local reads every remaining
 * item of the partition for each page (quadratic); AWS charges the same read units for smaller pages.
 */
const REVIEW_PAGE = 2_000;

const reviewEntryKey = (recordPk: string) => ({
  pk: `${REVIEW_ENTRY_PREFIX}${reviewPartition(recordPk)}`,
  sk: recordPk,
});

function reviewPartition(pk: string): number {
  let hash = 0;
  for (let index = 0; index < pk.length; index++) hash = (hash * 31 + pk.charCodeAt(index)) >>> 0;
  return hash % REVIEW_PARTITIONS;
}

/** A review entry as its item stores it: a JSON array, half the bytes of named fields. */
type StoredEntry = [
  version: number,
  openedAt: string,
  originalShipDate: string,
  expectedShipDate: string,
  slipCount: number,
  lastSlipAt: string | null,
  escalationLevel: ReviewEntry['escalationLevel'],
  awaitingSince: string | null,
  nextActionAt: string | null,
  ownerId: string,
  ownerName: string,
  valueAmount: number | null,
  valueCurrency: string | null,
  tons: number,
  notices: Array<
    [
      revision: number,
      status: ReviewNotice['status'],
      deadline: string,
      sentAt: string | null,
      delivery: ReviewNotice['delivery'] | null,
      latest: 0 | 1,
    ]
  >,
];

function encodeReviewEntry(entry: ReviewEntry): string {
  const stored: StoredEntry = [
    entry.version,
    entry.openedAt,
    entry.originalShipDate,
    entry.expectedShipDate,
    entry.slipCount,
    entry.lastSlipAt ?? null,
    entry.escalationLevel,
    entry.awaitingSince ?? null,
    entry.nextActionAt ?? null,
    entry.owner.id,
    entry.owner.name,
    entry.orderValue?.amount ?? null,
    entry.orderValue?.currency ?? null,
    entry.tons,
    entry.notices.map((notice) => [
      notice.revision,
      notice.status,
      notice.deadline,
      notice.sentAt ?? null,
      notice.delivery ?? null,
      notice.latest ? 1 : 0,
    ]),
  ];
  return JSON.stringify(stored);
}

/** An open backorder's entry from its item: the key (the record's `pk`) gives its order and line. */
function decodeReviewEntry(pk: string, review: string): ReviewEntry {
  const { orderId, lineId } = keyOfRecord(pk);
  const [
    version,
    openedAt,
    originalShipDate,
    expectedShipDate,
    slipCount,
    lastSlipAt,
    escalationLevel,
    awaitingSince,
    nextActionAt,
    ownerId,
    ownerName,
    valueAmount,
    valueCurrency,
    tons,
    notices,
  ] = JSON.parse(review) as StoredEntry;
  return {
    orderId,
    lineId,
    version,
    status: 'open',
    openedAt,
    originalShipDate,
    expectedShipDate,
    slipCount,
    lastSlipAt: lastSlipAt ?? undefined,
    escalationLevel,
    awaitingSince: awaitingSince ?? undefined,
    nextActionAt: nextActionAt ?? undefined,
    owner: { id: ownerId, name: ownerName },
    orderValue:
      valueAmount !== null && valueCurrency !== null
        ? { amount: valueAmount, currency: valueCurrency }
        : undefined,
    tons,
    notices: notices.map(([revision, status, deadline, sentAt, delivery, latest]) => ({
      revision,
      status,
      deadline,
      sentAt: sentAt ?? undefined,
      delivery: delivery ?? undefined,
      latest: latest === 1,
    })),
  };
}

function timelineItem(record: Backorder, entry: TimelineEntry): Record<string, unknown> {
  // Ordered by when it happened for the business, then by receipt: deterministic even for events received in the same instant.
  return { pk: recordKey(record).pk, sk: `EVENT#${entry.occurredAt}#${entry.receivedAt}#${entry.id}`, entry };
}

/** The first response of a message id, when the write failed because the id was seen. */
function duplicateOf(reason: CancellationReason | undefined): StoredResponse | undefined {
  if (reason?.Code !== 'ConditionalCheckFailed' || !reason.Item) return undefined;
  return unmarshall(reason.Item).response as StoredResponse;
}

function lineKeyText(key: BackorderKey): string {
  return `${key.orderId} line ${key.lineId}`;
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const valid =
      typeof key === 'object' &&
      key !== null &&
      ['pk', 'sk', 'statusKey', 'statusSort'].every((name) => typeof key[name] === 'string') &&
      Object.keys(key).length === 4;
    if (!valid) throw new InvalidCursorError('cursor is not one this API gave out');
    return key;
  } catch (error) {
    if (error instanceof InvalidCursorError) throw error;
    throw new InvalidCursorError('cursor is not one this API gave out');
  }
}
