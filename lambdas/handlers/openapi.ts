import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { httpErrors } from '#http/middleware.ts';
import { openApiDocument } from '#http/openapi.ts';
import { json } from '#http/responses.ts';

const document = openApiDocument();

/** `GET /v1/openapi.json`, for ERP integrators. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrors())
  .handler(async () => json(200, document, { 'cache-control': 'public, max-age=300' }));
