/**
 * What carries events between the instances of a deployment. An instance hands its own events to its own listeners
 * itself (see EventChannel), so a bus only ever crosses to the others; with one instance there is nothing to cross.
 * A bus may lose messages (Redis away, an instance ending between its commit and its publish): events that matter
 * are stored first, and their readers catch up from the store when the bus says it is back (see LogTail).
 */
export interface EventBus {
  /** Sends a message to the other instances' subscribers of the channel. Never throws; lost while the bus is away. */
  publish(channel: string, message: unknown): void;
  /** Calls `handler` with each message other instances publish on the channel; returns how to stop. */
  subscribe(channel: string, handler: (message: unknown) => void): () => void;
  /**
   * Calls `listener` each time the bus is connected again, its subscriptions in place, after a time when messages
   * could be lost; returns how to stop.
   */
  onReconnect(listener: () => void): () => void;
  /** Whether messages flow now. */
  readonly connected: boolean;
  close(): Promise<void>;
}

/** The bus of a single instance: there are no other instances to tell, and nothing is ever lost. */
export class LocalEventBus implements EventBus {
  readonly connected = true;

  publish(): void {}

  subscribe(): () => void {
    return () => undefined;
  }

  onReconnect(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {}
}
