import type { EventBus } from './event-bus';

/**
 * A named stream of events: handed at once to this instance's listeners, and through the bus to every other
 * instance's (where the name, with the deployment's prefix, is the Redis channel). Events that crossed Redis arrive
 * as parsed JSON, so each channel says how to revive one (dates from strings, the class its resolvers expect).
 * Local delivery does not wait for the bus, nor depend on it: with Redis away, this instance's subscribers still
 * hear of this instance's events.
 *
 * The channel is the bus's one subscriber for its name, however many listen to it: an event is revived once and
 * handed to every listener as the same object (so that work done for one, such as serializing it, can be shared),
 * adding and removing a listener costs the same with one or ten thousand, and with Redis the instance subscribes
 * to the channel only while someone listens.
 */
export class EventChannel<T> {
  private readonly listeners = new Set<(event: T) => void>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly bus: EventBus,
    readonly name: string,
    private readonly revive: (event: T) => T,
  ) {}

  publish(event: T): void {
    this.deliver(event);
    this.bus.publish(this.name, event);
  }

  /**
   * Calls `listener` with each event published from now on, on any instance; returns how to stop. Listeners run
   * one after the other on the publisher's turn: they should only hand the event on.
   */
  listen(listener: (event: T) => void): () => void {
    // A function passed twice must count twice, like addEventListener's distinct handlers did.
    const own = (event: T) => listener(event);
    if (this.listeners.size === 0) this.unsubscribe = this.bus.subscribe(this.name, (message) => this.deliver(this.revive(message as T)));
    this.listeners.add(own);
    return () => {
      if (this.listeners.delete(own) && this.listeners.size === 0) {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
      }
    };
  }

  /** Calls `listener` each time the bus is back after events could have been lost on it; returns how to stop. */
  onReconnect(listener: () => void): () => void {
    return this.bus.onReconnect(listener);
  }

  /** Whether events from other instances flow now. */
  get connected(): boolean {
    return this.bus.connected;
  }

  private deliver(event: T): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener that throws must not keep the event from the others, nor fail the commit that published it.
      }
    }
  }
}
