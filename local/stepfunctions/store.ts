/**
 * Keeps executions across restarts of the local runtime in one JSON file: every execution's
 * record (not its history), so that names stay taken and running executions can be resumed.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionRecord, ExecutionStatus } from './execution.ts';

/** The file under `dataDir` that holds the executions. */
export const EXECUTIONS_FILE = 'stepfunctions-executions.json';

const STATUSES = new Set<string>(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** Writes coalesce: at most one write in flight, and one more queued with the latest records. */
export class ExecutionStore {
  readonly #file: string;
  readonly #snapshot: () => readonly ExecutionRecord[];
  #writing: Promise<void> | undefined;
  #dirty = false;

  /** `snapshot` is read at write time, so a burst of changes is written once. */
  constructor(dataDir: string, snapshot: () => readonly ExecutionRecord[]) {
    mkdirSync(dataDir, { recursive: true });
    this.#file = join(dataDir, EXECUTIONS_FILE);
    this.#snapshot = snapshot;
  }

  /** The records saved by the last run; none when there is no file yet. */
  load(): ExecutionRecord[] {
    if (!existsSync(this.#file)) return [];
    const parsed: unknown = JSON.parse(readFileSync(this.#file, 'utf8'));
    const executions: unknown =
      typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'executions') : undefined;
    if (!Array.isArray(executions)) throw new Error(`${this.#file} has no executions list`);
    return executions.map((item, i) => readRecord(item, `${this.#file} executions[${i}]`));
  }

  /** Schedules a write of the current records. */
  save(): void {
    this.#dirty = true;
    this.#writing ??= this.#drain();
  }

  /** Resolves once everything saved so far is on disk. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false;
        const body = `${JSON.stringify({ version: 1, executions: this.#snapshot() }, null, 1)}\n`;
        // Write then rename: a crash mid-write never leaves a half file behind.
        const temporary = `${this.#file}.tmp`;
        await writeFile(temporary, body);
        await rename(temporary, this.#file);
      }
    } finally {
      this.#writing = undefined;
    }
  }
}

function readRecord(value: unknown, where: string): ExecutionRecord {
  const field = (key: string): unknown =>
    typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined;
  const text = (key: string): string => {
    const found = field(key);
    if (typeof found !== 'string') throw new Error(`${where}: ${key} is missing`);
    return found;
  };
  const optional = (key: string): string | undefined => {
    const found = field(key);
    return typeof found === 'string' ? found : undefined;
  };
  const status = text('status');
  if (!STATUSES.has(status)) throw new Error(`${where}: unknown status ${status}`);
  const startDate = field('startDate');
  const stopDate = field('stopDate');
  if (typeof startDate !== 'number') throw new Error(`${where}: startDate is missing`);
  const record: ExecutionRecord = {
    executionArn: text('executionArn'),
    stateMachineArn: text('stateMachineArn'),
    name: text('name'),
    input: text('input'),
    startDate,
    status: status as ExecutionStatus,
  };
  if (typeof stopDate === 'number') record.stopDate = stopDate;
  const output = optional('output');
  const error = optional('error');
  const cause = optional('cause');
  if (output !== undefined) record.output = output;
  if (error !== undefined) record.error = error;
  if (cause !== undefined) record.cause = cause;
  return record;
}
