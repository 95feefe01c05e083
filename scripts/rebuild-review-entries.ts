import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BackorderStore } from '#adapters/backorder-store.ts';

/**
 * `TABLE_NAME=<table> npm run rebuild-review-entries`: writes the morning review's entry of every
 * open backorder from its record. Run it once after upgrading a deployment whose records predate
 * review entry items (docs/deploy.md); running it again changes nothing. Uses the usual AWS
 * credentials and region, or `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local.
 */

const tableName = process.env.TABLE_NAME;
if (!tableName) {
  console.error('usage: TABLE_NAME=<the stack output StoreTableName> npm run rebuild-review-entries');
  process.exit(2);
}
const store = new BackorderStore(new DynamoDBClient({}), tableName);
const { written, changedMeanwhile } = await store.rebuildReviewEntries();
console.log(
  `${written} open backorders' review entries written; ${changedMeanwhile} changed meanwhile and wrote their own.`,
);
