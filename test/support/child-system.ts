import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import type { Outbox } from '#test/support/local-system.ts';

/**
 * The local runtime exactly as `npm start` runs it: `node local/start.ts` in a child process on the
 * project's Node (vitest runs on it), configured only through the CONTRACT §5 variables, and
 * driven only over HTTP. Every child is tracked, so `stopAllChildren()` in `afterAll` leaves none
 * behind, even when a test failed half-way.
 */

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The `npm start` defaults that a test has no reason to change. */
export const CHILD_ADMIN_TOKEN = 'e2e-admin-token';
export const CHILD_WEBHOOK_SECRET = `whsec_${Buffer.from('backorder-watch-e2e-secret-0123456789').toString('base64')}`;

const running = new Set<ChildProcess>();

/** What a child wrote and how it ended, for a `start.ts` expected to fail. */
export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function spawnStart(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['local/start.ts'], {
    cwd: PROJECT_ROOT,
    // The parent's environment minus anything of ours that start.ts would read.
    env: {
      ...withoutRuntimeVariables(process.env),
      PORT: '0',
      WEBHOOK_SECRET: CHILD_WEBHOOK_SECRET,
      LOCAL_ADMIN_TOKEN: CHILD_ADMIN_TOKEN,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

const RUNTIME_VARIABLES = new Set([
  'PORT',
  'DATA_DIR',
  'WEBHOOK_SECRET',
  'LOCAL_ADMIN_TOKEN',
  'LOCAL_CLOCK_START',
  'BACKORDER_CONFIG',
  'DECISION_SECRET',
]);

function withoutRuntimeVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    // vitest's own variables (VITEST, NODE_ENV=test…) would make the child behave unlike `npm start`.
    if (value !== undefined && !RUNTIME_VARIABLES.has(name) && !name.startsWith('VITEST')) kept[name] = value;
  }
  if (kept.NODE_ENV === 'test') delete kept.NODE_ENV;
  return kept;
}

function collect(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { stdout: () => stdout, stderr: () => stderr };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Runs `start.ts` with these variables until it exits by itself (a configuration it refuses). */
export async function runStartUntilExit(env: Record<string, string>, timeoutMs = 60_000): Promise<Finished> {
  const child = spawnStart(env);
  const output = collect(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const { code, signal } = await exited(child);
    return { code, signal, stdout: output.stdout(), stderr: output.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

export interface ChildSystemOptions {
  /** `DATA_DIR`: the same directory twice is a restart. */
  readonly dataDir: string;
  /** `LOCAL_CLOCK_START` (ignored by the runtime when the data directory holds a saved clock). */
  readonly clockStart: string;
  /** Any other variables of CONTRACT §5. */
  readonly env?: Record<string, string>;
  /** @default 120_000: DynamoDB Local's JVM and the synthesis on a busy machine */
  readonly readyTimeoutMs?: number;
}

/** Starts `node local/start.ts` and resolves once it prints its `Listening on <url>` line. */
export async function startChildSystem(options: ChildSystemOptions): Promise<ChildSystem> {
  const child = spawnStart({
    DATA_DIR: options.dataDir,
    LOCAL_CLOCK_START: options.clockStart,
    ...options.env,
  });
  const output = collect(child);
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
      const onData = () => {
        const match = /^Listening on (http:\/\/\S+)$/m.exec(output.stdout());
        if (!match?.[1]) return;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(match[1]);
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited (${signal ?? `code ${code}`}) before it was ready`));
      });
    });
    return new ChildSystem(child, url, output);
  } catch (error) {
    child.kill('SIGKILL');
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`npm start ${reason}:\n${output.stdout()}${output.stderr()}`.trim());
  }
}

/** Stops every child still running: SIGTERM, then SIGKILL after `graceMs`. For `afterAll`. */
export async function stopAllChildren(graceMs = 15_000): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited(child);
      clearTimeout(timer);
    }),
  );
}

// Last resort when the test process itself goes down: no `npm start` outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface Response<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly text: string;
}

async function read<T>(response: globalThis.Response): Promise<Response<T>> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body: body as T, text };
}

/** One running `npm start`, driven over HTTP as an ERP, a customer and an operator would. */
export class ChildSystem {
  readonly #child: ChildProcess;
  readonly #output: { stdout: () => string; stderr: () => string };
  readonly url: string;

  constructor(child: ChildProcess, url: string, output: { stdout: () => string; stderr: () => string }) {
    this.#child = child;
    this.url = url;
    this.#output = output;
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** Everything the child printed so far. */
  get stdout(): string {
    return this.#output.stdout();
  }

  get stderr(): string {
    return this.#output.stderr();
  }

  /** The service's virtual clock (`GET /_local/clock`). */
  async now(): Promise<Date> {
    const { body } = await read<{ now: string }>(await fetch(`${this.url}/_local/clock`));
    return new Date(body.now);
  }

  /** Posts an ERP event signed at the service's clock, as `npm run sign` does. */
  async post(
    event: unknown,
    options: { id?: string; at?: Date; secret?: string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const body = typeof event === 'string' ? event : JSON.stringify(event);
    const id = options.id ?? `msg_${crypto.randomUUID()}`;
    const at = options.at ?? (await this.now());
    const signature = new Webhook(options.secret ?? CHILD_WEBHOOK_SECRET).sign(id, at, body);
    const response = await fetch(`${this.url}/v1/erp/events`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signature,
        ...options.headers,
      },
    });
    return read(response);
  }

  /** An operator's GET (§4), with the admin token unless told otherwise (`null`: no token at all). */
  async get<T = Record<string, unknown>>(
    path: string,
    token: string | null = CHILD_ADMIN_TOKEN,
  ): Promise<Response<T>> {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    return read<T>(await fetch(`${this.url}${path}`, { headers }));
  }

  /** `POST /_local/clock` with any body, for the contract's answers. */
  async clock(request: unknown): Promise<Response<{ now: string; error?: string }>> {
    const response = await fetch(`${this.url}/_local/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof request === 'string' ? request : JSON.stringify(request),
    });
    return read(response);
  }

  /** Moves the clock on (ISO-8601 duration) and resolves once the work it caused has settled. */
  async advance(duration: string): Promise<Date> {
    return this.#move({ advanceBy: duration });
  }

  /** Moves the clock to an instant and resolves once the work it caused has settled. */
  async advanceTo(instant: string): Promise<Date> {
    return this.#move({ to: instant });
  }

  async #move(request: { advanceBy: string } | { to: string }): Promise<Date> {
    const { status, body, text } = await this.clock(request);
    if (status !== 200) throw new Error(`POST /_local/clock ${JSON.stringify(request)} → ${status} ${text}`);
    return new Date(body.now);
  }

  async outbox(): Promise<Outbox> {
    return (await read<Outbox>(await fetch(`${this.url}/_local/outbox`))).body;
  }

  /**
   * Sends `signal` and waits for the process to exit. Resolves with how it ended; SIGKILLs it when
   * it has not ended after `graceMs`.
   */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    graceMs = 20_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const done = exited(this.#child);
    this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    try {
      return await done;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Pids of the DynamoDB Local JVMs whose parent is `pid` (Linux `/proc`; empty elsewhere): the
 * grandchildren of a test that must not outlive their `npm start`.
 */
export function dynamoDbJvmsOf(pid: number): number[] {
  if (!existsSync('/proc')) return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name, which is in parentheses and may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== pid) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (command.includes('DynamoDb')) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Whether a process with this pid still exists (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    if (existsSync('/proc')) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
