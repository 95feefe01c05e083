import type { Backorder, Notice } from '#domain/backorder.ts';

/**
 * What the recipient's mail server did with a customer notice, as SES reports it afterwards:
 * delivered, bounced (never reached them) or complained (reached them, marked as spam).
 */
export type DeliveryOutcome = NonNullable<Notice['delivery']>;

export class UnknownNoticeError extends Error {
  override readonly name = 'UnknownNoticeError';
}

export interface DeliveryRecorded {
  /** The record with the outcome on its notice; its version is the caller's to bump. */
  readonly record: Backorder;
  readonly notice: Notice;
  /** False when the notice already says this, or something that outranks it. */
  readonly changed: boolean;
  /** The outcome the notice had before, if any: none means this is the first report about it. */
  readonly previous: DeliveryOutcome | undefined;
  /** The customer does not know, and the line is still open: the owner has to call them. */
  readonly ownerMustCall: boolean;
}

/**
 * Records one delivery report on a notice. Reports arrive in any order and may repeat: a
 * bounce or a complaint is final, and a later (or repeated) delivery report never hides it.
 */
export function recordDelivery(
  record: Backorder,
  revision: number,
  outcome: DeliveryOutcome,
): DeliveryRecorded {
  const notice = record.notices.find((candidate) => candidate.revision === revision);
  if (!notice) throw new UnknownNoticeError(`no notice revision ${revision}`);
  const previous = notice.delivery;
  const changed = previous === undefined || (previous === 'delivered' && outcome !== 'delivered');
  if (!changed) return { record, notice, changed, previous, ownerMustCall: false };
  const updated: Notice = { ...notice, delivery: outcome };
  return {
    record: {
      ...record,
      notices: record.notices.map((candidate) => (candidate === notice ? updated : candidate)),
    },
    notice: updated,
    changed,
    previous,
    ownerMustCall: outcome === 'bounced' && record.status === 'open',
  };
}

/** Whether a notice reached SES after its deadline: the SLA the business promised was missed. */
export function sentAfterDeadline(notice: Pick<Notice, 'deadline'>, sentAt: Date): boolean {
  return sentAt.getTime() > Date.parse(notice.deadline);
}
