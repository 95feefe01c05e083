import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, managerOf, parseOrganisationConfig } from '#domain/organisation.ts';

const sample = JSON.parse(
  readFileSync(new URL('../../config/organisation.sample.json', import.meta.url), 'utf8'),
);

describe('the organisation configuration', () => {
  it('accepts the sample with the defaults of CONTRACT §5', () => {
    const config = parseOrganisationConfig(sample);

    expect(config.company.timeZone).toBe('America/Chicago');
    expect(config.businessHours).toEqual({ days: [1, 2, 3, 4, 5], start: '08:00', end: '17:00' });
    expect(config.notices).toMatchObject({ mode: 'immediate', slaBusinessHours: 4 });
    expect(config.escalation.vpAfterDaysPastOriginal).toBe(14);
  });

  it('fills defaults for what a small company leaves out', () => {
    const config = parseOrganisationConfig({
      ...sample,
      notices: {},
      escalation: {},
      nextAction: {},
      insights: {},
    });
    expect(config.notices).toMatchObject({ mode: 'immediate', slaBusinessHours: 4, decisionLinkDays: 14 });
    expect(config.escalation).toMatchObject({ vpAfterDaysPastOriginal: 14, textGroupingMinutes: 2 });
    expect(config.insights).toEqual({ sourcingProblemShare: 0.6, planningConversationShare: 0.3 });
  });

  it('names every offending field in one error', () => {
    const bad = {
      ...sample,
      company: { ...sample.company, timeZone: 'America/Atlantis' },
      businessHours: { days: [1], start: '17:00', end: '08:00' },
    };
    expect(() => parseOrganisationConfig(bad, 'config/bad.json')).toThrow(InvalidConfigError);
    expect(() => parseOrganisationConfig(bad, 'config/bad.json')).toThrow(
      /config\/bad.json: company.timeZone: not an IANA time zone; businessHours.end: start must be before end/,
    );
  });

  it('refuses a manager mapping to nobody', () => {
    const bad = { ...sample, people: { ...sample.people, ownerManagers: { 'U-9': 'M-404' } } };
    expect(() => parseOrganisationConfig(bad)).toThrow(
      /people.ownerManagers.U-9: no manager with id "M-404"/,
    );
  });

  it('finds an owner’s manager, or the default one', () => {
    const config = parseOrganisationConfig(sample);
    expect(managerOf(config, 'U-22').id).toBe('M-2');
    expect(managerOf(config, 'U-unknown').id).toBe('M-1');
  });
});
