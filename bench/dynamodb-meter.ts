import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A metering proxy in front of DynamoDB Local: the system under test is pointed at it instead of
 * at DynamoDB Local, and it counts every request and the request units AWS would bill for it.
 *
 * How the units are counted (the simplest honest method we found):
 * - The proxy adds `ReturnConsumedCapacity: INDEXES` to every request that accepts it and reads
 *   DynamoDB Local's own answer. DynamoDB Local applies AWS's rules for single-item writes,
 *   reads, queries and batches (1 KB write units of the larger of the old and new item, 4 KB
 *   read units, half for eventually consistent reads, the global secondary indexes the item is
 *   written to); the bench checks a few of them at start (`selfCheck` in bench/lifecycle.ts) and prints the result.
 * - TransactWriteItems is the exception: DynamoDB Local 1.25 answers 4 units per KB per item
 *   (AWS bills 2: a prepare and a commit) and leaves the indexes out. For those the proxy applies
 *   AWS's documented rule itself: 2 write units per KB, rounded up per item, for every Put and
 *   ConditionCheck, the item's size computed by AWS's item-size rules (`itemSize`), the old size
 *   of an item taken from the last write the proxy saw of it; plus one standard write per index
 *   the item enters or leaves (two when its index key changes), sized by what the index projects,
 *   and one when it stays in an index whose projected attributes changed (a keys-only index
 *   costs nothing while its keys stay).
 * - A write refused by its condition is billed as a write of the item (at least 1 unit), a
 *   cancelled transaction as the prepare phase of each of its items (1 unit per KB): both only
 *   happen under contention and are reported separately.
 * The handlers never ask for consumed capacity themselves, so nothing they do changes: the extra
 * `ConsumedCapacity` member in answers is ignored by them.
 */

export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { BOOL: boolean }
  | { NULL: boolean }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] }
  | { L: AttributeValue[] }
  | { M: Record<string, AttributeValue> };

export type Item = Record<string, AttributeValue>;

/** Request units and requests seen by the meter, by operation. */
export interface MeterTotals {
  requests: number;
  readUnits: number;
  writeUnits: number;
  /** Writes refused by their condition and cancelled transactions (their units are included above). */
  failedWrites: number;
  byOperation: Record<string, { requests: number; readUnits: number; writeUnits: number }>;
}

