import type { UsageMetric } from './metrics';

/** What refused a client: the limit of a metric, or a feature the license does not entitle. */
export type DemandSubject = UsageMetric | 'FEATURE';

/** A request a license refused: demand it did not meet, unless the client got what it asked for soon after. */
export interface Denial {
  licenseId: string;
  organizationId: string;
  subject: DemandSubject;
  /** The feature refused, for FEATURE denials. */
  feature?: string | null;
  /** Who was refused: a machine's fingerprint or a user; null when the request names neither. */
  client: string | null;
  at: Date;
}

/** A feature named by a validation or a feature check, allowed or not. */
export interface FeatureUse {
  licenseId: string;
  organizationId: string;
  feature: string;
  allowed: boolean;
  /** Who named it, when the request says (a fingerprint or a user): a refused client counts among those refused. */
  client?: string | null;
  at: Date;
}

/**
 * Told of denials and feature uses where they happen (the seat ledgers, the usage meter, validation): facts for
 * usage reports and recommendations, recorded without slowing the request that made them. The port the usage
 * module's demand log serves.
 */
export interface DemandRecorder {
  denied(denial: Denial): void;
  used(use: FeatureUse): void;
}

/** A recorder that keeps nothing: where no facts are wanted. */
export const NO_DEMAND_RECORDER: DemandRecorder = { denied: () => undefined, used: () => undefined };
