import type { CertificateIssuer } from '../license/license-certificate.types';
import { Length } from 'class-validator';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CHECKED_BY_THE_SERVICE } from '../../common/input';
import { PageArgs } from '../../common/pagination';
import type { Operation } from '../../common/operation';
import { LicenseKeyArgs } from '../license/license-key.types';
import { LicenseNode } from '../license/license.types';
import type { LeaseLedger } from './lease-ledger';
import type { SeatContext } from './seat.loaders';
import type { SeatLedger } from './seat-ledger';
import type { SeatService } from './seat.service';
import {
  AssignSeatResult,
  CheckinResult,
  CheckoutResult,
  HeartbeatResult,
  LeaseConnection,
  LeaseFilter,
  ReleaseSeatResult,
  SeatConnection,
  SeatFilter,
} from './seat.types';

@ArgsType()
class AssignSeatArgs {
  @Field(() => ID, { description: 'The USER license; UNSUPPORTED_LICENSE_TYPE for another type.' })
  licenseId!: string;

  @Field(() => String, { description: 'The named user: an e-mail address or a directory id.' })
  @Length(1, 320)
  userId!: string;
}

/** Checked by the service (lengths, key format): client operations skip class-validator. */
@ArgsType()
class CheckoutSeatArgs extends LicenseKeyArgs {
  @Field(() => String, { description: 'A stable identifier of the machine or process.' })
  fingerprint!: string;

  @Field(() => String, { nullable: true, description: 'The user of the session, recorded on the lease; optional.' })
  user?: string | null;

  @Field(() => Date, { nullable: true, description: "The client's clock: the baseline its heartbeats' clocks must not fall behind." })
  clientTime?: Date | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Also a certificate bound to the machine and its lease (`issueLicenseCertificate` with its defaults), to run offline on.',
  })
  certificate?: boolean | null;
}

/** Checked by the service (lengths, key format): client operations skip class-validator. */
@ArgsType()
class LeaseArgs extends LicenseKeyArgs {
  @Field(() => ID, { description: 'The lease, as `checkoutSeat` returned it.' })
  leaseId!: string;
}

/** Checked by the service (lengths, key format): client operations skip class-validator. */
@ArgsType()
class HeartbeatArgs extends LeaseArgs {
  @Field(() => Date, {
    nullable: true,
    description: "The client's clock: over 5 minutes off warns; over 24 hours off, or behind the last heartbeat's, is CLOCK_TAMPERING.",
  })
  clientTime?: Date | null;
}

/** Named seats and concurrent leases, for administrators. */
@Resolver()
export class SeatResolver {
  constructor(
    private readonly seats: SeatService,
    private readonly seatLedger: SeatLedger,
  ) {}

  @Query(() => SeatConnection, { name: 'seats', description: 'Named seats the caller may see, oldest first, filtered and paginated.' })
  listSeats(
    @Arg('filter', () => SeatFilter, { nullable: true, description: 'Which seats; omitted, all the caller may see.' })
    filter: SeatFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Operation,
  ) {
    return this.seats.listSeats(ctx, filter ?? {}, page);
  }

  @Query(() => LeaseConnection, {
    name: 'leases',
    description: 'Concurrent leases the caller may see, oldest first, filtered and paginated.',
  })
  listLeases(
    @Arg('filter', () => LeaseFilter, { nullable: true, description: 'Which leases; omitted, all the caller may see.' })
    filter: LeaseFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Operation,
  ) {
    return this.seats.listLeases(ctx, filter ?? {}, page);
  }

  @Mutation(() => AssignSeatResult, {
    description:
      "Gives a named user a seat of a USER license. At the limit the license's overage policy decides: NONE refuses (NO_SEAT_AVAILABLE), PERCENT allows up to its allowance and ALWAYS allows, recording a SEAT_OVERAGE violation.",
  })
  assignSeat(@Args(() => AssignSeatArgs) args: AssignSeatArgs, @Ctx() ctx: Operation): Promise<AssignSeatResult> {
    return this.seatLedger.assign(ctx, args.licenseId, args.userId);
  }

  @Mutation(() => ReleaseSeatResult, {
    description: 'Takes a named seat back from its user; a later repeat changes nothing (ALREADY_RELEASED).',
  })
  releaseSeat(
    @Arg('seatId', () => ID, { description: "The seat's id." }) seatId: string,
    @Ctx() ctx: Operation,
  ): Promise<ReleaseSeatResult> {
    return this.seatLedger.release(ctx, seatId);
  }
}

/** What a license says of its seats. */
@Resolver(() => LicenseNode)
export class LicenseSeatsResolver {
  @FieldResolver(() => Int, { description: 'Named seats assigned (USER) or live leases (CONCURRENT).' })
  seatsInUse(@Root() license: LicenseNode, @Ctx() ctx: SeatContext): Promise<number> {
    return ctx.loaders.seatsInUse.load(license.id);
  }
}

/** Concurrent sessions, for client applications: authorized by the license key alone. */
@Resolver()
export class LeaseClientResolver {
  constructor(
    private readonly leases: LeaseLedger,
    private readonly certificates?: CertificateIssuer,
  ) {}

  @Mutation(() => CheckoutResult, {
    description:
      "Takes a concurrent seat for a machine; the same machine gets its live lease back. At the limit the license's overage policy decides, as for assignSeat (CONCURRENCY_OVERAGE).",
  })
  async checkoutSeat(
    @Args(() => CheckoutSeatArgs, CHECKED_BY_THE_SERVICE) args: CheckoutSeatArgs,
    @Ctx() ctx: Operation,
  ): Promise<CheckoutResult> {
    const result = await this.leases.checkout(args.key, args.fingerprint, args.user ?? null, ctx, args.clientTime ?? null);
    if (args.certificate && result.lease && this.certificates) {
      result.certificate = await this.certificates.issue(args.key, { fingerprint: args.fingerprint }, ctx.requestId);
    }
    return result;
  }

  @Mutation(() => HeartbeatResult, { description: 'Keeps a lease alive for another TTL.' })
  heartbeatSeat(@Args(() => HeartbeatArgs, CHECKED_BY_THE_SERVICE) args: HeartbeatArgs, @Ctx() ctx: Operation): Promise<HeartbeatResult> {
    return this.leases.heartbeat(args.key, args.leaseId, ctx, args.clientTime ?? null);
  }

  @Mutation(() => CheckinResult, { description: 'Gives a concurrent seat back.' })
  checkinSeat(@Args(() => LeaseArgs, CHECKED_BY_THE_SERVICE) args: LeaseArgs, @Ctx() ctx: Operation): Promise<CheckinResult> {
    return this.leases.checkin(args.key, args.leaseId, ctx);
  }
}
