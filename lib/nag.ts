import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag findings accepted on purpose. Every acknowledgement names one rule (or one finding of
 * it) on one construct and its children, and says why it is acceptable there; test/infra/nag.test.ts
 * fails on anything not acknowledged.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges `AwsSolutions-IAM5` for one wildcard resource only, e.g. a state machine's
 * executions, so that any other wildcard in the same policy is still reported. The finding id is
 * built from the resolved resource the way cdk-nag flattens it (`<LogicalId.Attr>`, `<AWS::Region>`),
 * so it follows renamed constructs.
 */
export function acknowledgeWildcardResource(
  policyHolder: IConstruct,
  resource: string,
  reason: string,
): void {
  const flat = flatten(Stack.of(policyHolder).resolve(resource));
  acknowledge(policyHolder, `AwsSolutions-IAM5[Resource::${flat}]`, reason);
}

/** Acknowledges `AwsSolutions-IAM5` for one wildcard action (e.g. `xray:*`-style actions). */
export function acknowledgeWildcardAction(policyHolder: IConstruct, action: string, reason: string): void {
  acknowledge(policyHolder, `AwsSolutions-IAM5[Action::${action}]`, reason);
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    if ('Fn::Join' in node && Array.isArray(node['Fn::Join'])) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if ('Fn::Sub' in node) return flatten(node['Fn::Sub']);
    if ('Fn::GetAtt' in node && Array.isArray(node['Fn::GetAtt'])) {
      const [resource, attribute] = node['Fn::GetAtt'] as unknown[];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if ('Ref' in node) return `<${flatten(node.Ref)}>`;
  }
  return JSON.stringify(node);
}
