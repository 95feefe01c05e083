import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { DataIdentifier, DataProtectionPolicy, LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '#lib/nag.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * How a function is invoked, which decides where its failures go. A synchronous caller (API
 * Gateway, Step Functions) receives the error itself; an asynchronous one (EventBridge) needs a
 * queue for what still fails after Lambda's two retries, or the event would vanish. That queue is
 * the function's on-failure destination, whose records carry the error beside the event.
 */
export type Invocation =
  | { readonly kind: 'synchronous'; readonly by: 'API Gateway' | 'Step Functions' }
  | { readonly kind: 'asynchronous'; readonly deadLetterQueue: IQueue };

/** DynamoDB item actions a handler may be granted: no Scan, no table administration. */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'ConditionCheckItem';

/** What one handler may do on a table. Transactions need no action of their own: each item is authorised by its own action. */
export interface TableAccess {
  readonly actions: readonly TableAction[];
  /** Global secondary indexes the handler queries by name. @default none */
  readonly indexes?: readonly string[];
}

export interface ProjectFunctionProps {
  /** The handler module, relative to the project root, e.g. `lambdas/handlers/erp-events.ts`. */
  readonly entry: string;
  /** @default 'handler' */
  readonly exportName?: string;
  readonly description: string;
  readonly invocation: Invocation;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** The organisation configuration as a Lambda reads it (`writeBundledConfig`, lib/holidays.ts), bundled beside the handler. */
  readonly organisationConfigFile: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default no extra variables */
  readonly environment?: Record<string, string>;
}

/**
 * Every Lambda of the project, with one set of defaults: Node 24 on ARM64, ESM bundles with
 * source maps, JSON logs into a log group with retention, X-Ray tracing, the organisation
 * configuration bundled, and a role of its own that can write its own logs and nothing else until
 * a `bind…` method grants it something. It also records its handler module in the template
 * (`Local::Handler`), so the local runtime runs the same handlers the stack deploys.
 */
export class ProjectFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: Role;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ProjectFunctionProps) {
    super(scope, id);
    const exportName = props.exportName ?? 'handler';
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
      // Behind the handlers' own redaction (#adapters/logger.ts): CloudWatch masks any address or
      // phone number that still reaches the log, e.g. in an SDK error message.
      dataProtectionPolicy: new DataProtectionPolicy({
        name: 'Customer contact details',
        identifiers: [DataIdentifier.EMAILADDRESS, DataIdentifier.PHONENUMBER_US],
      }),
    });
    // Instead of AWSLambdaBasicExecutionRole, whose logs:* rights reach every log group of the account.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (Lambda)`,
    });
    this.logGroup.grantWrite(this.role);

    const asynchronous = props.invocation.kind === 'asynchronous' ? props.invocation : undefined;
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${projectRoot}${props.entry}`,
      handler: exportName,
      description: props.description,
      role: this.role,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      ...(asynchronous
        ? {
            onFailure: new SqsDestination(asynchronous.deadLetterQueue),
            retryAttempts: 2,
            maxEventAge: Duration.hours(6),
          }
        : {}),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ORGANISATION_CONFIG_FILE: './organisation.json',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        // Stack traces map to file:line; the sources themselves stay out of the map (a third of its size).
        sourceMap: true,
        sourcesContent: false,
        // The SDK version the tests ran against, tree-shaken into one file, rather than whichever
        // version the runtime happens to carry: measured no slower to initialise (docs/deploy.md).
        bundleAwsSDK: true,
        target: 'node24',
        mainFields: ['module', 'main'],
        // Some CommonJS dependencies call require(): give ESM bundles one.
        banner:
          "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);",
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_input: string, output: string) => [
            `cp "${props.organisationConfigFile}" "${output}/organisation.json"`,
          ],
        },
      },
    });
    (this.function.node.defaultChild as CfnFunction).addMetadata('Local::Handler', {
      entry: props.entry,
      export: exportName,
    });

    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; test/infra asserts they are the only actions granted on "*".',
    );
    acknowledge(
      this.function,
      'Serverless-LambdaDLQ',
      props.invocation.kind === 'synchronous'
        ? `Invoked synchronously by ${props.invocation.by}, which receives every error itself (and retries or reports it); a dead-letter queue only ever receives asynchronous invocations.`
        : 'Failed asynchronous invocations go to the on-failure destination (an SQS queue with an alarm), which records the error with the event; a dead-letter queue as well would receive the same events twice.',
    );
  }

  /** Grants exactly the table actions the handler uses and tells it the table's name, together. */
  bindTable(table: ITable, access: TableAccess): void {
    const actions = access.actions.map((action) => `dynamodb:${action}`);
    Grant.addToPrincipal({ grantee: this.role, actions, resourceArns: [table.tableArn] });
    const indexes = access.indexes ?? [];
    if (indexes.length > 0) {
      Grant.addToPrincipal({
        grantee: this.role,
        actions: ['dynamodb:Query'],
        resourceArns: indexes.map((index) => `${table.tableArn}/index/${index}`),
      });
    }
    if (table.encryptionKey) {
      // Named actions, not grantEncryptDecrypt's `ReEncrypt*` and `GenerateDataKey*`, and only through DynamoDB.
      const writes = access.actions.some((action) => /Put|Update|Delete/.test(action));
      Grant.addToPrincipal({
        grantee: this.role,
        actions: writes
          ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']
          : ['kms:Decrypt', 'kms:DescribeKey'],
        resourceArns: [table.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
      });
    }
    this.function.addEnvironment('TABLE_NAME', table.tableName);
  }

  /** Grants reading one secret and tells the handler its ARN as `<name>_ARN` (see `loadSecrets`). */
  bindSecret(secret: ISecret, name: string): void {
    secret.grantRead(this.role);
    this.function.addEnvironment(`${name}_ARN`, secret.secretArn);
  }
}
