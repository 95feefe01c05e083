import { describe, expect, it } from 'vitest';
import { applyEvent, type Backorder, type RuleContext } from '#domain/backorder.ts';
import {
  AlreadyDecidedError,
  assertDecidable,
  BackorderClosedError,
  type DecisionRequest,
  decisionLinks,
  latestSentRevision,
  recordDecision,
  SupersededNoticeError,
  UnknownAlternativeError,
} from '#domain/decision.ts';
import { verifyDecisionToken } from '#domain/decision-token.ts';
import { outstandingActions } from '#domain/planner.ts';
import type { Policy } from '#domain/policy.ts';
import { closing, delayed } from '#test/support/erp-events.ts';

const HOUR = 3_600_000;
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};
const policy: Policy = {
  ...rules,
  noticeMode: 'immediate',
  reviewWarningAt: (learnedAt) => new Date(learnedAt.getTime() + 3 * HOUR),
  textSlot: (at) => at,
  vpDueAt: () => new Date('2026-03-29T05:00:00Z'),
};

const decidedAt = new Date('2026-03-11T15:30:00.000Z');
const waitChoice: DecisionRequest['choice'] = { kind: 'wait' };
const alt1: DecisionRequest['choice'] = { kind: 'alternative', alternativeId: 'ALT-1' };

/** Marks every pending notice sent, as the workflow does once SES accepted it. */
function sent(record: Backorder): Backorder {
  return {
    ...record,
    notices: record.notices.map((notice) =>
      notice.status === 'pending' ? { ...notice, status: 'sent' as const, sentAt: notice.learnedAt } : notice,
    ),
  };
}

/** A backorder opened by the contract's example and told to the customer (notice 1 sent). */
function openedAndNotified(): Backorder {
  return sent(applyEvent(undefined, delayed('2026-03-10T14:05:00-05:00', '2026-03-22'), rules).record);
}

