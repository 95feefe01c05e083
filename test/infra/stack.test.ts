import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { BackorderWatchStack, type BackorderWatchStackProps } from '#lib/backorder-watch-stack.ts';

function synth(stage: string, props: Omit<BackorderWatchStackProps, 'stage'> = {}): Template {
  // Bundling is esbuild's job at deploy time; these tests read the template only.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new BackorderWatchStack(app, `Test-${stage}`, { stage, ...props }));
}

let dev: Template;
let prod: Template;
beforeAll(() => {
  dev = synth('dev');
  prod = synth('prod');
});

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** The logical id of the function whose handler module is `entry`. */
function functionId(template: Template, entry: string): string {
  const functions = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
  const found = Object.entries(functions).find(
    ([, fn]) => (fn.Metadata?.['Local::Handler'] as { entry?: string } | undefined)?.entry === entry,
  );
  if (!found) throw new Error(`no function runs ${entry}`);
  return found[0];
}

/** The logical id of the role a function (or state machine) assumes. */
function roleOf(template: Template, logicalId: string): string {
  const resource = template.toJSON().Resources[logicalId] as Resource;
  const role = (resource.Properties.Role ?? resource.Properties.RoleArn) as {
    'Fn::GetAtt': [string, string];
  };
  return role['Fn::GetAtt'][0];
}

/** Every statement of every policy attached to a role. */
function statementsOf(template: Template, roleId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
  }) as Record<string, Resource>;
  return Object.values(policies).flatMap(
    (policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );
}

/** The backorder timer's logical id (the text batches have a state machine of their own). */
function timerId(): string {
  const [id = ''] = Object.keys(dev.findResources('AWS::StepFunctions::StateMachine')).filter((key) =>
    key.startsWith('WorkflowBackorderTimer'),
  );
  return id;
}

function actionsOf(statements: Statement[]): string[] {
  return [...new Set(statements.flatMap((statement) => [statement.Action].flat()))].sort();
}

function handlerStatements(entry: string, template: Template = dev): Statement[] {
  return statementsOf(template, roleOf(template, functionId(template, entry)));
}

const OWN_LOGS_AND_TRACES = [
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];
const READ_SECRET = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
const HAND_OVER = ['states:DescribeExecution', 'states:StartExecution', 'states:StopExecution'];
const SAVE = ['dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'];
/** Saving while keeping the insight counters: `ADD` on counter items in the same transaction. */
const SAVE_COUNTED = [...SAVE, 'dynamodb:UpdateItem'];
const TABLE_ARN = { 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreTable'), 'Arn'] };

describe('the backorder table', () => {
  it('keeps point-in-time recovery and expires idempotency records by TTL', () => {
    dev.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
      GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: 'byStatus' })]),
    });
  });

  it('is retained and deletion-protected in prod only', () => {
    prod.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    const tables = dev.findResources('AWS::DynamoDB::Table');
    expect(Object.values(tables).map((r) => r.DeletionPolicy)).toEqual(['Delete']);
  });

  it('is encrypted with a rotating customer-managed key when asked to be, which the handlers may use', () => {
    const withKey = synth('dev', { customerManagedKey: true });
    withKey.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    withKey.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
    const actions = actionsOf(handlerStatements('lambdas/handlers/ses-events.ts', withKey));
    expect(actions).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']));
    expect(actions.some((action) => action.includes('*'))).toBe(false);
  });
});

