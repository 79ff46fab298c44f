import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { EventBus } from '../common/event-bus';
import type { Logger } from '../logger';

/** How a message travels: who sent it (an instance drops its own, which it delivered itself), and what. */
interface Envelope {
  from: string;
  message: unknown;
}

/**
 * Neither connection queues commands while Redis is away nor retries them: a publish then is dropped at once (the
 * event is stored, and readers catch up from the store), and nothing waits on Redis. ioredis keeps reconnecting by
 * itself; subscriptions are made again by this bus (not by ioredis, whose own re-subscription rejects unhandled when
 * the connection drops again).
 */
const OPTIONS: RedisOptions = {
  lazyConnect: false,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResubscribe: false,
  connectTimeout: 2_000,
  retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
};

/**
 * Responsible for carrying events between instances through Redis pub/sub, as an accelerator and never a point of
 * failure: no Redis error reaches a caller or ends the process, publishes made while Redis is away are dropped (the
 * events are stored; see LogTail), and each time both connections are back, with the channels subscribed again,
 * the bus says so, for readers to catch up. Its state is logged once per change, as one JSON line.
 */
export class RedisEventBus implements EventBus {
  private readonly id = randomUUID();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Set<(message: unknown) => void>>();
  private readonly reconnectListeners = new Set<() => void>();
  /** Whether both connections are ready and the channels subscribed; null before the first connection. */
  private up: boolean | null = null;
  private subscribed = false;
  private lastError: string | undefined;
  private closing = false;

  constructor(
    url: string,
    private readonly logger: Logger,
  ) {
    this.publisher = new Redis(url, OPTIONS);
    this.subscriber = new Redis(url, OPTIONS);
    for (const client of [this.publisher, this.subscriber]) {
      // Without a listener ioredis prints every failed attempt; the state change is logged once instead.
      client.on('error', (error: Error) => {
        this.lastError = error.message;
      });
      client.on('ready', () => this.settle());
      client.on('close', () => this.settle());
    }
    this.subscriber.on('ready', () => void this.resubscribe());
    this.subscriber.on('close', () => {
      this.subscribed = false;
    });
    this.subscriber.on('message', (channel: string, text: string) => this.receive(channel, text));
  }

  /** A connection for plain commands (rate limits): it fails at once while Redis is away, never waits. */
  get commands(): Redis {
    return this.publisher;
  }

  get connected(): boolean {
    return this.up === true;
  }

  /** What readiness reports. */
  get state(): 'connected' | 'connecting' | 'disconnected' {
    if (this.up === null) return 'connecting';
    return this.up ? 'connected' : 'disconnected';
  }

  publish(channel: string, message: unknown): void {
    if (this.publisher.status !== 'ready') return;
    const envelope: Envelope = { from: this.id, message };
    this.publisher.publish(channel, JSON.stringify(envelope)).catch(() => undefined);
  }

  subscribe(channel: string, handler: (message: unknown) => void): () => void {
    let handlers = this.handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.handlers.set(channel, handlers);
      if (this.subscribed) this.subscriber.subscribe(channel).catch(() => undefined); // else made on the next 'ready'
    }
    const own = (message: unknown) => handler(message);
    handlers.add(own);
    return () => {
      if (!handlers.delete(own) || handlers.size > 0) return;
      this.handlers.delete(channel);
      if (this.subscribed) this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  onReconnect(listener: () => void): () => void {
    const own = () => listener();
    this.reconnectListeners.add(own);
    return () => this.reconnectListeners.delete(own);
  }

  async close(): Promise<void> {
    this.closing = true;
    // quit() sends QUIT and waits for Redis; with Redis away it would wait for the reconnection.
    for (const client of [this.publisher, this.subscriber]) client.disconnect();
  }

  private async resubscribe(): Promise<void> {
    const channels = [...this.handlers.keys()];
    try {
      if (channels.length > 0) await this.subscriber.subscribe(...channels);
    } catch {
      return; // the connection dropped again; its next 'ready' tries again
    }
    this.subscribed = true;
    this.settle();
  }

  /** Works out the state after a connection event; logs and tells listeners when it changed. */
  private settle(): void {
    if (this.closing) return;
    const up = this.publisher.status === 'ready' && this.subscriber.status === 'ready' && this.subscribed;
    if (up === this.up || (!up && this.up === null && this.lastError === undefined)) return;
    const was = this.up;
    this.up = up;
    if (up) {
      this.logger.info(
        { redis: 'connected' },
        was === null ? 'Redis connected' : 'Redis connected again; subscribers catch up from the store',
      );
      this.lastError = undefined;
      for (const listener of this.reconnectListeners) {
        try {
          listener();
        } catch {
          // one listener's failure is not the others'
        }
      }
    } else {
      this.logger.warn(
        { redis: 'disconnected', reason: this.lastError ?? 'connection closed' },
        'Redis unreachable; serving on, events reach other instances through the store until it is back',
      );
    }
  }

  private receive(channel: string, text: string): void {
    const handlers = this.handlers.get(channel);
    if (!handlers) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      return; // not one of ours
    }
    if (envelope?.from === this.id || envelope?.from === undefined) return;
    for (const handler of handlers) {
      try {
        handler(envelope.message);
      } catch {
        // one handler's failure is not the others'
      }
    }
  }
}
