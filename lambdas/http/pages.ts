import { setTimeout as sleep } from 'node:timers/promises';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { BackorderStore } from '#adapters/backorder-store.ts';
import type { WorkflowStarter } from '#adapters/workflow-starter.ts';
import { type Backorder, lineLabel } from '#domain/backorder.ts';
import type { PageContext } from '#domain/page.ts';

/** What the handlers behind emailed links (decisions, notice reviews) share. */

type Response = APIGatewayProxyStructuredResultV2;

export interface LinkPageDependencies {
  store: BackorderStore;
  workflow: WorkflowStarter;
  /** Every active link secret, newest first (rotation). */
  secrets: Buffer[];
  now: () => Date;
  /** How the pages name the company and write dates. @default en-US, UTC, no company name */
  page?: PageContext;
}

/** A link's page only reads on GET/HEAD and acts on POST; anything else is answered 405. */
export function linkMethod(event: APIGatewayProxyEventV2): 'read' | 'write' | undefined {
  const method = event.requestContext.http.method.toUpperCase();
  if (method === 'POST') return 'write';
  return method === 'GET' || method === 'HEAD' ? 'read' : undefined;
}

export function methodNotAllowed(page: Response): Response {
  return { ...page, statusCode: 405, headers: { ...page.headers, allow: 'GET, POST' } };
}

const MAX_HAND_OVER_ATTEMPTS = 3;

/** Starts the record's generation, retrying briefly; false when Step Functions would not take it. */
export async function handOver(record: Backorder, workflow: WorkflowStarter): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await workflow.handOver(record);
      return true;
    } catch (error) {
      if (attempt >= MAX_HAND_OVER_ATTEMPTS) {
        log('ERROR', 'workflow hand-off failed', record, { error: (error as Error).name });
        return false;
      }
      await sleep(50 * 2 ** attempt);
    }
  }
}

/** Structured logs name the line, never the token (a bearer credential) or the customer. */
export function log(
  level: 'INFO' | 'ERROR',
  message: string,
  record: Backorder,
  extra: Record<string, unknown>,
): void {
  const line = JSON.stringify({ level, message, backorder: lineLabel(record), ...extra });
  if (level === 'ERROR') console.error(line);
  else console.info(line);
}

/** A person is looking: an unexpected failure is logged (never the event) and answered with a page. */
export function htmlErrors(errorPage: () => Response): MiddlewareObj<APIGatewayProxyEventV2, Response> {
  return {
    onError: async (request) => {
      const error = request.error;
      console.error(
        JSON.stringify({
          level: 'ERROR',
          message: 'unhandled error',
          error:
            error instanceof Error
              ? { name: error.name, message: error.message, stack: error.stack }
              : { name: 'NonError', message: String(error) },
        }),
      );
      request.response = errorPage();
    },
  };
}
