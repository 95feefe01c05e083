import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  ListTablesCommand,
  ResourceInUseException,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { localClientConfig } from '#local/http-service.ts';

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  /** The JVM's process id. */
  readonly pid: number;
  /** Stops the server and waits for the JVM to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartDynamoDbOptions {
  /** Keep the database in this directory across restarts. @default in memory */
  readonly dataDir?: string;
  /** Give up when the server has not answered by then (a loaded machine can take a while). @default 60_000 */
  readonly startTimeoutMs?: number;
}

const JAVA_NEEDED =
  'DynamoDB Local needs Java 17 or newer (a JDK, with `java` and `javac` on the PATH): install one, e.g. `apt-get install openjdk-17-jdk-headless`.';

/*
 * DynamoDB Local has no option to choose the interface it listens on, and refuses port 0. This
 * launcher reaches into its Jetty connector to bind 127.0.0.1 on a port the OS picks (so no
 * race for a "free" port), prints that port, and stops the server when its stdin closes: the
 * pipe closes when the Node process ends for any reason, even SIGKILL, so no JVM is left behind.
 */
const LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';
const LAUNCHER_SOURCE = `
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public class ${LAUNCHER_CLASS} {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    if (proxy == null) System.exit(2);
    java.lang.reflect.Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    ServerConnector connector = (ServerConnector) ((Server) field.get(proxy)).getConnectors()[0];
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    proxy.start();
    System.out.println("LISTENING " + connector.getLocalPort());
    System.out.flush();
    try { while (System.in.read() != -1) {} } catch (Exception ignored) {}
    try { proxy.stop(); } finally { Runtime.getRuntime().halt(0); }
  }
}
`;

function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

/** Runs a command to completion, resolving with its exit code and output. */
function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output }));
  });
}

function isMissingCommand(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

/** Compiles the launcher once per machine (about 1.5 s); later starts reuse the class file. */
async function compiledLauncher(jar: string): Promise<string> {
  const hash = createHash('sha256').update(LAUNCHER_SOURCE).digest('hex').slice(0, 12);
  const classesDir = join(tmpdir(), `backorder-watch-dynamodb-launcher-${hash}`);
  if (existsSync(join(classesDir, `${LAUNCHER_CLASS}.class`))) return classesDir;

  // Compile beside the final directory, then rename: concurrent first starts cannot see half a build.
  const workDir = `${classesDir}.${process.pid}.${Date.now()}`;
  mkdirSync(workDir, { recursive: true });
  try {
    const source = join(workDir, `${LAUNCHER_CLASS}.java`);
    writeFileSync(source, LAUNCHER_SOURCE);
    const result = await run('javac', [
      '--release',
      '17',
      '-nowarn',
      '-cp',
      jar,
      '-d',
      workDir,
      source,
    ]).catch((error: unknown) => {
      if (isMissingCommand(error)) throw new Error(JAVA_NEEDED);
      throw error;
    });
    if (result.code !== 0) {
      throw new Error(
        /release version|invalid target|invalid flag/.test(result.output)
          ? JAVA_NEEDED
          : `Could not compile the DynamoDB Local launcher: ${result.output.trim()}`,
      );
    }
    rmSync(source);
    try {
      renameSync(workDir, classesDir);
    } catch (error) {
      // Another process finished first: its build is as good as ours.
      if (!existsSync(join(classesDir, `${LAUNCHER_CLASS}.class`))) throw error;
    }
    return classesDir;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Keeps the last few KiB a stream wrote, for error messages, without holding everything. */
function tail(stream: NodeJS.ReadableStream, onLine?: (line: string) => void): () => string {
  let kept = '';
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    kept = (kept + text).slice(-4096);
    if (!onLine) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line.trim());
  });
  return () => kept.trim();
}

/** Child stdio streams are sockets underneath; their types just do not say so. */
function unref(stream: unknown): void {
  if (stream && typeof stream === 'object' && 'unref' in stream && typeof stream.unref === 'function') {
    stream.unref();
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolvePromise(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolvePromise(true);
    };
    child.once('exit', onExit);
  });
}

