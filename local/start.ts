import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidConfigError, parseOrganisationConfig } from '#domain/organisation.ts';
import { startLocalSystem } from '#local/system.ts';

/**
 * `npm start`: the whole system on this machine (CONTRACT §5). Every failure a user can fix
 * (a bad configuration, a busy port, no Java) ends with one line that says what to do.
 */

const DEV_WEBHOOK_SECRET = `whsec_${Buffer.from('backorder-watch-local-dev-secret').toString('base64')}`;

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
    if (error.code === 'EADDRINUSE')
      fail(`port ${port} is in use: stop what runs there or set PORT=<another port>`);
    fail(error.message.split('\n')[0] ?? String(error));
  });

  const sample = 'test/fixtures/erp/v1/backorder.delayed.json';
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
      `  npm run --silent sign -- ${sample} | sh`,
      'Move the clock two weeks on:',
      `  curl -s -X POST ${system.url}/_local/clock -H 'content-type: application/json' -d '{"advanceBy":"P14D"}'`,
      '',
      'Ctrl-C stops it; data stays in the data folder (npm start -- --reset starts clean).',
    ].join('\n'),
  );

  const shutdown = async () => {
    await system.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** Decision links must outlive a restart, so the local signing key is kept with the data. */
function persistentSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

await main();
