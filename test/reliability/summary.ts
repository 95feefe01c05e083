import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { Tally } from './support.ts';

/**
 * Global setup of the reliability suite: a directory where each file leaves its tally, and, after
 * the run, one summary of them all: events sent, deliveries duplicated, faults injected, and the
 * notices and texts expected, sent, sent twice and missing.
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'backorder-reliability-'));
  project.provide('reliabilityTallies', dir);
  return () => {
    const tallies = readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Tally)
      .sort((a, b) => a.file.localeCompare(b.file));
    rmSync(dir, { recursive: true, force: true });
    if (tallies.length === 0) return;
    type Count = Exclude<keyof Tally, 'file' | 'notes'>;
    const sum = (key: Count) => tallies.reduce((total, tally) => total + tally[key], 0);
    const row = (label: string, key: Count) =>
      `  ${label.padEnd(34)}${String(sum(key)).padStart(7)}   ${tallies.map((tally) => `${tally.file} ${tally[key]}`).join(', ')}`;
    const lines = [
      '',
      'Reliability summary',
      row('events sent', 'eventsSent'),
      row('deliveries (HTTP requests)', 'deliveries'),
      row('deliveries duplicated', 'duplicatedDeliveries'),
      row('faults injected', 'faultsInjected'),
      row('notices and texts expected', 'noticesExpected'),
      row('notices and texts sent', 'noticesSent'),
      row('notices and texts sent twice', 'noticesSentTwice'),
      row('notices and texts missing', 'noticesMissing'),
      row('5xx answers', 'serverErrors'),
      row('log lines checked for personal data', 'logLines'),
      ...tallies.flatMap((tally) => tally.notes.map((note) => `  ${tally.file}: ${note}`)),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  };
}
