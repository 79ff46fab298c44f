import { LicenseCertificate } from '../license/license-certificate.types';
import { Length } from 'class-validator';
import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { registerEnums } from '../../kernel/register-enums';
import { Connection } from '../../common/pagination';
import { LicenseRecordFilter, LicenseRecordNode } from '../license/license-record.types';
import { Enforcement } from '../../kernel/enforcement.types';
import { ValidationCheck } from '../license/validation.types';
import { LeaseReleaseReason, SeatReleaseReason } from './seat.enums';

@ObjectType('Seat', { simpleResolvers: true, description: 'A named user holding a seat of a USER license.' })
export class SeatNode extends LicenseRecordNode {
  @Field(() => String)
  userId!: string;

  @Field(() => Date)
  assignedAt!: Date;

  @Field(() => Date, {
    description: 'When its user was last active with it (validated); its assignment when never since. Seats inactive longest go first.',
  })
  lastActiveAt!: Date;

  @Field(() => Date, { nullable: true })
  releasedAt!: Date | null;

  @Field(() => SeatReleaseReason, {
    nullable: true,
    description: 'Why it was released; null while live (and for seats released before reasons were kept).',
  })
  releaseReason!: SeatReleaseReason | null;

  @Field(() => Boolean, { description: 'Not released.' })
  get live(): boolean {
    return this.releasedAt === null;
  }
}

@ObjectType('Lease', { simpleResolvers: true, description: 'A concurrent session of a CONCURRENT license, kept alive by heartbeats.' })
export class LeaseNode extends LicenseRecordNode {
  @Field(() => String)
  fingerprint!: string;

  @Field(() => String, { nullable: true })
  userId!: string | null;

  @Field(() => Date)
  checkedOutAt!: Date;

  @Field(() => Date)
  lastHeartbeatAt!: Date;

  @Field(() => Date, { description: 'When the lease ends unless a heartbeat extends it.' })
  expiresAt!: Date;

  @Field(() => Date, {
    nullable: true,
    description:
      'Borrowed (`borrowSeat`): held offline until then, counted against the limit, without heartbeats; `checkinSeat` returns it early.',
  })
  borrowedUntil!: Date | null;

  @Field(() => Date, { nullable: true })
  releasedAt!: Date | null;

  @Field(() => LeaseReleaseReason, { nullable: true })
  releaseReason!: LeaseReleaseReason | null;

  @Field(() => Boolean, { description: 'Not released and not past its expiry.' })
  get live(): boolean {
    return this.releasedAt === null && this.expiresAt.getTime() > Date.now();
  }
}

@ObjectType({ simpleResolvers: true })
export class SeatConnection extends Connection(SeatNode) {}

@ObjectType({ simpleResolvers: true })
export class LeaseConnection extends Connection(LeaseNode) {}

export enum AssignSeatOutcome {
  ASSIGNED = 'ASSIGNED',
  /** The user held a seat already; it is returned. */
  ALREADY_ASSIGNED = 'ALREADY_ASSIGNED',
  NO_SEAT_AVAILABLE = 'NO_SEAT_AVAILABLE',
}

export enum ReleaseSeatOutcome {
  RELEASED = 'RELEASED',
  ALREADY_RELEASED = 'ALREADY_RELEASED',
}

export enum CheckoutOutcome {
  GRANTED = 'GRANTED',
  NO_SEAT_AVAILABLE = 'NO_SEAT_AVAILABLE',
  /** The license is suspended, revoked or expired by status. */
  LICENSE_INACTIVE = 'LICENSE_INACTIVE',
  /** The license's term has not started, or ended beyond its grace period. */
  LICENSE_EXPIRED = 'LICENSE_EXPIRED',
}

export enum HeartbeatOutcome {
  EXTENDED = 'EXTENDED',
  /** The lease ended (expired or checked in); check a seat out again. */
  LEASE_ENDED = 'LEASE_ENDED',
}

export enum CheckinOutcome {
  RELEASED = 'RELEASED',
  ALREADY_RELEASED = 'ALREADY_RELEASED',
}

registerEnums({ AssignSeatOutcome, ReleaseSeatOutcome, CheckoutOutcome, HeartbeatOutcome, CheckinOutcome });

/** Where a license's seats stand after an assignment or a checkout: how many are in use, and its limit. */
@ObjectType({ simpleResolvers: true })
abstract class SeatCount {
  @Field(() => Int)
  seatsInUse!: number;

  @Field(() => Int)
  seatLimit!: number;
}

@ObjectType({ simpleResolvers: true })
export class AssignSeatResult extends SeatCount {
  @Field(() => AssignSeatOutcome)
  outcome!: AssignSeatOutcome;

  @Field(() => SeatNode, { nullable: true })
  seat!: SeatNode | null;

  @Field(() => Enforcement, {
    nullable: true,
    description: 'How the user limit and overage policy decided; null when the user held a seat.',
  })
  enforcement!: Enforcement | null;
}

@ObjectType({ simpleResolvers: true })
export class ReleaseSeatResult {
  @Field(() => ReleaseSeatOutcome)
  outcome!: ReleaseSeatOutcome;

  @Field(() => SeatNode)
  seat!: SeatNode;
}

@ObjectType({ simpleResolvers: true })
export class CheckoutResult extends SeatCount {
  @Field(() => CheckoutOutcome)
  outcome!: CheckoutOutcome;

  @Field(() => LeaseNode, { nullable: true })
  lease!: LeaseNode | null;

  @Field(() => Boolean, { description: 'The fingerprint held a live lease already, and got it back extended.' })
  reused!: boolean;

  @Field(() => String)
  detail!: string;

  @Field(() => Enforcement, {
    nullable: true,
    description:
      'How the concurrency limit and overage policy decided; null when the license refused before counting, or the lease was reused.',
  })
  enforcement!: Enforcement | null;

  @Field(() => ValidationCheck, { nullable: true, description: "The client's clock against the server's, when sent." })
  clock!: ValidationCheck | null;

  @Field(() => LicenseCertificate, {
    nullable: true,
    description: 'With `certificate: true` and a lease: a certificate bound to the machine and its lease, to run offline on.',
  })
  certificate?: LicenseCertificate | null;
}

@ObjectType({ simpleResolvers: true })
export class HeartbeatResult {
  @Field(() => HeartbeatOutcome)
  outcome!: HeartbeatOutcome;

  @Field(() => LeaseNode)
  lease!: LeaseNode;

  @Field(() => ValidationCheck, {
    nullable: true,
    description: "The client's clock against the server's and its previous heartbeat, when sent: going backwards is tampering.",
  })
  clock!: ValidationCheck | null;
}

@ObjectType({ simpleResolvers: true })
export class CheckinResult {
  @Field(() => CheckinOutcome)
  outcome!: CheckinOutcome;

  @Field(() => LeaseNode)
  lease!: LeaseNode;
}

@InputType()
export class SeatFilter extends LicenseRecordFilter {
  @Field(() => String, { nullable: true })
  @Length(1, 320)
  userId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only live (true) or only released (false) seats.' })
  live?: boolean | null;
}

@InputType()
export class LeaseFilter extends LicenseRecordFilter {
  @Field(() => String, { nullable: true })
  @Length(1, 200)
  fingerprint?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only live (true) or only ended (false) leases.' })
  live?: boolean | null;
}
