import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';

/**
 * A server instance as it last recorded itself (see InstanceBeacon): who it is, when the database last heard from it,
 * and how far its clock was from the database's then. Kept while it runs; removed when it stops, or by another
 * instance a day after it was last heard from. Written by SQL (DiagnosticsStore).
 */
@Entity({ tableName: 'server_instance' })
export class ServerInstanceRow {
  @PrimaryKey({ type: 'string', length: 36 })
  id!: string;

  @Property({ type: 'string', length: 255 })
  host!: string;

  @Property({ type: 'integer' })
  pid!: number;

  @Property({ type: 'string', length: 64 })
  version!: string;

  /** The id of its server secret (never the secret): instances that must share one can be compared. */
  @Property({ type: 'string', length: 16 })
  secretId!: string;

  /** By its own clock. */
  @Timestamp()
  startedAt!: Date;

  /** By the database's clock (on SQLite, which has none of its own, the machine's). */
  @Timestamp()
  lastSeenAt!: Date;

  /** Its own clock at its last record. */
  @Timestamp()
  clockReading!: Date;

  /** Its clock less the database's at its last record, in milliseconds (ahead: positive). */
  @Property({ type: 'integer' })
  clockOffsetMs!: number;
}