describe('the Lambdas', () => {
  it('all run Node 24 on ARM64 with JSON logs and name their handler module for the local runtime', () => {
    const functions = Object.values(dev.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Metadata?.['Local::Handler'],
    );
    expect(functions.length).toBe(14);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        LoggingConfig: { LogFormat: 'JSON' },
        TracingConfig: { Mode: 'Active' },
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) },
      });
      expect(fn.Metadata['Local::Handler'].entry).toMatch(/^lambdas\/handlers\/[\w-]+\.ts$/);
    }
  });

  it('reads webhook secrets from Secrets Manager, never from a plain variable', () => {
    dev.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ WEBHOOK_SECRET_ARN: { Ref: Match.stringLikeRegexp('WebhookSecret') } }),
      },
    });
    const variables = Object.values(dev.findResources('AWS::Lambda::Function')).flatMap((fn) =>
      Object.keys(fn.Properties.Environment?.Variables ?? {}),
    );
    expect(variables).not.toContain('WEBHOOK_SECRET');
    expect(variables).not.toContain('DECISION_SECRET');
  });

  it('keep their logs for a week in dev and three months in prod, masking addresses and phone numbers', () => {
    const retention = (template: Template) =>
      new Set(
        Object.values(template.findResources('AWS::Logs::LogGroup')).map((g) => g.Properties.RetentionInDays),
      );
    expect(retention(dev)).toEqual(new Set([7]));
    expect(retention(prod)).toEqual(new Set([90]));
    const functionLogs = Object.entries(dev.findResources('AWS::Logs::LogGroup')).filter(([id]) =>
      /^(ErpEvents|BackordersRead|Decisions|NoticeReviews|OpenApi|TimerStep|TimerFailure|SesEvents|TextBatch|Review|Insights|SafetyStock|MorningReviewDigest|NoticeWatchdog)Logs/.test(
        id,
      ),
    );
    expect(functionLogs).toHaveLength(14);
    for (const [, group] of functionLogs) {
      const policy = JSON.stringify(group.Properties.DataProtectionPolicy);
      expect(policy).toContain(':dataprotection::aws:data-identifier/EmailAddress');
      expect(policy).toContain(':dataprotection::aws:data-identifier/PhoneNumber-US');
      expect(policy).toContain('Deidentify');
    }
  });
});

