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
  @Field(() => String, { description: 'The named user holding it: an e-mail address or a directory id.' })
  userId!: string;

  @Field(() => Date, { description: 'When it was assigned.' })
  assignedAt!: Date;

  @Field(() => Date, {
    description: 'When its user was last active with it (validated); its assignment when never since. Seats inactive longest go first.',
  })
  lastActiveAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it was released; null while live.' })
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
  @Field(() => String, { description: 'The machine or process holding it, as the client identified it.' })
  fingerprint!: string;

  @Field(() => String, { nullable: true, description: 'The user the client named at checkout; null when none.' })
  userId!: string | null;

  @Field(() => Date, { description: 'When it was checked out.' })
  checkedOutAt!: Date;

  @Field(() => Date, { description: 'When the client last sent a heartbeat (or checked it out).' })
  lastHeartbeatAt!: Date;

  @Field(() => Date, { description: 'When the lease ends unless a heartbeat extends it.' })
  expiresAt!: Date;

  @Field(() => Date, {
    nullable: true,
    description:
      'Borrowed (`borrowSeat`): held offline until then, counted against the limit, without heartbeats; `checkinSeat` returns it early.',
  })
  borrowedUntil!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When it ended; null while live (a lease past its expiry may not be marked yet: see `live`).',
  })
  releasedAt!: Date | null;

  @Field(() => LeaseReleaseReason, { nullable: true, description: 'Why it ended; null while live.' })
  releaseReason!: LeaseReleaseReason | null;

  @Field(() => Boolean, { description: 'Not released and not past its expiry.' })
  get live(): boolean {
    return this.releasedAt === null && this.expiresAt.getTime() > Date.now();
  }
}

@ObjectType({ simpleResolvers: true, description: 'A page of named seats, oldest first.' })
export class SeatConnection extends Connection(SeatNode) {}

@ObjectType({ simpleResolvers: true, description: 'A page of leases, oldest first.' })
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

registerEnums(
  { AssignSeatOutcome, ReleaseSeatOutcome, CheckoutOutcome, HeartbeatOutcome, CheckinOutcome },
  {
    AssignSeatOutcome: {
      description: 'How an assignment of a named seat came out.',
      values: {
        ASSIGNED: 'The user got a seat (perhaps over the limit, as the overage policy allows).',
        ALREADY_ASSIGNED: 'The user held a seat already; it is returned.',
        NO_SEAT_AVAILABLE: 'Every seat is taken and the overage policy allows no more.',
      },
    },
    ReleaseSeatOutcome: {
      description: 'How a release of a named seat came out.',
      values: { RELEASED: 'The seat was released now.', ALREADY_RELEASED: 'The seat had been released before; nothing changed.' },
    },
    CheckoutOutcome: {
      description: 'How a checkout of a concurrent seat came out.',
      values: {
        GRANTED: 'The machine holds a lease (new, or its live one extended).',
        NO_SEAT_AVAILABLE: 'Every concurrent seat is taken and the overage policy allows no more; try again later.',
        LICENSE_INACTIVE: 'The license is suspended, revoked or expired by status.',
        LICENSE_EXPIRED: "The license's term has not started, or ended beyond its grace period.",
      },
    },
    HeartbeatOutcome: {
      description: 'How a heartbeat came out.',
      values: {
        EXTENDED: 'The lease lives another TTL from now.',
        LEASE_ENDED: 'The lease had ended (expired, checked in or ended by an administrator); check a seat out again.',
      },
    },
    CheckinOutcome: {
      description: 'How a check-in came out.',
      values: { RELEASED: 'The lease ended now and its seat is free.', ALREADY_RELEASED: 'The lease had ended before; nothing changed.' },
    },
  },
);

/** Where a license's seats stand after an assignment or a checkout: how many are in use, and its limit. */
@ObjectType({ simpleResolvers: true })
abstract class SeatCount {
  @Field(() => Int, { description: 'Seats in use on the license after the operation: named seats (USER) or live leases (CONCURRENT).' })
  seatsInUse!: number;

  @Field(() => Int, { description: "The license's limit of named users or concurrent sessions; 0 when it sets none." })
  seatLimit!: number;
}

@ObjectType({ simpleResolvers: true, description: 'How an assignment of a named seat came out; a refusal is an outcome, not an error.' })
export class AssignSeatResult extends SeatCount {
  @Field(() => AssignSeatOutcome, { description: 'Assigned, held already, or refused.' })
  outcome!: AssignSeatOutcome;

  @Field(() => SeatNode, { nullable: true, description: "The user's seat; null when refused." })
  seat!: SeatNode | null;

  @Field(() => Enforcement, {
    nullable: true,
    description: 'How the user limit and overage policy decided; null when the user held a seat.',
  })
  enforcement!: Enforcement | null;
}

@ObjectType({ simpleResolvers: true, description: 'How a release of a named seat came out.' })
export class ReleaseSeatResult {
  @Field(() => ReleaseSeatOutcome, { description: 'Released now, or already.' })
  outcome!: ReleaseSeatOutcome;

  @Field(() => SeatNode, { description: 'The seat, as released.' })
  seat!: SeatNode;
}

@ObjectType({ simpleResolvers: true, description: 'How a checkout came out; a refusal is an outcome, not an error.' })
export class CheckoutResult extends SeatCount {
  @Field(() => CheckoutOutcome, { description: 'Granted, or why not.' })
  outcome!: CheckoutOutcome;

  @Field(() => LeaseNode, {
    nullable: true,
    description: 'The lease held; null when refused. Send its id with each heartbeat, before `expiresAt`.',
  })
  lease!: LeaseNode | null;

  @Field(() => Boolean, { description: 'The fingerprint held a live lease already, and got it back extended.' })
  reused!: boolean;

  @Field(() => String, { description: 'A readable explanation of the outcome.' })
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

@ObjectType({ simpleResolvers: true, description: 'How a heartbeat came out.' })
export class HeartbeatResult {
  @Field(() => HeartbeatOutcome, { description: 'Extended, or the lease had ended.' })
  outcome!: HeartbeatOutcome;

  @Field(() => LeaseNode, { description: 'The lease, with its new `expiresAt` when extended.' })
  lease!: LeaseNode;

  @Field(() => ValidationCheck, {
    nullable: true,
    description: "The client's clock against the server's and its previous heartbeat, when sent: going backwards is tampering.",
  })
  clock!: ValidationCheck | null;
}

@ObjectType({ simpleResolvers: true, description: 'How a check-in came out.' })
export class CheckinResult {
  @Field(() => CheckinOutcome, { description: 'Released now, or already.' })
  outcome!: CheckinOutcome;

  @Field(() => LeaseNode, { description: 'The lease, as ended.' })
  lease!: LeaseNode;
}

@InputType({ description: 'Which named seats to list; every field given must match.' })
export class SeatFilter extends LicenseRecordFilter {
  @Field(() => String, { nullable: true, description: 'Only seats of this user.' })
  @Length(1, 320)
  userId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only live (true) or only released (false) seats.' })
  live?: boolean | null;
}

@InputType({ description: 'Which leases to list; every field given must match.' })
export class LeaseFilter extends LicenseRecordFilter {
  @Field(() => String, { nullable: true, description: 'Only leases of this machine.' })
  @Length(1, 200)
  fingerprint?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only live (true) or only ended (false) leases.' })
  live?: boolean | null;
}
