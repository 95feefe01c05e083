import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { TemplateResolver } from '#local/template.ts';

/**
 * The HTTP API as deployed, on this machine: its routes are read from the synthesized template
 * (`AWS::ApiGatewayV2::Route` → integration → Lambda), requests become API Gateway v2 events,
 * and JWT-protected routes accept the local admin token instead of a Cognito token.
 */

export interface GatewayRoute {
  method: string;
  /** `/v1/backorders/{orderId}/{lineId}` */
  path: string;
  functionLogicalId: string;
  requiresOperator: boolean;
  matcher: RegExp;
  parameterNames: string[];
}

/** The routes of every HTTP API in the template. */
export function routesFromTemplate(resolver: TemplateResolver): GatewayRoute[] {
  const integrations = new Map<string, string>();
  for (const [logicalId, resource] of resolver.resources('AWS::ApiGatewayV2::Integration')) {
    const uri = resource.Properties.IntegrationUri as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const target = uri?.['Fn::GetAtt']?.[0];
    if (target) integrations.set(logicalId, target);
  }
  const routes: GatewayRoute[] = [];
  for (const [, resource] of resolver.resources('AWS::ApiGatewayV2::Route')) {
    const routeKey = String(resource.Properties.RouteKey);
    const [method = '', path = ''] = routeKey.split(' ');
    const target = resource.Properties.Target as { 'Fn::Join'?: [string, unknown[]] } | undefined;
    const parts = target?.['Fn::Join']?.[1] ?? [];
    const integrationRef = parts.find(
      (part): part is { Ref: string } => typeof part === 'object' && part !== null && 'Ref' in part,
    );
    const functionLogicalId = integrationRef ? integrations.get(integrationRef.Ref) : undefined;
    if (!functionLogicalId) throw new Error(`route ${routeKey} has no Lambda integration`);
    const parameterNames = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
    const pattern = path
      .split('/')
      .map((segment) =>
        /^\{\w+\}$/.test(segment) ? '([^/]+)' : segment.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&'),
      )
      .join('/');
    routes.push({
      method,
      path,
      functionLogicalId,
      requiresOperator: resource.Properties.AuthorizationType === 'JWT',
      matcher: new RegExp(`^${pattern}$`),
      parameterNames,
    });
  }
  return routes;
}

export interface GatewayOptions {
  routes: GatewayRoute[];
  adminToken: string;
  invoke: (functionLogicalId: string, event: APIGatewayProxyEventV2) => Promise<unknown>;
  now: () => Date;
  /** API Gateway's own payload limit is 10 MB; larger requests never reach a Lambda. */
  maxBodyBytes?: number;
}

/** Handles one HTTP request the way API Gateway would, or answers false when no route matches. */
export function createGateway(options: GatewayOptions) {
  const maxBody = options.maxBodyBytes ?? 10 * 1024 * 1024;
  return async (request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<boolean> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    const candidates = options.routes.filter((route) => route.matcher.test(url.pathname));
    if (candidates.length === 0) return false;
    const route = candidates.find((candidate) => candidate.method === method);
    if (!route) {
      send(response, { statusCode: 404, body: JSON.stringify({ message: 'Not Found' }) });
      return true;
    }
    if (body.length > maxBody) {
      send(response, { statusCode: 413, body: JSON.stringify({ message: 'Request Entity Too Large' }) });
      return true;
    }
    if (route.requiresOperator && request.headers.authorization !== `Bearer ${options.adminToken}`) {
      send(response, { statusCode: 401, body: JSON.stringify({ message: 'Unauthorized' }) });
      return true;
    }
    const match = route.matcher.exec(url.pathname);
    const pathParameters: Record<string, string> = {};
    route.parameterNames.forEach((name, index) => {
      const value = match?.[index + 1];
      if (value !== undefined) pathParameters[name] = value;
    });
    const event = toEvent(request, url, route, pathParameters, body, options.now());
    const result = (await options.invoke(
      route.functionLogicalId,
      event,
    )) as APIGatewayProxyStructuredResultV2;
    send(response, result);
    return true;
  };
}

function toEvent(
  request: IncomingMessage,
  url: URL,
  route: GatewayRoute,
  pathParameters: Record<string, string>,
  body: Buffer,
  now: Date,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = query[name] ? `${query[name]},${value}` : value;
  const text = body.toString('utf8');
  const binary = !Buffer.from(text, 'utf8').equals(body);
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : undefined,
    body: body.length > 0 ? (binary ? body.toString('base64') : text) : undefined,
    isBase64Encoded: binary,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: route.method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

function send(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  response.statusCode = result.statusCode ?? 200;
  for (const [name, value] of Object.entries(result.headers ?? {})) response.setHeader(name, String(value));
  const body = result.body ?? '';
  response.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}
