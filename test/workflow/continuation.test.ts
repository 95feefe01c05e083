import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionName } from '#adapters/workflow-starter.ts';
import { delayed } from '#test/support/erp-events.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';

/*
 * A backorder open for well over a year, on the local system whose Step Functions ends Standard
 * executions at one year as AWS does: the timer continues as a new execution of the same
 * generation before then, and the owner's reminders carry on. Reminders every 1,000 business
 * hours (about five months) keep the wake-ups few.
 */

const START = '2026-01-05T15:00:00Z';
const OWNER_PHONE = '+15125550117';
let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem(START, 'test/fixtures/config/yearly-timer.json');
}, 180_000);

afterAll(async () => {
  await system?.stop();
});

describe('a timer open for more than a year', () => {
  it('continues as a new execution before the one-year limit, and keeps reminding the owner', async () => {
    await system.post(delayed('2026-01-05T09:00:00-06:00', '2027-09-01', { originalShipDate: '2026-01-12' }));
    await system.advanceTo('2027-06-01T15:00:00Z');

    const { executions = [] } = await system.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: system.timerArn,
      }),
    );
    const base = executionName({ orderId: 'SO-10042', lineId: '3' }, 1);
    const ours = executions
      .filter((execution) => execution.name?.startsWith(base))
      .sort((a, b) => (a.startDate?.getTime() ?? 0) - (b.startDate?.getTime() ?? 0));
    expect(ours.map((execution) => [execution.name, execution.status])).toEqual([
      [base, 'SUCCEEDED'],
      [`${base}-r20261231`, 'RUNNING'],
    ]);

    const reminders = (await system.outbox()).texts.filter(
      (text) => text.to.includes(OWNER_PHONE) && text.audience === 'owner',
    );
    expect(reminders.length).toBeGreaterThanOrEqual(3);
    expect(reminders.at(-1)?.at.slice(0, 4)).toBe('2027');
  }, 300_000);
});
