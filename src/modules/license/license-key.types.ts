import { ArgsType, Field } from 'type-graphql';

/**
 * What the arguments of every client operation start with: the license key that authorizes it. Their service checks
 * them (lengths, key format): client operations skip class-validator (`CHECKED_BY_THE_SERVICE`).
 */
@ArgsType()
export abstract class LicenseKeyArgs {
  @Field(() => String, {
    description:
      'The license key (`AINX-XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX`) that authorizes the call; an unknown key is UNAUTHENTICATED.',
  })
  key!: string;
}
