import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { parseOrganisationConfig } from '#domain/organisation.ts';
import { Api } from '#lib/api.ts';
import { Messaging } from '#lib/messaging.ts';
import { ProjectFunction } from '#lib/project-function.ts';
import { Store } from '#lib/store.ts';
import { Workflow } from '#lib/workflow.ts';

export interface BackorderWatchStackProps extends StackProps {
  /** `prod` retains data and turns on deletion protection. @default 'dev' */
  readonly stage?: string;
  /** The organisation configuration file, validated at synth. @default 'config/organisation.sample.json' */
  readonly organisationConfigFile?: string;
}

export class BackorderWatchStack extends Stack {
  public readonly store: Store;
  public readonly workflow: Workflow;
  public readonly api: Api;
  public readonly messaging: Messaging;

  constructor(scope: Construct, id: string, props: BackorderWatchStackProps = {}) {
    super(scope, id, props);
    const configFile = resolve(props.organisationConfigFile ?? 'config/organisation.sample.json');
    // A bad configuration fails `cdk synth`, not production.
    const config = parseOrganisationConfig(JSON.parse(readFileSync(configFile, 'utf8')), configFile);

    this.store = new Store(this, 'Store', { retain: props.stage === 'prod' });
    this.messaging = new Messaging(this, 'Messaging', { config });
    const webhookSecret = new Secret(this, 'WebhookSecret', {
      description: 'Standard Webhooks secrets shared with the ERP (whsec_…, space-separated while rotating)',
    });
    const decisionSecret = new Secret(this, 'DecisionSecret', {
      description: 'Signs the decision links in customer notices (whsec_…)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });

    const fn = (id: string, entry: string, description: string, timeout?: Duration) =>
      new ProjectFunction(this, id, { entry, description, organisationConfigFile: configFile, timeout });

    const erpEvents = fn('ErpEvents', 'lambdas/handlers/erp-events.ts', 'ERP webhook ingest');
    erpEvents.bindTable(this.store.table, 'readWrite');
    webhookSecret.grantRead(erpEvents.function);
    erpEvents.function.addEnvironment('WEBHOOK_SECRET_ARN', webhookSecret.secretArn);

    const read = fn('BackordersRead', 'lambdas/handlers/backorders-read.ts', "Operators' read API");
    read.bindTable(this.store.table, 'read');

    const decisions = fn('Decisions', 'lambdas/handlers/decisions.ts', "Customers' decision pages");
    decisions.bindTable(this.store.table, 'readWrite');
    decisionSecret.grantRead(decisions.function);
    decisions.function.addEnvironment('DECISION_SECRET_ARN', decisionSecret.secretArn);

    const openApi = fn('OpenApi', 'lambdas/handlers/openapi.ts', 'OpenAPI document');

    const step = fn(
      'TimerStep',
      'lambdas/handlers/timer-step.ts',
      'Performs what a backorder is owed',
      Duration.seconds(30),
    );
    step.bindTable(this.store.table, 'readWrite');
    decisionSecret.grantRead(step.function);
    step.function.addEnvironment('DECISION_SECRET_ARN', decisionSecret.secretArn);
    this.messaging.alerts.grantPublish(step.function);
    step.function.addEnvironment('ALERTS_TOPIC_ARN', this.messaging.alerts.topicArn);
    this.messaging.sender.grantSendEmail(step.function);
    step.function.addEnvironment('SES_CONFIGURATION_SET', this.messaging.configurationSetName);

    const failure = fn(
      'TimerFailure',
      'lambdas/handlers/timer-failure.ts',
      'Reports a failed backorder timer',
    );
    failure.bindTable(this.store.table, 'readWrite');
    this.messaging.sender.grantSendEmail(failure.function);
    failure.function.addEnvironment('SES_CONFIGURATION_SET', this.messaging.configurationSetName);

    this.workflow = new Workflow(this, 'Workflow', { step: step.function, failure: failure.function });
    for (const starter of [erpEvents, decisions]) {
      this.workflow.stateMachine.grantStartExecution(starter.function);
      this.workflow.stateMachine.grantRead(starter.function);
      this.workflow.stateMachine.grantExecution(starter.function, 'states:StopExecution');
      starter.function.addEnvironment('STATE_MACHINE_ARN', this.workflow.stateMachine.stateMachineArn);
    }

    this.api = new Api(this, 'Api', {
      erpEvents: erpEvents.function,
      backordersRead: read.function,
      decisions: decisions.function,
      openApi: openApi.function,
    });
    const publicBaseUrl = config.company.publicBaseUrl ?? this.api.httpApi.apiEndpoint;
    step.function.addEnvironment('PUBLIC_BASE_URL', publicBaseUrl);

    new CfnOutput(this, 'ApiUrl', { value: this.api.httpApi.apiEndpoint });
    new CfnOutput(this, 'WebhookSecretArn', { value: webhookSecret.secretArn });
  }
}