async function waitUntilAnswering(endpoint: string, deadline: number): Promise<void> {
  const client = new DynamoDBClient(localClientConfig(endpoint));
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((wake) => setTimeout(wake, 50));
      }
    }
  } finally {
    client.destroy();
  }
}

/**
 * Starts DynamoDB Local (AWS's own emulator, shipped in `amplify-dynamodb-simulator`) on a free
 * port of 127.0.0.1 and resolves once it answers ListTables. In memory unless `dataDir` is given.
 * The JVM stops with `stop()` or, at the latest, when this process exits.
 */
export async function startDynamoDb(options: StartDynamoDbOptions = {}): Promise<DynamoDbLocal> {
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  const dir = emulatorDir();
  const jar = join(dir, 'DynamoDBLocal.jar');
  const classesDir = await compiledLauncher(jar);

  // -sharedDb: one database whatever the credentials and region, as tests and handlers expect.
  const storage = options.dataDir ? ['-dbPath', resolve(options.dataDir)] : ['-inMemory'];
  if (options.dataDir) mkdirSync(resolve(options.dataDir), { recursive: true });
  const args = [
    // A test and dev database: the quick-starting compiler and a small collector start ~30% faster.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-cp',
    [jar, classesDir].join(delimiter),
    LAUNCHER_CLASS,
    // The launcher rebinds to a port the OS picks; this only satisfies the option's range check.
    '-port',
    '65535',
    '-sharedDb',
    '-disableTelemetry',
    ...storage,
  ];

  // DynamoDB Local writes dynamodb-local-metadata.json into its working directory: keep it out of the project.
  const cwd = options.dataDir ? resolve(options.dataDir) : tmpdir();
  const child = spawn('java', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const stopChild = async () => {
    child.stdin?.end();
    if (!(await waitForExit(child, 5_000))) {
      child.kill('SIGKILL');
      await waitForExit(child, 5_000);
    }
  };

  try {
    const port = await new Promise<number>((resolvePromise, reject) => {
      const timer = setTimeout(
        () => reject(new Error('DynamoDB Local did not start in time')),
        deadline - Date.now(),
      );
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        fn();
      };
      const stderr = tail(child.stderr);
      tail(child.stdout, (line) => {
        const match = /^LISTENING (\d+)$/.exec(line);
        if (match?.[1]) settle(() => resolvePromise(Number(match[1])));
      });
      child.once('error', (error) =>
        settle(() => reject(isMissingCommand(error) ? new Error(JAVA_NEEDED) : error)),
      );
      child.once('exit', (code) => {
        const output = stderr();
        settle(() =>
          reject(
            new Error(
              /UnsupportedClassVersionError/.test(output)
                ? JAVA_NEEDED
                : `DynamoDB Local exited (code ${code}) before it started: ${output}`,
            ),
          ),
        );
      });
    });
    const endpoint = `http://127.0.0.1:${port}`;
    await waitUntilAnswering(endpoint, deadline);

    // Its lifetime is tied to ours through the stdin pipe, so it need not keep Node running.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) unref(stream);
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= stopChild();
      return stopping;
    };
    return { endpoint, pid: child.pid ?? -1, stop };
  } catch (error) {
    await stopChild();
    throw error;
  }
}

const keySchema = z.array(z.object({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) }));
const projection = z.object({
  ProjectionType: z.enum(['ALL', 'KEYS_ONLY', 'INCLUDE']).optional(),
  NonKeyAttributes: z.array(z.string()).optional(),
});
const tableProperties = z.object({
  KeySchema: keySchema,
  AttributeDefinitions: z.array(
    z.object({ AttributeName: z.string(), AttributeType: z.enum(['S', 'N', 'B']) }),
  ),
  GlobalSecondaryIndexes: z
    .array(z.object({ IndexName: z.string(), KeySchema: keySchema, Projection: projection }))
    .optional(),
  LocalSecondaryIndexes: z
    .array(z.object({ IndexName: z.string(), KeySchema: keySchema, Projection: projection }))
    .optional(),
  TimeToLiveSpecification: z.object({ AttributeName: z.string(), Enabled: z.boolean() }).optional(),
  StreamSpecification: z
    .object({ StreamViewType: z.enum(['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES']) })
    .optional(),
});
type TableProperties = z.infer<typeof tableProperties>;

