import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';

/**
 * A periodic job's last recorded run, whichever instance ran it: when, how it ended, and when it last succeeded.
 * Written by SQL (DiagnosticsStore).
 */
@Entity({ tableName: 'job_run' })
export class JobRunRow {
  @PrimaryKey({ type: 'string', length: 64 })
  job!: string;

  @Property({ type: 'integer' })
  intervalMs!: number;

  @Property({ type: 'string', length: 36 })
  instanceId!: string;

  @Timestamp()
  startedAt!: Date;

  @Timestamp()
  finishedAt!: Date;

  /** `OK` or `FAILED`. */
  @Property({ type: 'string', length: 16 })
  outcome!: string;

  /** What the run did (counts), or why it failed. */
  @Property({ type: 'string', length: 1000, nullable: true })
  detail?: string | null;

  @Timestamp({ nullable: true })
  lastSucceededAt?: Date | null;
}
