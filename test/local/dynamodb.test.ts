import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTablesFromTemplate, startDynamoDb } from '#local/dynamodb.ts';
import { localClientConfig } from '#local/http-service.ts';
import {
  createTestTables,
  dynamoDbEndpoint,
  localTemplate,
  type TestTables,
} from '#test/support/dynamodb.ts';
import { eventually } from '#test/support/eventually.ts';

describe('tables created from the synthesized template', () => {
  let db: TestTables;
  beforeAll(async () => {
    db = await createTestTables();
  });
  afterAll(() => db.close());

  it('has the backorder table with its keys, indexes, on-demand billing and TTL', async () => {
    // Act
    const tableName = db.tableName('StoreTable');
    const { Table: table } = await db.client.send(new DescribeTableCommand({ TableName: tableName }));
    const { TimeToLiveDescription: ttl } = await db.client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );

    // Assess
    expect(table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual([
      'byNoticeDeadline',
      'byStatus',
    ]);
    expect(ttl).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
  });

  it('answers queries on a global secondary index', async () => {
    // Prepare
    const TableName = db.tableName('StoreTable');
    await db.client.send(
      new PutItemCommand({
        TableName,
        Item: {
          pk: { S: 'B#1' },
          sk: { S: 'META' },
          statusKey: { S: 'open' },
          statusSort: { S: '2026-03-10' },
        },
      }),
    );

    // Act
    const { Items } = await db.client.send(
      new QueryCommand({
        TableName,
        IndexName: 'byStatus',
        KeyConditionExpression: 'statusKey = :open',
        ExpressionAttributeValues: { ':open': { S: 'open' } },
      }),
    );

    // Assess
    expect(Items?.map((item) => item.pk?.S)).toEqual(['B#1']);
  });

  it('writes transactions and names the item that failed a condition', async () => {
    // Prepare
    const TableName = db.tableName('StoreTable');
    const key = { pk: { S: 'B#tx' }, sk: { S: 'META' } };
    await db.client.send(new PutItemCommand({ TableName, Item: { ...key, version: { N: '2' } } }));

    // Act
    const failure = await db.client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName, Item: { pk: { S: 'B#tx' }, sk: { S: 'T#1' } } } },
            {
              Update: {
                TableName,
                Key: key,
                UpdateExpression: 'SET version = :next',
                ConditionExpression: 'version = :expected',
                ExpressionAttributeValues: { ':next': { N: '2' }, ':expected': { N: '1' } },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      )
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(TransactionCanceledException);
    const reasons = failure instanceof TransactionCanceledException ? failure.CancellationReasons : [];
    expect(reasons?.map((reason) => reason.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(reasons?.[1]?.Item?.version).toEqual({ N: '2' });
    const { Item: untouched } = await db.client.send(
      new GetItemCommand({ TableName, Key: { pk: { S: 'B#tx' }, sk: { S: 'T#1' } } }),
    );
    expect(untouched).toBeUndefined();
  });

  it('returns the current item when a single conditional write fails', async () => {
    // Prepare
    const TableName = db.tableName('StoreTable');
    const item = { pk: { S: 'B#put' }, sk: { S: 'META' }, version: { N: '1' } };
    await db.client.send(new PutItemCommand({ TableName, Item: item }));

    // Act
    const failure = await db.client
      .send(
        new PutItemCommand({
          TableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ConditionalCheckFailedException);
    expect(failure instanceof ConditionalCheckFailedException ? failure.Item : undefined).toEqual(item);
  });
});

describe('creating tables again', () => {
  let client: DynamoDBClient;
  beforeAll(async () => {
    client = new DynamoDBClient(localClientConfig(await dynamoDbEndpoint()));
  });
  afterAll(() => client.destroy());

  it('is idempotent, and adds an index the template gained since', async () => {
    // Prepare: the same tables, once without their byNoticeDeadline index.
    const template = await localTemplate();
    const older = withoutIndex(template, 'byNoticeDeadline');
    const prefix = `again${Date.now()}-`;
    await createTablesFromTemplate(client, older, { prefix });

    // Act
    const first = await createTablesFromTemplate(client, template, { prefix });
    const second = await createTablesFromTemplate(client, template, { prefix });

    // Assess
    expect(second).toEqual(first);
    const [tableName] = [...first.values()].filter((name) => name.includes('StoreTable'));
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual([
      'byNoticeDeadline',
      'byStatus',
    ]);
  });
});

describe('DynamoDB Local itself', () => {
  it('stops with the process that started it, and keeps its data for the next start', async () => {
    // Prepare: another Node process starts DynamoDB Local on a data directory; we write through it.
    const dataDir = mkdtempSync(join(tmpdir(), 'backorder-watch-ddb-'));
    const script = [
      "import { startDynamoDb } from '#local/dynamodb.ts';",
      'const db = await startDynamoDb({ dataDir: process.argv[1] });',
      "console.log('READY', db.pid, db.endpoint);",
      'setInterval(() => {}, 60_000);',
    ].join('\n');
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script, dataDir], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [jvm, endpoint] = await new Promise<[number, string]>((resolve, reject) => {
        parent.stdout.on('data', (chunk: Buffer) => {
          const match = /READY (\d+) (\S+)/.exec(chunk.toString());
          if (match?.[2]) resolve([Number(match[1]), match[2]]);
        });
        parent.once('exit', (code) => reject(new Error(`the parent exited first (${code})`)));
      });
      const template = await localTemplate();
      const key = { pk: { S: 'B#kept' }, sk: { S: 'META' } };
      const first = new DynamoDBClient(localClientConfig(endpoint));
      const tables = await createTablesFromTemplate(first, template, { prefix: 'local-' });
      const TableName = [...tables.values()][0] ?? '';
      await first.send(new PutItemCommand({ TableName, Item: { ...key, note: { S: 'survives' } } }));
      first.destroy();

      // Act: the parent dies without a chance to clean up; then DynamoDB Local starts again.
      parent.kill('SIGKILL');
      await eventually(() => expect(isRunning(jvm)).toBe(false), { timeoutMs: 10_000 });
      const db = await startDynamoDb({ dataDir });
      const second = new DynamoDBClient(localClientConfig(db.endpoint));
      const again = await createTablesFromTemplate(second, template, { prefix: 'local-' });
      const { Item } = await second.send(new GetItemCommand({ TableName, Key: key }));
      second.destroy();
      await db.stop();

      // Assess
      expect(again).toEqual(tables);
      expect(Item?.note).toEqual({ S: 'survives' });
      expect(isRunning(db.pid)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000); // Two JVM starts: slow on a loaded 2-core machine.

  it('fails with one clear line when Java is not installed', async () => {
    // Prepare
    const empty = mkdtempSync(join(tmpdir(), 'no-java-'));
    vi.stubEnv('PATH', empty);
    try {
      // Act
      const failure = await startDynamoDb().catch((error: unknown) => error);

      // Assess
      expect(failure).toBeInstanceOf(Error);
      const message = failure instanceof Error ? failure.message : '';
      expect(message).toMatch(/Java 17 or newer/);
      expect(message).not.toContain('\n');
    } finally {
      vi.unstubAllEnvs();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The template as it was before `indexName` was added to its tables. */
function withoutIndex(template: Record<string, unknown>, indexName: string): Record<string, unknown> {
  const older = structuredClone(template);
  for (const resource of Object.values(older.Resources as Resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const indexes = resource.Properties.GlobalSecondaryIndexes as {
      IndexName: string;
      KeySchema: { AttributeName: string }[];
    }[];
    const kept = indexes.filter((index) => index.IndexName !== indexName);
    const used = new Set(
      [resource.Properties.KeySchema as { AttributeName: string }[], ...kept.map((index) => index.KeySchema)]
        .flat()
        .map((key) => key.AttributeName),
    );
    resource.Properties.GlobalSecondaryIndexes = kept;
    resource.Properties.AttributeDefinitions = (
      resource.Properties.AttributeDefinitions as { AttributeName: string }[]
    ).filter((definition) => used.has(definition.AttributeName));
  }
  return older;
}

/** Alive, and not a zombie waiting for a parent that does not reap (as PID 1 in some containers). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
