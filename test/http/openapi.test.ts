import { describe, expect, it } from 'vitest';
import { openApiDocument } from '#http/openapi.ts';

describe('the OpenAPI document', () => {
  const document = openApiDocument('https://api.example');

  it('is OpenAPI 3.1 and lists every public and operator route', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths ?? {}).sort()).toEqual([
      '/v1/backorders',
      '/v1/backorders/{orderId}/{lineId}',
      '/v1/decisions/{token}',
      '/v1/erp/events',
      '/v1/insights',
      '/v1/review',
      '/v1/reviews/{token}',
      '/v1/safety-stock',
    ]);
  });

  it('describes the ERP event from the same schema that validates it, with every contract status', () => {
    const post = document.paths?.['/v1/erp/events']?.post;
    expect(Object.keys(post?.responses ?? {}).sort()).toEqual([
      '202',
      '400',
      '401',
      '404',
      '413',
      '415',
      '422',
      '503',
    ]);
    const delayed = document.components?.schemas?.BackorderDelayedData as { required?: string[] };
    expect(delayed.required).toEqual(
      expect.arrayContaining([
        'orderId',
        'lineId',
        'customer',
        'originalShipDate',
        'expectedShipDate',
        'reason',
        'owner',
      ]),
    );
    expect(delayed.required).not.toContain('alternatives');
    expect(JSON.stringify(document.components?.schemas?.ReasonCode)).toContain('PORT_CONGESTION');
  });

  it('describes sku.demand as one of the signed ERP events, with its period, quantity and mills', () => {
    const demand = document.components?.schemas?.SkuDemandData as {
      required?: string[];
      properties?: object;
    };
    expect(demand.required).toEqual(['sku', 'period', 'quantity', 'unit']);
    expect(Object.keys(demand.properties ?? {})).toEqual(
      expect.arrayContaining(['supplierIds', 'baseLeadTimeDays']),
    );
    expect(JSON.stringify(document.components?.schemas?.ErpEvent)).toContain('sku.demand');
    expect(JSON.stringify(document.paths?.['/v1/erp/events']?.post?.responses?.['202'])).toContain('stale');
  });

  it('secures the operators’ routes with a bearer token', () => {
    expect(document.paths?.['/v1/backorders']?.get?.security).toEqual([{ operatorToken: [] }]);
    expect(document.paths?.['/v1/safety-stock']?.get?.security).toEqual([{ operatorToken: [] }]);
    expect(document.paths?.['/v1/erp/events']?.post?.security).toBeUndefined();
  });
});
