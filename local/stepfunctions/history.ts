/**
 * An execution's event history in the shape `GetExecutionHistory` answers: AWS event types
 * (`TaskStateEntered`, `TaskScheduled`, `LambdaFunctionSucceeded`, `WaitStateExited`, …) with
 * their `…EventDetails`, timestamped by the virtual clock.
 */
import type { JsonObject, JsonValue } from '#local/template.ts';

/** One history event. */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** Virtual epoch milliseconds. */
  readonly timestamp: number;
  readonly type: string;
  /** The `…EventDetails` member and its value, when the type has details. */
  readonly details?: { readonly key: string; readonly value: JsonObject };
}

/** An append-only history: ids count from 1, each event follows the one before it. */
export class History {
  readonly #events: HistoryEvent[] = [];
  readonly #now: () => number;
  #closed = false;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The events so far, oldest first. */
  get events(): readonly HistoryEvent[] {
    return this.#events;
  }

  /** Appends an event; `detailsKey` defaults to the type's own `<type>EventDetails` member. */
  add(type: string, details?: JsonObject, detailsKey = `${lowerFirst(type)}EventDetails`): void {
    if (this.#closed) return;
    const id = this.#events.length + 1;
    this.#events.push({
      id,
      previousEventId: id - 1,
      timestamp: this.#now(),
      type,
      ...(details ? { details: { key: detailsKey, value: details } } : {}),
    });
  }

  /** Appends a closing event (`ExecutionSucceeded`, `ExecutionAborted`, …); nothing is added after it. */
  close(type: string, details?: JsonObject): void {
    this.add(type, details);
    this.#closed = true;
  }

  /** Whether a closing event was added. */
  get closed(): boolean {
    return this.#closed;
  }
}

/** An event as the JSON protocol sends it: epoch seconds, details under their own member. */
export function serializeEvent(event: HistoryEvent, includeData: boolean): JsonObject {
  const out: JsonObject = {
    id: event.id,
    previousEventId: event.previousEventId,
    timestamp: event.timestamp / 1000,
    type: event.type,
  };
  if (event.details) {
    out[event.details.key] = includeData ? event.details.value : withoutData(event.details.value);
  }
  return out;
}

const DATA_FIELDS = new Set(['input', 'output', 'parameters']);

/** `includeExecutionData: false` leaves out inputs, outputs and parameters. */
function withoutData(details: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(details).filter(([key]) => !DATA_FIELDS.has(key)));
}

/** JSON text of a value, as history details carry it. */
export function json(value: JsonValue | undefined): string {
  return JSON.stringify(value ?? null);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
