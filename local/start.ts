import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { InvalidConfigError, parseOrganisationConfig } from '#domain/organisation.ts';
import { DEV_WEBHOOK_SECRET } from '#local/dev-secret.ts';
import { startLocalSystem } from '#local/system.ts';

/**
 * `npm start`: the whole system on this machine (CONTRACT §5). Every failure a user can fix
 * (a bad configuration, a busy port, no Java) ends with one line that says what to do.
 */

async function main(): Promise<void> {
  const reset = process.argv.includes('--reset');
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    fail(`PORT must be a port number, not "${process.env.PORT}"`);
  const dataDir = resolve(process.env.DATA_DIR ?? '.data');
  const configFile = resolve(process.env.BACKORDER_CONFIG ?? 'config/organisation.sample.json');
  const webhookSecret = process.env.WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET;
  const adminToken = process.env.LOCAL_ADMIN_TOKEN ?? 'local-admin-token';
  const clockStart = process.env.LOCAL_CLOCK_START ? new Date(process.env.LOCAL_CLOCK_START) : undefined;
  if (clockStart && Number.isNaN(clockStart.getTime())) {
    fail(
      `LOCAL_CLOCK_START must be an ISO instant such as 2026-03-10T08:00:00-06:00, not "${process.env.LOCAL_CLOCK_START}"`,
    );
  }
  if (!existsSync(configFile)) fail(`BACKORDER_CONFIG: no file at ${configFile}`);
  try {
    parseOrganisationConfig(JSON.parse(readFileSync(configFile, 'utf8')), configFile);
  } catch (error) {
    fail(error instanceof InvalidConfigError ? error.message : `${configFile} is not valid JSON`);
  }
  // Booting takes a while (DynamoDB Local, the synthesis): say at once that the port is taken.
  if (port !== 0 && !(await portIsFree(port))) fail(portInUse(port));
  if (reset) rmSync(dataDir, { recursive: true, force: true });
  const decisionSecret = process.env.DECISION_SECRET ?? persistentSecret(join(dataDir, 'decision-secret'));

  const system = await startLocalSystem({
    port,
    dataDir,
    clockStart,
    webhookSecret,
    adminToken,
    decisionSecret,
    configFile,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') fail(portInUse(port));
    fail(error.message.split('\n')[0] ?? String(error));
  });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    // A second Ctrl-C while stopping means "now": the DynamoDB Local JVM still goes, as its stdin closes.
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${signal}: stopping (the data stays in ${dataDir})…`);
    const timeout = setTimeout(() => fail('did not stop within 20 s; stopped it anyway'), 20_000);
    timeout.unref();
    system.stop().then(
      () => process.exit(0),
      (error: unknown) => fail(`stopping failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  const sample = 'test/fixtures/erp/v1/backorder.delayed.json';
  // The signing helper reads the same variables; name them when they differ from its defaults.
  const signEnv = process.env.WEBHOOK_SECRET ? `WEBHOOK_SECRET='${webhookSecret}' ` : '';
  const signUrl = system.url === 'http://127.0.0.1:3000' ? '' : ` --url ${system.url}`;
  console.log(
    [
      '',
      'Backorder Watch is running on this machine.',
      '',
      `  API            ${system.url}   (OpenAPI: ${system.url}/v1/openapi.json)`,
      `  Mail viewer    ${system.ses.endpoint}`,
      `  Outbox         ${system.url}/_local/outbox`,
      `  Clock          ${system.url}/_local/clock   now ${system.clock.now().toISOString()}`,
      `  Webhook secret ${webhookSecret}`,
      `  Admin token    ${adminToken}`,
      `  Data           ${dataDir}${reset ? ' (reset)' : ''}`,
      '',
      'Post a signed event:',
      `  ${signEnv}npm run --silent sign -- ${sample}${signUrl} | sh`,
      'Move the clock two weeks on:',
      `  curl -s -X POST ${system.url}/_local/clock -H 'content-type: application/json' -d '{"advanceBy":"P14D"}'`,
      'Play a week at a steel service center:',
      `  npm run demo -- --url ${system.url}`,
      '',
      'Ctrl-C stops it; data stays in the data folder (npm start -- --reset starts clean).',
      // The last line, for scripts and tests that start this and wait until it answers.
      `Listening on ${system.url}`,
    ].join('\n'),
  );
}

/** Decision links must outlive a restart, so the local signing key is kept with the data. */
function persistentSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** Whether nothing listens on the port of 127.0.0.1 (the gateway binds there). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const probe = createServer();
    probe.once('error', () => resolvePromise(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePromise(true)));
  });
}

function portInUse(port: number): string {
  return `port ${port} is in use: stop what runs there or set PORT=<another port>`;
}

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

await main();
