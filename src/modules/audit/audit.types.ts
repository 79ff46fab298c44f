import { Length } from 'class-validator';
import { JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from '../../common/pagination';
import type { AuditEvent } from './audit-event.entity';

@ObjectType({ simpleResolvers: true })
export class AuditActor {
  @Field(() => String, { description: 'API_TOKEN, LICENSE_KEY or SYSTEM.' })
  type!: string;

  @Field(() => ID, { nullable: true, description: 'The token id, or the license id for a license key.' })
  id!: string | null;

  @Field(() => String)
  label!: string;
}

@ObjectType('AuditEvent', { simpleResolvers: true, description: 'One change: who did what to which object, before and after, and when.' })
export class AuditEventNode {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true })
  organizationId!: string | null;

  @Field(() => AuditActor)
  actor!: AuditActor;

  @Field(() => String, { description: 'e.g. license.issue, lease.checkout, seat.release.' })
  action!: string;

  @Field(() => String)
  objectType!: string;

  @Field(() => ID)
  objectId!: string;

  @Field(() => JSONObjectResolver, { nullable: true })
  before!: Record<string, unknown> | null;

  @Field(() => JSONObjectResolver, { nullable: true })
  after!: Record<string, unknown> | null;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field(() => Date)
  occurredAt!: Date;

  static from(e: AuditEvent): AuditEventNode {
    return Object.assign(new AuditEventNode(), {
      id: e.id,
      organizationId: e.organizationId ?? null,
      actor: { type: e.actorType, id: e.actorId ?? null, label: e.actorLabel },
      action: e.action,
      objectType: e.objectType,
      objectId: e.objectId,
      before: e.before ?? null,
      after: e.after ?? null,
      requestId: e.requestId ?? null,
      occurredAt: e.occurredAt,
    });
  }
}

@ObjectType({ simpleResolvers: true })
export class AuditEventConnection extends Connection(AuditEventNode) {}

@InputType()
export class AuditFilterInput {
  @Field(() => ID, { nullable: true })
  organizationId?: string | null;

  @Field(() => String, { nullable: true })
  @Length(1, 40)
  objectType?: string | null;

  @Field(() => ID, { nullable: true })
  objectId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The id of the acting token (or license).' })
  actorId?: string | null;

  @Field(() => String, { nullable: true })
  @Length(1, 60)
  action?: string | null;

  @Field(() => Date, { nullable: true, description: 'From this time, inclusive.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Until this time, exclusive.' })
  to?: Date | null;
}
