import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { BackorderWatchStack } from '#lib/backorder-watch-stack.ts';

/** The stack as the local runtime sees it: the construct tree and its synthesized template. */
export interface LocalStack {
  readonly stack: BackorderWatchStack;
  readonly template: Record<string, unknown>;
}

const cache = new Map<string, LocalStack>();

/**
 * Synthesizes the CDK app in-process, with asset bundling skipped, once per process and
 * configuration file: the local runtime reads resource definitions (tables, subscriptions, the
 * state machine) from the same template that deploys, so nothing is declared twice.
 * @param organisationConfigFile the organisation configuration; @default the stack's own default
 */
export function synthesizeLocalStack(organisationConfigFile?: string): LocalStack {
  const key = organisationConfigFile ?? '';
  const cached = cache.get(key);
  if (cached) return cached;
  // A throwaway cloud assembly directory: only the in-memory template is wanted.
  const outdir = mkdtempSync(join(tmpdir(), 'backorder-watch-synth-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new BackorderWatchStack(app, 'Local', { organisationConfigFile });
    const template = app.synth().getStackByName('Local').template as Record<string, unknown>;
    const local = { stack, template };
    cache.set(key, local);
    return local;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The synthesized CloudFormation template of the local stack (cached per process). */
export function synthesizeLocalTemplate(organisationConfigFile?: string): Record<string, unknown> {
  return synthesizeLocalStack(organisationConfigFile).template;
}
