import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType({ simpleResolvers: true, description: 'A signed license certificate: what an application needs to check its license offline.' })
export class LicenseCertificate {
  @Field(() => String, {
    description:
      'A compact JWS (EdDSA, Ed25519) whose payload carries the license (`lic`: type, status, term, grace end, limits, features, site, overage policy), its binding (`fpr`, `lease`), `iat`, `nbf` and `exp`. Verify it with a key of `/.well-known/jwks.json` (by its `kid`).',
  })
  certificate!: string;

  @Field(() => String, { description: 'The id of the key that signed it.' })
  kid!: string;

  @Field(() => ID, { description: 'The license it certifies.' })
  licenseId!: string;

  @Field(() => Date, { description: 'When it was signed (its `iat`).' })
  issuedAt!: Date;

  @Field(() => Date, { description: 'When it stops being valid offline (its `exp`); ask for a new one before then.' })
  expiresAt!: Date;
}

/**
 * Issues license certificates (the certificate module does): told a key, and the machine to bind it to, or the end of a
 * borrow. A port of the license module, so that a lower module (a checkout) can hand out a certificate.
 */
export interface CertificateIssuer {
  issue(
    key: string,
    request: { fingerprint?: string | null; ttlSeconds?: number | null; until?: Date },
    requestId: string,
  ): Promise<LicenseCertificate>;
}
