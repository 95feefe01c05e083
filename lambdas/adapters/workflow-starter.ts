import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { safeName } from '#adapters/execution-names.ts';
import type { Backorder } from '#domain/backorder.ts';

/** What a backorder timer execution is started with; deterministic, so a retried start is a no-op. */
export interface TimerInput {
  orderId: string;
  lineId: string;
  generation: number;
}

/**
 * Hands a backorder to its timer: one execution per record generation, named after it, so a
 * retried start is recognised as the same one; the superseded generation's execution is stopped
 * (a yearly continuation of it is not: it finds the newer generation at its next wake-up and ends).
 */
export class WorkflowStarter {
  private readonly client: SFNClient;
  private readonly stateMachineArn: string;

  constructor(client: SFNClient, stateMachineArn: string) {
    this.client = client;
    this.stateMachineArn = stateMachineArn;
  }

  /** Makes sure the record's current generation has its execution; stops the one it superseded. */
  async handOver(record: Backorder): Promise<void> {
    if (record.status === 'open') await this.start(record);
    if (record.generation > 1) await this.stop(record, record.generation - 1);
  }

  /**
   * Continues a timer as a new execution of the same generation (Standard executions end after a
   * year), named after the day it continues, so a retried step starts it once.
   */
  async continueAsNew(input: TimerInput, on: Date): Promise<void> {
    const day = on.toISOString().slice(0, 10).replaceAll('-', '');
    await this.startNamed(`${executionName(input, input.generation)}-r${day}`, {
      orderId: input.orderId,
      lineId: input.lineId,
      generation: input.generation,
    });
  }

  private async start(record: Backorder): Promise<void> {
    const input: TimerInput = {
      orderId: record.orderId,
      lineId: record.lineId,
      generation: record.generation,
    };
    await this.startNamed(executionName(record, record.generation), input);
  }

  private async startNamed(name: string, input: TimerInput): Promise<void> {
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      // A closed execution keeps its name for 90 days: it is ours if it was started with our input.
      const existing = await this.client.send(
        new DescribeExecutionCommand({ executionArn: this.executionArn(name) }),
      );
      if (existing.input !== JSON.stringify(input)) throw error;
    }
  }

  private async stop(record: Backorder, generation: number): Promise<void> {
    try {
      await this.client.send(
        new StopExecutionCommand({
          executionArn: this.executionArn(executionName(record, generation)),
          cause: `superseded by generation ${record.generation}`,
        }),
      );
    } catch (error) {
      // Never started (concurrent updates skip generations) or already over: nothing to stop.
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
    }
  }

  private executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }
}

/** `<order>-<line>-<hash of the exact key>-g<generation>`, within the 80 characters allowed. */
export function executionName(key: { orderId: string; lineId: string }, generation: number): string {
  const name = safeName(`${key.orderId}-${key.lineId}`, `${key.orderId}\u0000${key.lineId}`, 40, 16);
  return `${name}-g${generation}`;
}
