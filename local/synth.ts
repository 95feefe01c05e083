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

let cached: LocalStack | undefined;

/**
 * Synthesizes the CDK app in-process once per process, with asset bundling skipped: the local
 * runtime reads resource definitions (tables, subscriptions, the state machine) from the same
 * template that deploys, so nothing is declared twice.
 */
export function synthesizeLocalStack(): LocalStack {
  if (cached) return cached;
  // A throwaway cloud assembly directory: only the in-memory template is wanted.
  const outdir = mkdtempSync(join(tmpdir(), 'backorder-watch-synth-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new BackorderWatchStack(app, 'Local');
    const template = app.synth().getStackByName('Local').template as Record<string, unknown>;
    cached = { stack, template };
    return cached;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The synthesized CloudFormation template of the local stack (cached per process). */
export function synthesizeLocalTemplate(): Record<string, unknown> {
  return synthesizeLocalStack().template;
}
