#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { BackorderWatchStack } from '#lib/backorder-watch-stack.ts';

const app = new App();
const stage = app.node.tryGetContext('stage') ?? 'dev';
new BackorderWatchStack(app, `BackorderWatch-${stage}`, { stage });