describe('least privilege', () => {
  it('gives no function an AWS managed policy', () => {
    for (const role of Object.values(dev.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('grants "*" to X-Ray only, which has no resource-level permissions', () => {
    for (const entry of [
      'erp-events',
      'backorders-read',
      'decisions',
      'openapi',
      'timer-step',
      'timer-failure',
      'ses-events',
      'text-batch',
      'review',
      'insights',
      'safety-stock',
    ]) {
      const everywhere = handlerStatements(`lambdas/handlers/${entry}.ts`).filter((s) => s.Resource === '*');
      expect(actionsOf(everywhere), entry).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });

  it('lets the ERP ingest read and save records, read the webhook secret and hand over to the timer', () => {
    const statements = handlerStatements('lambdas/handlers/erp-events.ts');
    expect(actionsOf(statements)).toEqual(
      [...OWN_LOGS_AND_TRACES, ...SAVE_COUNTED, ...READ_SECRET, ...HAND_OVER].sort(),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: READ_SECRET.slice().reverse(),
        Resource: { Ref: expect.stringMatching(/^WebhookSecret/) },
      }),
    );
  });

  it('lets the read API get and query (byStatus only), never write', () => {
    const statements = handlerStatements('lambdas/handlers/backorders-read.ts');
    expect(actionsOf(statements)).toEqual(
      [...OWN_LOGS_AND_TRACES, 'dynamodb:GetItem', 'dynamodb:Query'].sort(),
    );
    dev.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleOf(dev, functionId(dev, 'lambdas/handlers/backorders-read.ts')) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'dynamodb:Query',
            Resource: { 'Fn::Join': ['', [TABLE_ARN, '/index/byStatus']] },
          }),
        ]),
      },
    });
  });

  it('lets the decision pages save records, read the decision secret and hand over to the timer', () => {
    const statements = handlerStatements('lambdas/handlers/decisions.ts');
    expect(actionsOf(statements)).toEqual(
      [...OWN_LOGS_AND_TRACES, ...SAVE, ...READ_SECRET, ...HAND_OVER].sort(),
    );
    const secrets = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(secrets.map((s) => s.Resource)).toEqual([{ Ref: expect.stringMatching(/^DecisionSecret/) }]);
  });

  it('limits hand-over to starting this state machine and describing or stopping its own executions', () => {
    const roleId = roleOf(dev, functionId(dev, 'lambdas/handlers/erp-events.ts'));
    dev.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'states:StartExecution',
            Resource: { Ref: Match.stringLikeRegexp('^WorkflowBackorderTimer') },
          }),
          Match.objectLike({
            Action: ['states:DescribeExecution', 'states:StopExecution'],
            Resource: {
              'Fn::Join': [
                '',
                Match.arrayWith([
                  ':execution:',
                  { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkflowBackorderTimer'), 'Name'] },
                  ':*',
                ]),
              ],
            },
          }),
        ]),
      },
    });
  });

  it('lets the timer step read and write records, queue texts, start text batches, continue its own timer and email through the configuration set', () => {
    const statements = handlerStatements('lambdas/handlers/timer-step.ts');
    expect(actionsOf(statements)).toEqual(
      [
        ...OWN_LOGS_AND_TRACES,
        ...SAVE_COUNTED,
        'dynamodb:Query',
        ...READ_SECRET,
        'states:StartExecution',
        'states:DescribeExecution',
        'ses:SendEmail',
      ].sort(),
    );
    const email = statements.find((s) => s.Action === 'ses:SendEmail');
    expect(JSON.stringify(email?.Resource)).toMatch(/:identity\/.*Ref":"MessagingSender/);
    expect(JSON.stringify(email?.Resource)).toMatch(/:configuration-set\/.*Ref":"MessagingNotices/);
    // Text batches, and a continuation of its own timer (by name: a Ref would be a cycle).
    const starts = JSON.stringify(
      statements.filter((s) => s.Action === 'states:StartExecution').map((s) => s.Resource),
    );
    expect(starts).toMatch(/\{"Ref":"TextBatchesTextBatch/);
    expect(starts).toMatch(/:stateMachine:Test-dev-BackorderTimer"\]\]\}/);
    const continuations = statements.find((s) => s.Action === 'states:DescribeExecution');
    expect(JSON.stringify(continuations?.Resource)).toMatch(/:execution:Test-dev-BackorderTimer:\*"\]\]\}$/);
  });

  it('lets only the text batch publish texts, to the alerts topic, and email past the daily allowance', () => {
    const statements = handlerStatements('lambdas/handlers/text-batch.ts');
    expect(actionsOf(statements)).toEqual(
      [
        ...OWN_LOGS_AND_TRACES,
        'dynamodb:ConditionCheckItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'ses:SendEmail',
        'sns:Publish',
      ].sort(),
    );
    const texts = statements.find((s) => s.Action === 'sns:Publish');
    expect(texts?.Resource).toEqual({ Ref: expect.stringMatching(/^MessagingAlerts/) });
  });

  it('lets the timer failure save records and email, nothing else', () => {
    expect(actionsOf(handlerStatements('lambdas/handlers/timer-failure.ts'))).toEqual(
      [...OWN_LOGS_AND_TRACES, ...SAVE, 'ses:SendEmail'].sort(),
    );
  });

  it('lets the delivery-feedback handler save records, email owners and dead-letter what it cannot handle', () => {
    const statements = handlerStatements('lambdas/handlers/ses-events.ts');
    expect(actionsOf(statements)).toEqual(
      [
        ...OWN_LOGS_AND_TRACES,
        ...SAVE_COUNTED,
        'ses:SendEmail',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
    const queue = statements.find((s) => [s.Action].flat().includes('sqs:SendMessage'));
    expect(queue?.Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^DeliveryFeedbackDeadLetters/), 'Arn'],
    });
  });

  it('lets the notice watchdog query the unsent-notice index, get records, hand over to the timer and dead-letter a failed run', () => {
    const statements = handlerStatements('lambdas/handlers/notice-watchdog.ts');
    expect(actionsOf(statements)).toEqual(
      [
        ...OWN_LOGS_AND_TRACES,
        'dynamodb:GetItem',
        'dynamodb:Query',
        ...HAND_OVER,
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
    const query = statements.find((s) => s.Action === 'dynamodb:Query');
    expect(JSON.stringify(query?.Resource)).toMatch(
      /^\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["StoreTable\w+","Arn"\]\},"\/index\/byNoticeDeadline"\]\]\}$/,
    );
  });

  it('lets the safety-stock suggestions query the table and nothing more', () => {
    expect(actionsOf(handlerStatements('lambdas/handlers/safety-stock.ts'))).toEqual(
      [...OWN_LOGS_AND_TRACES, 'dynamodb:Query'].sort(),
    );
  });

  it('gives the OpenAPI function nothing but its own logs and traces', () => {
    expect(actionsOf(handlerStatements('lambdas/handlers/openapi.ts'))).toEqual(OWN_LOGS_AND_TRACES);
  });

  it('writes each function’s logs to its own log group only', () => {
    const statements = handlerStatements('lambdas/handlers/erp-events.ts');
    const logs = statements.find((s) => [s.Action].flat().includes('logs:PutLogEvents'));
    expect(logs?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ErpEventsLogs/), 'Arn'] });
  });

  it('lets the state machine invoke its two functions and nothing else', () => {
    const machineId = timerId();
    const statements = statementsOf(dev, roleOf(dev, machineId));
    const invoked = statements
      .filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'))
      .flatMap((s) => [s.Resource].flat())
      .map((resource) => JSON.stringify(resource));
    expect(invoked).toHaveLength(4);
    for (const resource of invoked) expect(resource).toMatch(/"(TimerStep|TimerFailure)Function/);
    const other = actionsOf(statements.filter((s) => s.Resource === '*'));
    expect(other.every((action) => /^(logs|xray):/.test(action))).toBe(true);
  });
});

