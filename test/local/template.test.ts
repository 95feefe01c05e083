// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are CloudFormation `${...}` substitutions, not JavaScript templates
import { describe, expect, it } from 'vitest';
import { identitiesFromNames, TemplateResolver } from '#local/template.ts';

/** A trimmed copy of what `cdk synth` writes for a Lambda-backed state machine. */
const template = {
  Parameters: {
    Stage: { Type: 'String', Default: 'dev' },
  },
  Mappings: {
    Sizes: { dev: { memory: 256 }, prod: { memory: 1024 } },
  },
  Conditions: {
    IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
    IsNotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
  },
  Resources: {
    Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'backorders' } },
    Topic: { Type: 'AWS::SNS::Topic' },
    Plan: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Environment: {
          Variables: {
            TABLE_NAME: { Ref: 'Table' },
            TABLE_ARN: { 'Fn::GetAtt': ['Table', 'Arn'] },
            TOPIC: { Ref: 'Topic' },
            WHERE: { 'Fn::Sub': '${AWS::Region}/${AWS::AccountId}/${Table}/${Table.Arn}/${!Literal}' },
            MEMORY: { 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'memory'] },
            MODE: { 'Fn::If': ['IsNotProd', 'relaxed', 'strict'] },
          },
        },
      },
      Metadata: { 'Local::Handler': { entry: 'lambdas/handlers/plan.ts', export: 'handler' } },
    },
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: {
          'Fn::Join': [
            '',
            [
              '{"StartAt":"Plan","States":{"Plan":{"Type":"Task","Resource":"arn:',
              { Ref: 'AWS::Partition' },
              ':states:::lambda:invoke","Parameters":{"FunctionName":"',
              { 'Fn::GetAtt': ['Plan', 'Arn'] },
              '","Payload.$":"$"},"Next":"Notify"},"Notify":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"${TopicArn}","Message.$":"$.message"},"End":true}}}',
            ],
          ],
        },
        DefinitionSubstitutions: { TopicArn: { Ref: 'Topic' } },
      },
    },
  },
};

describe('the template resolver', () => {
  it('turns a state machine DefinitionString into ASL with local ARNs and substitutions', () => {
    const definition = new TemplateResolver(template).stateMachineDefinition('Machine');
    expect(definition).toMatchObject({
      StartAt: 'Plan',
      States: {
        Plan: {
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:Plan' },
        },
        Notify: { Parameters: { TopicArn: 'arn:aws:sns:us-east-1:000000000000:Topic' } },
      },
    });
  });

  it('turns a function environment into plain strings', () => {
    expect(new TemplateResolver(template).functionEnvironment('Plan')).toEqual({
      TABLE_NAME: 'backorders',
      TABLE_ARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/backorders',
      TOPIC: 'arn:aws:sns:us-east-1:000000000000:Topic',
      WHERE:
        'us-east-1/000000000000/backorders/arn:aws:dynamodb:us-east-1:000000000000:table/backorders/${Literal}',
      MEMORY: '256',
      MODE: 'relaxed',
    });
  });

  it('uses the identities and parameters it is given over the local defaults', () => {
    const resolver = new TemplateResolver(template, {
      region: 'eu-west-1',
      parameters: { Stage: 'prod' },
      identities: { Table: { ref: 'test-table-42', attributes: { Arn: 'arn:test' } } },
    });
    expect(resolver.functionEnvironment('Plan')).toMatchObject({
      TABLE_NAME: 'test-table-42',
      TABLE_ARN: 'arn:test',
      MODE: 'strict',
      WHERE: 'eu-west-1/000000000000/test-table-42/arn:test/${Literal}',
    });
  });

  it('resolves references to resources the local runtime created under other names', () => {
    const identities = identitiesFromNames(template, new Map([['Table', 'test-Table']]));
    expect(new TemplateResolver(template, { identities }).functionEnvironment('Plan')).toMatchObject({
      TABLE_NAME: 'test-Table',
      TABLE_ARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/test-Table',
    });
  });

  it('resolves Select, Split, Join over lists and drops AWS::NoValue', () => {
    const resolver = new TemplateResolver(template);
    expect(
      resolver.resolve({
        picked: { 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] },
        joined: { 'Fn::Join': ['-', { 'Fn::Split': [',', 'x,y'] }] },
        gone: { Ref: 'AWS::NoValue' },
        list: ['kept', { Ref: 'AWS::NoValue' }],
        encoded: { 'Fn::Base64': 'hi' },
      }),
    ).toEqual({ picked: 'b', joined: 'x-y', list: ['kept'], encoded: 'aGk=' });
  });

  it('names the path of what it cannot resolve', () => {
    const resolver = new TemplateResolver(template);
    expect(() => resolver.resolve({ a: { 'Fn::ImportValue': 'Shared' } })).toThrow('$.a.Fn::ImportValue');
    expect(() => resolver.resolve({ Ref: 'Missing' })).toThrow('unknown Ref Missing');
    expect(() => resolver.resolve({ 'Fn::GetAtt': ['Table', 'Nope'] })).toThrow('no attribute Nope');
  });

  it('lists resources by type', () => {
    const resolver = new TemplateResolver(template);
    expect(resolver.resources('AWS::Lambda::Function').map(([id]) => id)).toEqual(['Plan']);
    expect(resolver.identity('Machine')).toEqual({
      ref: 'arn:aws:states:us-east-1:000000000000:stateMachine:Machine',
      attributes: { Arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Machine', Name: 'Machine' },
    });
  });
});
