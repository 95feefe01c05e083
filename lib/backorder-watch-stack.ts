import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { parseOrganisationConfig } from '#domain/organisation.ts';
import { Api } from '#lib/api.ts';
import { DeliveryFeedback } from '#lib/delivery-feedback.ts';
import { FunctionSchedule, WATCHDOG_EVERY, workingDaysAt } from '#lib/function-schedule.ts';
import { holidayYearsAround, writeBundledConfig } from '#lib/holidays.ts';
import { Messaging } from '#lib/messaging.ts';
import { acknowledge } from '#lib/nag.ts';
import { Observability } from '#lib/observability.ts';
import {
  type Invocation,
  ProjectFunction,
  type TableAccess,
  type TableAction,
} from '#lib/project-function.ts';
import { stageSettings } from '#lib/stage.ts';
import { Store } from '#lib/store.ts';
import { TextBatches } from '#lib/text-batches.ts';
import { Workflow } from '#lib/workflow.ts';

export interface BackorderWatchStackProps extends StackProps {
  /** `dev` or `prod` (lib/stage.ts): retention, data protection, alarm actions. @default 'dev' */
  readonly stage?: string;
  /** The organisation configuration file, validated at synth. @default 'config/organisation.sample.json' */
  readonly organisationConfigFile?: string;
  /** Verify this whole domain as the sender identity. @default the configuration's `company.senderEmail` address */
  readonly senderDomain?: string;
  /** Encrypt the table with a customer-managed KMS key created (and rotated yearly) by this stack. @default false */
  readonly customerManagedKey?: boolean;
  /** An address subscribed to the ops topic that alarms notify. @default none */
  readonly opsEmail?: string;
  /** Browser origins allowed by CORS. @default none: CORS closed */
  readonly corsOrigins?: readonly string[];
}

/** The actions each handler performs on the table (see lambdas/adapters/backorder-store.ts). */
/**
 * `save`: the record (Put), its review entry (Put while open, Delete once closed), its timeline
 * entry (Put) and, for a record left unchanged, a ConditionCheck.
 */
const SAVE_RECORD: TableAccess = { actions: ['GetItem', 'PutItem', 'DeleteItem', 'ConditionCheckItem'] };
/** `save`/`update` that also keep the insight counters (`ADD` on counter items, in the same transaction). */
const SAVE_COUNTED: TableAccess = { actions: [...SAVE_RECORD.actions, 'UpdateItem'] };
/** The review: open lines' entries (Query), lines closed since the last one (byStatus), the listed records. */
const READ_REVIEW: TableAccess = { actions: ['GetItem', 'BatchGetItem', 'Query'], indexes: ['byStatus'] };
/** The text queue: queue (two Puts), read a person's queue (Query), mark texts (Update). */
const TEXT_QUEUE: TableAction[] = ['PutItem', 'Query', 'UpdateItem', 'ConditionCheckItem'];