describe('the backorder timer', () => {
  it('waits on the timestamp the step returns, and retries transient failures with jitter', () => {
    const machine = dev.toJSON().Resources[timerId()] as Resource;
    const definition = JSON.stringify(machine?.Properties.DefinitionString);
    expect(definition).toContain('\\"TimestampPath\\":\\"$.wakeAt\\"');
    expect(definition).toContain('\\"JitterStrategy\\":\\"FULL\\"');
    expect(definition).toContain('TransientDeliveryError');
    dev.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: true },
    });
  });
});

describe('the HTTP API', () => {
  it('routes the contract paths, with the operators routes behind the Cognito authorizer', () => {
    const routes = Object.values(dev.findResources('AWS::ApiGatewayV2::Route')).map((route) => [
      route.Properties.RouteKey,
      route.Properties.AuthorizationType ?? 'NONE',
    ]);
    expect(routes).toEqual(
      expect.arrayContaining([
        ['POST /v1/erp/events', 'NONE'],
        ['GET /v1/backorders', 'JWT'],
        ['GET /v1/backorders/{orderId}/{lineId}', 'JWT'],
        ['GET /v1/decisions/{token}', 'NONE'],
        ['POST /v1/decisions/{token}', 'NONE'],
        ['GET /v1/openapi.json', 'NONE'],
        ['GET /v1/review', 'JWT'],
        ['GET /v1/insights', 'JWT'],
        ['GET /v1/safety-stock', 'JWT'],
      ]),
    );
    expect(routes.some(([key]) => String(key).includes('/_local'))).toBe(false);
  });

  it('throttles the stage and writes JSON access logs that name routes, not paths with tokens', () => {
    dev.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('"routeKey":"\\$context.routeKey"'),
      },
    });
    const [stage] = Object.values(dev.findResources('AWS::ApiGatewayV2::Stage'));
    expect(stage?.Properties.AccessLogSettings.Format).not.toContain('$context.path');
  });

  it('keeps CORS closed unless origins are given', () => {
    const [api] = Object.values(dev.findResources('AWS::ApiGatewayV2::Api'));
    expect(api?.Properties.CorsConfiguration).toBeUndefined();
    synth('dev', { corsOrigins: ['https://ops.example.com'] }).hasResourceProperties(
      'AWS::ApiGatewayV2::Api',
      {
        CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://ops.example.com'] }),
      },
    );
  });

  it('signs operators in with TOTP MFA and no self sign-up; prod enforces threat protection', () => {
    dev.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12 }) },
    });
    prod.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
  });
});

describe('texts', () => {
  it('subscribes each configured phone with a filter on its own person id', () => {
    dev.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sms',
      Endpoint: '+15125550101',
      FilterPolicy: { recipient: ['M-1'] },
    });
    expect(Object.keys(dev.findResources('AWS::SNS::Subscription'))).toHaveLength(5);
  });
});

