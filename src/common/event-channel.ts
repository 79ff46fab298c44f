/**
 * A named stream of events on an EventTarget: in process, or through Redis to every instance (where the name,
 * with the deployment's prefix, is the Redis channel). Events that crossed Redis arrive as parsed JSON, so each
 * channel says how to revive one (dates from strings, the class its resolvers expect).
 *
 * The channel is the target's one listener for its name, however many listen to it: an event is revived once and
 * handed to every listener as the same object (so that work done for one, such as serializing it, can be shared),
 * adding and removing a listener costs the same with one or ten thousand, and with Redis the instance subscribes
 * to the channel only while someone listens.
 */
export class EventChannel<T> {
  private readonly listeners = new Set<(event: T) => void>();
  private readonly handler = (event: Event) => {
    const revived = this.revive((event as CustomEvent<T>).detail);
    for (const listener of this.listeners) listener(revived);
  };

  constructor(
    private readonly target: EventTarget,
    readonly name: string,
    private readonly revive: (event: T) => T,
  ) {}

  publish(event: T): void {
    this.target.dispatchEvent(new CustomEvent(this.name, { detail: event }));
  }

  /**
   * Calls `listener` with each event published from now on, on any instance; returns how to stop. Listeners run
   * one after the other on the publisher's turn: they must not throw, and should only hand the event on.
   */
  listen(listener: (event: T) => void): () => void {
    // A function passed twice must count twice, like addEventListener's distinct handlers did.
    const own = (event: T) => listener(event);
    if (this.listeners.size === 0) this.target.addEventListener(this.name, this.handler);
    this.listeners.add(own);
    return () => {
      if (this.listeners.delete(own) && this.listeners.size === 0) this.target.removeEventListener(this.name, this.handler);
    };
  }
}
