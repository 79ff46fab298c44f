import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventBus } from '../../src/common/event-bus';
import { EventChannel } from '../../src/common/event-channel';
import { type LogNotice, type LogReader, LogTail } from '../../src/common/log-tail';

type Entry = { id: string };

/** A bus between instances whose messages the test hands over itself. */
class TestBus implements EventBus {
  connected = true;
  private readonly handlers = new Map<string, (message: unknown) => void>();
  private readonly reconnects = new Set<() => void>();

  publish(): void {}
  subscribe(channel: string, handler: (message: unknown) => void): () => void {
    this.handlers.set(channel, handler);
    return () => this.handlers.delete(channel);
  }
  onReconnect(listener: () => void): () => void {
    this.reconnects.add(listener);
    return () => this.reconnects.delete(listener);
  }
  async close(): Promise<void> {}

  /** A notice from another instance. */
  deliver(notice: LogNotice<Entry>): void {
    this.handlers.get('log')?.(notice);
  }
  reconnect(): void {
    for (const listener of this.reconnects) listener();
  }
}

/** A stored log the test appends to, counting the reads. */
class TestLog implements LogReader<Entry> {
  entries: Entry[] = [];
  reads = 0;
  failing = false;

  append(id: string): LogNotice<Entry> {
    const previousId = this.entries.at(-1)?.id ?? null;
    const entry = { id };
    this.entries.push(entry);
    return { entry, previousId };
  }
  async lastId(): Promise<string | null> {
    return this.entries.at(-1)?.id ?? null;
  }
  async after(after: string | null, limit: number): Promise<Entry[]> {
    this.reads += 1;
    if (this.failing) throw new Error('database away');
    return this.entries.filter((e) => after === null || e.id > after).slice(0, limit);
  }
}

function setUp(pollMs = 0, stored: string[] = []) {
  const bus = new TestBus();
  const log = new TestLog();
  for (const id of stored) log.append(id);
  const channel = new EventChannel<LogNotice<Entry>>(bus, 'log', (n) => n);
  const failures: unknown[] = [];
  const tail = new LogTail(channel, log, { pollMs, onReadFailure: (e) => failures.push(e) });
  const received: string[] = [];
  const listening = tail.listen((entry) => received.push(entry.id));
  return { bus, log, channel, tail, received, listening, failures };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => {
  vi.useRealTimers();
});

describe('LogTail', () => {
  it('hands on a notice that follows the last entry handed on without reading the store', async () => {
    const { bus, log, received, listening } = setUp(0, ['01']);
    await listening.ready;
    bus.deliver(log.append('02'));
    bus.deliver(log.append('03'));
    expect(received).toEqual(['02', '03']);
    expect(log.reads).toBe(0);
  });

  it('reads the store after the last entry handed on when a notice comes ahead of one it missed, and drops the late one', async () => {
    const { bus, log, received, listening } = setUp();
    await listening.ready;
    const first = log.append('01');
    const second = log.append('02');
    const third = log.append('03');
    bus.deliver(third);
    await settle();
    expect(received).toEqual(['01', '02', '03']);
    bus.deliver(first);
    bus.deliver(second);
    await settle();
    expect(received).toEqual(['01', '02', '03']);
    expect(log.reads).toBe(1);
  });

  it('hands on local publishes at once, and the same entries arriving again through the bus are dropped', async () => {
    const { bus, log, channel, received, listening } = setUp();
    await listening.ready;
    const notice = log.append('01');
    channel.publish(notice);
    bus.deliver(notice);
    expect(received).toEqual(['01']);
  });

  it('reads the store when the bus is back, finding what was stored while it was away', async () => {
    const { bus, log, received, listening } = setUp();
    await listening.ready;
    log.append('01');
    log.append('02');
    bus.reconnect();
    await settle();
    expect(received).toEqual(['01', '02']);
  });

  it('reads the store every second while the bus is away, and every pollMs while it is connected', async () => {
    vi.useFakeTimers();
    const { bus, log, received, listening } = setUp(5_000);
    await listening.ready;
    bus.connected = false;
    log.append('01');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(received).toEqual(['01']);
    bus.connected = true;
    log.append('02');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(received).toEqual(['01']);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(received).toEqual(['01', '02']);
  });

  it('keeps trying a read that fails, says so once, and then hands on everything in order', async () => {
    vi.useFakeTimers();
    const { bus, log, received, listening, failures } = setUp();
    await listening.ready;
    log.failing = true;
    log.append('01');
    bus.deliver(log.append('02'));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(received).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(log.reads).toBeGreaterThanOrEqual(3);
    log.failing = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(received).toEqual(['01', '02']);
  });

  it('starts after the end of the log as it was when listening began', async () => {
    const bus = new TestBus();
    const log = new TestLog();
    log.append('01');
    const tail = new LogTail(new EventChannel<LogNotice<Entry>>(bus, 'log', (n) => n), log, { pollMs: 0 });
    const late: string[] = [];
    const listening = tail.listen((entry) => late.push(entry.id));
    await listening.ready;
    bus.deliver(log.append('02'));
    expect(late).toEqual(['02']);
    expect(log.reads).toBe(0);
  });

  it('stops listening when the last listener leaves, and learns the tail again for the next', async () => {
    const { bus, log, tail, listening } = setUp();
    await listening.ready;
    listening.stop();
    bus.deliver(log.append('01'));
    const next: string[] = [];
    const again = tail.listen((entry) => next.push(entry.id));
    await again.ready;
    bus.deliver(log.append('02'));
    expect(next).toEqual(['02']);
  });
});
