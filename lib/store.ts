import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface StoreProps {
  /** Keep the table (and refuse to delete it) when the stack goes away. @default false */
  readonly retain?: boolean;
  /**
   * Encrypt with this customer-managed key, for organisations that must control or audit key use;
   * the functions' table grants then include the key.
   * @default an AWS-managed key
   */
  readonly encryptionKey?: IKey;
}

/**
 * One table holds every backorder, its timeline entries and the webhook idempotency records.
 * The key design is documented in docs/data-model.md.
 */
export class Store extends Construct {
  public readonly table: Table;

  constructor(scope: Construct, id: string, props: StoreProps = {}) {
    super(scope, id);
    const retain = props.retain ?? false;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: TableEncryption.AWS_MANAGED }),
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Lists backorders by status, newest first, without a scan.
    this.table.addGlobalSecondaryIndex({
      indexName: 'byStatus',
      partitionKey: { name: 'statusKey', type: AttributeType.STRING },
      sortKey: { name: 'statusSort', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    // Sparse: open lines with an unsent customer notice, by its deadline, for the notice watchdog.
    this.table.addGlobalSecondaryIndex({
      indexName: 'byNoticeDeadline',
      partitionKey: { name: 'noticePending', type: AttributeType.STRING },
      sortKey: { name: 'noticeDeadline', type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });
  }
}
