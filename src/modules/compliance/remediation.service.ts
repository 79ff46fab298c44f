import { Permission } from '../../auth/roles';
import type { Tx } from '../../db/transaction';
import type { Operation } from '../../common/operation';
import type { SqlGateway, SqlRunner } from '../../db/sql';
import { AppError } from '../../errors';
import type { License } from '../license/license.entity';
import type { EndedLease, LicenseService, RaisableLimit } from '../license/license.service';
import type { LeaseLedger } from '../seat/lease-ledger';
import type { SeatLedger } from '../seat/seat-ledger';
import { LicenseStatus } from '../../kernel/license.enums';
import { RemediationAction, ViolationKind, ViolationStatus } from '../../kernel/compliance.enums';
import {
  RemediationLease,
  RemediationPreview,
  RemediationResult,
  RemediationSeat,
  type RemediateViolationInput,
  type ViolationNode,
} from './compliance.types';
import type { ComplianceScanner } from './compliance-scanner';
import type { ViolationLog } from './violation-log';
import type { Clock } from '../../common/clock';

/** The limit each overage is over. */
const LIMIT_OF: Partial<Record<ViolationKind, RaisableLimit>> = {
  [ViolationKind.SEAT_OVERAGE]: 'namedUsers',
  [ViolationKind.CONCURRENCY_OVERAGE]: 'concurrentSessions',
  [ViolationKind.STORAGE_OVERAGE]: 'storageBytes',
  [ViolationKind.API_OVERAGE]: 'apiCallsPerPeriod',
};

/** A remediation checked against its violation and license, as the action and its preview both check it. */
interface Plan {
  violation: ViolationNode;
  license: License;
  /** The limit the violation is over (overages). */
  limitName: RaisableLimit | null;
  limitBefore: number | null;
  /** How many seats to release or leases to end (RELEASE_INACTIVE_SEATS, END_LEASES). */
  count: number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What a suspension did: the sessions it ended are named, and a license without any says nothing of them. */
function suspensionSummary(statusBefore: LicenseStatus, leases: readonly EndedLease[], reason: string): string {
  const sessions =
    leases.length > 0 ? `; ended ${plural(leases.length, 'live lease')}: ${leases.map((l) => l.fingerprint).join(', ')}` : '';
  return `Suspended the license (it was ${statusBefore})${sessions}. Reason: ${reason}`;
}

/**
 * Responsible for remediation: the explicit actions an administrator takes from a violation, and their previews.
 * Each action is done by the module that owns what it changes (the license service suspends and raises limits, the
 * seat ledgers release seats and end leases), audited there, and noted on the violation with what it changed
 * (audited as `violation.remediate`), before the resolution it brings about: seats and leases in the very
 * transaction that frees them, a suspension's ended sessions before they are counted again. Then the license is
 * evaluated again, so that a violation whose cause the action cleared (a limit raised) is resolved at once. A preview
 * checks the input and picks the seats and leases with the very code the action uses, so that the two agree.
 */
export class RemediationService {
  constructor(
    private readonly db: SqlGateway,
    private readonly log: ViolationLog,
    private readonly licenses: LicenseService,
    private readonly seats: SeatLedger,
    private readonly leases: LeaseLedger,
    private readonly scanner: ComplianceScanner,
    private readonly clock: Clock,
  ) {}

  /** What the action would change, answering the errors it would answer; changes nothing. */
  async preview(op: Operation, input: RemediateViolationInput): Promise<RemediationPreview> {
    const { violation, license, limitBefore, count } = await this.plan(op, input, Permission.LICENSE_READ);
    const preview = Object.assign(new RemediationPreview(), {
      action: input.action,
      violation,
      licenseStatus: license.status,
      seatsToRelease: [] as RemediationSeat[],
      leasesToEnd: [] as RemediationLease[],
      limitBefore,
      limitAfter: limitBefore,
    });
    const leasesOf = async (count: number | null) =>
      (await this.db.read((sql) => this.leases.oldestHeartbeats(sql, license.id, this.clock.now(), count))).map(
        ({ id, fingerprint, userId, lastHeartbeatAt }) =>
          Object.assign(new RemediationLease(), { id, fingerprint, userId, lastHeartbeatAt }),
      );
    switch (input.action) {
      case RemediationAction.SUSPEND_LICENSE:
        preview.licenseStatus = LicenseStatus.SUSPENDED;
        preview.leasesToEnd = await leasesOf(null);
        break;
      case RemediationAction.RELEASE_INACTIVE_SEATS:
        preview.seatsToRelease = (await this.db.read((sql) => this.seats.leastActive(sql, license.id, count))).map(
          ({ id, userId, lastActiveAt }) => Object.assign(new RemediationSeat(), { id, userId, lastActiveAt }),
        );
        break;
      case RemediationAction.END_LEASES:
        preview.leasesToEnd = await leasesOf(count);
        break;
      case RemediationAction.RAISE_LIMIT:
        preview.limitAfter = input.limit ?? null;
        break;
    }
    return preview;
  }

