import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import { AppError } from '../../errors';
import { type CheckSources, type DiagnosticsReport, type JobSchedule, runChecks } from './checks';
import type { LicenseExplainer } from './license-explanation';
import type { LicenseDiagnostics } from './license-diagnostics.types';

/**
 * Responsible for diagnostics through the API: the server's checks for platform admins (the same checks `doctor`
 * runs from the command line), and the explanation of one license's counts for whoever may read the license.
 */
export class DiagnosticsService {
  private schedule: readonly JobSchedule[] = [];

  constructor(
    private readonly sources: Omit<CheckSources, 'jobs'>,
    private readonly explainer: LicenseExplainer,
  ) {}

  /** The periodic jobs this server runs, told once they are made: their last runs are checked. */
  scheduled(jobs: readonly JobSchedule[]): void {
    this.schedule = jobs.map(({ name, intervalMs }) => ({ name, intervalMs }));
  }

  async report(op: Operation): Promise<DiagnosticsReport> {
    op.principal.require(Permission.ORGANIZATION_MANAGE);
    if (!op.principal.isPlatformAdmin) throw AppError.forbidden('Only a platform admin reads the diagnostics of the server.');
    return runChecks({ ...this.sources, jobs: this.schedule });
  }

  /** The same checks without asking who calls: for the doctor command, which holds the database's own credentials. */
  check(jobs: readonly JobSchedule[]): Promise<DiagnosticsReport> {
    return runChecks({ ...this.sources, jobs });
  }

  explainLicense(op: Operation, licenseId: string): Promise<LicenseDiagnostics> {
    return this.explainer.explain(op, licenseId);
  }
}
