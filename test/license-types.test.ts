import { describe, expect, it } from 'vitest';
import { LicenseType } from '../src/kernel/license.enums';
import { limitApplies, TYPE_NEEDS, unmetNeed } from '../src/kernel/license-types';
import { UsageMetric } from '../src/kernel/metrics';

const bare = { hasTerm: false, namedUsers: null, concurrentSessions: null, site: { domains: [], cidrs: [] }, features: 0 };

describe('what each license type needs', () => {
  it('names one need for each of the five types', () => {
    expect(Object.keys(TYPE_NEEDS).sort()).toEqual(Object.values(LicenseType).sort());
  });

  it.each([
    [LicenseType.SUBSCRIPTION, 'term', { hasTerm: true }],
    [LicenseType.USER, 'namedUsers', { namedUsers: 1 }],
    [LicenseType.CONCURRENT, 'concurrentSessions', { concurrentSessions: 3 }],
    [LicenseType.SITE, 'site', { site: { domains: [], cidrs: ['10.0.0.0/8'] } }],
    [LicenseType.FEATURE, 'features', { features: 1 }],
  ] as const)('a %s license needs its %s, and nothing of the other types', (type, need, meeting) => {
    expect(unmetNeed({ ...bare, type })).toEqual({ need, message: `A ${type} license needs ${TYPE_NEEDS[type].what}` });
    expect(unmetNeed({ ...bare, type, ...meeting })).toBeNull();
  });

  it('counts a limit of 0 as none: a USER or CONCURRENT license needs at least 1', () => {
    expect(unmetNeed({ ...bare, type: LicenseType.USER, namedUsers: 0 })?.need).toBe('namedUsers');
    expect(unmetNeed({ ...bare, type: LicenseType.CONCURRENT, concurrentSessions: 0 })?.need).toBe('concurrentSessions');
  });

  it('gives the named-user and session limits a meaning on their own type only', () => {
    expect(limitApplies(UsageMetric.ACTIVE_USERS, LicenseType.USER)).toBe(true);
    expect(limitApplies(UsageMetric.ACTIVE_USERS, LicenseType.CONCURRENT)).toBe(false);
    expect(limitApplies(UsageMetric.CONCURRENT_SESSIONS, LicenseType.CONCURRENT)).toBe(true);
    expect(limitApplies(UsageMetric.CONCURRENT_SESSIONS, LicenseType.SITE)).toBe(false);
    for (const type of Object.values(LicenseType)) {
      expect(limitApplies(UsageMetric.STORAGE_BYTES, type)).toBe(true);
      expect(limitApplies(UsageMetric.API_CALLS, type)).toBe(true);
    }
  });
});
