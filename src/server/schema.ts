import { CertificateResolver } from '../modules/certificate/certificate.resolver';
import { DiagnosticsResolver } from '../modules/diagnostics/diagnostics.resolver';
import 'reflect-metadata';
import { createPubSub } from '@graphql-yoga/subscription';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType, type NonEmptyArray } from 'type-graphql';
import { TokenResolver } from '../modules/token/token.resolver';
import { AlertRuleResolver } from '../modules/alert/alert-rule.resolver';
import { AlertResolver } from '../modules/alert/alert.resolver';
import { AuditResolver } from '../modules/audit/audit.resolver';
import { ComplianceResolver } from '../modules/compliance/compliance.resolver';
import { MigrationResolver } from '../modules/migration/migration.resolver';
import { PlanResolver, ProductResolver } from '../modules/catalog/catalog.resolver';
import { LicenseClientResolver, LicenseResolver } from '../modules/license/license.resolver';
import { OrganizationResolver } from '../modules/organization/organization.resolver';
import { LeaseClientResolver, LicenseSeatsResolver, SeatResolver } from '../modules/seat/seat.resolver';
import { UsageResolver } from '../modules/usage/usage.resolver';
import { UsageReportResolver } from '../modules/report/usage-report.resolver';
import { RecommendationResolver } from '../modules/report/recommendation.resolver';
import { validateInput } from './input-validation';
import type { Services } from './services';

/** Resolvers are adapters: each is built with the one or two services it calls. */
function resolverInstances(s: Services): object[] {
  return [
    new TokenResolver(s.tokens),
    new OrganizationResolver(s.organizations),
    new ProductResolver(s.catalog),
    new PlanResolver(s.catalog),
    new LicenseResolver(s.licenses),
    new LicenseClientResolver(s.validation),
    new SeatResolver(s.seats, s.seatLedger),
    new LicenseSeatsResolver(),
    new LeaseClientResolver(s.leaseLedger, s.certificates),
    new AuditResolver(s.audit, s.auditChain),
    new UsageResolver(s.usage, s.usageMeter),
    new AlertResolver(s.alerts),
    new AlertRuleResolver(s.alertRules),
    new ComplianceResolver(s.violations, s.remediation, s.complianceScanner, s.complianceReports),
    new MigrationResolver(s.migrations, s.featureTransfer, s.licenses),
    new UsageReportResolver(s.usageReports),
    new RecommendationResolver(s.recommendations, s.recommendationSettings),
    new CertificateResolver(s.certificates, s.signingKeys),
    new DiagnosticsResolver(s.diagnostics),
  ];
}

const RESOLVERS = [
  TokenResolver,
  OrganizationResolver,
  ProductResolver,
  PlanResolver,
  LicenseResolver,
  LicenseClientResolver,
  SeatResolver,
  LicenseSeatsResolver,
  LeaseClientResolver,
  AuditResolver,
  UsageResolver,
  AlertResolver,
  AlertRuleResolver,
  ComplianceResolver,
  MigrationResolver,
  UsageReportResolver,
  RecommendationResolver,
  CertificateResolver,
  DiagnosticsResolver,
] as const;

/**
 * Builds the schema; without services (emitting the SDL) no resolver is ever called, so none is built.
 * Object types are declared with `simpleResolvers`: no middleware or auth checker runs per field, since
 * authorization lives in the services, and plain fields resolve at graphql-js's own cost.
 */
export async function buildAppSchema(services?: Services): Promise<GraphQLSchema> {
  let container: ContainerType | undefined;
  if (services) {
    const instances = new Map(resolverInstances(services).map((r) => [r.constructor, r]));
    container = { get: (cls) => instances.get(cls) };
  }
  const schema = await buildSchema({
    resolvers: RESOLVERS as unknown as NonEmptyArray<Function>,
    container,
    // Every argument is checked against its constraints, refused as BAD_USER_INPUT naming the value at fault.
    validateFn: validateInput,
    // type-graphql insists on a PubSub; subscriptions here bring their own `subscribe` (the alert stream replays
    // stored alerts before going live, which a topic subscription cannot), so nothing is published on this one.
    pubSub: createPubSub(),
  });
  describeRootTypes(schema);
  return schema;
}

/** type-graphql has no place for the descriptions of the root types; the schema's readers see them first. */
function describeRootTypes(schema: GraphQLSchema): void {
  const query = schema.getQueryType();
  const mutation = schema.getMutationType();
  const subscription = schema.getSubscriptionType();
  if (query) {
    query.description =
      'Reads. Management reads need an API token (`Authorization: Bearer <secret>`) and see only what its role and organization allow; client reads (validateLicense, checkFeature, checkQuota) are authorized by a license key.';
  }
  if (mutation) {
    mutation.description =
      'Changes, each recorded in the audit log. Management mutations need an API token whose role allows them; client mutations (seats, heartbeats, usage, certificates) are authorized by a license key.';
  }
  if (subscription) {
    subscription.description =
      'Live streams over graphql-ws on the same path, authorized by an API token in the connection parameters; alertRaised and complianceEvents resume from a cursor without missing an event.';
  }
}
