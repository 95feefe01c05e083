import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { BackorderWatchStack } from '#lib/backorder-watch-stack.ts';

function synth(stage: string): Template {
  // Bundling is esbuild's job at deploy time; these tests read the template only.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new BackorderWatchStack(app, `Test-${stage}`, { stage }));
}

let dev: Template;
beforeAll(() => {
  dev = synth('dev');
});

describe('the backorder table', () => {
  it('keeps point-in-time recovery and expires idempotency records by TTL', () => {
    dev.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({ IndexName: 'byStatus' }),
        Match.objectLike({ IndexName: 'byOwner' }),
      ]),
    });
  });

  it('is retained and deletion-protected in prod only', () => {
    synth('prod').hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    const tables = dev.findResources('AWS::DynamoDB::Table');
    expect(Object.values(tables).map((r) => r.DeletionPolicy)).toEqual(['Delete']);
  });
});

describe('the Lambdas', () => {
  it('all run Node 24 on ARM64 with JSON logs and name their handler module for the local runtime', () => {
    const functions = Object.values(dev.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Metadata?.['Local::Handler'],
    );
    expect(functions.length).toBe(6);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        LoggingConfig: { LogFormat: 'JSON' },
        TracingConfig: { Mode: 'Active' },
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
});

describe('the backorder timer', () => {
  it('waits on the timestamp the step returns, and retries transient failures with jitter', () => {
    const [machine] = Object.values(dev.findResources('AWS::StepFunctions::StateMachine'));
    const definition = JSON.stringify(machine?.Properties.DefinitionString);
    expect(definition).toContain('\\"TimestampPath\\":\\"$.wakeAt\\"');
    expect(definition).toContain('\\"JitterStrategy\\":\\"FULL\\"');
    expect(definition).toContain('TransientDeliveryError');
    dev.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: Match.objectLike({ Level: 'ERROR', IncludeExecutionData: false }),
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
      ]),
    );
    expect(routes.some(([key]) => String(key).includes('/_local'))).toBe(false);
  });

  it('throttles the stage', () => {
    dev.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
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
