import { Args, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Operation } from '../../common/operation';
import { CHECKED_BY_THE_SERVICE } from '../../common/input';
import type { LicenseContext } from '../license/license.loaders';
import type { CertificateService } from './certificate.service';
import { LicenseCertificate } from '../license/license-certificate.types';
import { BorrowResult, BorrowSeatArgs, IssueLicenseCertificateArgs, SigningKeyRotation } from './certificate.types';
import type { SigningKeys } from './signing-keys';

@Resolver()
export class CertificateResolver {
  constructor(
    private readonly certificates: CertificateService,
    private readonly keys: SigningKeys,
  ) {}

  @Mutation(() => BorrowResult, {
    description:
      'Borrows a seat of a CONCURRENT license: held offline by the machine until `until`, counted against the limit meanwhile, without heartbeats (the reaper leaves it alone); with a certificate to check the license offline until then. `checkinSeat` returns it early.',
  })
  borrowSeat(@Args(() => BorrowSeatArgs, CHECKED_BY_THE_SERVICE) args: BorrowSeatArgs, @Ctx() ctx: LicenseContext): Promise<BorrowResult> {
    return this.certificates.borrow(
      args.key,
      { fingerprint: args.fingerprint, until: args.until, userId: args.user ?? null },
      ctx.requestId,
    );
  }

  @Mutation(() => LicenseCertificate, {
    description:
      "A signed certificate of the key's license, to check it offline until it expires (see `/.well-known/jwks.json`); bound to a machine, and its live lease, when `fingerprint` is given. Only for a license that works now.",
  })
  issueLicenseCertificate(
    @Args(() => IssueLicenseCertificateArgs, CHECKED_BY_THE_SERVICE) args: IssueLicenseCertificateArgs,
    @Ctx() ctx: LicenseContext,
  ): Promise<LicenseCertificate> {
    const { key, ...request } = args;
    return this.certificates.issue(key, request, ctx.requestId);
  }

  @Mutation(() => SigningKeyRotation, {
    description:
      'Makes a new signing key, which signs every certificate from now on; the previous one stays in the JWKS until the last certificate it signed has expired. Platform admins only.',
  })
  rotateSigningKey(@Ctx() op: Operation): Promise<SigningKeyRotation> {
    return this.keys.rotate(op);
  }
}
