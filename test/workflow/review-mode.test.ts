import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delayed } from '#test/support/erp-events.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';

/*
 * Review mode on the local system: the owner reviews the notice first, is warned when three of
 * the four business hours have passed, and the notice goes out at the SLA deadline at the latest,
 * here across a weekend and Martin Luther King Jr. Day.
 */

// Friday 2026-01-16, 16:30 in Chicago.
const START = '2026-01-16T22:30:00Z';
const OWNER = 'dana.ortiz@svc.example';
const CUSTOMER = 'purchasing@lonestarfab.example';
const MANAGER = 'priya.raman@svc.example';
let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem(START, 'test/fixtures/config/review-mode.json');
}, 180_000);

afterAll(async () => {
  await system?.stop();
});

const to = async (address: string) =>
  (await system.outbox()).emails.filter((email) => email.to.includes(address));

describe('a notice in review mode', () => {
  it('asks the owner to review it at once and tells the customer nothing yet', async () => {
    await system.post(delayed('2026-01-16T16:30:00-06:00', '2026-01-30', { originalShipDate: '2026-01-20' }));
    await system.advance();

    expect(await to(OWNER)).toHaveLength(1);
    expect(await to(CUSTOMER)).toHaveLength(0);
  });

  it('warns the owner after three business hours: Tuesday 10:30, past the weekend and the holiday', async () => {
    await system.advanceTo('2026-01-20T16:29:00Z');
    expect(await to(OWNER)).toHaveLength(1);

    await system.advanceTo('2026-01-20T16:31:00Z');
    const owner = await to(OWNER);
    expect(owner).toHaveLength(2);
    expect(owner[1]?.at).toBe('2026-01-20T16:30:00.000Z');
  });

  it('sends the notice itself at the deadline, Tuesday 11:30, flagged, and tells the manager', async () => {
    await system.advanceTo('2026-01-20T17:31:00Z');

    const customer = await to(CUSTOMER);
    expect(customer).toHaveLength(1);
    expect(customer[0]?.at).toBe('2026-01-20T17:30:00.000Z');
    expect(await to(MANAGER)).toHaveLength(1);
    const { body } = await system.get('/v1/backorders/SO-10042/3');
    expect(body.notices).toEqual([expect.objectContaining({ status: 'sent', autoSent: true })]);
  });
});
