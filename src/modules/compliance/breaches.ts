import { type ValidationCheck, ValidationCode } from '../license/validation.types';
import { EnforcementCode, SEVERITY_RANK, ViolationKind, ViolationSeverity } from './compliance.enums';
import type { Enforcement } from './compliance.types';
import { OVERAGE_KIND, overageSeverity } from './enforcement';
import type { Breach } from './violation-log';

interface LicenseRef {
  id: string;
  organizationId: string;
}

/** The breach of a request that an enforcement point let go past the limit, or of a total reported past it. */
export function overageBreach(license: LicenseRef, e: Enforcement): Breach {
  const severity = overageSeverity(e.value, e.limit ?? 0);
  return {
    organizationId: license.organizationId,
    licenseId: license.id,
    kind: OVERAGE_KIND[e.metric],
    // Past what the policy allows is at least HIGH, however small.
    severity:
      e.code === EnforcementCode.OVER_LIMIT_REPORTED && SEVERITY_RANK[severity] < SEVERITY_RANK.HIGH ? ViolationSeverity.HIGH : severity,
    value: e.value,
    limit: e.limit,
    evidence: {
      metric: e.metric,
      value: e.value,
      limit: e.limit,
      ceiling: e.ceiling,
      policy: e.policy,
      overagePercent: e.overagePercent,
      requested: e.requested,
      code: e.code,
    },
    detail: e.detail,
  };
}

/** What a client presented to validation, kept as evidence. */
export interface Presented {
  fingerprint?: string | null;
  user?: string | null;
  feature?: string | null;
  site?: string | null;
  clientTime?: Date | null;
}

/**
 * The breaches among the checks a validation (or feature check, or heartbeat) ran: a feature denied, use outside the
 * site, use after the term (within the grace period: recorded, and allowed), and a tampered clock.
 */
export function checkBreaches(license: LicenseRef, presented: Presented, checks: readonly ValidationCheck[], now: Date): Breach[] {
  const breach = (kind: ViolationKind, severity: ViolationSeverity, check: ValidationCheck, subject = ''): Breach => ({
    organizationId: license.organizationId,
    licenseId: license.id,
    kind,
    subject,
    severity,
    evidence: {
      code: check.code,
      detail: check.detail,
      fingerprint: presented.fingerprint ?? null,
      user: presented.user ?? null,
      feature: presented.feature ?? null,
      site: presented.site ?? null,
      clientTime: presented.clientTime?.toISOString() ?? null,
      serverTime: now.toISOString(),
    },
    detail: check.detail,
  });
  const found: Breach[] = [];
  for (const check of checks) {
    switch (check.code) {
      case ValidationCode.FEATURE_NOT_ENTITLED:
        found.push(breach(ViolationKind.UNLICENSED_FEATURE, ViolationSeverity.HIGH, check, presented.feature ?? ''));
        break;
      case ValidationCode.FEATURE_UNKNOWN:
        found.push(breach(ViolationKind.UNLICENSED_FEATURE, ViolationSeverity.LOW, check, presented.feature ?? ''));
        break;
      case ValidationCode.SITE_MISMATCH:
        found.push(breach(ViolationKind.SITE_MISMATCH, ViolationSeverity.MEDIUM, check));
        break;
      case ValidationCode.IN_GRACE_PERIOD:
        found.push(breach(ViolationKind.EXPIRED_USE, ViolationSeverity.LOW, check));
        break;
      case ValidationCode.EXPIRED:
        // The status check and the term check may both say so: one breach.
        if (!found.some((b) => b.kind === ViolationKind.EXPIRED_USE))
          found.push(breach(ViolationKind.EXPIRED_USE, ViolationSeverity.HIGH, check));
        break;
      case ValidationCode.CLOCK_TAMPERING:
        found.push(breach(ViolationKind.CLOCK_TAMPERING, ViolationSeverity.HIGH, check));
        break;
      default:
        break;
    }
  }
  return found;
}
