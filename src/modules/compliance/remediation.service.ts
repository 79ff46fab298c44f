import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import type { SqlGateway, SqlRunner } from '../../db/sql';
import { AppError } from '../../errors';
import type { EndedLease, LicenseService, RaisableLimit } from '../license/license.service';
import type { LeaseLedger } from '../seat/lease-ledger';
import type { SeatLedger } from '../seat/seat-ledger';
import { LicenseStatus } from '../license/license.enums';
import { RemediationAction, ViolationKind, ViolationStatus } from './compliance.enums';
import { RemediationResult, type RemediateViolationInput } from './compliance.types';
import type { ComplianceScanner } from './compliance-scanner';
import type { ViolationLog } from './violation-log';

/** The limit each overage is over. */
const LIMIT_OF: Partial<Record<ViolationKind, RaisableLimit>> = {
  [ViolationKind.SEAT_OVERAGE]: 'namedUsers',
  [ViolationKind.CONCURRENCY_OVERAGE]: 'concurrentSessions',
  [ViolationKind.STORAGE_OVERAGE]: 'storageBytes',
  [ViolationKind.API_OVERAGE]: 'apiCallsPerPeriod',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What a suspension did: the sessions it ended are named, and a license without any says nothing of them. */
function suspensionSummary(statusBefore: LicenseStatus, leases: readonly EndedLease[], reason: string): string {
  const sessions =
    leases.length > 0 ? `; ended ${plural(leases.length, 'live lease')}: ${leases.map((l) => l.fingerprint).join(', ')}` : '';
  return `Suspended the license (it was ${statusBefore})${sessions}. Reason: ${reason}`;
}

/**
 * Responsible for remediation: the explicit actions an administrator takes from a violation. Each is done by the
 * module that owns what it changes (the license service suspends and raises limits, the seat ledgers release seats
 * and end leases), audited there, and noted on the violation with what it changed (audited as
 * `violation.remediate`), before the resolution it brings about: seats and leases in the very transaction that
 * frees them, a suspension's ended sessions before they are counted again. Then the license is evaluated again, so that a violation whose cause the action cleared (a limit
 * raised) is resolved at once.
 */
export class RemediationService {
  constructor(
    private readonly db: SqlGateway,
    private readonly log: ViolationLog,
    private readonly licenses: LicenseService,
    private readonly seats: SeatLedger,
    private readonly leases: LeaseLedger,
    private readonly scanner: ComplianceScanner,
  ) {}

  async remediate(op: Operation, input: RemediateViolationInput): Promise<RemediationResult> {
    op.principal.require(Permission.LICENSE_MANAGE);
    const violation = await this.db.read((sql) => this.log.get(sql, input.violationId, ''));
    if (!violation) throw AppError.notFound('Violation', input.violationId);
    op.principal.requireObject(Permission.LICENSE_MANAGE, violation.organizationId, 'Violation', violation.id);
    if (violation.status === ViolationStatus.RESOLVED) throw AppError.invalidTransition('violation', violation.status, 'remediate');
    const license = await this.licenses.get(op, violation.licenseId);
    const limitName = LIMIT_OF[violation.kind];
    const limitBefore = limitName ? (license[limitName] ?? null) : null;
    const requireKind = (kind: ViolationKind) => {
      if (violation.kind !== kind)
        throw AppError.badInput(`${input.action} remedies a ${kind} violation; this one is ${violation.kind}.`, 'action');
    };
    /** How many are over the limit now: what to free by default. */
    const overBy = async (count: (sql: SqlRunner) => Promise<number>) => {
      if (input.count) return input.count;
      const over = (await this.db.read(count)) - (limitBefore ?? 0);
      if (over <= 0) throw AppError.badInput('Nothing is over the limit now: give `count` to free some anyway.', 'count');
      return over;
    };

    const actor = op.principal.requireActor();
    const result = Object.assign(new RemediationResult(), {
      action: input.action,
      seatsReleased: [] as string[],
      leasesEnded: [] as string[],
      limitBefore,
      limitAfter: limitBefore,
      licenseStatus: license.status,
    });
    /** Notes the remediation on the violation, inside the transaction of the change (before what it resolves). */
    const note = (sql: SqlRunner, summary: string) => {
      result.summary = summary;
      const now = new Date();
      return this.log.remediated(sql, violation.id, { action: input.action, summary, at: now, by: actor.label }, actor, op.requestId, now);
    };
    switch (input.action) {
      case RemediationAction.SUSPEND_LICENSE: {
        if (license.status !== LicenseStatus.ACTIVE) throw AppError.invalidTransition('license', license.status, 'suspend');
        const reason = input.reason ?? `Compliance: ${violation.kind} (violation ${violation.id}).`;
        // Read first: the suspension changes the license entity in place.
        const statusBefore = license.status;
        // Noted once the sessions it ended are known, before they are counted again (which may resolve the violation).
        const suspended = await this.licenses.suspend(op, license.id, reason, (leases) => {
          result.leasesEnded = leases.map((l) => l.id);
          return this.db.write((sql) => note(sql, suspensionSummary(statusBefore, leases, reason)));
        });
        result.licenseStatus = suspended.status;
        break;
      }
      case RemediationAction.RELEASE_INACTIVE_SEATS: {
        requireKind(ViolationKind.SEAT_OVERAGE);
        const count = await overBy((sql) => this.seats.countLive(sql, license.id));
        const released = await this.seats.releaseLeastActive(op, license.id, count, (sql, seats) =>
          note(sql, `Released ${plural(seats.length, 'seat')} inactive longest: ${seats.map((s) => s.userId).join(', ')}.`),
        );
        result.seatsReleased = released.map((s) => s.userId);
        break;
      }
      case RemediationAction.END_LEASES: {
        requireKind(ViolationKind.CONCURRENCY_OVERAGE);
        const count = await overBy((sql) => this.leases.countLive(sql, license.id, new Date()));
        const ended = await this.leases.endLeases(op, license.id, count, (sql, leases) =>
          note(sql, `Ended ${plural(leases.length, 'lease')} with the oldest heartbeats: ${leases.map((l) => l.fingerprint).join(', ')}.`),
        );
        result.leasesEnded = ended.map((l) => l.id);
        break;
      }
      case RemediationAction.RAISE_LIMIT: {
        if (!limitName) throw AppError.badInput(`RAISE_LIMIT remedies an overage; this violation is ${violation.kind}.`, 'action');
        if (!input.limit) throw AppError.badInput('RAISE_LIMIT needs the new `limit`.', 'limit');
        // Raising a limit resolves nothing by itself: the evaluation below does, after the note.
        const raised = await this.licenses.raiseLimit(op, license.id, limitName, input.limit);
        result.limitAfter = raised[limitName] ?? null;
        await this.db.write((sql) => note(sql, `Raised ${limitName} from ${limitBefore} to ${result.limitAfter}.`));
        break;
      }
    }
    const now = new Date();
    await this.scanner.scan(op.requestId, now, { licenseId: license.id }, actor);
    result.violation = (await this.db.read((sql) => this.log.get(sql, violation.id, '')))!;
    return result;
  }
}
