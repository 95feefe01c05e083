import type { TestProject } from 'vitest/node';
import { type DynamoDbLocal, startDynamoDb } from '#local/dynamodb.ts';
import { listen } from '#local/http-service.ts';
import { synthesizeLocalTemplate } from '#local/synth.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL of this run's local-services broker (see below). */
    localServices: string;
  }
}

/** A value, or the one-line reason it could not be had. */
export type Provision<T> = { value: T } | { error: string };

function settle<T>(what: string, make: () => T | Promise<T>): Promise<Provision<T>> {
  return Promise.resolve()
    .then(make)
    .then(
      (value) => ({ value }),
      (error: unknown) => ({ error: `${what}: ${error instanceof Error ? error.message : String(error)}` }),
    );
}

/**
 * One DynamoDB Local and one synthesis of the CDK app for the whole run, started when the first
 * test file asks for them (a run of domain tests alone pays for neither): a small loopback
 * endpoint hands out `GET /dynamodb` → `{ value: endpoint }` and `GET /template` →
 * `{ value: template }`. A failure is handed on as `{ error }`, so a missing Java or a broken
 * stack fails only the tests that need them.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let database: Promise<Provision<DynamoDbLocal>> | undefined;
  let template: Promise<Provision<Record<string, unknown>>> | undefined;
  const broker = await listen(async (request, response) => {
    let answer: Provision<unknown>;
    if (request.url === '/dynamodb') {
      database ??= settle('DynamoDB Local did not start', () => startDynamoDb());
      const started = await database;
      answer = 'value' in started ? { value: started.value.endpoint } : started;
    } else if (request.url === '/template') {
      template ??= settle('The CDK app does not synthesize', () => synthesizeLocalTemplate());
      answer = await template;
    } else {
      answer = { error: `no such local service: ${request.url}` };
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer));
  });
  project.provide('localServices', broker.endpoint);
  return async () => {
    await broker.close();
    const started = await database;
    if (started && 'value' in started) await started.value.stop();
  };
}