export interface DynamoDbMeter {
  /** Point `AWS_ENDPOINT_URL_DYNAMODB` (or `dynamoDbEndpoint`) here. */
  readonly endpoint: string;
  /** A copy of the totals so far. */
  totals(): MeterTotals;
  close(): Promise<void>;
}

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const CAPACITY_OPERATIONS = new Set([
  ...READS,
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** The size of a number: one byte per two significant digits, plus one. */
function numberSize(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '');
  const significant = digits.replace(/0+$/, '').length || 1;
  return Math.ceil(significant / 2) + 1;
}

/** AWS's item-size rules ("Item sizes and formats" in the DynamoDB developer guide). */
export function valueSize(value: AttributeValue): number {
  if ('S' in value) return utf8(value.S);
  if ('N' in value) return numberSize(value.N);
  if ('B' in value) return Buffer.from(value.B, 'base64').length;
  if ('BOOL' in value || 'NULL' in value) return 1;
  if ('SS' in value) return value.SS.reduce((sum, entry) => sum + utf8(entry), 0);
  if ('NS' in value) return value.NS.reduce((sum, entry) => sum + numberSize(entry), 0);
  if ('BS' in value) return value.BS.reduce((sum, entry) => sum + Buffer.from(entry, 'base64').length, 0);
  if ('L' in value) return 3 + value.L.reduce((sum, entry) => sum + 1 + valueSize(entry), 0);
  return (
    3 + Object.entries(value.M).reduce((sum, [name, entry]) => sum + 1 + utf8(name) + valueSize(entry), 0)
  );
}

export function itemSize(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

interface Shadow {
  size: number;
  /** The item as each index it is in holds it: index name → its key and projected attributes. */
  indexItems: Map<string, { key: string; projected: string; size: number }>;
}

interface TableShape {
  keys: string[];
  /** Each index's keys, and the attributes it projects besides the keys (`all`: every one). */
  indexes: Array<{ name: string; keys: string[]; projects: 'all' | string[] }>;
}

interface CapacityAnswer {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

type Json = Record<string, unknown>;

export async function startDynamoDbMeter(target: string): Promise<DynamoDbMeter> {
  const totals: MeterTotals = { requests: 0, readUnits: 0, writeUnits: 0, failedWrites: 0, byOperation: {} };
  const shadows = new Map<string, Shadow>();
  const shapes = new Map<string, Promise<TableShape>>();

  function entryOf(operation: string): MeterTotals['byOperation'][string] {
    const entry = totals.byOperation[operation] ?? { requests: 0, readUnits: 0, writeUnits: 0 };
    totals.byOperation[operation] = entry;
    return entry;
  }

  function count(operation: string, read: number, write: number): void {
    totals.readUnits += read;
    totals.writeUnits += write;
    const entry = entryOf(operation);
    entry.readUnits += read;
    entry.writeUnits += write;
  }

  async function call(operation: string, body: Json): Promise<Json> {
    const response = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request',
      },
      body: JSON.stringify(body),
    });
    return (await response.json()) as Json;
  }

  function shape(table: string): Promise<TableShape> {
    let known = shapes.get(table);
    if (!known) {
      known = call('DescribeTable', { TableName: table }).then((answer) => {
        const description = (answer.Table ?? {}) as {
          KeySchema?: Array<{ AttributeName: string }>;
          GlobalSecondaryIndexes?: Array<{
            IndexName: string;
            KeySchema: Array<{ AttributeName: string }>;
            Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] };
          }>;
        };
        return {
          keys: (description.KeySchema ?? []).map((key) => key.AttributeName),
          indexes: (description.GlobalSecondaryIndexes ?? []).map((index) => ({
            name: index.IndexName,
            keys: index.KeySchema.map((key) => key.AttributeName),
            projects:
              index.Projection?.ProjectionType === 'ALL' ? 'all' : (index.Projection?.NonKeyAttributes ?? []),
          })),
        };
      });
      shapes.set(table, known);
    }
    return known;
  }

  const keyText = (item: Item, names: string[]) => {
    const parts = names.map((name) => item[name]);
    return parts.every((part) => part !== undefined) ? JSON.stringify(parts) : undefined;
  };

  async function shadowOf(table: string, item: Item): Promise<{ key: string; shadow: Shadow }> {
    const { keys, indexes } = await shape(table);
    const indexItems: Shadow['indexItems'] = new Map();
    for (const index of indexes) {
      const key = keyText(item, index.keys);
      if (!key) continue;
      const names =
        index.projects === 'all' ? Object.keys(item) : [...keys, ...index.keys, ...index.projects];
      const projected: Item = {};
      for (const name of names) {
        const value = item[name];
        if (value !== undefined) projected[name] = value;
      }
      indexItems.set(index.name, { key, projected: JSON.stringify(projected), size: itemSize(projected) });
    }
    return {
      key: `${table}\u0000${keyText(item, keys) ?? ''}`,
      shadow: { size: itemSize(item), indexItems },
    };
  }

  async function recordKey(table: string, key: Item): Promise<string> {
    const { keys } = await shape(table);
    return `${table}\u0000${keyText(key, keys) ?? ''}`;
  }

  /** Standard index writes caused by replacing `old` with `next` (either may be absent). */
  function indexWrites(old: Shadow | undefined, next: Shadow | undefined): number {
    const names = new Set([...(old?.indexItems.keys() ?? []), ...(next?.indexItems.keys() ?? [])]);
    let units = 0;
    for (const name of names) {
      const before = old?.indexItems.get(name);
      const after = next?.indexItems.get(name);
      if (before && after && before.key === after.key) {
        if (before.projected !== after.projected) units += writeUnits(Math.max(before.size, after.size));
      } else {
        if (before) units += writeUnits(before.size);
        if (after) units += writeUnits(after.size);
      }
    }
    return units;
  }

  /** AWS's bill for a transaction, from the request and the proxy's memory of item sizes. */
  async function transactionUnits(request: Json, succeeded: boolean): Promise<number> {
    const actions = (request.TransactItems ?? []) as Array<{
      Put?: { TableName: string; Item: Item };
      ConditionCheck?: { TableName: string; Key: Item };
      Update?: { TableName: string; Key: Item };
      Delete?: { TableName: string; Key: Item };
    }>;
    const factor = succeeded ? 2 : 1;
    let units = 0;
    for (const action of actions) {
      if (action.Put) {
        const { key, shadow } = await shadowOf(action.Put.TableName, action.Put.Item);
        const old = shadows.get(key);
        units += factor * writeUnits(Math.max(shadow.size, old?.size ?? 0));
        if (succeeded) {
          units += indexWrites(old, shadow);
          shadows.set(key, shadow);
        }
        continue;
      }
      const target = action.ConditionCheck ?? action.Update ?? action.Delete;
      if (!target) continue;
      const key = await recordKey(target.TableName, target.Key);
      const old = shadows.get(key);
      units += factor * writeUnits(old?.size ?? 0);
      if (succeeded && action.Delete) {
        units += indexWrites(old, undefined);
        shadows.delete(key);
      }
    }
    return units;
  }

  /** Remembers what a successful single-item or batch write left in the table. */
  async function remember(operation: string, request: Json): Promise<void> {
    if (operation === 'PutItem') {
      const { key, shadow } = await shadowOf(String(request.TableName), request.Item as Item);
      shadows.set(key, shadow);
    } else if (operation === 'DeleteItem') {
      shadows.delete(await recordKey(String(request.TableName), request.Key as Item));
    } else if (operation === 'BatchWriteItem') {
      const tables = (request.RequestItems ?? {}) as Record<
        string,
        Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>
      >;
      for (const [table, writes] of Object.entries(tables)) {
        for (const write of writes) {
          if (write.PutRequest) {
            const { key, shadow } = await shadowOf(table, write.PutRequest.Item);
            shadows.set(key, shadow);
          } else if (write.DeleteRequest) {
            shadows.delete(await recordKey(table, write.DeleteRequest.Key));
          }
        }
      }
    }
  }

  async function meter(operation: string, request: Json, status: number, answer: Json): Promise<void> {
    totals.requests += 1;
    entryOf(operation).requests += 1;
    if (operation === 'TransactWriteItems') {
      const succeeded = status === 200;
      if (!succeeded) totals.failedWrites += 1;
      count(operation, 0, await transactionUnits(request, succeeded));
      return;
    }
    if (!CAPACITY_OPERATIONS.has(operation)) return;
    if (status !== 200) {
      const conditional = String(answer.__type ?? '').endsWith('ConditionalCheckFailedException');
      if (conditional && !READS.has(operation)) {
        totals.failedWrites += 1;
        const key = await recordKey(String(request.TableName), (request.Key ?? request.Item) as Item);
        count(operation, 0, writeUnits(shadows.get(key)?.size ?? 0));
      }
      return;
    }
    const reported = ([] as CapacityAnswer[]).concat(
      (answer.ConsumedCapacity as CapacityAnswer | CapacityAnswer[] | undefined) ?? [],
    );
    const units = reported.reduce((sum, capacity) => sum + (capacity.CapacityUnits ?? 0), 0);
    if (READS.has(operation)) count(operation, units, 0);
    else {
      count(operation, 0, units);
      await remember(operation, request);
    }
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      let body = Buffer.concat(chunks).toString('utf8');
      let parsed: Json = {};
      try {
        parsed = JSON.parse(body || '{}') as Json;
        if (CAPACITY_OPERATIONS.has(operation)) {
          body = JSON.stringify({ ...parsed, ReturnConsumedCapacity: 'INDEXES' });
        }
      } catch {
        // Not JSON: passed on unchanged, DynamoDB Local answers the error.
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (value === undefined || name === 'host' || name === 'content-length' || name === 'connection')
          continue;
        headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
      const answer = await fetch(target, { method: request.method ?? 'POST', headers, body });
      const text = await answer.text();
      let answered: Json = {};
      try {
        answered = JSON.parse(text || '{}') as Json;
      } catch {
        // Left as is.
      }
      await meter(operation, parsed, answer.status, answered);
      const out: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        // The body changed (ConsumedCapacity): its checksum and length no longer apply.
        if (
          !['x-amz-crc32', 'content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(
            name,
          )
        )
          out[name] = value;
      });
      response.writeHead(answer.status, out);
      response.end(text);
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: 'InternalServerError', message: String(error) }));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    totals: () => structuredClone(totals),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What happened between two snapshots of a meter's totals. */
export function meterDelta(after: MeterTotals, before: MeterTotals): MeterTotals {
  const byOperation: MeterTotals['byOperation'] = {};
  for (const [operation, entry] of Object.entries(after.byOperation)) {
    const earlier = before.byOperation[operation] ?? { requests: 0, readUnits: 0, writeUnits: 0 };
    byOperation[operation] = {
      requests: entry.requests - earlier.requests,
      readUnits: entry.readUnits - earlier.readUnits,
      writeUnits: entry.writeUnits - earlier.writeUnits,
    };
  }
  return {
    requests: after.requests - before.requests,
    readUnits: after.readUnits - before.readUnits,
    writeUnits: after.writeUnits - before.writeUnits,
    failedWrites: after.failedWrites - before.failedWrites,
    byOperation,
  };
}
