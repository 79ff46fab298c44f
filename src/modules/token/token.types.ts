import { Length } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from '../../common/pagination';
import type { ApiToken } from './api-token.entity';
import { Role } from '../../auth/roles';

@ObjectType('ApiToken', { simpleResolvers: true, description: 'An API token. Its secret is shown once, when created.' })
export class ApiTokenNode {
  @Field(() => ID, { description: "The token's id (not its secret)." })
  id!: string;

  @Field(() => String, { description: 'What it is for, as its creator named it.' })
  name!: string;

  @Field(() => Role, { description: 'What it may do.' })
  role!: Role;

  @Field(() => ID, { nullable: true, description: 'Null for platform admins.' })
  organizationId!: string | null;

  @Field(() => String, { description: 'The last characters of the secret, to recognise it.' })
  tokenHint!: string;

  @Field(() => Date, { description: 'When it was created.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it was revoked; null while it works.' })
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

@ObjectType({ simpleResolvers: true, description: 'A page of API tokens, oldest first.' })
export class ApiTokenConnection extends Connection(ApiTokenNode) {}

@ObjectType({ simpleResolvers: true, description: 'A new API token and its secret, shown this once and never again.' })
export class CreatedApiToken {
  @Field(() => ApiTokenNode, { description: 'The token as created.' })
  apiToken!: ApiTokenNode;

  @Field(() => String, { description: 'Send it as `Authorization: Bearer <secret>`.' })
  secret!: string;
}

@InputType({ description: 'A new API token.' })
export class CreateApiTokenInput {
  @Field(() => String, { description: 'What it is for (1 to 200 characters).' })
  @Length(1, 200)
  name!: string;

  @Field(() => Role, { description: 'What it may do; only a platform admin may create a PLATFORM_ADMIN token (else FORBIDDEN).' })
  role!: Role;

  @Field(() => ID, { nullable: true, description: 'Required for every role but PLATFORM_ADMIN.' })
  organizationId?: string | null;
}

@InputType({ description: 'Which tokens to list.' })
export class ApiTokenFilter {
  @Field(() => ID, { nullable: true, description: 'Only tokens of this organization (others than platform admins see their own only).' })
  organizationId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only tokens not revoked (true), or only revoked (false).' })
  active?: boolean | null;
}
