import { describe, expect, it } from 'vitest';
import { LiveQueue } from '../../src/common/live-queue';

/** A write the test finishes when it likes: what a socket that is backed up does. */
function pendingWrite() {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { promise, finish, fail };
}

describe('a live queue taken as it comes (sinkInto)', () => {
  it('delivers what waited first, then each event as it is pushed, in order and at once', () => {
    const queue = new LiveQueue<number>();
    queue.push(1);
    queue.push(2);
    const delivered: number[] = [];
    void queue.sinkInto((n) => {
      delivered.push(n);
      return undefined;
    });
    expect(delivered).toEqual([1, 2]);
    queue.push(3);
    // No promise between a push and its delivery.
    expect(delivered).toEqual([1, 2, 3]);
    expect(queue.waiting).toBe(0);
  });

  it('holds later events while a write is pending, and tells a producer it drained only after', async () => {
    const queue = new LiveQueue<number>();
    const write = pendingWrite();
    const delivered: number[] = [];
    void queue.sinkInto((n) => {
      delivered.push(n);
      return n === 1 ? write.promise : undefined;
    });
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(delivered).toEqual([1]);
    expect(queue.waiting).toBe(2);
    let drained = false;
    const draining = queue.drained().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    write.finish();
    await draining;
    expect(delivered).toEqual([1, 2, 3]);
    expect(drained).toBe(true);
  });

  it('ends with the queue’s failure once what waited was delivered', async () => {
    const queue = new LiveQueue<number>();
    const write = pendingWrite();
    const delivered: number[] = [];
    const ended = queue.sinkInto((n) => {
      delivered.push(n);
      return n === 1 ? write.promise : undefined;
    });
    queue.push(1);
    queue.push(2);
    queue.fail(new Error('too slow'));
    queue.push(3); // after the failure: dropped
    write.finish();
    await expect(ended).rejects.toThrow('too slow');
    expect(delivered).toEqual([1, 2]);
  });

  it('fails at once when nothing waits, and when a write fails', async () => {
    const idle = new LiveQueue<number>();
    const idleEnd = idle.sinkInto(() => undefined);
    idle.fail(new Error('cut off'));
    await expect(idleEnd).rejects.toThrow('cut off');

    const broken = new LiveQueue<number>();
    const write = pendingWrite();
    const brokenEnd = broken.sinkInto(() => write.promise);
    broken.push(1);
    write.fail(new Error('socket gone'));
    await expect(brokenEnd).rejects.toThrow('socket gone');
    expect(broken.isClosed).toBe(true);
  });

  it('ends quietly when the subscriber leaves, running the close callbacks and dropping later events', async () => {
    const queue = new LiveQueue<number>();
    let closed = false;
    queue.onClose(() => {
      closed = true;
    });
    const delivered: number[] = [];
    const ended = queue.sinkInto((n) => {
      delivered.push(n);
      return undefined;
    });
    queue.push(1);
    await queue.return();
    queue.push(2);
    await expect(ended).resolves.toBeUndefined();
    expect(closed).toBe(true);
    expect(delivered).toEqual([1]);
  });
});
