import * as z from 'zod';

/**
 * The organisation configuration: who works when, who gets told what, and the thresholds
 * behind every rule. One JSON file feeds both the local runtime and the deployed stack, and
 * it is validated before either starts (a bad file fails `npm start` and `cdk synth`).
 */

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a 24-hour time as HH:MM');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const phone = z.string().regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 phone number such as +15125550123');

const timeZone = z.string().refine((value) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone');

const Person = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  email: z.email(),
  phone: phone.optional(),
});
export type Person = z.infer<typeof Person>;

export const OrganisationConfig = z
  .object({
    company: z.object({
      name: z.string().min(1),
      timeZone,
      locale: z.string().default('en-US'),
      /** The verified SES identity notices are sent from. */
      senderEmail: z.email(),
      /** Base URL of the public API, for decision links in emails. */
      publicBaseUrl: z.url().optional(),
    }),
    businessHours: z
      .object({
        days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
        start: clockTime.default('08:00'),
        end: clockTime.default('17:00'),
      })
      .refine((hours) => hours.start < hours.end, { message: 'start must be before end', path: ['end'] }),
    holidays: z.object({
      /** The region whose public holidays close the business (a `date-holidays` country code). */
      country: z.string().min(2),
      state: z.string().optional(),
      extraDates: z.array(isoDate).default([]),
      /**
       * The region's public holidays as dates, written by the build (lib/holidays.ts) into the
       * copy each Lambda bundles, so that no holiday library ships; not written by hand.
       */
      publicDates: z
        .object({
          firstYear: z.number().int(),
          lastYear: z.number().int(),
          dates: z.array(isoDate),
        })
        .optional(),
    }),
    notices: z.object({
      mode: z.enum(['immediate', 'review']).default('immediate'),
      slaBusinessHours: z.number().positive().max(40).default(4),
      /** In review mode, the owner is warned this many business hours after the delay was learned. */
      reviewWarningBusinessHours: z.number().positive().default(3),
      decisionLinkDays: z.number().int().positive().max(90).default(14),
    }),
    escalation: z.object({
      vpAfterDaysPastOriginal: z.number().int().positive().default(14),
      /** Texts to one person falling due within this window are grouped into one summary. */
      textGroupingMinutes: z.number().int().min(0).max(60).default(2),
      maxTextsPerPersonPerDay: z.number().int().positive().default(20),
    }),
    nextAction: z.object({
      /** A fresh backorder's next action falls due this many business hours after it was learned. */
      defaultBusinessHours: z.number().positive().default(18),
    }),
    people: z.object({
      managers: z.array(Person).min(1),
      vps: z.array(Person).min(1),
      /** Owner id → manager id. Owners not listed report to `defaultManagerId`. */
      ownerManagers: z.record(z.string(), z.string()).default({}),
      defaultManagerId: z.string(),
      /** Owners' phones for reminders, where the ERP does not send one. */
      ownerPhones: z.record(z.string(), phone).default({}),
    }),
    morningReview: z.object({
      time: clockTime.default('07:30'),
      recipients: z.array(z.email()).min(1),
    }),
    insights: z.object({
      sourcingProblemShare: z.number().min(0).max(1).default(0.6),
      planningConversationShare: z.number().min(0).max(1).default(0.3),
    }),
  })
  .superRefine((config, context) => {
    const managerIds = new Set(config.people.managers.map((manager) => manager.id));
    if (!managerIds.has(config.people.defaultManagerId)) {
      context.addIssue({
        code: 'custom',
        path: ['people', 'defaultManagerId'],
        message: `no manager with id "${config.people.defaultManagerId}"`,
      });
    }
    for (const [owner, manager] of Object.entries(config.people.ownerManagers)) {
      if (!managerIds.has(manager)) {
        context.addIssue({
          code: 'custom',
          path: ['people', 'ownerManagers', owner],
          message: `no manager with id "${manager}"`,
        });
      }
    }
  });
export type OrganisationConfig = z.infer<typeof OrganisationConfig>;

export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

/** Parses a configuration, or throws one error that names every offending field. */
export function parseOrganisationConfig(input: unknown, source = 'configuration'): OrganisationConfig {
  const parsed = OrganisationConfig.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new InvalidConfigError(`Invalid ${source}: ${problems.join('; ')}`);
}

/** The manager an owner reports to. */
export function managerOf(config: OrganisationConfig, ownerId: string): Person {
  const managerId = config.people.ownerManagers[ownerId] ?? config.people.defaultManagerId;
  const manager = config.people.managers.find((candidate) => candidate.id === managerId);
  // parseOrganisationConfig guarantees every referenced manager exists.
  if (!manager) throw new InvalidConfigError(`no manager with id "${managerId}"`);
  return manager;
}
