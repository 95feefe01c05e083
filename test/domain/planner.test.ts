import { describe, expect, it } from 'vitest';
import { applyEvent, type Backorder } from '#domain/backorder.ts';
import type { BackorderEvent } from '#domain/events.ts';
import { parseOrganisationConfig } from '#domain/organisation.ts';
import { actionId, type DueAction, fulfil, outstandingActions, plan } from '#domain/planner.ts';
import { policyFor } from '#domain/policy.ts';
import { closing, delayed } from '#test/support/erp-events.ts';
import { readSampleConfig } from '#test/support/organisation.ts';

const sample = readSampleConfig();
const config = parseOrganisationConfig(sample);
const policy = policyFor(config);
const review = policyFor(
  parseOrganisationConfig({ ...sample, notices: { ...sample.notices, mode: 'review' } }),
);

function replay(...events: BackorderEvent[]): Backorder {
  let record: Backorder | undefined;
  for (const event of events) record = applyEvent(record, event, policy).record;
  if (!record) throw new Error('nothing applied');
  return record;
}

const kinds = (actions: DueAction[]) =>
  actions.map((action) => `${actionId(action)}@${action.dueAt.toISOString()}`);

describe('what a backorder is owed', () => {
  // Tuesday 2026-03-10 14:05 Chicago (CDT, UTC-5).
  const opened = replay(delayed('2026-03-10T14:05:00-05:00', '2026-03-22'));

  it('owes the customer a notice at once, the owner a reminder, and the VP a text at 14 days past original', () => {
    expect(kinds(outstandingActions(opened, policy))).toEqual([
      'customerNotice:1@2026-03-10T19:05:00.000Z',
      // Next action: 18 business hours later is Thursday 14:05; the reminder text waits for no one then.
      'ownerReminder:2026-03-12T19:05:00.000Z@2026-03-12T19:05:00.000Z',
      // 2026-03-29 is a Sunday: the VP text waits for Monday 08:00 Chicago.
      'vpAlert@2026-03-30T13:00:00.000Z',
    ]);
  });

  it('plans what is due now and when to wake next', () => {
    const now = new Date('2026-03-10T19:05:30Z');
    const next = plan(opened, policy, now);
    expect(next.due.map(actionId)).toEqual(['customerNotice:1']);
    expect(next.wakeAt?.toISOString()).toBe('2026-03-12T19:05:00.000Z');
  });

  it('holds a manager text raised at night until business hours start', () => {
    const slipped = replay(
      delayed('2026-03-10T14:05:00-05:00', '2026-03-22'),
      delayed('2026-03-10T21:30:00-05:00', '2026-03-29'),
    );
    const manager = outstandingActions(slipped, policy).find((action) => action.kind === 'managerAlert');
    expect(manager?.dueAt.toISOString()).toBe('2026-03-11T13:00:00.000Z');
  });

  it('owes nothing once closed', () => {
    const closed = replay(
      delayed('2026-03-10T14:05:00-05:00', '2026-03-22'),
      closing('backorder.shipped', '2026-03-11T10:00:00-05:00'),
    );
    expect(outstandingActions(closed, policy)).toEqual([]);
    expect(plan(closed, policy, new Date('2030-01-01T00:00:00Z'))).toEqual({ due: [] });
  });

  it('in review mode asks the owner first, warns after three business hours, and auto-sends at the deadline', () => {
    // Friday 2026-01-16 16:30 Chicago; Monday the 19th is Martin Luther King Jr. Day.
    const record = replay(
      delayed('2026-01-16T16:30:00-06:00', '2026-01-30', { originalShipDate: '2026-01-20' }),
    );
    expect(
      kinds(outstandingActions(record, review)).filter(
        (k) => k.startsWith('notice') || k.startsWith('customer'),
      ),
    ).toEqual([
      'noticeReview:1@2026-01-16T22:30:00.000Z',
      'noticeReviewWarning:1@2026-01-20T16:30:00.000Z',
      'customerNotice:1@2026-01-20T17:30:00.000Z',
    ]);
  });

  it('sends an approved notice at approval rather than at the deadline', () => {
    const record = replay(
      delayed('2026-01-16T16:30:00-06:00', '2026-01-30', { originalShipDate: '2026-01-20' }),
    );
    const approved: Backorder = {
      ...record,
      notices: record.notices.map((n) => ({
        ...n,
        approvedAt: '2026-01-16T22:45:00.000Z',
        reviewRequestedAt: n.learnedAt,
      })),
    };
    const notice = outstandingActions(approved, review).find((action) => action.kind === 'customerNotice');
    expect(notice).toMatchObject({ dueAt: new Date('2026-01-16T22:45:00.000Z'), autoSent: false });
  });
});

