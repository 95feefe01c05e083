import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '#adapters/logger.ts';
import { loadOrganisation } from '#adapters/organisation.ts';
import { parseSecrets } from '#adapters/webhook-signature.ts';
import { WorkflowStarter } from '#adapters/workflow-starter.ts';
import { localClientConfig } from '#local/http-service.ts';
import { delayed } from '#test/support/erp-events.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';
import { SAMPLE_CONFIG_FILE } from '#test/support/organisation.ts';
import { signedHeaders, TEST_SECRET } from '#test/support/signing.ts';

/*
 * The notice watchdog on the whole local system: a line whose hand-off to the timer failed (and
 * whose ERP never retried) gets its customer notice once the watchdog finds it overdue, exactly
 * once, and the watchdog's metric says so on every run.
 */

// Tuesday 2026-03-10, 14:10 in Chicago.
const START = '2026-03-10T19:10:00Z';
const KEY = { orderId: 'SO-STRANDED', lineId: '1' };
let system: TestSystem;
const metricLines: string[] = [];

beforeAll(async () => {
  system = await startTestSystem(START);
}, 180_000);

afterAll(async () => {
  await system?.stop();
});

// The handler modules read their environment on import, which the local system sets once it runs.
async function watchdog() {
  const { createNoticeWatchdog } = await import('#handlers/notice-watchdog.ts');
  return createNoticeWatchdog({
    store: system.store,
    workflow: new WorkflowStarter(system.sfn, system.timerArn),
    logger: createLogger({ service: 'notice-watchdog', write: (line) => metricLines.push(line) }),
    now: () => system.local.clock.now(),
  });
}

async function noticesTo(orderId: string) {
  return (await system.outbox()).emails.filter((email) => email.subject.includes(orderId));
}

describe('a line whose timer never started', () => {
  let deadline = '';

  it('is saved by an ingest whose hand-off fails, with no timer and no notice', async () => {
    // Prepare: the ingest with a Step Functions it cannot reach.
    const { createErpEventsHandler } = await import('#handlers/erp-events.ts');
    const stranded = createErpEventsHandler({
      store: system.store,
      workflow: new WorkflowStarter(
        new SFNClient({ ...localClientConfig('http://127.0.0.1:9'), maxAttempts: 1 }),
        system.timerArn,
      ),
      secrets: parseSecrets(TEST_SECRET),
      rules: loadOrganisation(SAMPLE_CONFIG_FILE).policy,
      now: () => system.local.clock.now(),
    });
    const payload = JSON.stringify(delayed('2026-03-10T14:05:00-05:00', '2026-03-22', KEY));

    // Act: the ERP gives up after the 503.
    const answer = (await stranded(
      {
        headers: signedHeaders(payload, { id: 'msg_stranded', at: system.local.clock.now() }),
        body: payload,
        isBase64Encoded: false,
      } as unknown as APIGatewayProxyEventV2,
      {} as Context,
    )) as APIGatewayProxyStructuredResultV2;
    await system.advance('PT1H');

    // Assess
    expect(answer.statusCode).toBe(503);
    const record = await system.store.get(KEY);
    expect(record?.notices.map((notice) => notice.status)).toEqual(['pending']);
    deadline = record?.notices[0]?.deadline ?? '';
    const executions = await system.sfn.send(new ListExecutionsCommand({ stateMachineArn: system.timerArn }));
    expect(executions.executions?.filter((execution) => execution.name?.startsWith('SO-STRANDED'))).toEqual(
      [],
    );
    expect(await noticesTo('SO-STRANDED')).toEqual([]);
  });

  it('is left alone until 15 minutes past its notice deadline', async () => {
    // Prepare
    await system.advanceTo(new Date(Date.parse(deadline) + 14 * 60_000).toISOString());

    // Act
    const report = await (await watchdog())();

    // Assess
    expect(report).toEqual({ overdue: 0, handedOver: 0, oldestOverdueMinutes: 0 });
    expect(metricLines.at(-1)).toContain('"OverdueUnsentNotices":0');
  });

  it('is handed to its timer once overdue, and the customer is told exactly once', async () => {
    // Prepare
    await system.advanceTo(new Date(Date.parse(deadline) + 20 * 60_000).toISOString());

    // Act
    const first = await (await watchdog())();
    await system.advance();
    const second = await (await watchdog())();
    await system.advance('PT1H');

    // Assess
    expect(first).toEqual({ overdue: 1, handedOver: 1, oldestOverdueMinutes: 20 });
    expect(metricLines.at(-2)).toContain('"OverdueUnsentNotices":1');
    expect(second).toEqual({ overdue: 0, handedOver: 0, oldestOverdueMinutes: 0 });
    expect(metricLines.at(-1)).toContain('"OverdueUnsentNotices":0');
    const notices = await noticesTo('SO-STRANDED');
    expect(notices).toHaveLength(1);
    expect(notices[0]?.to).toEqual(['purchasing@lonestarfab.example']);
    expect((await system.store.get(KEY))?.notices.map((notice) => notice.status)).toEqual(['sent']);
  });
});
