import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { readLocalHandler } from '#local/stepfunctions/lambda.ts';
import { synthesizeLocalTemplate } from '#local/synth.ts';
import { TemplateResolver } from '#local/template.ts';
import { bundledConfigFile, CONFIG_FILE, DECISION_SECRET, median, WEBHOOK_SECRET } from './support.ts';

/**
 * Section 3: each Lambda bundle built as the stack builds it, its size, and its module
 * initialization in a fresh Node 24 process, next to a hello-world bundle built and timed the
 * same way in the same run.
 *
 * The esbuild options are those `NodejsFunction` passes for lib/project-function.ts: ESM,
 * minified, source maps without sources, target node24, `module,main` main fields, the
 * createRequire banner. Each function is built twice: as deployed, with the AWS SDK bundled, and
 * with `@aws-sdk/*` left out (as the runtime would provide it; resolved here from node_modules),
 * which shows the project's own code apart from the SDK. The stack sets `NODE_OPTIONS=--enable-source-maps`, so the
 * timed process does too. "Init" is `await import(bundle)`: loading, top-level code and the
 * handler's top-level `await` (configuration, secrets from variables, SDK clients), not the
 * Node process start-up, which is the same for every function.
 */

export interface BundleFigures {
  functionName: string;
  entry: string;
  bytes: number;
  /** Median init, ms. */
  initMs: number;
  initSamplesMs: number[];
  /** The bundle's largest inputs, by bytes in the output. */
  heaviest: Array<{ input: string; bytes: number }>;
  /** The bundle as deployed, with the SDK bundled (none for hello-world and sdk-only). */
  deployed?: { bytes: number; initMs: number };
}

export interface ColdStartResult {
  helloWorld: BundleFigures;
  /** A handler that only imports the AWS SDK clients the project uses: the part no bundling removes. */
  sdkOnly: BundleFigures;
  bundles: BundleFigures[];
  samples: number;
}

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const outRoot = join(projectRoot, 'bench', 'results', 'bundles');
const run = promisify(execFile);

const BANNER =
  "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);";

