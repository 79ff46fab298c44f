import { Field, ObjectType } from 'type-graphql';
import { registerEnums } from '../../kernel/register-enums';
import { Enforcement } from '../../kernel/enforcement.types';
import { MetricUsage } from './usage.types';

export enum UsageOutcome {
  RECORDED = 'RECORDED',
  /** Over what the license's overage policy allows: nothing was recorded. */
  DENIED = 'DENIED',
}

registerEnums(
  { UsageOutcome },
  {
    UsageOutcome: {
      description: 'Whether a usage report was taken.',
      values: {
        RECORDED: 'Recorded (over the limit only as far as the overage policy allows, with a violation).',
        DENIED: "Over what the license's overage policy allows: nothing was recorded.",
      },
    },
  },
);

@ObjectType({ simpleResolvers: true, description: 'A usage report as the license took it: recorded, or denied at its limit.' })
export class RecordUsageResult {
  @Field(() => UsageOutcome, { description: 'Recorded, or denied at the limit.' })
  outcome!: UsageOutcome;

  @Field(() => MetricUsage, { description: 'The metric after the report (unchanged when denied).' })
  usage!: MetricUsage;

  @Field(() => Enforcement, { description: 'How the limit and overage policy decided on the report.' })
  enforcement!: Enforcement;
}
