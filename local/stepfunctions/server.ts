/**
 * The Step Functions wire protocol (awsJson1_0) on a loopback port: `POST /` with
 * `X-Amz-Target: AWSStepFunctions.<Operation>` and a JSON body; errors answer
 * `{ "__type": "<Name>", "message": ... }`, which `@aws-sdk/client-sfn` maps to its exception
 * classes (`ExecutionAlreadyExists`, `ExecutionDoesNotExist`, …).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonObject } from '#local/template.ts';
import { ServiceError } from './errors.ts';

/** Answers one operation: returns the response body, or throws a {@link ServiceError}. */
export type OperationHandler = (operation: string, body: JsonObject) => Promise<JsonObject> | JsonObject;

/** A listening server. */
export interface JsonProtocolServer {
  readonly endpoint: string;
  readonly port: number;
  /** Stops listening and drops idle keep-alive connections (the SDK keeps some open). */
  close(): Promise<void>;
}

const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';

/** Listens on `127.0.0.1:port` (0: a free port) and dispatches every request to `handle`. */
export async function serveJsonProtocol(handle: OperationHandler, port = 0): Promise<JsonProtocolServer> {
  const server = createServer((request, response) => {
    void answer(handle, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function answer(
  handle: OperationHandler,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  try {
    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
      throw new ServiceError(
        'UnknownOperationException',
        'expected POST with X-Amz-Target: AWSStepFunctions.<Operation>',
      );
    }
    const text = await readBody(request);
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new ServiceError('SerializationException', 'the request body is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ServiceError('SerializationException', 'the request body is not a JSON object');
    }
    const result = await handle(target.slice(TARGET_PREFIX.length), body as JsonObject);
    send(response, 200, result);
  } catch (error) {
    if (error instanceof ServiceError) {
      send(response, error.status, { __type: error.type, message: error.message }, error.type);
    } else {
      // Internals stay in the local log, as AWS would keep them: the caller gets a generic 500.
      console.error('local Step Functions: unexpected error', error);
      send(response, 500, {
        __type: 'InternalFailure',
        message: 'the local Step Functions failed; see its log',
      });
    }
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: JsonObject, errorType?: string): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(text);
}
