import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Store } from '#lib/store.ts';

export interface BackorderWatchStackProps extends StackProps {
  /** `prod` retains data and turns on deletion protection. @default 'dev' */
  readonly stage?: string;
}

export class BackorderWatchStack extends Stack {
  public readonly store: Store;

  constructor(scope: Construct, id: string, props: BackorderWatchStackProps = {}) {
    super(scope, id, props);
    this.store = new Store(this, 'Store', { retain: props.stage === 'prod' });
  }
}
