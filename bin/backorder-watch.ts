#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { BackorderWatchStack } from '#lib/backorder-watch-stack.ts';
import { stageSettings } from '#lib/stage.ts';

/**
 * The CDK app. Everything that differs per deployment comes from context:
 *
 *   npx cdk deploy -c stage=prod -c config=config/organisation.json \
 *     [-c senderDomain=example.com] [-c opsEmail=ops@example.com] [-c customerManagedKey=true] \
 *     [-c corsOrigins=https://ops.example.com] [-c region=us-east-1]
 *
 * A bad stage name or organisation configuration fails here, at synth, and so does any cdk-nag
 * finding (AWS Solutions and Serverless packs) that is not acknowledged with a reason in lib/.
 */
const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
};

const stage = stageSettings(context('stage') ?? 'dev').stage;
new BackorderWatchStack(app, `BackorderWatch-${stage}`, {
  stage,
  organisationConfigFile: context('config'),
  senderDomain: context('senderDomain'),
  opsEmail: context('opsEmail'),
  customerManagedKey: context('customerManagedKey') === 'true',
  corsOrigins: context('corsOrigins')
    ?.split(',')
    .map((origin) => origin.trim()),
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: context('region') ?? process.env.CDK_DEFAULT_REGION,
  },
  description: `Backorder Watch (${stage}): tells customers about late order lines`,
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
