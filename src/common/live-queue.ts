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
 * `return()` (the subscriber leaving) runs the `onClose` callbacks.
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

  get waiting(): number {
    return this.items.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed || this.failure !== undefined;
  }

  /** Hands an event to the subscriber if it is waiting for one, else queues it. */
  push(item: T): void {
    if (this.isClosed) return;
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
    if (this.waiting > 0) {
      const value = this.items[this.head] as T;
      this.head += 1;
      if (this.head === this.items.length) {
        this.items.length = 0;
        this.head = 0;
        this.wakeDrainers();
      }
      return Promise.resolve({ value, done: false });
    }
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

  private close(): void {
    if (this.closed) return;
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