/** The backorder slipped again: notice 2 is pending (not yet sent) unless `send`. */
function slippedAgain(record: Backorder, send: boolean): Backorder {
  const slipped = applyEvent(record, delayed('2026-03-12T09:00:00-05:00', '2026-03-29'), rules).record;
  return send ? sent(slipped) : slipped;
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('recording a decision', () => {
  it('records a choice to wait on the latest sent notice and bumps the generation', () => {
    const record = openedAndNotified();
    const { record: decided, decision } = recordDecision(
      record,
      { revision: 1, choice: waitChoice },
      decidedAt,
    );

    expect(decision).toEqual({
      revision: 1,
      choice: { kind: 'wait' },
      decidedAt: '2026-03-11T15:30:00.000Z',
    });
    expect(decided.customerDecision).toEqual(decision);
    expect(decided.generation).toBe(record.generation + 1);
  });

  it('records a choice of an offered alternative', () => {
    const { record } = recordDecision(openedAndNotified(), { revision: 1, choice: alt1 }, decidedAt);
    expect(record.customerDecision?.choice).toEqual(alt1);
  });

  it('changes nothing else: the version is the writer’s to bump, and the input is not mutated', () => {
    const record = openedAndNotified();
    const snapshot = structuredClone(record);
    const { record: decided } = recordDecision(record, { revision: 1, choice: alt1 }, decidedAt);

    expect(record).toEqual(snapshot);
    const { customerDecision: _decision, generation: _generation, ...rest } = decided;
    const { generation: _before, ...restBefore } = record;
    expect(rest).toEqual(restBefore);
    expect(decided.version).toBe(record.version);
  });

  it('leaves the owner to be told by the workflow, at the moment of the decision', () => {
    const { record } = recordDecision(openedAndNotified(), { revision: 1, choice: alt1 }, decidedAt);
    expect(outstandingActions(record, policy)).toContainEqual({
      kind: 'decisionToOwner',
      revision: 1,
      dueAt: decidedAt,
    });
  });

  it('replaces a decision on an earlier notice once a newer one was sent, and tells the owner again', () => {
    const first = recordDecision(openedAndNotified(), { revision: 1, choice: alt1 }, decidedAt).record;
    const told: Backorder = {
      ...first,
      customerDecision: first.customerDecision && {
        ...first.customerDecision,
        ownerToldAt: decidedAt.toISOString(),
      },
    };
    const later = new Date('2026-03-12T16:00:00.000Z');
    const { record } = recordDecision(slippedAgain(told, true), { revision: 2, choice: waitChoice }, later);

    expect(record.customerDecision).toEqual({
      revision: 2,
      choice: waitChoice,
      decidedAt: later.toISOString(),
    });
    expect(outstandingActions(record, policy)).toContainEqual({
      kind: 'decisionToOwner',
      revision: 2,
      dueAt: later,
    });
  });
});

describe('a decision that cannot be recorded', () => {
  it('is superseded when a newer notice was sent', () => {
    const record = slippedAgain(openedAndNotified(), true);
    const error = thrown(() => recordDecision(record, { revision: 1, choice: alt1 }, decidedAt));
    expect(error).toBeInstanceOf(SupersededNoticeError);
    expect(error).toMatchObject({ revision: 1, latestRevision: 2 });
  });

  it('is superseded when a newer notice is on its way but not yet sent', () => {
    const record = slippedAgain(openedAndNotified(), false);
    expect(() => recordDecision(record, { revision: 1, choice: alt1 }, decidedAt)).toThrow(
      SupersededNoticeError,
    );
  });

  it('is superseded when its notice was never sent', () => {
    const record = slippedAgain(openedAndNotified(), false);
    expect(() => recordDecision(record, { revision: 2, choice: alt1 }, decidedAt)).toThrow(
      SupersededNoticeError,
    );
  });

  it('is superseded when it names a notice the record never had', () => {
    expect(() => recordDecision(openedAndNotified(), { revision: 7, choice: alt1 }, decidedAt)).toThrow(
      SupersededNoticeError,
    );
  });

  it('is refused on a shipped or cancelled backorder, saying which', () => {
    for (const type of ['backorder.shipped', 'backorder.cancelled'] as const) {
      const record = applyEvent(
        openedAndNotified(),
        closing(type, '2026-03-13T10:00:00-05:00'),
        rules,
      ).record;
      const error = thrown(() => recordDecision(record, { revision: 1, choice: waitChoice }, decidedAt));
      expect(error).toBeInstanceOf(BackorderClosedError);
      expect(error).toMatchObject({ closedAs: type.replace('backorder.', '') });
    }
  });

  it('is already decided when a decision for that notice exists, and carries it', () => {
    const { record, decision } = recordDecision(
      openedAndNotified(),
      { revision: 1, choice: alt1 },
      decidedAt,
    );
    for (const choice of [alt1, waitChoice]) {
      const error = thrown(() => recordDecision(record, { revision: 1, choice }, new Date()));
      expect(error).toBeInstanceOf(AlreadyDecidedError);
      expect((error as AlreadyDecidedError).decision).toEqual(decision);
    }
  });

  it('is refused for an alternative the backorder does not offer', () => {
    const error = thrown(() =>
      recordDecision(
        openedAndNotified(),
        { revision: 1, choice: { kind: 'alternative', alternativeId: 'ALT-9' } },
        decidedAt,
      ),
    );
    expect(error).toBeInstanceOf(UnknownAlternativeError);
    expect(error).toMatchObject({ alternativeId: 'ALT-9' });
  });

  it('is refused for an alternative withdrawn by a later ERP update without a new notice', () => {
    const record = openedAndNotified();
    const withdrawn = applyEvent(
      record,
      delayed('2026-03-11T09:00:00-05:00', record.expectedShipDate, { alternatives: [] }),
      rules,
    ).record;
    expect(withdrawn.noticeRevision).toBe(1);
    expect(() => recordDecision(withdrawn, { revision: 1, choice: alt1 }, decidedAt)).toThrow(
      UnknownAlternativeError,
    );
    expect(
      recordDecision(withdrawn, { revision: 1, choice: waitChoice }, decidedAt).record.customerDecision,
    ).toBeDefined();
  });

  it('says closed before superseded or already decided, and superseded before already decided', () => {
    const decided = recordDecision(openedAndNotified(), { revision: 1, choice: alt1 }, decidedAt).record;
    const closed = applyEvent(
      decided,
      closing('backorder.shipped', '2026-03-13T10:00:00-05:00'),
      rules,
    ).record;
    expect(() => assertDecidable(closed, { revision: 1, choice: alt1 })).toThrow(BackorderClosedError);
    expect(() => assertDecidable(slippedAgain(decided, true), { revision: 1, choice: alt1 })).toThrow(
      SupersededNoticeError,
    );
  });

  it('says already decided before an unknown alternative', () => {
    const { record } = recordDecision(openedAndNotified(), { revision: 1, choice: alt1 }, decidedAt);
    expect(() =>
      assertDecidable(record, { revision: 1, choice: { kind: 'alternative', alternativeId: 'ALT-9' } }),
    ).toThrow(AlreadyDecidedError);
  });

  it('checks without recording anything', () => {
    const record = openedAndNotified();
    expect(() => assertDecidable(record, { revision: 1, choice: alt1 })).not.toThrow();
    expect(record.customerDecision).toBeUndefined();
  });
});

describe('the latest sent notice', () => {
  it('is the newest notice with status sent, or none', () => {
    const opened = applyEvent(undefined, delayed('2026-03-10T14:05:00-05:00', '2026-03-22'), rules).record;
    expect(latestSentRevision(opened)).toBeUndefined();
    expect(latestSentRevision(sent(opened))).toBe(1);
    expect(latestSentRevision(slippedAgain(sent(opened), false))).toBe(1);
    expect(latestSentRevision(slippedAgain(sent(opened), true))).toBe(2);
  });
});

describe('decision links', () => {
  const secret = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
  const expiresAt = new Date('2026-03-25T00:00:00.000Z');
  const now = new Date('2026-03-12T00:00:00.000Z');

  function tokenOf(url: string): string {
    const match = /^https:\/\/api\.example\/v1\/decisions\/([^/]+)$/.exec(url);
    if (!match?.[1]) throw new Error(`not a decision link: ${url}`);
    return match[1];
  }

  it('gives one link to wait and one per alternative, each naming the notice and the choice', () => {
    const record = openedAndNotified();
    const links = decisionLinks(record, 1, secret, 'https://api.example', expiresAt);

    expect(verifyDecisionToken(tokenOf(links.wait), [secret], now)).toEqual({
      orderId: 'SO-10042',
      lineId: '3',
      revision: 1,
      choice: { kind: 'wait' },
      expiresAt,
    });
    expect(links.alternatives.map((link) => link.alternativeId)).toEqual(['ALT-1']);
    const [first] = links.alternatives;
    expect(verifyDecisionToken(tokenOf(first?.url ?? ''), [secret], now)).toMatchObject({
      revision: 1,
      choice: alt1,
    });
  });

  it('joins the base URL without doubling its trailing slash', () => {
    const links = decisionLinks(openedAndNotified(), 1, secret, 'https://api.example/', expiresAt);
    expect(links.wait).toMatch(/^https:\/\/api\.example\/v1\/decisions\/v1\./);
  });

  it('offers only the wait link when there are no alternatives', () => {
    const record = openedAndNotified();
    const bare: Backorder = { ...record, details: { ...record.details, alternatives: undefined } };
    expect(decisionLinks(bare, 1, secret, 'https://api.example', expiresAt).alternatives).toEqual([]);
  });

  it('gives links that record the decision they name', () => {
    const record = openedAndNotified();
    const links = decisionLinks(record, 1, secret, 'https://api.example', expiresAt);
    const payload = verifyDecisionToken(tokenOf(links.alternatives[0]?.url ?? ''), [secret], now);
    const { record: decided } = recordDecision(record, payload, now);
    expect(decided.customerDecision?.choice).toEqual(alt1);
  });
});
