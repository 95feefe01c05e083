import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackorderStore } from '#adapters/backorder-store.ts';
import { Mailer } from '#adapters/mailer.ts';
import { loadOrganisation } from '#adapters/organisation.ts';
import { localClientConfig } from '#local/http-service.ts';
import { closing, delayed } from '#test/support/erp-events.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';
import { SAMPLE_CONFIG_FILE } from '#test/support/organisation.ts';

/*
 * The morning review and insights on the local system: counters kept by the ingest and the
 * timer, read back over the operators' API; the scheduled digest emailed on business days only.
 */

// Monday 2026-03-09, 09:00 in Chicago.
const START = '2026-03-09T14:00:00Z';
let system: TestSystem;
let dynamo: DynamoDBClient;

beforeAll(async () => {
  system = await startTestSystem(START);
  dynamo = new DynamoDBClient(localClientConfig(system.local.dynamoDbEndpoint));
  const mills = [
    { id: 'MILL-7', name: 'Gulf Coast Steel Mill' },
    { id: 'MILL-7', name: 'Gulf Coast Steel Mill' },
    { id: 'MILL-7', name: 'Gulf Coast Steel Mill' },
    { id: 'MILL-7', name: 'Gulf Coast Steel Mill' },
    { id: 'MILL-2', name: 'Great Lakes Plate' },
  ];
  for (const [index, supplier] of mills.entries()) {
    await system.post(
      delayed('2026-03-09T08:30:00-05:00', '2026-03-25', {
        orderId: `SO-${500 + index}`,
        lineId: '1',
        supplier,
      }),
    );
  }
  await system.post(delayed('2026-03-09T08:45:00-05:00', '2026-04-01', { orderId: 'SO-500', lineId: '1' }));
  await system.post(
    closing('backorder.shipped', '2026-03-09T08:50:00-05:00', { orderId: 'SO-504', lineId: '1' }),
  );
  await system.advance('PT5M');
}, 180_000);

afterAll(async () => {
  dynamo?.destroy();
  await system?.stop();
});

describe('insights', () => {
  it('counts backorders by mill and flags the mill behind most of them', async () => {
    const { status, body } = await system.get('/v1/insights?from=2026-03&to=2026-03');

    expect(status).toBe(200);
    expect(JSON.stringify(body)).toContain('MILL-7');
    const flags = body.flags as { kind: string }[];
    expect(flags.map((flag) => flag.kind)).toContain('sourcingProblem');
  });

  it('refuses a malformed month and needs an operator', async () => {
    expect((await system.get('/v1/insights?from=March')).status).toBe(400);
    expect((await system.get('/v1/insights', null)).status).toBe(401);
  });
});

describe('the morning review', () => {
  it('lists the new lines, the slipped one first with why, and the shipped one as closed', async () => {
    const { status, body } = await system.get('/v1/review');

    expect(status).toBe(200);
    const sections = body.sections as { kind: string; rows: { backorderId: string; why: string }[] }[];
    const fresh = sections.find((section) => section.kind === 'new');
    expect(fresh?.rows.map((row) => row.backorderId)).toEqual([
      'SO-500/1',
      'SO-501/1',
      'SO-502/1',
      'SO-503/1',
    ]);
    expect(fresh?.rows[0]?.why).toContain('slipped 2 times');
    const closed = sections.find((section) => section.kind === 'closed');
    expect(closed?.rows.map((row) => row.backorderId)).toEqual(['SO-504/1']);
  });

  it('emails the digest on a business day, and not on a weekend', async () => {
    const { createScheduledReview } = await import('#handlers/review.ts');
    const organisation = loadOrganisation(SAMPLE_CONFIG_FILE);
    const deps = {
      store: new BackorderStore(dynamo, system.local.tableName),
      mailer: new Mailer(
        new SESv2Client(localClientConfig(system.local.ses.endpoint)),
        organisation.config.company.senderEmail,
      ),
      organisation,
      publicBaseUrl: system.url,
      now: () => system.local.clock.now(),
    };
    const review = createScheduledReview(deps);

    expect(await review()).toEqual({ sent: true });
    await system.advanceTo('2026-03-14T13:30:00Z'); // Saturday 07:30
    expect(await review()).toEqual({ sent: false });

    const digests = (await system.outbox()).emails.filter((email) =>
      email.to.includes('sales-ops@svc.example'),
    );
    expect(digests).toHaveLength(1);
    expect(digests[0]?.text).toContain('SO-500');
  });
});
