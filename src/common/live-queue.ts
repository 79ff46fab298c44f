/**
 * How many events may wait for one subscriber that is not reading: queued for it but not yet taken, or held while
 * its replay or snapshot is read. Past this it is cut off, so that a stalled client holds a bounded part of the
 * server's memory.
 */
export const MAX_PENDING_EVENTS = 1024;

/**
 * The events waiting for one subscriber, as the async iterator its subscription reads: cheaper per event than a
 * general-purpose channel (one promise per event taken, none per event queued), which matters when one event goes
 * to thousands of subscribers. `fail` ends it with an error once the subscriber has taken what was waiting;
 * `return()` (the subscriber leaving) runs the `onClose` callbacks. A consumer that writes each event itself takes
 * them as they come instead (`sinkInto`): no promise at all per event while it keeps up.
 */
export class LiveQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private head = 0;
  private taker: ((result: IteratorResult<T>) => void) | undefined;
  private failTaker: ((error: unknown) => void) | undefined;
  private failure: unknown;
  private closed = false;
  private readonly closers: (() => void)[] = [];
  private drainers: (() => void)[] = [];
  /** The consumer taking events as they come (see `sinkInto`), whether it is writing one, and its end. */
  private sink: ((item: T) => Promise<void> | undefined) | undefined;
  private sinkBusy = false;
  private sinkEnded: { resolve(): void; reject(error: unknown): void } | undefined;

  get waiting(): number {
    return this.items.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed || this.failure !== undefined;
  }

  /** Hands an event to the subscriber if it is waiting for one, else queues it. */
  push(item: T): void {
    if (this.isClosed) return;
    if (this.sink) {
      if (!this.sinkBusy && this.waiting === 0) this.deliver(item);
      else this.items.push(item);
      return;
    }
    if (this.taker) {
      const take = this.taker;
      this.taker = this.failTaker = undefined;
      take({ value: item, done: false });
      return;
    }
    this.items.push(item);
  }

  /** Ends the subscription with an error, once what is waiting has been taken. */
  fail(error: unknown): void {
    if (this.isClosed) return;
    this.failure = error;
    if (this.taker) this.settle();
    else if (this.sink && !this.sinkBusy && this.waiting === 0) this.endSink(error);
  }

  /**
   * Hands every event to `deliver` as it comes, in order, instead of through `next()`: what waits now first. When
   * `deliver` returns a promise (its write is not done), later events wait until it settles. Resolves when the
   * subscriber leaves; rejects when `deliver` fails, or with the queue's failure once what waited was delivered.
   */
  sinkInto(deliver: (item: T) => Promise<void> | undefined): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.sink = deliver;
    const ended = new Promise<void>((resolve, reject) => {
      this.sinkEnded = { resolve, reject };
    });
    this.drainSink();
    return ended;
  }

  /** Settles once nothing waits (or the subscriber left): where a producer should pause. */
  drained(): Promise<void> {
    if (this.waiting === 0 || this.isClosed) return Promise.resolve();
    return new Promise((resolve) => this.drainers.push(resolve));
  }

  onClose(callback: () => void): void {
    if (this.closed) callback();
    else this.closers.push(callback);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.waiting > 0) return Promise.resolve({ value: this.take(), done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.failure !== undefined) return this.failed();
    return new Promise((resolve, reject) => {
      this.taker = resolve;
      this.failTaker = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The oldest waiting event, taken off the queue; producers waiting for it to drain are told when it has. */
  private take(): T {
    const value = this.items[this.head] as T;
    this.head += 1;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
      this.wakeDrainers();
    }
    return value;
  }

  private deliver(item: T): void {
    let written: Promise<void> | undefined;
    try {
      written = this.sink!(item);
    } catch (error) {
      this.endSink(error);
      return;
    }
    if (!written) return;
    this.sinkBusy = true;
    written.then(
      () => {
        this.sinkBusy = false;
        this.drainSink();
      },
      (error: unknown) => {
        this.sinkBusy = false;
        this.endSink(error);
      },
    );
  }

  private drainSink(): void {
    while (!this.sinkBusy && this.waiting > 0 && !this.closed) this.deliver(this.take());
    if (!this.sinkBusy && this.waiting === 0 && !this.closed && this.failure !== undefined) this.endSink(this.failure);
  }

  /** Ends a sink: resolved when `error` is undefined (the subscriber left), rejected with it otherwise. */
  private endSink(error?: unknown): void {
    const ended = this.sinkEnded;
    this.sinkEnded = undefined;
    this.close();
    if (error === undefined) ended?.resolve();
    else ended?.reject(error);
  }

  private close(): void {
    if (this.closed) return;
    const ended = this.sinkEnded;
    this.sinkEnded = undefined;
    ended?.resolve();
    this.closed = true;
    this.items.length = 0;
    this.head = 0;
    this.wakeDrainers();
    if (this.taker) {
      const take = this.taker;
      this.taker = this.failTaker = undefined;
      take({ value: undefined, done: true });
    }
    for (const callback of this.closers.splice(0)) callback();
  }

  private failed(): Promise<IteratorResult<T>> {
    const error = this.failure;
    this.close();
    return Promise.reject(error);
  }

  private settle(): void {
    const reject = this.failTaker;
    this.taker = this.failTaker = undefined;
    const error = this.failure;
    this.close();
    reject?.(error);
  }

  private wakeDrainers(): void {
    const drainers = this.drainers;
    this.drainers = [];
    for (const resolve of drainers) resolve();
  }
}
