import type { Breach } from '../../kernel/breach';
import { ViolationKind, ViolationSeverity } from '../../kernel/compliance.enums';
import { type ValidationCheck, ValidationCode } from './validation.types';

interface LicenseRef {
  id: string;
  organizationId: string;
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