  async remediate(op: Operation, input: RemediateViolationInput): Promise<RemediationResult> {
    const { violation, license, limitName, limitBefore, count } = await this.plan(op, input, Permission.LICENSE_MANAGE);
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
    const note = (sql: Tx, summary: string) => {
      result.summary = summary;
      const now = this.clock.now();
      return this.log.remediated(sql, violation.id, { action: input.action, summary, at: now, by: actor.label }, actor, op.requestId, now);
    };
    switch (input.action) {
      case RemediationAction.SUSPEND_LICENSE: {
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
        const released = await this.seats.releaseLeastActive(op, license.id, count, (sql, seats) =>
          note(sql, `Released ${plural(seats.length, 'seat')} inactive longest: ${seats.map((s) => s.userId).join(', ')}.`),
        );
        result.seatsReleased = released.map((s) => s.userId);
        break;
      }
      case RemediationAction.END_LEASES: {
        const ended = await this.leases.endLeases(op, license.id, count, (sql, leases) =>
          note(sql, `Ended ${plural(leases.length, 'lease')} with the oldest heartbeats: ${leases.map((l) => l.fingerprint).join(', ')}.`),
        );
        result.leasesEnded = ended.map((l) => l.id);
        break;
      }
      case RemediationAction.RAISE_LIMIT: {
        // Checked by the plan: an overage, and a new limit above the current one.
        const name = limitName!;
        // Raising a limit resolves nothing by itself: the evaluation below does, after the note.
        const raised = await this.licenses.raiseLimit(op, license.id, name, input.limit!);
        result.limitAfter = raised[name] ?? null;
        await this.db.write((sql) => note(sql, `Raised ${name} from ${limitBefore} to ${result.limitAfter}.`));
        break;
      }
    }
    const now = this.clock.now();
    await this.scanner.scan(op.requestId, now, { licenseId: license.id }, actor);
    result.violation = (await this.db.read((sql) => this.log.get(sql, violation.id)))!;
    return result;
  }

  /**
   * Checks a remediation before anything is done, in the order the action needs: the right, the violation (not
   * resolved), the license, then what the action needs (an active license to suspend, the violation's kind, something
   * over the limit or a `count`, a new limit above the current one).
   */
  private async plan(op: Operation, input: RemediateViolationInput, permission: Permission): Promise<Plan> {
    op.principal.require(permission);
    const violation = await this.db.read((sql) => this.log.get(sql, input.violationId));
    if (!violation) throw AppError.notFound('Violation', input.violationId);
    op.principal.requireObject(permission, violation.organizationId, 'Violation', violation.id);
    if (violation.status === ViolationStatus.RESOLVED) throw AppError.invalidTransition('violation', violation.status, 'remediate');
    const license = await this.licenses.get(op, violation.licenseId);
    const limitName = LIMIT_OF[violation.kind] ?? null;
    const limitBefore = limitName ? (license[limitName] ?? null) : null;
    const plan: Plan = { violation, license, limitName, limitBefore, count: 0 };
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
    switch (input.action) {
      case RemediationAction.SUSPEND_LICENSE:
        if (license.status !== LicenseStatus.ACTIVE) throw AppError.invalidTransition('license', license.status, 'suspend');
        break;
      case RemediationAction.RELEASE_INACTIVE_SEATS:
        requireKind(ViolationKind.SEAT_OVERAGE);
        plan.count = await overBy((sql) => this.seats.countLive(sql, license.id));
        break;
      case RemediationAction.END_LEASES:
        requireKind(ViolationKind.CONCURRENCY_OVERAGE);
        plan.count = await overBy((sql) => this.leases.countLive(sql, license.id, this.clock.now()));
        break;
      case RemediationAction.RAISE_LIMIT:
        if (!limitName) throw AppError.badInput(`RAISE_LIMIT remedies an overage; this violation is ${violation.kind}.`, 'action');
        if (!input.limit) throw AppError.badInput('RAISE_LIMIT needs the new `limit`.', 'limit');
        // As the license service answers it, so that a preview says what the raise would.
        if (limitBefore === null) throw AppError.badInput(`The license sets no ${limitName} limit to raise.`, 'limit');
        if (input.limit <= limitBefore) {
          throw AppError.badInput(`The new ${limitName} limit must be above the current ${limitBefore}.`, 'limit');
        }
        break;
    }
    return plan;
  }
}
