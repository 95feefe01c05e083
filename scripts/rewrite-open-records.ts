import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BackorderStore } from '#adapters/backorder-store.ts';

/**
 * `TABLE_NAME=<table> npm run rewrite-open-records`: writes every open backorder again as this
 * version stores it (its morning-review entry item, the attributes of indexes added since). Run
 * it once after upgrading a deployment whose data predates them (docs/deploy.md); running it again
 * changes nothing. Uses the usual AWS credentials and region, or `AWS_ENDPOINT_URL_DYNAMODB` for
 * DynamoDB Local.
 */

const tableName = process.env.TABLE_NAME;
if (!tableName) {
  console.error('usage: TABLE_NAME=<the stack output StoreTableName> npm run rewrite-open-records');
  process.exit(2);
}
const store = new BackorderStore(new DynamoDBClient({}), tableName);
const { written, changedMeanwhile } = await store.rewriteOpenRecords();
console.log(
  `${written} open backorders written again; ${changedMeanwhile} changed meanwhile and were written by that change.`,
);
