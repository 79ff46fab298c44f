import { Entity, Enum, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../db/ids';
import { Organization } from '../organization/organization.entity';
import { Role } from '../../auth/roles';

/** An API token: a role, bound to one organization unless it is a platform admin's. Stored as a keyed digest. */
@Entity({ tableName: 'api_token' })
export class ApiToken {
  @PrimaryKey({ type: 'string', length: 36 })
  id: Opt<string> = newId();

  @ManyToOne(() => Organization, { nullable: true })
  organization?: Organization | null;

  @Enum({ items: () => Role, type: 'string' })
  role!: Role;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'string', length: 64, unique: true, hidden: true, lazy: true })
  tokenDigest!: string;

  @Property({ type: 'string', length: 8 })
  tokenHint!: string;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', nullable: true })
  revokedAt?: Date | null;
}
