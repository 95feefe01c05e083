import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDynamoDb } from '#local/dynamodb.ts';
import { type BenchResults, render } from './report.ts';

/**
 * `npm run bench` (add `-- --quick` for a smaller run, `-- --only=lifecycle,scale` for some
 * sections): the figures of issue 9, each next to a baseline measured in the same run. One
 * DynamoDB Local serves every section; each section runs in a fresh process of its own, one after
 * the other, so none competes with another for the two cores. Prints a table; writes the raw
 * figures to bench/results/<time>.json and bench/results/latest.json (git-ignored), and each
 * section's own output to bench/results/<time>-<section>.log.
 */

const SECTIONS = ['lifecycle', 'ingest', 'cold-start', 'scale'] as const;
type Section = (typeof SECTIONS)[number];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const sections = SECTIONS.filter((section) => !only || only.includes(section));

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
const sectionScript = fileURLToPath(new URL('./section.ts', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');

function runSection(section: Section, dynamoDbEndpoint: string): Promise<unknown> {
  const outFile = join(resultsDir, `${stamp}-${section}.json`);
  const log = openSync(join(resultsDir, `${stamp}-${section}.log`), 'w');
  const child = spawn(
    process.execPath,
    [sectionScript, section, JSON.stringify({ dynamoDbEndpoint, quick }), outFile],
    {
      stdio: ['ignore', log, log],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      closeSync(log);
      if (code !== 0) {
        reject(
          new Error(`section ${section} failed (exit ${code}): see bench/results/${stamp}-${section}.log`),
        );
        return;
      }
      resolve(JSON.parse(readFileSync(outFile, 'utf8')));
    });
  });
}

const results: BenchResults = {
  startedAt: startedAt.toISOString(),
  mode: quick ? 'quick' : 'full',
  machine: {
    node: process.version,
    cpus: availableParallelism(),
    platform: `${process.platform}-${process.arch}`,
    loadAverage: [loadavg()[0] ?? 0],
  },
  seconds: {},
};

const database = await startDynamoDb();
try {
  for (const section of sections) {
    process.stderr.write(`bench: ${section}…\n`);
    const started = performance.now();
    const value = await runSection(section, database.endpoint);
    results.seconds[section] = (performance.now() - started) / 1000;
    if (section === 'lifecycle') results.lifecycle = value as BenchResults['lifecycle'];
    if (section === 'ingest') results.ingest = value as BenchResults['ingest'];
    if (section === 'cold-start') results.coldStart = value as BenchResults['coldStart'];
    if (section === 'scale') results.scale = value as BenchResults['scale'];
  }
} finally {
  await database.stop();
}

results.machine.loadAverage.push(loadavg()[0] ?? 0);
const json = JSON.stringify(results, null, 2);
writeFileSync(join(resultsDir, `${stamp}.json`), json);
writeFileSync(join(resultsDir, 'latest.json'), json);
const printed = render(results);
writeFileSync(join(resultsDir, 'latest.txt'), `${printed}\n`);
process.stdout.write(`${printed}\n`);
