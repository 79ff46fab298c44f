import { Length } from 'class-validator';
import { JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../../common/pagination';
import { AuditChainBreak, type AuditChainReport } from './audit-chain';
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
