import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { BackorderWatchStack, type BackorderWatchStackProps } from '#lib/backorder-watch-stack.ts';

/*
 * cdk-nag's AWS Solutions and Serverless packs over the whole stack, in each stage and with every
 * option on: no finding may stand unless it is acknowledged in lib/ with a reason, and no
 * acknowledgement may outlive the finding it was written for.
 */

const VARIANTS: Record<string, BackorderWatchStackProps> = {
  dev: { stage: 'dev' },
  prod: { stage: 'prod' },
  'prod with every option': {
    stage: 'prod',
    customerManagedKey: true,
    opsEmail: 'ops@svc.example',
    senderDomain: 'gulfplains-steel.example',
    corsOrigins: ['https://ops.svc.example'],
  },
};

const PACKS: Record<string, () => NagPack> = {
  AwsSolutions: () => new AwsSolutionsChecks(),
  Serverless: () => new ServerlessChecks(),
};

interface Finding {
  readonly rule: string;
  readonly path: string;
}

function findings(pack: NagPack, app: App): Finding[] {
  return pack.validateScope(app).violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => ({
      rule: violation.ruleName,
      path: resource.constructPath ?? '(unknown)',
    })),
  );
}

/** What each pack would report if nothing were acknowledged. */
function rawFindings(pack: NagPack, app: App): Finding[] {
  // cdk-nag 3 keeps its acknowledgement check private; bypassing it shows what each acknowledgement hides.
  Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
  return findings(pack, app);
}

interface Acknowledgement {
  readonly rule: string;
  readonly path: string;
  readonly reason: string;
}

function acknowledgements(app: App): Acknowledgement[] {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          rule: id.replace(/^annotation::/i, ''),
          path: construct.node.path,
          reason,
        })),
      ),
  );
}

describe.each(Object.entries(VARIANTS))('the %s stack', (name, props) => {
  let app: App;
  beforeAll(() => {
    app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new BackorderWatchStack(app, `Nag-${name.replace(/\W+/g, '-')}`, props);
  });

  it.each(Object.keys(PACKS))('has no unacknowledged %s error or warning', (pack) => {
    const open = findings(PACKS[pack]?.() ?? new AwsSolutionsChecks(), app);
    expect(open.map((finding) => `${finding.rule} at ${finding.path}`)).toEqual([]);
  });

  it('acknowledges only findings that exist, each with a specific reason', () => {
    const raw = Object.values(PACKS).flatMap((pack) => rawFindings(pack(), app));
    const acknowledged = acknowledgements(app);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const acknowledgement of acknowledged) {
      const hides = raw.some(
        (finding) =>
          finding.rule === acknowledgement.rule &&
          (finding.path === acknowledgement.path || finding.path.startsWith(`${acknowledgement.path}/`)),
      );
      expect(hides, `${acknowledgement.rule} at ${acknowledgement.path} acknowledges nothing`).toBe(true);
      expect(acknowledgement.reason.length, acknowledgement.rule).toBeGreaterThan(60);
    }
  });

  it('never acknowledges a wildcard on actions, nor a whole rule on the whole stack', () => {
    for (const acknowledgement of acknowledgements(app)) {
      expect(acknowledgement.rule).not.toMatch(/IAM5\[Action::/);
      expect(acknowledgement.path.split('/').length).toBeGreaterThan(1);
    }
  });
});
