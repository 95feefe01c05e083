/** An email as the outbox shows it (CONTRACT §5). */
export interface OutboxEmail {
  readonly id: string;
  /** ISO instant on the virtual clock when SES accepted it. */
  readonly at: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string | null;
  readonly html: string | null;
}

/** A text message as the outbox shows it (CONTRACT §5). */
export interface OutboxText {
  readonly id: string;
  /** ISO instant on the virtual clock when SNS accepted it. */
  readonly at: string;
  readonly to: readonly string[];
  readonly audience: string | null;
  readonly message: string;
}

/** `GET /_local/outbox`: what SES and SNS would have delivered, oldest first. */
export interface OutboxView {
  readonly emails: OutboxEmail[];
  readonly texts: OutboxText[];
}

/** What the outbox needs of a service: records with their arrival order, and a way to forget them. */
export interface OutboxSource<T> {
  records(): readonly (T & { readonly arrival: number })[];
  clear(): void;
}

let arrivals = 0;

/**
 * A process-wide arrival number. The virtual clock stands still while work settles, so many
 * messages share one `at`: arrival order breaks those ties, across SES and SNS alike.
 */
export function nextArrival(): number {
  arrivals += 1;
  return arrivals;
}

/** One ordered view over the local SES and SNS. */
export interface Outbox {
  read(): OutboxView;
  /** Forgets everything delivered so far (tests). */
  clear(): void;
}

function chronological<T extends { readonly at: string; readonly arrival: number }>(
  records: readonly T[],
): T[] {
  return [...records].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.arrival - b.arrival);
}

/** Combines the local SES (emails) and SNS (texts) into the CONTRACT §5 outbox. */
export function createOutbox(sources: {
  readonly ses: OutboxSource<OutboxEmail>;
  readonly sns: OutboxSource<OutboxText>;
}): Outbox {
  return {
    read: () => ({
      emails: chronological(sources.ses.records()).map(({ id, at, from, to, subject, text, html }) => ({
        id,
        at,
        from,
        to: [...to],
        subject,
        text,
        html,
      })),
      texts: chronological(sources.sns.records())
        // A publish that no subscription matched reached nobody: SNS would have delivered nothing.
        .filter((record) => record.to.length > 0)
        .map(({ id, at, to, audience, message }) => ({ id, at, to: [...to], audience, message })),
    }),
    clear: () => {
      sources.ses.clear();
      sources.sns.clear();
    },
  };
}
