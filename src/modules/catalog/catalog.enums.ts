import { registerEnumType } from 'type-graphql';

/** Whether a feature comes with every license of its product or must be entitled. */
export enum FeatureTier {
  CORE = 'CORE',
  PREMIUM = 'PREMIUM',
}

registerEnumType(FeatureTier, {
  name: 'FeatureTier',
  description: 'CORE features come with any valid license of their product; PREMIUM features only where entitled.',
});
