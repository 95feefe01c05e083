import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import { BackorderStore } from '#adapters/backorder-store.ts';
import { now } from '#adapters/clock.ts';
import { requireEnv } from '#adapters/environment.ts';
import { createLogger } from '#adapters/logger.ts';
import { Mailer } from '#adapters/mailer.ts';
import { loadOrganisation } from '#adapters/organisation.ts';
import type { TimerInput } from '#adapters/workflow-starter.ts';
import { backorderId, lineLabel } from '#domain/backorder.ts';
import { escapeHtml } from '#domain/messages.ts';

const logger = createLogger({ service: 'timer-failure' });

export interface TimerFailure extends TimerInput {
  error?: { Error?: string; Cause?: string };
}

export interface TimerFailureDependencies {
  store: BackorderStore;
  mailer: Mailer;
  now: () => Date;
}

/**
 * The timer could not perform what was due, even after its retries. Nothing may fail silently:
 * the failure goes on the backorder's timeline and its owner is told to act by hand. The
 * execution then fails, which raises the failed-executions alarm.
 */
export function createTimerFailure(deps: TimerFailureDependencies) {
  return async (input: TimerFailure): Promise<{ ownerTold: boolean }> => {
    const error = input.error?.Error ?? 'unknown error';
    logger.error('backorder timer failed', { error, generation: input.generation });
    const record = await deps.store.get(input);
    if (!record) return { ownerTold: false };
    const at = deps.now().toISOString();
    await deps.store.save({
      record,
      changed: false,
      expectedVersion: record.version,
      timeline: {
        occurredAt: at,
        receivedAt: at,
        type: 'timer.failed',
        result: 'failed',
        id: `timer-failed-g${input.generation}`,
        summary: `Timer failed with ${error}; notices and alerts need a person.`,
      },
    });
    const label = lineLabel(record);
    const text = [
      `Backorder Watch could not complete the scheduled work for ${label} (${record.details.customer.name}).`,
      `Error: ${error}.`,
      'Please check the backorder and contact the customer yourself if a notice is due.',
      `Backorder: ${backorderId(record)}`,
    ].join('\n');
    await deps.mailer.send({
      to: [record.details.owner.email],
      email: {
        subject: `Action needed: ${label} timer failed`,
        text,
        html: `<pre>${escapeHtml(text)}</pre>`,
      },
      tags: { backorder: backorderId(record) },
    });
    return { ownerTold: true };
  };
}

function fromEnvironment(): TimerFailureDependencies {
  const organisation = loadOrganisation(requireEnv('ORGANISATION_CONFIG_FILE'));
  return {
    store: new BackorderStore(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
    mailer: Mailer.fromEnvironment(organisation.config.company.senderEmail),
    now,
  };
}

export const handler = middy<TimerFailure, { ownerTold: boolean }>().handler(
  createTimerFailure(fromEnvironment()),
);
