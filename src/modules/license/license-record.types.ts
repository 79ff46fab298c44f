import { Field, ID, InputType, ObjectType } from 'type-graphql';

/*
 * Bases of types, abstract in the schema too: no resolver names one, so it is not emitted, and each type that extends
 * it has its fields under its own name.
 */

/**
 * What is recorded of one license of one organization (an alert, a violation and its events, a seat, a lease, a
 * migration): the fields its type starts with.
 */
@ObjectType({ simpleResolvers: true })
export abstract class LicenseRecordNode {
  @Field(() => ID, { description: 'Its id; ids grow with time, and lists are in their order.' })
  id!: string;

  @Field(() => ID, { description: 'The organization the license belongs to.' })
  organizationId!: string;

  @Field(() => ID, { description: 'The license it concerns.' })
  licenseId!: string;
}

/** Records of one organization, or of one license: the fields a filter of such records starts with. */
@InputType()
export abstract class LicenseRecordFilter {
  @Field(() => ID, {
    nullable: true,
    description: "Only records of this organization (a platform admin's filter; others see their own organization only).",
  })
  organizationId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only records of this license.' })
  licenseId?: string | null;
}
