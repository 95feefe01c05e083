import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BackorderWatchStack } from '#lib/backorder-watch-stack.ts';

function synth(stage: string): Template {
  const app = new App();
  return Template.fromStack(new BackorderWatchStack(app, `Test-${stage}`, { stage }));
}

describe('the backorder table', () => {
  it('keeps point-in-time recovery and expires idempotency records by TTL', () => {
    const template = synth('dev');
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: 'byStatus' })]),
    });
  });

  it('is retained and deletion-protected in prod only', () => {
    synth('prod').hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    const dev = synth('dev').findResources('AWS::DynamoDB::Table');
    expect(Object.values(dev).map((r) => r.DeletionPolicy)).toEqual(['Delete']);
  });
});
