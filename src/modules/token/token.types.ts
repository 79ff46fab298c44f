import { Length } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from '../../common/pagination';
import type { ApiToken } from './api-token.entity';
import { Role } from '../../auth/roles';

@ObjectType('ApiToken', { simpleResolvers: true, description: 'An API token. Its secret is shown once, when created.' })
export class ApiTokenNode {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => ID, { nullable: true, description: 'Null for platform admins.' })
  organizationId!: string | null;

  @Field(() => String, { description: 'The last characters of the secret, to recognise it.' })
  tokenHint!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  static from(t: ApiToken): ApiTokenNode {
    return Object.assign(new ApiTokenNode(), {
      id: t.id,
      name: t.name,
      role: t.role,
      organizationId: t.organization?.id ?? null,
      tokenHint: t.tokenHint,
      createdAt: t.createdAt,
      revokedAt: t.revokedAt ?? null,
    });
  }
}

@ObjectType({ simpleResolvers: true })
export class ApiTokenConnection extends Connection(ApiTokenNode) {}

@ObjectType({ simpleResolvers: true, description: 'A new API token and its secret, shown this once and never again.' })
export class CreatedApiToken {
  @Field(() => ApiTokenNode)
  apiToken!: ApiTokenNode;

  @Field(() => String, { description: 'Send it as `Authorization: Bearer <secret>`.' })
  secret!: string;
}

@InputType()
export class CreateApiTokenInput {
  @Field(() => String)
  @Length(1, 200)
  name!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => ID, { nullable: true, description: 'Required for every role but PLATFORM_ADMIN.' })
  organizationId?: string | null;
}

@InputType()
export class ApiTokenFilter {
  @Field(() => ID, { nullable: true })
  organizationId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only tokens not revoked (true), or only revoked (false).' })
  active?: boolean | null;
}
