import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delayed } from '#test/support/erp-events.ts';
import { startTestSystem, type TestSystem } from '#test/support/local-system.ts';

/*
 * Review mode on the local system, following the links in the emails as people would: the owner
 * opens the review link, edits the alternatives, saves, then approves, and the customer hears at
 * once, with the alternatives as edited; the deadline then passes without a second notice.
 */

// Monday 2026-03-09, 09:00 in Chicago (CDT since the day before).
const START = '2026-03-09T14:00:00Z';
const OWNER = 'dana.ortiz@svc.example';
const CUSTOMER = 'purchasing@lonestarfab.example';
const MANAGER = 'priya.raman@svc.example';
let system: TestSystem;
let reviewUrl: string;

beforeAll(async () => {
  system = await startTestSystem(START, 'test/fixtures/config/review-mode.json');
}, 180_000);

afterAll(async () => {
  await system?.stop();
});

const to = async (address: string) =>
  (await system.outbox()).emails.filter((email) => email.to.includes(address));

async function submit(url: string, fields: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, html: await response.text() };
}

/** The form as the page fills it for the fixture's one alternative, plus the two blank rows. */
const FORM = {
  'id-0': 'ALT-1',
  'description-0': '3/16" HRC from alternate source',
  'shipDate-0': '2026-03-11',
  'price-0': '12',
  'currency-0': 'USD',
  'per-0': 'ton',
  'id-1': '',
  'description-1': '',
  'shipDate-1': '',
  'price-1': '',
  'currency-1': 'USD',
  'per-1': '',
};
/** The owner's edits: the first alternative repriced, a second one added. */
const EDITED = {
  'price-0': '10',
  'description-1': 'Cut from 1/4" plate',
  'shipDate-1': '2026-03-13',
  'price-1': '-4.50',
  'per-1': 'cwt',
};

describe("an owner's review of a notice", () => {
  it('emails the owner a review link whose page shows the notice and its alternatives, changing nothing', async () => {
    await system.post(delayed('2026-03-09T09:00:00-05:00', '2026-03-30', { originalShipDate: '2026-03-16' }));
    await system.advance();
    const [request] = await to(OWNER);
    const url = /https?:\/\/\S+\/v1\/reviews\/[\w.-]+/.exec(request?.text ?? '')?.[0];
    expect(url).toBeDefined();
    reviewUrl = url ?? '';

    const page = await fetch(reviewUrl);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('Review the notice about SO-10042 line 3');
    expect(html).toContain('value="3/16&quot; HRC from alternate source"');
    expect(html).toContain('Approve and send now');
    expect(await to(CUSTOMER)).toHaveLength(0);
  });

  it('refuses a form with errors, naming each, and saves nothing', async () => {
    const { status, html } = await submit(reviewUrl, {
      ...FORM,
      action: 'save',
      'price-0': 'twelve',
      'description-1': 'Cut from 1/4" plate',
    });
    expect(status).toBe(400);
    expect(html).toContain('enter the price difference as a number');
    expect(html).toContain('expected a date as YYYY-MM-DD');
    const { body } = await system.get('/v1/backorders/SO-10042/3');
    expect(body.notices).toEqual([expect.not.objectContaining({ alternatives: expect.anything() })]);
  });

  it('saves edited and added alternatives without telling the customer yet', async () => {
    const { status } = await submit(reviewUrl, { ...FORM, ...EDITED, action: 'save' });
    expect(status).toBe(200);
    await system.advance('PT5M');
    expect(await to(CUSTOMER)).toHaveLength(0);
    const { body } = await system.get('/v1/backorders/SO-10042/3');
    expect(body.notices).toEqual([
      expect.objectContaining({
        status: 'pending',
        alternatives: [
          expect.objectContaining({ id: 'ALT-1', priceDelta: { amount: 10, currency: 'USD', per: 'ton' } }),
          expect.objectContaining({ id: 'A', description: 'Cut from 1/4" plate', shipDate: '2026-03-13' }),
        ],
      }),
    ]);
  });

  it('sends the notice at once on approval, offering the alternatives as edited, one link each', async () => {
    const page = await fetch(reviewUrl);
    expect(await page.text()).toContain('value="Cut from 1/4&quot; plate"');

    const { status, html } = await submit(reviewUrl, { ...FORM, ...EDITED, action: 'approve' });
    expect(status).toBe(200);
    expect(html).toContain('Approved: the notice is on its way');
    await system.advance();

    const [notice, ...more] = await to(CUSTOMER);
    expect(more).toHaveLength(0);
    expect(notice?.at).toBe('2026-03-09T14:05:00.000Z');
    expect(notice?.text).toContain('Cut from 1/4" plate');
    expect(notice?.text).toContain('Price difference: +$10.00/ton');
    expect(notice?.text.match(/\/v1\/decisions\//g)).toHaveLength(3);
  });

  it('sends nothing more at the deadline and tells the manager nothing: the owner approved it', async () => {
    await system.advanceTo('2026-03-09T19:30:00Z');
    expect(await to(CUSTOMER)).toHaveLength(1);
    expect(await to(MANAGER)).toHaveLength(0);
    const { body } = await system.get('/v1/backorders/SO-10042/3');
    expect(body.notices).toEqual([
      expect.objectContaining({ status: 'sent', approvedAt: '2026-03-09T14:05:00.000Z' }),
    ]);
    expect(body.notices).toEqual([expect.not.objectContaining({ autoSent: true })]);
  });

  it('answers the link once the notice is out with what happened, and changes nothing on a POST', async () => {
    const page = await fetch(reviewUrl);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('This notice has already gone out');
    const { status } = await submit(reviewUrl, { ...FORM, action: 'approve' });
    expect(status).toBe(410);
    expect(await to(CUSTOMER)).toHaveLength(1);
  });

  it('refuses a forged link with 400', async () => {
    const forged = reviewUrl.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A'));
    expect((await fetch(forged)).status).toBe(400);
  });
});
