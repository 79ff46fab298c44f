import { Length } from 'class-validator';
import { JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../../common/pagination';
import { AuditChainBreak, type AuditChainReport } from './audit-chain';
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

  @Field(() => Int, {
    nullable: true,
    description: 'Its place in the audit chain, from 1; null for the second or so before it is sealed into the chain.',
  })
  seq!: number | null;

  @Field(() => String, {
    nullable: true,
    description: "SHA-256 (hex) over its place, the previous event's hash and its content; null until it is sealed.",
  })
  hash!: string | null;

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
      seq: e.seq ?? null,
      hash: e.hash ?? null,
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

registerEnumType(AuditChainBreak, {
  name: 'AuditChainBreak',
  description: 'Why an audit event does not fit the chain.',
  valuesConfig: {
    HASH_MISMATCH: { description: 'Its hash is not the one of its content, place and predecessor: changed, moved or put in.' },
    MISSING: { description: 'No event holds this place: one was deleted.' },
    ANCHOR_MISMATCH: { description: 'An anchor states another hash for this place: the chain up to it was rewritten.' },
    ANCHOR_SIGNATURE_INVALID: { description: "An anchor's signature was not made by any of the server's signing keys." },
    TRUNCATED: { description: 'The chain ends before a place an anchor holds: its tail was cut off.' },
  },
});

@ObjectType({ simpleResolvers: true, description: 'The first audit event that does not fit the chain.' })
export class AuditChainBreakNode {
  @Field(() => Int, { description: 'The place in the chain where it breaks.' })
  seq!: number;

  @Field(() => ID, { nullable: true, description: 'The event at that place; null when there is none (deleted, or cut off).' })
  eventId!: string | null;

  @Field(() => AuditChainBreak, { description: 'What does not fit there.' })
  reason!: AuditChainBreak;

  @Field(() => String, { description: 'What was found, in a sentence.' })
  message!: string;
}

@ObjectType({ simpleResolvers: true, description: 'The last event sealed into the audit chain.' })
export class AuditChainHead {
  @Field(() => Int, { description: 'Its place: the number of events sealed.' })
  seq!: number;

  @Field(() => String, { description: 'Its hash: keep it outside the server to detect a rewrite later.' })
  hash!: string;
}

@ObjectType({ simpleResolvers: true, description: "The audit chain checked: every event's hash, no place missing, the signed anchors." })
export class AuditVerification {
  @Field(() => Boolean, { description: 'True when every event checked fits the chain and every anchor fits it.' })
  valid!: boolean;

  @Field(() => Int, { description: 'Sealed events checked.' })
  checked!: number;

  @Field(() => AuditChainHead, { nullable: true, description: "The chain's head; null while no event is sealed." })
  head!: AuditChainHead | null;

  @Field(() => Int, { description: 'Signed anchors checked against the events they hold.' })
  anchorsChecked!: number;

  @Field(() => Int, { description: 'Events committed but not sealed into the chain yet (sealed within a second or so).' })
  unsealed!: number;

  @Field(() => AuditChainBreakNode, { nullable: true, description: 'The first event that does not fit; null when valid.' })
  firstBroken!: AuditChainBreakNode | null;

  static from(report: AuditChainReport): AuditVerification {
    return Object.assign(new AuditVerification(), report);
  }
}
