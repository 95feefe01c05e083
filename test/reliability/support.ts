import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inject } from 'vitest';
import { startLocalSystem } from '#local/system.ts';
import { dynamoDbEndpoint } from '#test/support/dynamodb.ts';
import { ADMIN_TOKEN, CONFIG_FILE, TestSystem } from '#test/support/local-system.ts';
import { TEST_SECRET } from '#test/support/signing.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where each reliability file leaves its tally for the summary (test/reliability/summary.ts). */
    reliabilityTallies: string;
  }
}

/** What one file of the suite did and saw; summed and printed after the run. */
export interface Tally {
  file: string;
  eventsSent: number;
  deliveries: number;
  duplicatedDeliveries: number;
  faultsInjected: number;
  noticesExpected: number;
  noticesSent: number;
  noticesSentTwice: number;
  noticesMissing: number;
  serverErrors: number;
  logLines: number;
  /** One-line findings worth reading in the summary. */
  notes: string[];
}

export function newTally(file: string): Tally {
  return {
    file,
    eventsSent: 0,
    deliveries: 0,
    duplicatedDeliveries: 0,
    faultsInjected: 0,
    noticesExpected: 0,
    noticesSent: 0,
    noticesSentTwice: 0,
    noticesMissing: 0,
    serverErrors: 0,
    logLines: 0,
    notes: [],
  };
}

export function saveTally(tally: Tally): void {
  writeFileSync(join(inject('reliabilityTallies'), `${tally.file}.json`), JSON.stringify(tally));
}

/** A small deterministic random source (mulberry32): every run of the suite sends the same things. */
export function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Everything this process writes to the console or straight to stdout/stderr (the handlers'
 * structured logs), kept instead of printed, so the suite can look for personal data in it.
 */
export function captureLogs(): { lines(): string[]; restore(): void } {
  const lines: string[] = [];
  const keep = (text: unknown) => {
    for (const line of String(text).split('\n')) if (line.trim()) lines.push(line);
  };
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const originals = methods.map((method) => [method, console[method]] as const);
  for (const method of methods) {
    console[method] = (...args: unknown[]) =>
      keep(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
  }
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  const capture = ((chunk: unknown) => {
    keep(Buffer.isBuffer(chunk) ? chunk.toString('utf8') : chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  return {
    lines: () => [...lines],
    restore: () => {
      for (const [method, original] of originals) console[method] = original;
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    },
  };
}

/** Log lines that carry any of `secrets` (addresses, phone numbers, keys), case-insensitively. */
export function linesWith(lines: readonly string[], secrets: readonly string[]): string[] {
  const needles = secrets.map((secret) => secret.toLowerCase());
  return lines.filter((line) => needles.some((needle) => line.toLowerCase().includes(needle)));
}

/** A fault the DynamoDB proxy answers instead of passing a request on. */
export interface DynamoDbFault {
  /** Which requests it applies to: the operation (e.g. `PutItem`) and the request body. */
  matches(operation: string, body: Record<string, unknown>): boolean;
  /** How many matching requests it fails. */
  remaining: number;
  status: number;
  type: string;
}

/**
 * A pass-through proxy in front of DynamoDB Local that can fail chosen requests, as AWS does on a
 * bad day (InternalServerError, throttling): the handlers' SDK clients see real HTTP errors.
 */
export async function startDynamoDbFaults(target: string): Promise<{
  endpoint: string;
  inject(fault: DynamoDbFault): void;
  /**
   * Holds the next matching request until `release()`: `held` resolves once one is held. Lets a
   * test land another write between two writes of a handler, deterministically.
   */
  hold(matches: DynamoDbFault['matches']): { held: Promise<void>; release(): void };
  /** Requests failed so far. */
  injected(): number;
  close(): Promise<void>;
}> {
  const faults: DynamoDbFault[] = [];
  const holds: Array<{ matches: DynamoDbFault['matches']; held: () => void; released: Promise<void> }> = [];
  let injected = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(body || '{}') as Record<string, unknown>;
      } catch {
        // Passed on as it is.
      }
      const holdIndex = holds.findIndex((candidate) => candidate.matches(operation, parsed));
      const hold = holds[holdIndex];
      if (hold) {
        holds.splice(holdIndex, 1);
        hold.held();
        await hold.released;
      }
      const fault = faults.find(
        (candidate) => candidate.remaining > 0 && candidate.matches(operation, parsed),
      );
      if (fault) {
        fault.remaining -= 1;
        injected += 1;
        response.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(
          JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${fault.type}`, message: 'injected' }),
        );
        return;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (value === undefined || ['host', 'content-length', 'connection'].includes(name)) continue;
        headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
      const answer = await fetch(target, { method: request.method ?? 'POST', headers, body });
      const text = await answer.text();
      const out: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(name))
          out[name] = value;
      });
      response.writeHead(answer.status, out);
      response.end(text);
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    inject: (fault) => faults.push(fault),
    hold: (matches) => {
      let held = () => {};
      let release = () => {};
      const heldPromise = new Promise<void>((resolve) => {
        held = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      holds.push({ matches, held, released });
      return { held: heldPromise, release };
    },
    injected: () => injected,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The whole local system as `startTestSystem` starts it, with DynamoDB reached through `dynamoDb`. */
export async function startSystemOn(dynamoDb: string, clockStart: string): Promise<TestSystem> {
  const local = await startLocalSystem({
    webhookSecret: TEST_SECRET,
    decisionSecret: DECISION_SECRET,
    adminToken: ADMIN_TOKEN,
    configFile: CONFIG_FILE,
    clockStart: new Date(clockStart),
    followRealTime: false,
    dynamoDbEndpoint: dynamoDb,
    tablePrefix: `r${randomUUID().slice(0, 8)}-`,
  });
  return new TestSystem(local);
}

export { dynamoDbEndpoint };

/** The decision secret `startTestSystem` uses. */
export const DECISION_SECRET = 'decision-secret-for-the-test-system-0123456789';

/** Customer and owner contact details the suite sends: none may appear in a log line or an error answer. */
export const PERSONAL = {
  customerEmail: 'buyer.reliability@fabricator.example',
  customerPhone: '+15125550188',
  ownerEmail: 'owner.reliability@svc.example',
  ownerPhone: '+15125550177',
};

export const personalData = Object.values(PERSONAL);
