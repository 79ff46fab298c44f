import { AppError } from '../errors';

export interface RowTurnLimits {
  /** Calls for one row that may wait in this process; the next is answered SERVICE_UNAVAILABLE at once. */
  maxWaiting: number;
  /** Longest wait for a turn; past it the call is answered SERVICE_UNAVAILABLE. */
  maxWaitMs: number;
}

interface Waiter {
  start(): void;
  timer: NodeJS.Timeout;
}

/** How calls that lock the same row are ordered in this process before they reach the database. */
export interface Turns {
  /**
   * Runs `work` when it is this call's turn for `row`; `waited` tells whether others came first (a burst is on,
   * which `work` may use to answer without taking the lock).
   */
  run<T>(row: string, work: (waited: boolean) => Promise<T>): Promise<T>;
}

/**
 * No turns: each call goes to the database at once. SQLite's one writer runs writes one after another, so no call
 * ever holds a connection waiting for a row lock; and writes that come together share a commit there (GroupCommit),
 * which turns would keep apart.
 */
export const NO_TURNS: Turns = {
  run: (_row, work) => begin(work, false),
};

/**
 * Calls that lock the same row (a license's, to count and take its seats) take turns in this process: one at a
 * time holds a pooled connection and waits for the row lock, the others wait here. Without this, a burst on one
 * license holds every connection of the pool waiting for that one lock, and every other call of the instance waits
 * behind them. The wait is bounded in length and in time: past either, the call is answered SERVICE_UNAVAILABLE
 * (retry after a second) instead of timing out. Across instances, the row lock itself still decides. On PostgreSQL.
 */
export class RowTurns implements Turns {
  private readonly queues = new Map<string, Waiter[]>();

  constructor(private readonly limits: RowTurnLimits) {}

  run<T>(row: string, work: (waited: boolean) => Promise<T>): Promise<T> {
    const queue = this.queues.get(row);
    if (!queue) {
      this.queues.set(row, []);
      return this.finally(row, begin(work, false));
    }
    if (queue.length >= this.limits.maxWaiting) return Promise.reject(busy());
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          this.finally(row, begin(work, true)).then(resolve, reject);
        },
        timer: setTimeout(() => {
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          reject(busy());
        }, this.limits.maxWaitMs),
      };
      queue.push(waiter);
    });
  }

  private finally<T>(row: string, running: Promise<T>): Promise<T> {
    const next = () => {
      const queue = this.queues.get(row);
      const waiter = queue?.shift();
      if (waiter) waiter.start();
      else this.queues.delete(row);
    };
    return running.finally(next);
  }
}

/** Starts the work; one that throws before its first await still ends its turn. */
function begin<T>(work: (waited: boolean) => Promise<T>, waited: boolean): Promise<T> {
  try {
    return work(waited);
  } catch (error) {
    return Promise.reject(error);
  }
}

function busy(): AppError {
  return AppError.serviceUnavailable('This license is too busy to serve this call now.', 1);
}
