import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Architecture, type CfnFunction, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export interface ProjectFunctionProps {
  /** The handler module, relative to the project root, e.g. `lambdas/handlers/erp-events.ts`. */
  readonly entry: string;
  /** @default 'handler' */
  readonly exportName?: string;
  readonly description: string;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** The organisation configuration file, bundled beside the handler. */
  readonly organisationConfigFile: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  readonly environment?: Record<string, string>;
}

/**
 * Every Lambda of the project, with one set of defaults: Node 24 on ARM64, ESM bundles with
 * source maps, JSON logs into a log group with retention, X-Ray tracing, and the organisation
 * configuration bundled. It also records its handler module in the template (`Local::Handler`),
 * so the local runtime runs the same handlers the stack deploys.
 */
export class ProjectFunction extends Construct {
  public readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: ProjectFunctionProps) {
    super(scope, id);
    const exportName = props.exportName ?? 'handler';
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${projectRoot}${props.entry}`,
      handler: exportName,
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ORGANISATION_CONFIG_FILE: './organisation.json',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
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
  }

  /** Grants the table access the handler needs and tells it the table's name, together. */
  bindTable(table: ITable, access: 'read' | 'readWrite'): void {
    if (access === 'read') table.grantReadData(this.function);
    else table.grantReadWriteData(this.function);
    this.function.addEnvironment('TABLE_NAME', table.tableName);
  }
}