describe('recording what was done', () => {
  const at = new Date('2026-03-10T19:06:00Z');

  it('marks a notice sent once, and refuses to record it again', () => {
    const record = replay(delayed('2026-03-10T14:05:00-05:00', '2026-03-22'));
    const [notice] = outstandingActions(record, policy);
    if (!notice) throw new Error('no notice owed');
    const sent = fulfil(record, notice, { at, messageId: 'ses-1' }, policy);

    expect(sent?.notices[0]).toMatchObject({ status: 'sent', sentAt: at.toISOString(), messageId: 'ses-1' });
    expect(sent && fulfil(sent, notice, { at }, policy)).toBeUndefined();
    expect(sent && outstandingActions(sent, policy).some((a) => a.kind === 'customerNotice')).toBe(false);
  });

  it('texts the VP once only', () => {
    const record = replay(delayed('2026-03-10T14:05:00-05:00', '2026-03-22'));
    const vp = outstandingActions(record, policy).find((action) => action.kind === 'vpAlert');
    if (!vp) throw new Error('no VP alert owed');
    const done = fulfil(record, vp, { at }, policy);

    expect(done?.escalationLevel).toBe('vp');
    expect(done && outstandingActions(done, policy).some((a) => a.kind === 'vpAlert')).toBe(false);
    expect(done && fulfil(done, vp, { at }, policy)).toBeUndefined();
  });

  it('moves the next action on after reminding the owner', () => {
    const record = replay(delayed('2026-03-10T14:05:00-05:00', '2026-03-22'));
    const reminder = outstandingActions(record, policy).find((action) => action.kind === 'ownerReminder');
    if (!reminder) throw new Error('no reminder owed');
    const reminded = fulfil(record, reminder, { at: new Date('2026-03-12T19:05:00Z') }, policy);
    expect(reminded?.nextActionAt).toBe('2026-03-16T19:05:00.000Z');
  });

  it('records a notice that was on its way when the line closed, and nothing else on a closed line', () => {
    const record = replay(delayed('2026-03-10T14:05:00-05:00', '2026-03-22'));
    const [notice] = outstandingActions(record, policy);
    const reminder = outstandingActions(record, policy).find((action) => action.kind === 'ownerReminder');
    const closed = replay(
      delayed('2026-03-10T14:05:00-05:00', '2026-03-22'),
      closing('backorder.cancelled', '2026-03-10T15:00:00-05:00'),
    );
    if (!notice || !reminder) throw new Error('nothing owed');
    expect(fulfil(closed, notice, { at, messageId: 'ses-1' }, policy)?.notices[0]).toMatchObject({
      status: 'sent',
      messageId: 'ses-1',
    });
    expect(fulfil(closed, reminder, { at }, policy)).toBeUndefined();
  });

  it('records a notice sent while newer news superseded it', () => {
    const record = replay(delayed('2026-03-10T14:05:00-05:00', '2026-03-22'));
    const [notice] = outstandingActions(record, policy);
    const slipped = replay(
      delayed('2026-03-10T14:05:00-05:00', '2026-03-22'),
      delayed('2026-03-10T14:30:00-05:00', '2026-03-29'),
    );
    if (!notice) throw new Error('no notice owed');
    const recorded = fulfil(slipped, notice, { at, messageId: 'ses-1' }, policy);
    expect(recorded?.notices.map((n) => [n.revision, n.status])).toEqual([
      [1, 'sent'],
      [2, 'pending'],
    ]);
  });

  it('marks a manager escalation sent once', () => {
    const slipped = replay(
      delayed('2026-03-10T14:05:00-05:00', '2026-03-22'),
      delayed('2026-03-11T09:00:00-05:00', '2026-03-29'),
    );
    const alert = outstandingActions(slipped, policy).find((action) => action.kind === 'managerAlert');
    if (!alert) throw new Error('no manager alert owed');
    const done = fulfil(slipped, alert, { at }, policy);

    expect(actionId(alert)).toBe('managerAlert:slip-2');
    expect(done?.escalations).toEqual([
      expect.objectContaining({ trigger: 'slip-2', status: 'sent', sentAt: at.toISOString() }),
    ]);
    expect(done && fulfil(done, alert, { at }, policy)).toBeUndefined();
  });

  it('records the review request and warning on the notice, and the owner told of a decision', () => {
    const record = replay(
      delayed('2026-01-16T16:30:00-06:00', '2026-01-30', { originalShipDate: '2026-01-20' }),
    );
    const [request] = outstandingActions(record, review);
    if (request?.kind !== 'noticeReview') throw new Error('no review owed');
    const asked = fulfil(record, request, { at }, review);
    expect(actionId(request)).toBe('noticeReview:1');
    expect(asked?.notices[0]?.reviewRequestedAt).toBe(at.toISOString());
    const warning =
      asked && outstandingActions(asked, review).find((action) => action.kind === 'noticeReviewWarning');
    if (!asked || !warning) throw new Error('no warning owed');
    expect(fulfil(asked, warning, { at }, review)?.notices[0]?.reviewWarnedAt).toBe(at.toISOString());

    const decided: Backorder = {
      ...record,
      customerDecision: { revision: 1, choice: { kind: 'wait' }, decidedAt: '2026-01-16T23:00:00.000Z' },
    };
    const tell = outstandingActions(decided, policy).find((action) => action.kind === 'decisionToOwner');
    if (!tell) throw new Error('owner not owed the decision');
    expect(actionId(tell)).toBe('decisionToOwner:1');
    const told = fulfil(decided, tell, { at }, policy);
    expect(told?.customerDecision?.ownerToldAt).toBe(at.toISOString());
    expect(told && fulfil(told, tell, { at }, policy)).toBeUndefined();
    expect(told && outstandingActions(told, policy).some((action) => action.kind === 'decisionToOwner')).toBe(
      false,
    );
  });

  it('does not remind the owner of a next-action date that has since moved', () => {
    const record = replay(delayed('2026-03-10T14:05:00-05:00', '2026-03-22'));
    const reminder = outstandingActions(record, policy).find((action) => action.kind === 'ownerReminder');
    if (!reminder) throw new Error('no reminder owed');
    const moved = { ...record, nextActionAt: '2026-03-20T15:00:00.000Z' };
    expect(fulfil(moved, reminder, { at }, policy)).toBeUndefined();
  });
});
