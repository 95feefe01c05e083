import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { digest, safeName } from '#adapters/execution-names.ts';

/** What a text batch execution is started with. */
export interface TextBatchInput {
  recipient: string;
  /** UTC, whole seconds, `Z`: when the batch sends what is queued. */
  flushAt: string;
}

/**
 * Starts the one batch that sends a person's texts queued within a grouping window. The
 * execution is named after the person and the window, so every text of a burst lands in the
 * same batch however many backorders queue it.
 */
export class TextBatches {
  private readonly client: SFNClient;
  private readonly stateMachineArn: string;
  private readonly windowMs: number;

  constructor(client: SFNClient, stateMachineArn: string, windowMinutes: number) {
    this.client = client;
    this.stateMachineArn = stateMachineArn;
    this.windowMs = Math.max(1, windowMinutes) * 60_000;
  }

  /** Makes sure a batch will send what `trigger` queued for `recipient` at `at`. */
  async schedule(recipient: string, trigger: string, at: Date): Promise<void> {
    const windowStart = Math.floor(at.getTime() / this.windowMs) * this.windowMs;
    const name = `texts-${safeName(recipient, recipient, 24, 10)}-${windowStart / 1000}`;
    const input: TextBatchInput = { recipient, flushAt: waitTimestamp(windowStart + this.windowMs) };
    try {
      await this.start(name, input);
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      // That window's batch has already sent: this late text gets a batch of its own, at once.
      await this.start(`${name}-late-${digest(trigger, 10)}`, {
        recipient,
        flushAt: waitTimestamp(at.getTime()),
      }).catch((late: unknown) => {
        if (!(late instanceof ExecutionAlreadyExists)) throw late;
      });
    }
  }

  private start(name: string, input: TextBatchInput) {
    return this.client.send(
      new StartExecutionCommand({
        stateMachineArn: this.stateMachineArn,
        name,
        input: JSON.stringify(input),
      }),
    );
  }
}

/**
 * A Wait state's timestamp: UTC, whole seconds, `Z`. Step Functions drops fractions of a second,
 * so it rounds up, and a timer never wakes before it is due.
 */
export function waitTimestamp(instant: Date | number): string {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  return `${new Date(Math.ceil(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}
