import { ApiToken } from '../modules/token/api-token.entity';
import { Alert } from '../modules/alert/alert.entity';
import { AlertNotice } from '../modules/alert/alert-notice.entity';
import { AlertRule } from '../modules/alert/alert-rule.entity';
import { AlertThreshold } from '../modules/alert/alert-threshold.entity';
import { AuditEvent } from '../modules/audit/audit-event.entity';
import { AuditAnchorRow } from '../modules/audit/audit-anchor.entity';
import { Feature } from '../modules/catalog/feature.entity';
import { Plan } from '../modules/catalog/plan.entity';
import { PlanFeature } from '../modules/catalog/plan-feature.entity';
import { Product } from '../modules/catalog/product.entity';
import { ComplianceEvent } from '../modules/compliance/compliance-event.entity';
import { Violation } from '../modules/compliance/violation.entity';
import { License } from '../modules/license/license.entity';
import { LicenseFeature } from '../modules/license/license-feature.entity';
import { LicenseMigration } from '../modules/migration/license-migration.entity';
import { Organization } from '../modules/organization/organization.entity';
import { Lease } from '../modules/seat/lease.entity';
import { Seat } from '../modules/seat/seat.entity';
import { UsageMeterReading } from '../modules/usage/usage-meter-reading.entity';
import { UsageSample } from '../modules/usage/usage-sample.entity';
import { FeatureUseDay, UsageDenial, UsageDenialClient } from '../modules/usage/demand.entity';
import { RecommendationAlert } from '../modules/report/recommendation-alert.entity';
import { SigningKeyRow } from '../modules/certificate/signing-key.entity';
import { JobRunRow } from '../modules/diagnostics/job-run.entity';
import { ServerInstanceRow } from '../modules/diagnostics/server-instance.entity';
import { RecommendationDismissal } from '../modules/report/recommendation-dismissal.entity';
import { RecommendationSettingsRow } from '../modules/report/recommendation-settings.entity';

/** One entity per table the migrations create; test/schema-mapping.test.ts holds them to the migrated tables. */
export const ENTITIES = [
  Organization,
  Product,
  Feature,
  Plan,
  PlanFeature,
  License,
  LicenseFeature,
  Seat,
  Lease,
  ApiToken,
  AuditEvent,
  AuditAnchorRow,
  UsageMeterReading,
  UsageSample,
  UsageDenial,
  UsageDenialClient,
  FeatureUseDay,
  Alert,
  AlertThreshold,
  AlertRule,
  AlertNotice,
  Violation,
  ComplianceEvent,
  LicenseMigration,
  RecommendationAlert,
  RecommendationDismissal,
  RecommendationSettingsRow,
  SigningKeyRow,
  ServerInstanceRow,
  JobRunRow,
];
