import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import { LicenseCertificate } from '../license/license-certificate.types';
import { CheckoutResult } from '../seat/seat.types';
import { LicenseKeyArgs } from '../license/license-key.types';

/** Checked by the service (lengths, key format, bounds): client operations skip class-validator. */
@ArgsType()
export class IssueLicenseCertificateArgs extends LicenseKeyArgs {
  @Field(() => String, {
    nullable: true,
    description:
      'The machine the certificate is bound to: an offline check of another fingerprint fails. Its live lease (CONCURRENT) is named too.',
  })
  fingerprint?: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'How long the certificate lasts, in seconds: from 3,600 (an hour) to the plan’s `certificateMaxDays`; 30 days (or that, if shorter) by default; never past the term and its grace period.',
  })
  ttlSeconds?: number | null;
}

@ObjectType({ simpleResolvers: true, description: 'The signing key after a rotation.' })
export class SigningKeyRotation {
  @Field(() => String, { description: 'The key that signs from now on.' })
  kid!: string;

  @Field(() => String, {
    nullable: true,
    description: 'The key it replaces: published until the last certificate it signed has expired, then retired from the JWKS.',
  })
  retired!: string | null;
}

/** Checked by the service and the lease ledger: client operations skip class-validator. */
@ArgsType()
export class BorrowSeatArgs extends LicenseKeyArgs {
  @Field(() => String, { description: 'The machine that takes the seat offline.' })
  fingerprint!: string;

  @Field(() => Date, {
    description: 'Until when: from an hour to the plan’s `borrowMaxDays` (at most 180) ahead; never past the term and its grace period.',
  })
  until!: Date;

  @Field(() => String, { nullable: true, description: 'The user of the session, recorded on the lease; optional.' })
  user?: string | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'A seat borrowed, and the certificate that lets its machine run offline until the seat is due back.',
})
export class BorrowResult {
  @Field(() => CheckoutResult, {
    description: 'How taking the seat came out: the lease (with `borrowedUntil`) when granted, else why not.',
  })
  checkout!: CheckoutResult;

  @Field(() => LicenseCertificate, {
    nullable: true,
    description: 'Bound to the machine and its lease, valid until the seat is due back; null when no seat was granted.',
  })
  certificate!: LicenseCertificate | null;
}
