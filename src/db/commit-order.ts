import { AdvisoryLock } from './advisory-locks';
import { newId } from './ids';
import type { Tx } from './transaction';

/** The millisecond a UUIDv7 was made in. */
const timeOf = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

/** Tables of logs that subscribers read with a cursor. */
export type CursorLog = 'alert' | 'compliance_event';

/** A new entry's id, and the id of the entry committed just before it (null for the first of its log). */
export interface OrderedId {
  id: string;
  previousId: string | null;
}

/**
 * Ids for a log that subscribers resume from by cursor: a subscriber that saw an entry must be able to take it as a
 * cursor, so every entry committed after it must have a greater id. SQLite commits one writer at a time, and ids
 * made in one process only grow, so a time-ordered id does. On PostgreSQL, where transactions commit in any order, a
 * transaction writing to the log takes a lock held until it ends (one for all the logs, so that a transaction
 * writing to two, a checkout raising an alert and recording a violation, never waits for another that took them the
 * other way round) and an id greater than the greatest stored (so clocks of other instances do not matter): ids
 * follow commit order. Each id comes with the one before it, so that a reader handed entries by a bus that may lose
 * or reorder them can tell whether it missed one (see LogTail). Log entries are rare next to the changes that may
 * write them, so the lock and the read cost little.
 */
export class CommitOrderedIds {
  /**
   * Takes the lock until the transaction ends (again, if it holds it already). A transaction that will write a log
   * entry about rows it locks (a violation) takes it before those rows, so that two such transactions never wait
   * for each other the wrong way round.
   */
  lock(tx: Tx): Promise<void> {
    return tx.advisoryLock(AdvisoryLock.LOG_ORDER);
  }

  async next(sql: Tx, log: CursorLog, now: Date): Promise<OrderedId> {
    await this.lock(sql);
    const last = await sql.get<{ id: string }>(`select id from ${log} order by id desc limit 1`);
    const id = newId(now.getTime());
    if (!last) return { id, previousId: null };
    return { id: id <= last.id ? newId(timeOf(last.id) + 1) : id, previousId: last.id };
  }
}
