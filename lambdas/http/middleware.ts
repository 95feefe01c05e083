import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createLogger } from '#adapters/logger.ts';
import { HttpError, json } from '#http/responses.ts';

const logger = createLogger({ service: 'http' });

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * The one place errors become HTTP responses: an HttpError shows its own body; anything else is
 * logged (message and stack, never the event) and answered with a 500 that leaks nothing.
 */
export function httpErrors(): HttpMiddleware {
  return {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof HttpError) {
        request.response = json(error.status, error.body, error.headers);
        return;
      }
      // The logger redacts addresses and phone numbers an SDK error message may carry.
      logger.error('unhandled error', { error: describe(error) });
      request.response = json(500, {
        error: 'internal_error',
        message: 'Something went wrong; retry later.',
      });
    },
  };
}

function describe(error: unknown): { name: string; message: string; stack?: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message, stack: error.stack }
    : { name: 'NonError', message: String(error) };
}

/** Lower-cased headers, as HTTP APIs already deliver them, and the raw body as a string. */
export function rawBody(event: APIGatewayProxyEventV2): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

export function lowerCaseHeaders(event: APIGatewayProxyEventV2): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  return headers;
}
