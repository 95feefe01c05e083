import * as z from 'zod';

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

const MONTH_PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;
const WEEK_PERIOD = /^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$/;

/** Whether an ISO week-numbering year has a week 53 (it starts on a Thursday, or a Wednesday in a leap year). */
function isRealIsoWeek(value: string): boolean {
  const match = WEEK_PERIOD.exec(value);
  if (!match) return false;
  if (match[2] !== '53') return true;
  const year = Number(match[1]);
  const jan1 = new Date(Date.UTC(year, 0, 1)).getUTCDay();
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return jan1 === 4 || (leap && jan1 === 3);
}

/** A demand period: a month `YYYY-MM` or an ISO week `YYYY-Www`. */
export const DemandPeriod = z
  .string()
  .refine(
    (value) => MONTH_PERIOD.test(value) || isRealIsoWeek(value),
    'expected a month as YYYY-MM or an ISO week as YYYY-Www',
  )
  .meta({ example: '2026-03', description: 'A month (YYYY-MM) or an ISO week (YYYY-Www)' });

export const SkuDemandData = z
  .object({
    sku: text(64),
    period: DemandPeriod,
    quantity: z.number().finite().min(0).meta({ description: 'Quantity sold in the period' }),
    unit: text(32),
    supplierIds: z
      .array(text(64))
      .max(20)
      .optional()
      .meta({ description: 'The mills that supply the SKU (their `supplier.id` in backorder events)' }),
    baseLeadTimeDays: z
      .number()
      .finite()
      .min(0)
      .max(3650)
      .optional()
      .meta({ description: 'The quoted lead time in days, before any mill delay' }),
  })
  .meta({ id: 'SkuDemandData' });
export type SkuDemandData = z.infer<typeof SkuDemandData>;

const SkuDemandEvent = z.object({
  type: z.literal('sku.demand'),
  occurredAt: isoInstantWithOffset,
  data: SkuDemandData,
});

export const ErpEvent = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('backorder.delayed'), occurredAt: isoInstantWithOffset, data: DelayedData }),
    z.object({ type: z.literal('backorder.shipped'), occurredAt: isoInstantWithOffset, data: ClosingData }),
    z.object({ type: z.literal('backorder.cancelled'), occurredAt: isoInstantWithOffset, data: ClosingData }),
    SkuDemandEvent,
  ])
  .meta({ id: 'ErpEvent', description: 'One ERP webhook event (CONTRACT §1).' });
export type ErpEvent = z.infer<typeof ErpEvent>;
export type ErpEventType = ErpEvent['type'];
/** The events about one backorder line. */
export type BackorderEvent = Exclude<ErpEvent, { type: 'sku.demand' }>;
/** What a SKU sold in one period. */
export type SkuDemandEvent = Extract<ErpEvent, { type: 'sku.demand' }>;

/** What the ingest answers for an accepted event. */
export const IngestResult = z.enum(['opened', 'slipped', 'improved', 'unchanged', 'closed', 'stale']);
export type IngestResult = z.infer<typeof IngestResult>;

/** What the ingest answers for a `sku.demand` event: recorded, or older than the report on record. */
export const DemandResult = z.enum(['recorded', 'stale']);
export type DemandResult = z.infer<typeof DemandResult>;
