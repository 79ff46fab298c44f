import type { EventChannel } from './event-channel';

/**
 * What a writer publishes for each entry it appends to a stored log, once it has committed: the entry, and the id of
 * the entry committed just before it (ids follow commit order, see CommitOrderedIds).
 */
export interface LogNotice<T> {
  entry: T;
  /** The entry committed just before this one; null when this is the first. */
  previousId: string | null;
}

/** Revives a notice that crossed Redis as JSON. */
export function reviveNotice<T>(revive: (entry: T) => T): (notice: LogNotice<T>) => LogNotice<T> {
  return (notice) => ({ entry: revive(notice.entry), previousId: notice.previousId });
}

/** Reads a stored log, oldest first; every entry of every organization (listeners filter). */
export interface LogReader<T> {
  /** The id of the newest entry; null while the log is empty. */
  lastId(): Promise<string | null>;
  /** Up to `limit` entries after the one with id `after` (from the first when null), oldest first. */
  after(after: string | null, limit: number): Promise<T[]>;
}

/** Where subscribers of a stored log hear of its new entries. */
export interface LiveLog<T> {
  /**
   * Calls `listener` with every entry committed after `ready` settles, each once, in stored order. Read the store
   * for what came before only once `ready` has settled: nothing then falls between the two.
   */
  listen(listener: (entry: T) => void): { ready: Promise<void>; stop(): void };
}

export interface LogTailOptions {
  /**
   * How often the store is read for entries that no notice told of (an instance that ended between its commit and
   * its publish, a publish lost while its connection was away), while the bus is connected; 0 never. While the bus
   * is away the store is read every second, so that subscribers keep receiving, later, what other instances store.
   */
  pollMs: number;
  /** Told once when reading the store starts failing, and once when it works again. */
  onReadFailure?(error: unknown): void;
  onReadRecovery?(): void;
}

const PAGE = 200;
const TICK_MS = 1000;

/**
 * Responsible for delivering a stored log live, complete and in stored order, whatever the bus loses or reorders.
 * One per log and instance, shared by all its subscribers: it knows the last entry it handed on (the tail), and a
 * notice whose `previousId` is that tail is handed on at once (the usual case: no read at all). Any other sign of a
 * gap (a notice from further on, the bus coming back, a periodic look) reads the store after the tail instead, once
 * for every subscriber, and hands on what it finds in stored order; notices of entries already handed on are
 * dropped. Listening starts when the first subscriber comes and stops when the last one leaves.
 */
export class LogTail<T extends { id: string }> implements LiveLog<T> {
  private readonly listeners = new Set<(entry: T) => void>();
  /** The last entry handed on: null for an empty log, undefined while not yet read. */
  private tail: string | null | undefined;
  private learning: Promise<void> | undefined;
  /** A notice came while the tail was being learnt: read the store once it is known. */
  private missed = false;
  private reading = false;
  /** A sign of a gap came during a read: read again after it. */
  private again = false;
  private failing = false;
  private lastRead = 0;
  /** Counts the times listening started, so that work begun for an earlier time is dropped. */
  private generation = 0;
  private readonly stops: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly notices: EventChannel<LogNotice<T>>,
    private readonly reader: LogReader<T>,
    private readonly options: LogTailOptions,
  ) {}

  listen(listener: (entry: T) => void): { ready: Promise<void>; stop(): void } {
    const own = (entry: T) => listener(entry);
    if (this.listeners.size === 0) this.start();
    this.listeners.add(own);
    return {
      ready: this.learnTail(),
      stop: () => {
        if (this.listeners.delete(own) && this.listeners.size === 0) this.stop();
      },
    };
  }

  private start(): void {
    this.generation += 1;
    this.stops.push(this.notices.listen((notice) => this.onNotice(notice)));
    this.stops.push(this.notices.onReconnect(() => this.catchUp()));
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private stop(): void {
    for (const stop of this.stops.splice(0)) stop();
    clearInterval(this.timer);
    this.timer = undefined;
    this.generation += 1;
    this.tail = undefined;
    this.learning = undefined;
    this.missed = this.reading = this.again = false;
  }

  /** Reads where the log ends now: what listeners get starts after it. */
  private learnTail(): Promise<void> {
    if (this.tail !== undefined) return Promise.resolve();
    if (!this.learning) {
      const generation = this.generation;
      this.missed = false;
      this.learning = this.reader.lastId().then(
        (id) => {
          if (generation !== this.generation) return;
          this.learning = undefined;
          this.tail = id;
          if (this.missed) this.catchUp();
        },
        (error: unknown) => {
          if (generation === this.generation) this.learning = undefined;
          throw error;
        },
      );
    }
    return this.learning;
  }

  private onNotice({ entry, previousId }: LogNotice<T>): void {
    if (this.tail === undefined) {
      this.missed = true;
      return;
    }
    if (this.tail !== null && entry.id <= this.tail) return; // handed on already
    if (!this.reading && previousId === this.tail) {
      this.handOn(entry);
      return;
    }
    this.catchUp();
  }

  private tick(): void {
    if (this.tail === undefined) {
      this.learnTail().catch(() => undefined); // the subscribers waiting on it were told
      return;
    }
    const due = !this.notices.connected || this.failing || (this.options.pollMs > 0 && Date.now() - this.lastRead >= this.options.pollMs);
    if (due) this.catchUp();
  }

  /** Reads the store after the tail, page by page, until nothing is left; once at a time. */
  private catchUp(): void {
    if (this.tail === undefined) {
      this.missed = true;
      return;
    }
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    const generation = this.generation;
    void this.readToEnd(generation).finally(() => {
      if (generation === this.generation) this.reading = false;
    });
  }

  private async readToEnd(generation: number): Promise<void> {
    try {
      do {
        this.again = false;
        for (;;) {
          const entries = await this.reader.after(this.tail ?? null, PAGE);
          if (generation !== this.generation) return;
          this.lastRead = Date.now();
          for (const entry of entries) if (this.tail === null || this.tail === undefined || entry.id > this.tail) this.handOn(entry);
          if (entries.length < PAGE) break;
        }
      } while (this.again);
      if (this.failing) {
        this.failing = false;
        this.options.onReadRecovery?.();
      }
    } catch (error) {
      // Retried at the next tick for as long as it fails; said once.
      if (generation === this.generation && !this.failing) {
        this.failing = true;
        this.options.onReadFailure?.(error);
      }
    }
  }

  private handOn(entry: T): void {
    this.tail = entry.id;
    for (const listener of this.listeners) {
      try {
        listener(entry);
      } catch {
        // one listener's failure is not the others'
      }
    }
  }
}
