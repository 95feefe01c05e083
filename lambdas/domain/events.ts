import { z } from 'zod';

/**
 * The ERP webhook payloads of CONTRACT §1. These schemas are the single source of validation,
 * of the TypeScript types and of the OpenAPI document.
 */

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date as YYYY-MM-DD', abort: true })
  .refine((value) => isRealDate(value), 'not a calendar date')
  .meta({ format: 'date', example: '2026-03-22' });

const isoInstantWithOffset = z.iso
  .datetime({ offset: true, local: false })
  .meta({ description: 'ISO-8601 instant with an offset', example: '2026-03-10T14:05:00-05:00' });

const text = (max: number) => z.string().trim().min(1).max(max);
const email = z.email().max(254);
const phone = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 phone number such as +15125550123')
  .meta({ example: '+15125550123' });

function isRealDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const ReasonCode = z
  .enum([
    'MILL_SCHEDULE',
    'MILL_MAINTENANCE',
    'PORT_CONGESTION',
    'CONTAINER_SHORTAGE',
    'CUSTOMS',
    'TRANSPORT',
    'QUALITY_HOLD',
    'OTHER',
  ])
  .meta({ id: 'ReasonCode' });
export type ReasonCode = z.infer<typeof ReasonCode>;

export const Money = z.object({
  amount: z.number().finite(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO-4217 currency code'),
});

export const Alternative = z
  .object({
    id: text(64),
    description: text(500),
    shipDate: isoDate,
    priceDelta: Money.extend({ per: text(32).optional() }).optional(),
  })
  .meta({ id: 'Alternative' });
export type Alternative = z.infer<typeof Alternative>;

const LineRef = {
  orderId: text(64),
  lineId: text(64),
};

export const DelayedData = z
  .object({
    ...LineRef,
    customer: z.object({
      id: text(64),
      name: text(200),
      email,
      timeZone: z.string().refine(isTimeZone, 'not an IANA time zone').optional(),
      phone: phone.optional(),
    }),
    item: z.object({ sku: text(64), description: text(500), product: text(200).optional() }),
    quantity: z.object({ amount: z.number().positive().finite(), unit: text(32) }),
    supplier: z.object({ id: text(64), name: text(200) }),
    originalShipDate: isoDate,
    expectedShipDate: isoDate,
    reason: z.object({ code: ReasonCode, text: text(1000) }),
    owner: z.object({ id: text(64), name: text(200), email, phone: phone.optional() }),
    alternatives: z.array(Alternative).max(20).optional(),
    orderValue: Money.optional(),
  })
  .meta({ id: 'BackorderDelayedData' });
export type DelayedData = z.infer<typeof DelayedData>;

export const ClosingData = z
  .object({ ...LineRef, note: z.string().max(2000).optional() })
  .meta({ id: 'BackorderClosingData' });
export type ClosingData = z.infer<typeof ClosingData>;

export const ErpEvent = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('backorder.delayed'), occurredAt: isoInstantWithOffset, data: DelayedData }),
    z.object({ type: z.literal('backorder.shipped'), occurredAt: isoInstantWithOffset, data: ClosingData }),
    z.object({ type: z.literal('backorder.cancelled'), occurredAt: isoInstantWithOffset, data: ClosingData }),
  ])
  .meta({ id: 'ErpEvent', description: 'One ERP webhook event (CONTRACT §1).' });
export type ErpEvent = z.infer<typeof ErpEvent>;
export type ErpEventType = ErpEvent['type'];

/** What the ingest answers for an accepted event. */
export const IngestResult = z.enum(['opened', 'slipped', 'improved', 'unchanged', 'closed', 'stale']);
export type IngestResult = z.infer<typeof IngestResult>;
