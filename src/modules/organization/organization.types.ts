import { Length } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from '../../common/pagination';
import type { Organization } from './organization.entity';

@ObjectType('Organization', { simpleResolvers: true, description: 'A customer account; every license belongs to one.' })
export class OrganizationNode {
  @Field(() => ID, { description: "The organization's id." })
  id!: string;

  @Field(() => String, { description: 'Its display name.' })
  name!: string;

  @Field(() => Date, { description: 'When it was created.' })
  createdAt!: Date;

  @Field(() => Date, { description: 'When it last changed.' })
  updatedAt!: Date;

  static from(entity: Organization): OrganizationNode {
    return Object.assign(new OrganizationNode(), {
      id: entity.id,
      name: entity.name,
      createdAt: entity.createdAt,
      updatedAt: entity.updatedAt,
    });
  }
}

@ObjectType({ simpleResolvers: true, description: 'A page of organizations, oldest first.' })
export class OrganizationConnection extends Connection(OrganizationNode) {}

/** What an organization is given when created, and when updated: its name, for now all there is to give. */
@InputType()
abstract class OrganizationInput {
  @Field(() => String, { description: 'Its display name, 1 to 200 characters (trimmed; blank is BAD_USER_INPUT).' })
  @Length(1, 200)
  name!: string;
}

@InputType({ description: 'A new organization.' })
export class CreateOrganizationInput extends OrganizationInput {}

@InputType({ description: 'What to change in an organization.' })
export class UpdateOrganizationInput extends OrganizationInput {}

@InputType({ description: 'Which organizations to list.' })
export class OrganizationFilter {
  @Field(() => String, { nullable: true, description: 'Case-insensitive part of the name.' })
  @Length(1, 200)
  nameContains?: string | null;
}
