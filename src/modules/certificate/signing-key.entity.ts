import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';

/**
 * A key pair the server signs license certificates with (Ed25519): its public half as a JWK, its private half sealed
 * under the server secret (never stored or returned in the clear). The newest key not retired signs; a retired key
 * stays published until the last certificate it signed has expired. Written by SQL.
 */
@Entity({ tableName: 'signing_key' })
export class SigningKeyRow {
  @PrimaryKey({ type: 'string', length: 32 })
  kid!: string;

  @Property({ type: 'string', length: 16 })
  algorithm!: string;

  @Property({ type: 'text' })
  publicJwk!: string;

  @Property({ type: 'text' })
  sealedPrivateKey!: string;

  @Timestamp()
  createdAt!: Date;

  /** From then on it signs nothing new. */
  @Timestamp({ nullable: true })
  retiredAt?: Date | null;

  /** When the last certificate it signed expires: until then its public key is published. */
  @Timestamp({ nullable: true })
  lastExpiresAt?: Date | null;
}
