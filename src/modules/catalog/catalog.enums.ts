import { registerEnumType } from 'type-graphql';

/** Whether a feature comes with every license of its product or must be entitled. */
export enum FeatureTier {
  CORE = 'CORE',
  PREMIUM = 'PREMIUM',
}

registerEnumType(FeatureTier, {
  name: 'FeatureTier',
  description: 'CORE features come with any valid license of their product; PREMIUM features only where entitled.',
  valuesConfig: {
    CORE: { description: 'Comes with every license of its product.' },
    PREMIUM: { description: 'Only where a license entitles it (its `featureKeys`, its plan, or a FEATURE license).' },
  },
});