describe('delivery feedback', () => {
  it('publishes bounces, complaints and deliveries of the configuration set to the default event bus', () => {
    dev.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      ConfigurationSetName: { Ref: Match.stringLikeRegexp('^MessagingNotices') },
      EventDestination: {
        Enabled: true,
        EventBridgeDestination: { EventBusArn: Match.anyValue() },
        MatchingEventTypes: ['bounce', 'complaint', 'delivery'],
      },
    });
  });

  it('routes customer notices’ events (tagged with a revision) to the handler, with a dead-letter queue', () => {
    const handler = functionId(dev, 'lambdas/handlers/ses-events.ts');
    dev.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ses'],
        'detail-type': ['Email Bounced', 'Email Complaint Received', 'Email Delivered'],
        detail: { mail: { tags: Match.objectLike({ revision: [{ exists: true }] }) } },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [handler, 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeliveryFeedbackDeadLetters'), 'Arn'] },
          },
        }),
      ],
    });
    dev.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: handler },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeliveryFeedbackDeadLetters'), 'Arn'] },
        },
      },
    });
    dev.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ METRICS_NAMESPACE: 'BackorderWatch/dev' }) },
    });
  });
});

describe('alarms', () => {
  const alarmOn = (namespace: string, metricName: string, extra: Record<string, unknown> = {}) =>
    Match.objectLike({ Namespace: namespace, MetricName: metricName, ...extra });

  it('watch failed, timed-out and throttled timers, handler errors and throttles, and API 5xx', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionThrottled']) {
      dev.hasResourceProperties('AWS::CloudWatch::Alarm', alarmOn('AWS/States', metric, { Threshold: 1 }));
    }
    expect(
      Object.keys(
        dev.findResources('AWS::CloudWatch::Alarm', { Properties: alarmOn('AWS/Lambda', 'Errors') }),
      ),
    ).toHaveLength(14);
    expect(
      Object.keys(
        dev.findResources('AWS::CloudWatch::Alarm', { Properties: alarmOn('AWS/Lambda', 'Throttles') }),
      ),
    ).toHaveLength(14);
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', alarmOn('AWS/ApiGateway', '5xx'));
  });

  it('watch notices still unsent past their deadline on two watchdog runs in a row', () => {
    dev.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      alarmOn('BackorderWatch/dev', 'OverdueUnsentNotices', {
        Statistic: 'Minimum',
        Period: 1200,
        Threshold: 1,
      }),
    );
  });

  it('watch the SES bounce and complaint rates, late notices, dead letters and failed texts', () => {
    dev.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      alarmOn('AWS/SES', 'Reputation.BounceRate', { Threshold: 0.05 }),
    );
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', alarmOn('AWS/SES', 'Reputation.ComplaintRate'));
    dev.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      alarmOn('BackorderWatch/dev', 'NoticesSentAfterDeadline', { Statistic: 'Sum', Threshold: 1 }),
    );
    dev.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      alarmOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible'),
    );
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', alarmOn('AWS/SNS', 'NumberOfNotificationsFailed'));
  });

  it('notify the ops topic in prod and stay quiet in dev', () => {
    const actions = (template: Template) =>
      Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
        (alarm) => alarm.Properties.AlarmActions,
      );
    expect(actions(dev).every((action) => action === undefined)).toBe(true);
    for (const action of actions(prod)) {
      expect(action).toEqual([{ Ref: expect.stringMatching(/^ObservabilityOps/) }]);
    }
  });

  it('are all on the dashboard', () => {
    const [dashboard] = Object.values(dev.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    const alarms = Object.keys(dev.findResources('AWS::CloudWatch::Alarm'));
    for (const alarm of alarms) expect(body).toContain(alarm);
  });
});

describe('stages and configuration', () => {
  it('refuses an unknown stage at synth', () => {
    expect(() => synth('staging')).toThrow(/unknown stage "staging"/);
  });

  it('refuses an invalid organisation configuration at synth, naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'backorder-watch-config-'));
    const file = join(dir, 'organisation.json');
    writeFileSync(file, JSON.stringify({ company: { name: 'X' } }));
    expect(() => synth('dev', { organisationConfigFile: file })).toThrow(/company\.timeZone/);
  });
});

describe('the notice watchdog', () => {
  it('runs every ten minutes, day and night', () => {
    dev.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(10 minutes)',
      Target: Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0 } }),
    });
  });
});

describe('the morning review', () => {
  it('runs on the company’s working days at its local review time', () => {
    dev.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 7 ? * MON,TUE,WED,THU,FRI *)',
      ScheduleExpressionTimezone: 'America/Chicago',
    });
  });
});
