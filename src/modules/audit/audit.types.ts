import { Length } from 'class-validator';
import { JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from '../../common/pagination';
import type { AuditEvent } from './audit-event.entity';

@ObjectType({
  simpleResolvers: true,
  description: 'Who made a change: an API token, a license key (client operations) or the server itself (jobs).',
})
export class AuditActor {
  @Field(() => String, { description: 'API_TOKEN, LICENSE_KEY or SYSTEM.' })
  type!: string;

  @Field(() => ID, { nullable: true, description: 'The token id, or the license id for a license key.' })
  id!: string | null;

  @Field(() => String, { description: "A readable name: the token's name, the license's key hint, or the job's name." })
  label!: string;
}

@ObjectType('AuditEvent', { simpleResolvers: true, description: 'One change: who did what to which object, before and after, and when.' })
export class AuditEventNode {
  @Field(() => ID, { description: "The event's id; ids grow in the order events were written." })
  id!: string;

  @Field(() => ID, {
    nullable: true,
    description: 'The organization the changed object belongs to; null for platform-wide objects (products, plans, platform tokens).',
  })
  organizationId!: string | null;

  @Field(() => AuditActor, { description: 'Who made the change.' })
  actor!: AuditActor;

  @Field(() => String, { description: 'e.g. license.issue, lease.checkout, seat.release.' })
  action!: string;

  @Field(() => String, { description: 'The kind of object changed, e.g. License, Seat, Lease, ApiToken, Plan.' })
  objectType!: string;

  @Field(() => ID, { description: 'The id of the object changed.' })
  objectId!: string;

  @Field(() => JSONObjectResolver, {
    nullable: true,
    description: "The object's recorded fields before the change; null when it was created. Secrets never appear.",
  })
  before!: Record<string, unknown> | null;

  @Field(() => JSONObjectResolver, {
    nullable: true,
    description: "The object's recorded fields after the change; null when it was deleted. Secrets never appear.",
  })
  after!: Record<string, unknown> | null;

  @Field(() => String, {
    nullable: true,
    description: 'The id of the request that made the change (the `x-request-id` header of its answer); null when no request made it.',
  })
  requestId!: string | null;

  @Field(() => Date, { description: 'When the change was made.' })
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

@ObjectType({ simpleResolvers: true, description: 'A page of audit events, oldest first.' })
export class AuditEventConnection extends Connection(AuditEventNode) {}

@InputType({ description: 'Which audit events to list; every field given must match.' })
export class AuditFilterInput {
  @Field(() => ID, { nullable: true, description: 'Only events of this organization (others than platform admins see their own only).' })
  organizationId?: string | null;

  @Field(() => String, { nullable: true, description: 'Only events on this kind of object, e.g. License.' })
  @Length(1, 40)
  objectType?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only events on this object.' })
  objectId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The id of the acting token (or license).' })
  actorId?: string | null;

  @Field(() => String, { nullable: true, description: 'Only this action, e.g. license.issue.' })
  @Length(1, 60)
  action?: string | null;

  @Field(() => Date, { nullable: true, description: 'From this time, inclusive.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Until this time, exclusive.' })
  to?: Date | null;
}
