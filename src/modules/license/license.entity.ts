import { Collection, Entity, Index, ManyToMany, ManyToOne, Opt, Property } from '@mikro-orm/core';
import { EnumColumn, Timestamp } from '../../db/columns';
import { AS_MIGRATED } from '../../db/mapping';
import { Feature } from '../catalog/feature.entity';
import { Plan } from '../catalog/plan.entity';
import { ProductTerms } from '../catalog/product-terms.entity';
import { Organization } from '../organization/organization.entity';
import { LicenseFeature } from './license-feature.entity';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';

/** A license of one organization, issued from a plan, with its own limits, term and entitled features. */
@Entity({ tableName: 'license' })
@Index({ properties: ['organization', 'id'] })
export class License extends ProductTerms {
  @ManyToOne(() => Organization, AS_MIGRATED)
  organization!: Organization;

  @ManyToOne(() => Plan, AS_MIGRATED)
  plan!: Plan;

  /** HMAC-SHA256 of the key under the server secret; the key itself is shown once and never stored. */
  @Property({ type: 'string', length: 64, unique: true, hidden: true, lazy: true })
  keyDigest!: string;

  /** The key's last characters, for recognising it in a list. */
  @Property({ type: 'string', length: 8 })
  keyHint!: string;

  @EnumColumn(16)
  type!: LicenseType;

  /** No default, as in the table: issuing a license states it. */
  @EnumColumn(16)
  status!: LicenseStatus;

  @Property({ type: 'string', length: 500, nullable: true })
  statusReason?: string | null;

  @Timestamp()
  startsAt!: Date;

  /** End of the current term; null for a perpetual license. */
  @Timestamp({ nullable: true })
  expiresAt?: Date | null;

  /** Start of the current term: the license's start, then each renewal's; null for a perpetual license. */
  @Timestamp({ nullable: true })
  termStartedAt?: Date | null;

  /** E-mail domains of a SITE license (`example.com` also covers `eu.example.com`). */
  @Property({ type: 'json' })
  siteDomains: Opt<string[]> = [];

  /** IPv4 or IPv6 CIDR ranges of a SITE license. */
  @Property({ type: 'json' })
  siteCidrs: Opt<string[]> = [];

  @ManyToMany({ entity: () => Feature, pivotEntity: () => LicenseFeature, joinColumn: 'license_id', inverseJoinColumn: 'feature_id' })
  features = new Collection<Feature>(this);
}
