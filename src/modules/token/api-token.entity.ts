import { Entity, ManyToOne, Property } from '@mikro-orm/core';
import { EnumColumn, Timestamp } from '../../db/columns';
import { Role } from '../../auth/roles';
import { CreatedEntity } from '../../db/base-entities';
import { AS_MIGRATED } from '../../db/mapping';
import { Organization } from '../organization/organization.entity';

/** An API token: a role, bound to one organization unless it is a platform admin's. Stored as a keyed digest. */
@Entity({ tableName: 'api_token' })
export class ApiToken extends CreatedEntity {
  @ManyToOne(() => Organization, { ...AS_MIGRATED, nullable: true })
  organization?: Organization | null;

  @EnumColumn(20)
  role!: Role;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'string', length: 64, unique: true, hidden: true, lazy: true })
  tokenDigest!: string;

  @Property({ type: 'string', length: 8 })
  tokenHint!: string;

  @Timestamp({ nullable: true })
  revokedAt?: Date | null;
}
