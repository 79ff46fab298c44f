import { Entity, ManyToOne, PrimaryKeyProp } from '@mikro-orm/core';
import { AS_MIGRATED } from '../../db/mapping';
import { Feature } from '../catalog/feature.entity';
import { License } from './license.entity';

/**
 * A feature a license is entitled to: the pivot of `License.features`, mapped as an entity because its two keys
 * differ: a license's rows go with the license, while a feature some license is entitled to cannot be deleted.
 */
@Entity({ tableName: 'license_feature' })
export class LicenseFeature {
  [PrimaryKeyProp]?: ['license', 'feature'];

  @ManyToOne(() => License, { ...AS_MIGRATED, primary: true, deleteRule: 'cascade' })
  license!: License;

  @ManyToOne(() => Feature, { ...AS_MIGRATED, primary: true })
  feature!: Feature;
}