const templateResources = z.object({
  Resources: z
    .record(z.string(), z.object({ Type: z.string(), Properties: z.unknown().optional() }))
    .optional(),
});

/** Every `AWS::DynamoDB::Table` of a template, by logical id, with the properties we recreate. */
function tablesOf(template: Record<string, unknown>): Map<string, TableProperties> {
  const tables = new Map<string, TableProperties>();
  const resources = templateResources.parse(template).Resources ?? {};
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const parsed = tableProperties.safeParse(resource.Properties);
    if (!parsed.success) {
      throw new Error(
        `Table ${logicalId} uses properties the local runtime cannot create: ${parsed.error.message}`,
      );
    }
    tables.set(logicalId, parsed.data);
  }
  return tables;
}

function sameKeys(a: TableDescription['KeySchema'], b: TableProperties['KeySchema']): boolean {
  const render = (keys: { AttributeName?: string | undefined; KeyType?: string | undefined }[] = []) =>
    keys.map((key) => `${key.AttributeName}:${key.KeyType}`).join(',');
  return render(a) === render(b);
}

/** Brings an existing table's indexes in line with the template, as a stack update would. */
async function reconcile(client: DynamoDBClient, name: string, props: TableProperties): Promise<void> {
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: name }));
  if (!sameKeys(table?.KeySchema, props.KeySchema)) {
    throw new Error(
      `Table ${name} exists with another key schema than the template's: delete the local data to recreate it`,
    );
  }
  const existing = new Set((table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const wanted = new Set((props.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  // DynamoDB accepts one index creation or deletion per UpdateTable call.
  for (const index of props.GlobalSecondaryIndexes ?? []) {
    if (existing.has(index.IndexName)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: name,
        AttributeDefinitions: props.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    );
  }
  for (const indexName of existing) {
    if (indexName && !wanted.has(indexName)) {
      await client.send(
        new UpdateTableCommand({
          TableName: name,
          GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: indexName } }],
        }),
      );
    }
  }
}

async function applyTimeToLive(client: DynamoDBClient, name: string, props: TableProperties): Promise<void> {
  const ttl = props.TimeToLiveSpecification;
  if (!ttl?.Enabled) return;
  const { TimeToLiveDescription: current } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: name }),
  );
  if (current?.TimeToLiveStatus === 'ENABLED' && current.AttributeName === ttl.AttributeName) return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
    }),
  );
}

async function createTable(client: DynamoDBClient, name: string, props: TableProperties): Promise<void> {
  // DynamoDB refuses an empty index list; a table without indexes simply has none.
  const globalIndexes: GlobalSecondaryIndex[] | undefined = props.GlobalSecondaryIndexes?.length
    ? props.GlobalSecondaryIndexes
    : undefined;
  const attributes: AttributeDefinition[] = props.AttributeDefinitions;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: props.KeySchema,
        AttributeDefinitions: attributes,
        // Whatever the template says, on-demand: local capacity is not a thing to model.
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: globalIndexes,
        LocalSecondaryIndexes: props.LocalSecondaryIndexes,
        StreamSpecification: props.StreamSpecification
          ? { StreamEnabled: true, StreamViewType: props.StreamSpecification.StreamViewType }
          : undefined,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    await reconcile(client, name, props);
  }
  await applyTimeToLive(client, name, props);
}

/**
 * Creates every `AWS::DynamoDB::Table` of a synthesized template as `${prefix}${logicalId}`:
 * keys, attribute definitions, global and local secondary indexes, streams and TTL, on demand.
 * Idempotent: an existing table gets the template's indexes and TTL (persisted mode restarts).
 * Resolves with the table name of each logical id.
 */
export async function createTablesFromTemplate(
  client: DynamoDBClient,
  template: Record<string, unknown>,
  opts: { prefix: string },
): Promise<Map<string, string>> {
  const tables = [...tablesOf(template)];
  await Promise.all(
    tables.map(([logicalId, props]) => createTable(client, `${opts.prefix}${logicalId}`, props)),
  );
  return new Map(tables.map(([logicalId]) => [logicalId, `${opts.prefix}${logicalId}`]));
}
