import { Entity, ManyToOne, PrimaryKeyProp } from '@mikro-orm/core';
import { AS_MIGRATED } from '../../db/mapping';
import { Feature } from './feature.entity';
import { Plan } from './plan.entity';

/**
 * A feature a plan includes: the pivot of `Plan.features`, mapped as an entity because its two keys differ: a plan's
 * rows go with the plan, while a feature some plan includes cannot be deleted.
 */
@Entity({ tableName: 'plan_feature' })
export class PlanFeature {
  [PrimaryKeyProp]?: ['plan', 'feature'];

  @ManyToOne(() => Plan, { ...AS_MIGRATED, primary: true, deleteRule: 'cascade' })
  plan!: Plan;

  @ManyToOne(() => Feature, { ...AS_MIGRATED, primary: true })
  feature!: Feature;
}
