import { readFileSync } from 'node:fs';
import type { BackorderEvent, DelayedData, SkuDemandData, SkuDemandEvent } from '#domain/events.ts';

type Fixture = 'backorder.delayed' | 'backorder.shipped' | 'backorder.cancelled';

/** A versioned ERP payload from test/fixtures/erp, as the ERP would post it. */
export function erpFixture(name: Fixture, version = 'v1'): BackorderEvent {
  const url = new URL(`../fixtures/erp/${version}/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as BackorderEvent;
}

/** A `backorder.delayed` event built on the fixture, with the fields a test cares about. */
export function delayed(
  occurredAt: string,
  expectedShipDate: string,
  data: Partial<DelayedData> = {},
): Extract<BackorderEvent, { type: 'backorder.delayed' }> {
  const base = erpFixture('backorder.delayed');
  if (base.type !== 'backorder.delayed') throw new Error('fixture is not a delay');
  return { ...base, occurredAt, data: { ...base.data, expectedShipDate, ...data } };
}

export function closing(
  type: 'backorder.shipped' | 'backorder.cancelled',
  occurredAt: string,
  key: { orderId: string; lineId: string } = { orderId: 'SO-10042', lineId: '3' },
): BackorderEvent {
  return { type, occurredAt, data: { ...key } };
}

/** A `sku.demand` event: what one SKU sold in one period. */
export function demand(
  occurredAt: string,
  data: Partial<SkuDemandData> & Pick<SkuDemandData, 'sku' | 'period' | 'quantity'>,
): SkuDemandEvent {
  return { type: 'sku.demand', occurredAt, data: { unit: 'ton', ...data } };
}
