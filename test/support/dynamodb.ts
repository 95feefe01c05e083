import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { createTablesFromTemplate } from '#local/dynamodb.ts';
import { localClientConfig } from '#local/http-service.ts';
import type { Provision } from '#test/support/global-setup.ts';

/** Fresh tables of the synthesized stack on the shared DynamoDB Local, for one test file. */
export interface TestTables {
  /** A client on DynamoDB Local; destroyed by `close()`. */
  readonly client: DynamoDBClient;
  /** The value for `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  /** Table name by the template's logical id. */
  readonly tables: ReadonlyMap<string, string>;
  /** The one table whose logical id starts with `logicalIdPrefix` (e.g. `StoreTable`). */
  tableName(logicalIdPrefix: string): string;
  close(): void;
}

async function provided<T>(service: 'dynamodb' | 'template'): Promise<T> {
  const response = await fetch(`${inject('localServices')}/${service}`);
  const answer = (await response.json()) as Provision<T>;
  if ('error' in answer) throw new Error(answer.error);
  return answer.value;
}

/** The DynamoDB Local endpoint shared by this test run (started on first use). */
export function dynamoDbEndpoint(): Promise<string> {
  return provided('dynamodb');
}

let template: Promise<Record<string, unknown>> | undefined;

/** The template synthesized once for this test run (on first use). */
export function localTemplate(): Promise<Record<string, unknown>> {
  template ??= provided<Record<string, unknown>>('template');
  return template;
}

/**
 * Creates every table of the synthesized template under a prefix of its own, so test files
 * running side by side never see each other's items. Call it in `beforeAll`.
 */
export async function createTestTables(): Promise<TestTables> {
  const [endpoint, stackTemplate] = await Promise.all([dynamoDbEndpoint(), localTemplate()]);
  const client = new DynamoDBClient(localClientConfig(endpoint));
  const tables = await createTablesFromTemplate(client, stackTemplate, {
    prefix: `t${randomUUID().slice(0, 8)}-`,
  });
  return {
    client,
    endpoint,
    tables,
    tableName: (logicalIdPrefix) => {
      const matches = [...tables].filter(([logicalId]) => logicalId.startsWith(logicalIdPrefix));
      const [match] = matches;
      if (!match || matches.length > 1) {
        throw new Error(
          `${matches.length} tables match "${logicalIdPrefix}": ${[...tables.keys()].join(', ')}`,
        );
      }
      return match[1];
    },
    close: () => client.destroy(),
  };
}
