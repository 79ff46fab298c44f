import { Length } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from '../../common/pagination';
import type { Organization } from './organization.entity';

@ObjectType('Organization', { simpleResolvers: true, description: 'A customer account; every license belongs to one.' })
export class OrganizationNode {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
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

@ObjectType({ simpleResolvers: true })
export class OrganizationConnection extends Connection(OrganizationNode) {}

/** What an organization is given when created, and when updated: its name, for now all there is to give. */
@InputType()
abstract class OrganizationInput {
  @Field(() => String)
  @Length(1, 200)
  name!: string;
}

@InputType()
export class CreateOrganizationInput extends OrganizationInput {}

@InputType()
export class UpdateOrganizationInput extends OrganizationInput {}

@InputType()
export class OrganizationFilter {
  @Field(() => String, { nullable: true, description: 'Case-insensitive part of the name.' })
  @Length(1, 200)
  nameContains?: string | null;
}
