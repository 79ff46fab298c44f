import type { Actor } from '../auth/principal';
import type { SqlRunner } from '../db/sql';
import { EnforcementCode, SEVERITY_RANK, type ViolationKind, ViolationSeverity } from './compliance.enums';
import { OVERAGE_KIND, overageSeverity } from './enforcement';
import type { Enforcement } from './enforcement.types';

/** A breach as an enforcement point or the scanner sees it. */
export interface Breach {
  organizationId: string;
  licenseId: string;
  kind: ViolationKind;
  /** What it concerns within its kind (a feature key); empty for most. */
  subject?: string;
  severity: ViolationSeverity;
  value?: number | null;
  limit?: number | null;
  /** The numbers and facts at detection. */
  evidence: Record<string, unknown>;
  detail: string;
  /** By when it must clear, else it escalates (an overage a migration allowed until a date). */
  deadline?: Date | null;
}

/**
 * Records breaches inside the transaction of the request that made them (the seat module, usage, validation): the
 * port the compliance module's violation log serves.
 */
export interface BreachRecorder {
  record(sql: SqlRunner, breach: Breach, actor: Actor, requestId: string | null, now: Date): Promise<unknown>;
}

export interface LicenseRef {
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
