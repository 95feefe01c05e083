import { randomUUID } from 'node:crypto';
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Email } from 'aws-ses-v2-local/dist/store.js';
import { z } from 'zod';
import { listen, readBody } from '#local/http-service.ts';
import { nextArrival, type OutboxEmail, type OutboxSource } from '#local/outbox.ts';

/** An error the local SES answers with, in the SES v2 REST-JSON shape. */
export interface SesFault {
  /** The error code, e.g. `TooManyRequestsException`: the SDK raises the exception of that name. */
  readonly name: string;
  readonly status: number;
  readonly message?: string;
}

export interface StartSesOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** The clock that stamps each email: the virtual clock in the local runtime. @default wall clock */
  readonly now?: () => Date;
  /**
   * Recipients SES refuses with `MessageRejected` (400), as a permanently failing address.
   * @default any address at `@bounce.example`
   */
  readonly rejectRecipients?: RegExp;
}

/** An email SES accepted. */
export interface SesEmail extends OutboxEmail {
  readonly arrival: number;
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly replyTo: readonly string[];
  readonly configurationSetName: string | null;
  readonly tags: Readonly<Record<string, string>>;
}

/** A running local SES v2 endpoint, with its mail viewer at `/`. */
export interface LocalSes extends OutboxSource<SesEmail> {
  /** The value for `AWS_ENDPOINT_URL_SESV2`; open it in a browser for the mail viewer. */
  readonly endpoint: string;
  /** Every email accepted so far, in arrival order. */
  records(): readonly SesEmail[];
  /**
   * Fails the next `count` SendEmail requests (HTTP attempts, so SDK retries count too) with
   * `fault`. @default { name: 'TooManyRequestsException', status: 429 }
   */
  failNext(count: number, fault?: SesFault): void;
  clear(): void;
  stop(): Promise<void>;
}

/*
 * Loaded with require: it is CommonJS with a transpiled `default` export, which Node and Vite
 * interpret differently through `import`; and its store must be the very module its server uses.
 */
const require = createRequire(import.meta.url);
const sesV2Local = require('aws-ses-v2-local') as {
  default: (config: { host: string; port: number }) => Promise<Server>;
};
const { getStoreReadonly } = require('aws-ses-v2-local/dist/store.js') as {
  getStoreReadonly: () => { emails: readonly Email[]; templates: ReadonlyMap<string, unknown> };
};
const { createEmlContent } = require('aws-ses-v2-local/dist/emlFile.js') as {
  createEmlContent: (email: Email) => Promise<{ body: Buffer }>;
};

const THROTTLED: SesFault = {
  name: 'TooManyRequestsException',
  status: 429,
  message: 'Maximum sending rate exceeded.',
};

/*
 * aws-ses-v2-local does the SES v2 parsing (Simple, Raw, Template content) and serves the mail
 * viewer. It keeps one module-wide store and stamps wall-clock seconds, so every local SES shares
 * one upstream server and keeps its own records, stamped with its own clock; the viewer's
 * `/store` is answered from those records.
 */
let upstream: Promise<{ port: number; release(): Promise<void> }> | undefined;
let upstreamUsers = 0;

function acquireUpstream(): Promise<{ port: number; release(): Promise<void> }> {
  upstreamUsers += 1;
  upstream ??= sesV2Local.default({ host: '127.0.0.1', port: 0 }).then((server) => {
    const { port } = server.address() as AddressInfo;
    return {
      port,
      release: async () => {
        upstreamUsers -= 1;
        if (upstreamUsers > 0) return;
        upstream = undefined;
        await new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        });
      },
    };
  });
  return upstream;
}

interface Forwarded {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Passes a request on to the upstream server unchanged (one connection each: nothing lingers). */
function forward(port: number, incoming: IncomingMessage, body: Buffer): Promise<Forwarded> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: `127.0.0.1:${port}`, 'content-length': String(body.length) },
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 502,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  response.end(JSON.stringify(body));
}

/** The SES v2 error shape: the code in `x-amzn-ErrorType`, the text in `message`. */
function sendError(response: ServerResponse, fault: SesFault): void {
  sendJson(
    response,
    fault.status,
    { message: fault.message ?? fault.name },
    { 'x-amzn-errortype': fault.name },
  );
}

const sendEmailRequest = z.object({
  FromEmailAddress: z.string().optional(),
  Destination: z
    .object({
      ToAddresses: z.array(z.string()).optional(),
      CcAddresses: z.array(z.string()).optional(),
      BccAddresses: z.array(z.string()).optional(),
    })
    .optional(),
  ReplyToAddresses: z.array(z.string()).optional(),
  ConfigurationSetName: z.string().optional(),
  EmailTags: z.array(z.object({ Name: z.string(), Value: z.string() })).optional(),
});

/** `Dana <dana@x.example>` → `dana@x.example`. */
function bareAddress(address: string): string {
  return (/<([^>]*)>/.exec(address)?.[1] ?? address).trim();
}

function upstreamMessage(forwarded: Forwarded): string {
  try {
    const parsed = z
      .object({ message: z.string().optional(), detail: z.string().optional() })
      .parse(JSON.parse(forwarded.body.toString()));
    return parsed.detail ?? parsed.message ?? 'Bad request';
  } catch {
    return forwarded.body.toString() || 'Bad request';
  }
}