export class BackorderWatchStack extends Stack {
  public readonly store: Store;
  public readonly workflow: Workflow;
  public readonly api: Api;
  public readonly messaging: Messaging;
  public readonly deliveryFeedback: DeliveryFeedback;
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: BackorderWatchStackProps = {}) {
    super(scope, id, props);
    const settings = stageSettings(props.stage ?? 'dev');
    const configFile = resolve(props.organisationConfigFile ?? 'config/organisation.sample.json');
    // A bad configuration fails `cdk synth`, not production.
    const config = parseOrganisationConfig(JSON.parse(readFileSync(configFile, 'utf8')), configFile);
    // What each Lambda bundles: the configuration with its region's public holidays as dates.
    const bundledConfigFile = writeBundledConfig(configFile, holidayYearsAround(new Date()));
    const metricsNamespace = `BackorderWatch/${settings.stage}`;

    const dataKey = props.customerManagedKey
      ? new Key(this, 'DataKey', {
          description: 'Backorder Watch table encryption',
          enableKeyRotation: true,
          removalPolicy: settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        })
      : undefined;
    this.store = new Store(this, 'Store', { retain: settings.retainData, encryptionKey: dataKey });
    this.messaging = new Messaging(this, 'Messaging', { config, senderDomain: props.senderDomain });
    this.deliveryFeedback = new DeliveryFeedback(this, 'DeliveryFeedback', {
      configurationSetName: this.messaging.configurationSetName,
    });

    const webhookSecret = new Secret(this, 'WebhookSecret', {
      description: 'Standard Webhooks secrets shared with the ERP (whsec_…, space-separated while rotating)',
    });
    acknowledge(
      webhookSecret,
      'AwsSolutions-SMG4',
      'Shared with the ERP, which must sign with the new value before the old one is dropped: rotated by hand with both values active in between (docs/deploy.md), which a rotation Lambda cannot coordinate.',
    );
    const decisionSecret = new Secret(this, 'DecisionSecret', {
      description: 'Signs the decision links in customer notices (whsec_…)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    acknowledge(
      decisionSecret,
      'AwsSolutions-SMG4',
      'Links in sent emails stay valid for up to 90 days, so a new key is prepended and the old one kept until those links expire (docs/deploy.md); automatic replacement would break every live link.',
    );

    const fn = (id: string, entry: string, description: string, invocation: Invocation, timeout?: Duration) =>
      new ProjectFunction(this, id, {
        entry,
        description,
        invocation,
        organisationConfigFile: bundledConfigFile,
        timeout,
        logRetention: settings.logRetention,
        environment: { METRICS_NAMESPACE: metricsNamespace },
      });
    const api: Invocation = { kind: 'synchronous', by: 'API Gateway' };
    const workflow: Invocation = { kind: 'synchronous', by: 'Step Functions' };

    const erpEvents = fn('ErpEvents', 'lambdas/handlers/erp-events.ts', 'ERP webhook ingest', api);
    erpEvents.bindTable(this.store.table, SAVE_COUNTED);
    erpEvents.bindSecret(webhookSecret, 'WEBHOOK_SECRET');

    const read = fn('BackordersRead', 'lambdas/handlers/backorders-read.ts', "Operators' read API", api);
    // Query: the timeline under a record's key, and the byStatus index for lists.
    read.bindTable(this.store.table, { actions: ['GetItem', 'Query'], indexes: ['byStatus'] });

    const decisions = fn('Decisions', 'lambdas/handlers/decisions.ts', "Customers' decision pages", api);
    decisions.bindTable(this.store.table, SAVE_RECORD);
    decisions.bindSecret(decisionSecret, 'DECISION_SECRET');

    const noticeReviews = fn(
      'NoticeReviews',
      'lambdas/handlers/notice-reviews.ts',
      "Owners' notice review pages",
      api,
    );
    noticeReviews.bindTable(this.store.table, SAVE_RECORD);
    noticeReviews.bindSecret(decisionSecret, 'DECISION_SECRET');

    const openApi = fn('OpenApi', 'lambdas/handlers/openapi.ts', 'OpenAPI document', api);

    const step = fn(
      'TimerStep',
      'lambdas/handlers/timer-step.ts',
      'Performs what a backorder is owed',
      workflow,
      Duration.seconds(30),
    );
    step.bindTable(this.store.table, { actions: [...new Set([...SAVE_COUNTED.actions, ...TEXT_QUEUE])] });
    step.bindSecret(decisionSecret, 'DECISION_SECRET');
    this.messaging.grantSendEmail(step.function);

    const textBatch = fn(
      'TextBatch',
      'lambdas/handlers/text-batch.ts',
      "Sends a person's queued texts as one",
      workflow,
    );
    textBatch.bindTable(this.store.table, { actions: TEXT_QUEUE });
    this.messaging.alerts.grantPublish(textBatch.function);
    // Past a person's daily allowance of texts, their alerts go by email.
    this.messaging.grantSendEmail(textBatch.function);
    textBatch.function.addEnvironment('ALERTS_TOPIC_ARN', this.messaging.alerts.topicArn);
    const textBatches = new TextBatches(this, 'TextBatches', {
      send: textBatch.function,
      logRetention: settings.logRetention,
    });
    textBatches.grantSchedule(step.function);

    const failure = fn(
      'TimerFailure',
      'lambdas/handlers/timer-failure.ts',
      'Reports a failed backorder timer',
      workflow,
    );
    failure.bindTable(this.store.table, SAVE_RECORD);
    this.messaging.grantSendEmail(failure.function);

    const sesEvents = fn(
      'SesEvents',
      'lambdas/handlers/ses-events.ts',
      'Records SES delivery feedback on customer notices',
      { kind: 'asynchronous', deadLetterQueue: this.deliveryFeedback.deadLetterQueue },
    );
    sesEvents.bindTable(this.store.table, SAVE_COUNTED);
    this.messaging.grantSendEmail(sesEvents.function);
    this.deliveryFeedback.deliverTo(sesEvents.function);

    this.workflow = new Workflow(this, 'Workflow', {
      step: step.function,
      failure: failure.function,
      logRetention: settings.logRetention,
    });
    for (const starter of [erpEvents, decisions, noticeReviews])
      this.workflow.grantHandOver(starter.function);

    const review = fn('Review', 'lambdas/handlers/review.ts', 'The morning review for operators', api);
    review.bindTable(this.store.table, READ_REVIEW);
    const insights = fn('Insights', 'lambdas/handlers/insights.ts', 'Backorder insights', api);
    insights.bindTable(this.store.table, { actions: ['Query'] });
    const safetyStock = fn(
      'SafetyStock',
      'lambdas/handlers/safety-stock.ts',
      'Safety-stock suggestions from SKU demand and mill delays',
      api,
    );
    // Query only: the SKU index, each SKU's demand periods and the insight counters.
    safetyStock.bindTable(this.store.table, { actions: ['Query'] });

    this.api = new Api(this, 'Api', {
      review: review.function,
      insights: insights.function,
      safetyStock: safetyStock.function,
      erpEvents: erpEvents.function,
      backordersRead: read.function,
      decisions: decisions.function,
      noticeReviews: noticeReviews.function,
      openApi: openApi.function,
      corsOrigins: props.corsOrigins,
      accessLogRetention: settings.logRetention,
      operatorThreatProtection: settings.operatorThreatProtection,
      retainOperators: settings.retainData,
    });
    const publicBaseUrl = config.company.publicBaseUrl ?? this.api.httpApi.apiEndpoint;
    step.function.addEnvironment('PUBLIC_BASE_URL', publicBaseUrl);
    review.function.addEnvironment('PUBLIC_BASE_URL', publicBaseUrl);

    const digest = new ProjectFunction(this, 'MorningReviewDigest', {
      entry: 'lambdas/handlers/review.ts',
      exportName: 'scheduledHandler',
      description: 'Emails the morning review on business days',
      invocation: { kind: 'asynchronous', deadLetterQueue: this.deliveryFeedback.deadLetterQueue },
      organisationConfigFile: bundledConfigFile,
      timeout: Duration.minutes(2),
      logRetention: settings.logRetention,
      environment: { METRICS_NAMESPACE: metricsNamespace, PUBLIC_BASE_URL: publicBaseUrl },
    });
    digest.bindTable(this.store.table, { ...READ_REVIEW, actions: [...READ_REVIEW.actions, 'PutItem'] });
    this.messaging.grantSendEmail(digest.function);
    new FunctionSchedule(this, 'MorningReview', {
      target: digest.function,
      description: 'The morning review of open backorders',
      schedule: workingDaysAt(config.morningReview.time, config.company.timeZone, config.businessHours.days),
    });

    const watchdog = fn(
      'NoticeWatchdog',
      'lambdas/handlers/notice-watchdog.ts',
      'Hands lines whose customer notice is overdue to their timer again',
      { kind: 'asynchronous', deadLetterQueue: this.deliveryFeedback.deadLetterQueue },
      Duration.minutes(1),
    );
    // The sparse index of unsent notices, then each line's record.
    watchdog.bindTable(this.store.table, { actions: ['GetItem'], indexes: ['byNoticeDeadline'] });
    this.workflow.grantHandOver(watchdog.function);
    new FunctionSchedule(this, 'NoticeWatchdogSchedule', {
      target: watchdog.function,
      description: 'Customer notices unsent past their deadline',
      schedule: ScheduleExpression.rate(WATCHDOG_EVERY),
      // The next run, ten minutes on, is the retry.
      retryAttempts: 0,
    });

    this.observability = new Observability(this, 'Observability', {
      stateMachine: this.workflow.stateMachine,
      functions: {
        ErpEvents: erpEvents.function,
        BackordersRead: read.function,
        Decisions: decisions.function,
        NoticeReviews: noticeReviews.function,
        OpenApi: openApi.function,
        TimerStep: step.function,
        TimerFailure: failure.function,
        SesEvents: sesEvents.function,
        TextBatch: textBatch.function,
        Review: review.function,
        Insights: insights.function,
        SafetyStock: safetyStock.function,
        MorningReviewDigest: digest.function,
        NoticeWatchdog: watchdog.function,
      },
      httpApi: this.api.httpApi,
      alertsTopic: this.messaging.alerts,
      configurationSetName: this.messaging.configurationSetName,
      deadLetterQueues: [this.deliveryFeedback.deadLetterQueue],
      metricsNamespace,
      alarmActions: settings.alarmActions,
      opsEmail: props.opsEmail,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.httpApi.apiEndpoint });
    new CfnOutput(this, 'WebhookSecretArn', { value: webhookSecret.secretArn });
    new CfnOutput(this, 'DecisionSecretArn', { value: decisionSecret.secretArn });
    new CfnOutput(this, 'OperatorsUserPoolId', { value: this.api.operators.userPoolId });
    new CfnOutput(this, 'OperatorsClientId', { value: this.api.operatorsClient.userPoolClientId });
    new CfnOutput(this, 'OpsTopicArn', { value: this.observability.opsTopic.topicArn });
    new CfnOutput(this, 'StoreTableName', { value: this.store.table.tableName });
    new CfnOutput(this, 'SenderIdentity', { value: this.messaging.sender.emailIdentityName });
  }
}