async function bundle(
  name: string,
  entry: string,
  sdk: 'external' | 'bundled' = 'external',
): Promise<{ dir: string; file: string; bytes: number; metafile: Metafile }> {
  const dir = join(outRoot, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'index.mjs');
  const result = await build({
    entryPoints: [resolve(projectRoot, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    external: sdk === 'external' ? ['@aws-sdk/*'] : [],
    outfile: file,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: projectRoot,
  });
  // As the stack's afterBundling hook does: the organisation configuration, as bundled, beside the handler.
  copyFileSync(bundledConfigFile(new Date()), join(dir, 'organisation.json'));
  return { dir, file, bytes: statSync(file).size, metafile: result.metafile };
}

function heaviest(metafile: Metafile, file: string): Array<{ input: string; bytes: number }> {
  const output = Object.entries(metafile.outputs).find(([path]) => resolve(projectRoot, path) === file)?.[1];
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const name = match?.[1] ?? input.replace(/\/[^/]+$/, '/');
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  return [...byPackage]
    .map(([input, bytes]) => ({ input, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3);
}

const PROBE =
  'const started = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - started));';

async function initMs(dir: string, file: string, environment: Record<string, string>): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    ['--enable-source-maps', '--input-type=module', '-e', PROBE, pathToFileURL(file).href],
    { cwd: dir, env: { PATH: process.env.PATH ?? '', ...environment } },
  );
  const value = Number(stdout.trim().split('\n').pop());
  if (!Number.isFinite(value)) throw new Error(`no init time from ${file}: ${stdout}`);
  return value;
}

/**
 * A function's variables as the template sets them (resolved as the local runtime resolves
 * them), with each Secrets Manager ARN swapped for a local value of the secret: a cold start in
 * AWS also reads the secret, over the network, which this does not time.
 */
function environmentOf(resolver: TemplateResolver, logicalId: string): Record<string, string> {
  const environment: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  };
  for (const [name, value] of Object.entries(resolver.functionEnvironment(logicalId))) {
    // The flag is passed on the command line, for the hello-world bundle alike.
    if (name === 'NODE_OPTIONS') continue;
    const secret = /^(.*)_ARN$/.exec(name)?.[1];
    if (secret?.endsWith('SECRET')) {
      environment[secret] = secret === 'WEBHOOK_SECRET' ? WEBHOOK_SECRET : DECISION_SECRET;
      continue;
    }
    environment[name] = value;
  }
  return environment;
}

export async function coldStartBench(options: { samples: number }): Promise<ColdStartResult> {
  const template = synthesizeLocalTemplate(CONFIG_FILE) as {
    Resources: Record<string, { Type: string; Metadata?: Record<string, unknown> }>;
  };
  // The HTTP API's endpoint is only known once deployed: an example one, as the local runtime does.
  const apis = Object.entries(template.Resources).filter(
    ([, resource]) => resource.Type === 'AWS::ApiGatewayV2::Api',
  );
  const resolver = new TemplateResolver(template, {
    identities: Object.fromEntries(
      apis.map(([logicalId]) => [
        logicalId,
        { ref: 'bench', attributes: { ApiEndpoint: 'https://bench.example', ApiId: 'bench' } },
      ]),
    ),
  });
  const functions: Array<{ name: string; entry: string; environment: Record<string, string> }> = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const handler = readLocalHandler(resource.Metadata ?? {});
    if (!handler) continue;
    functions.push({
      name: logicalId.replace(/Function[0-9A-F]{8}$/, ''),
      entry: handler.entry,
      environment: environmentOf(resolver, logicalId),
    });
  }
  functions.sort((a, b) => a.name.localeCompare(b.name));

  mkdirSync(outRoot, { recursive: true });
  const helloEntry = join(outRoot, 'hello-world.ts');
  writeFileSync(helloEntry, 'export const handler = async () => ({ statusCode: 200, body: "hello" });\n');
  const hello = await bundle('hello-world', helloEntry);
  const sdkEntry = join(outRoot, 'sdk-only.ts');
  writeFileSync(
    sdkEntry,
    [
      "import '@aws-sdk/client-dynamodb';",
      "import '@aws-sdk/lib-dynamodb';",
      "import '@aws-sdk/client-sesv2';",
      "import '@aws-sdk/client-sfn';",
      "import '@aws-sdk/client-sns';",
      'export const handler = async () => ({ statusCode: 200 });',
      '',
    ].join('\n'),
  );
  const sdk = await bundle('sdk-only', sdkEntry);
  const built = [];
  for (const fn of functions) {
    const deployed = await bundle(`${fn.name}-deployed`, fn.entry, 'bundled');
    built.push({ ...fn, ...(await bundle(fn.name, fn.entry)), deployed });
  }

  // Interleaved, so a slow moment of the machine falls on every bundle alike.
  const helloSamples: number[] = [];
  const sdkSamples: number[] = [];
  const samples = new Map<string, number[]>(built.map((fn) => [fn.name, []]));
  const deployedSamples = new Map<string, number[]>(built.map((fn) => [fn.name, []]));
  for (let round = 0; round < options.samples; round++) {
    helloSamples.push(await initMs(hello.dir, hello.file, { AWS_REGION: 'us-east-1' }));
    sdkSamples.push(await initMs(sdk.dir, sdk.file, { AWS_REGION: 'us-east-1' }));
    for (const fn of built) {
      samples.get(fn.name)?.push(await initMs(fn.dir, fn.file, fn.environment));
      deployedSamples.get(fn.name)?.push(await initMs(fn.deployed.dir, fn.deployed.file, fn.environment));
    }
  }
  return {
    samples: options.samples,
    helloWorld: {
      functionName: 'hello-world',
      entry: 'bench/results/bundles/hello-world.ts',
      bytes: hello.bytes,
      initMs: median(helloSamples),
      initSamplesMs: helloSamples,
      heaviest: [],
    },
    sdkOnly: {
      functionName: 'sdk-only',
      entry: 'bench/results/bundles/sdk-only.ts',
      bytes: sdk.bytes,
      initMs: median(sdkSamples),
      initSamplesMs: sdkSamples,
      heaviest: [],
    },
    bundles: built.map((fn) => {
      const values = samples.get(fn.name) ?? [];
      return {
        functionName: fn.name,
        entry: fn.entry,
        bytes: fn.bytes,
        initMs: median(values),
        initSamplesMs: values,
        heaviest: heaviest(fn.metafile, fn.file),
        deployed: { bytes: fn.deployed.bytes, initMs: median(deployedSamples.get(fn.name) ?? []) },
      };
    }),
  };
}
