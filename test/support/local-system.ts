import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { BackorderStore } from '#adapters/backorder-store.ts';
import { localClientConfig } from '#local/http-service.ts';
import { type LocalSystem, startLocalSystem } from '#local/system.ts';
import { dynamoDbEndpoint } from '#test/support/dynamodb.ts';
import { signedHeaders, TEST_SECRET } from '#test/support/signing.ts';

export const ADMIN_TOKEN = 'test-admin-token';
export const CONFIG_FILE = 'config/organisation.sample.json';

/**
 * The whole system in this test file's process, on the run's shared DynamoDB Local (tables of its
 * own) and a virtual clock that moves only when the test moves it.
 */
export async function startTestSystem(clockStart: string, configFile = CONFIG_FILE): Promise<TestSystem> {
  const system = await startLocalSystem({
    webhookSecret: TEST_SECRET,
    decisionSecret: 'decision-secret-for-the-test-system-0123456789',
    adminToken: ADMIN_TOKEN,
    configFile,
    clockStart: new Date(clockStart),
    followRealTime: false,
    dynamoDbEndpoint: await dynamoDbEndpoint(),
    tablePrefix: `s${randomUUID().slice(0, 8)}-`,
  });
  return new TestSystem(system);
}

export interface Outbox {
  emails: {
    id: string;
    at: string;
    from: string;
    to: string[];
    subject: string;
    text: string;
    html: string;
  }[];
  texts: { id: string; at: string; to: string[]; audience: 'owner' | 'manager' | 'vp'; message: string }[];
}

/** Drives the system over HTTP, as an ERP, a customer and an operator would. */
export class TestSystem {
  readonly local: LocalSystem;
  /** Clients on the system's own DynamoDB Local and Step Functions, for what a test looks at directly. */
  readonly dynamo: DynamoDBClient;
  readonly sfn: SFNClient;
  /** The backorder table, as the handlers read it. */
  readonly store: BackorderStore;

  constructor(local: LocalSystem) {
    this.local = local;
    this.dynamo = new DynamoDBClient(localClientConfig(local.dynamoDbEndpoint));
    this.sfn = new SFNClient(localClientConfig(local.stepFunctions.endpoint));
    this.store = new BackorderStore(this.dynamo, local.tableName);
  }

  /** The ARN of the backorder timer's state machine. */
  get timerArn(): string {
    return this.local.stepFunctions.stateMachineArn('WorkflowBackorderTimer');
  }

  get url(): string {
    return this.local.url;
  }

  /** Posts an event signed at the virtual clock's now. */
  async post(event: unknown, options: { id?: string; headers?: Record<string, string> } = {}) {
    const body = typeof event === 'string' ? event : JSON.stringify(event);
    const headers = {
      ...signedHeaders(body, { id: options.id, at: this.local.clock.now() }),
      ...options.headers,
    };
    const response = await fetch(`${this.url}/v1/erp/events`, { method: 'POST', body, headers });
    return {
      status: response.status,
      body: (await response.json().catch(() => undefined)) as Record<string, unknown>,
    };
  }

  /** GETs a path as an operator; `null` sends no token. */
  async get(path: string, token: string | null = ADMIN_TOKEN) {
    const response = await fetch(
      `${this.url}${path}`,
      token === null ? {} : { headers: { authorization: `Bearer ${token}` } },
    );
    return {
      status: response.status,
      body: (await response.json().catch(() => undefined)) as Record<string, unknown>,
    };
  }

  /** Moves the virtual clock (ISO duration) and waits for everything due by then to finish. */
  advance(duration = 'PT0S'): Promise<string> {
    return this.moveClock({ advanceBy: duration });
  }

  /** Moves the virtual clock to an instant and waits for everything due by then to finish. */
  advanceTo(instant: string): Promise<string> {
    return this.moveClock({ to: instant });
  }

  private async moveClock(request: { advanceBy: string } | { to: string }): Promise<string> {
    const response = await fetch(`${this.url}/_local/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    return ((await response.json()) as { now: string }).now;
  }

  async outbox(): Promise<Outbox> {
    return (await (await fetch(`${this.url}/_local/outbox`)).json()) as Outbox;
  }

  stop(): Promise<void> {
    this.dynamo.destroy();
    this.sfn.destroy();
    return this.local.stop();
  }
}