/**
 * Starts a local SES v2 endpoint: `aws-ses-v2-local` behind a thin proxy that stamps each email
 * with `now()` (the virtual clock), rejects recipients matching `rejectRecipients`, injects faults,
 * and answers errors in the SES v2 shape so the SDK raises the named exception.
 */
export async function startSes(options: StartSesOptions = {}): Promise<LocalSes> {
  const now = options.now ?? (() => new Date());
  const rejectRecipients = options.rejectRecipients ?? /@bounce\.example$/i;
  const faults: SesFault[] = [];
  let emails: { email: SesEmail; upstream: Email }[] = [];
  const { port: upstreamPort, release } = await acquireUpstream();

  async function sendEmail(request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<void> {
    const fault = faults.shift();
    if (fault) return sendError(response, fault);

    let parsed: z.infer<typeof sendEmailRequest>;
    try {
      parsed = sendEmailRequest.parse(JSON.parse(body.toString()));
    } catch {
      return sendError(response, {
        name: 'BadRequestException',
        status: 400,
        message: 'Malformed SendEmail request',
      });
    }
    const destination = parsed.Destination;
    const forwarded = await forward(upstreamPort, request, body);
    if (forwarded.status !== 200) {
      const name = forwarded.status === 404 ? 'NotFoundException' : 'BadRequestException';
      return sendError(response, { name, status: forwarded.status, message: upstreamMessage(forwarded) });
    }
    const { MessageId: messageId } = z
      .object({ MessageId: z.string() })
      .parse(JSON.parse(forwarded.body.toString()));
    const stored = getStoreReadonly().emails.find((candidate) => candidate.messageId === messageId);
    if (!stored) throw new Error(`aws-ses-v2-local did not store message ${messageId}`);

    // Raw content may carry its recipients only in its headers, which upstream has parsed.
    const to = destination ? (destination.ToAddresses ?? []) : stored.destination.to;
    const cc = destination ? (destination.CcAddresses ?? []) : stored.destination.cc;
    const bcc = destination ? (destination.BccAddresses ?? []) : stored.destination.bcc;
    const rejected = [...to, ...cc, ...bcc].filter((address) => rejectRecipients.test(bareAddress(address)));
    if (rejected.length > 0) {
      return sendError(response, {
        name: 'MessageRejected',
        status: 400,
        message: `Email address rejected: ${rejected.join(', ')}`,
      });
    }

    const at = now();
    const email: SesEmail = {
      id: messageId,
      at: at.toISOString(),
      arrival: nextArrival(),
      from: stored.from,
      to,
      cc,
      bcc,
      replyTo: stored.replyTo,
      subject: stored.subject,
      text: stored.body.text || null,
      html: stored.body.html || null,
      configurationSetName: parsed.ConfigurationSetName ?? null,
      tags: Object.fromEntries((parsed.EmailTags ?? []).map((tag) => [tag.Name, tag.Value])),
    };
    emails.push({ email, upstream: { ...stored, at: Math.floor(at.getTime() / 1000) } });
    sendJson(response, 200, { MessageId: messageId });
  }

  /** The mail viewer polls `/store?since=<seconds>`: answer from this instance's records. */
  function viewerStore(url: URL, response: ServerResponse): void {
    const since = Number(url.searchParams.get('since') ?? '0');
    sendJson(response, 200, {
      templates: Object.fromEntries(getStoreReadonly().templates),
      emails: emails.map((entry) => entry.upstream).filter((email) => email.at >= since),
    });
  }

  async function download(url: URL, response: ServerResponse): Promise<void> {
    const entry = emails.find((candidate) => candidate.email.id === url.searchParams.get('messageId'));
    if (!entry) return sendJson(response, 404, { message: 'Email not found' });
    const eml = await createEmlContent(entry.upstream);
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    response.end(eml.body);
  }

  const service = await listen(
    async (request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const body = await readBody(request);
      const route = `${request.method} ${url.pathname}`;
      if (route === 'POST /v2/email/outbound-emails') return sendEmail(request, response, body);
      if (route === 'GET /store') return viewerStore(url, response);
      if (route === 'POST /clear-store') {
        emails = [];
        return sendJson(response, 200, { message: 'Store cleared' });
      }
      if (route === 'GET /get-emlContent') return download(url, response);
      if (route === 'POST /v2/email/outbound-bulk-emails' || route === 'POST /') {
        // Mail sent these ways would bypass the records, and so the outbox: refuse it loudly.
        return sendError(response, {
          name: 'BadRequestException',
          status: 400,
          message: 'The local SES records SESv2 SendEmail only',
        });
      }
      const forwarded = await forward(upstreamPort, request, body);
      const headers = Object.fromEntries(
        Object.entries(forwarded.headers).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'connection',
        ),
      );
      response.writeHead(forwarded.status, headers);
      response.end(forwarded.body);
    },
    { host: options.host, port: options.port },
  );

  let stopping: Promise<void> | undefined;
  return {
    endpoint: service.endpoint,
    records: () => emails.map((entry) => entry.email),
    failNext: (count, fault = THROTTLED) => {
      for (let i = 0; i < count; i += 1) faults.push(fault);
    },
    clear: () => {
      emails = [];
    },
    stop: () => {
      stopping ??= service.close().then(release);
      return stopping;
    },
  };
}
