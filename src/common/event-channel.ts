/**
 * A named stream of events on an EventTarget: in process, or through Redis to every instance (where the name,
 * with the deployment's prefix, is the Redis channel). Events that crossed Redis arrive as parsed JSON, so each
 * channel says how to revive one (dates from strings, the class its resolvers expect).
 */
export class EventChannel<T> {
  constructor(
    private readonly target: EventTarget,
    readonly name: string,
    private readonly revive: (event: T) => T,
  ) {}

  publish(event: T): void {
    this.target.dispatchEvent(new CustomEvent(this.name, { detail: event }));
  }

  /** Calls `listener` with each event published from now on, on any instance; returns how to stop. */
  listen(listener: (event: T) => void): () => void {
    const handler = (event: Event) => listener(this.revive((event as CustomEvent<T>).detail));
    this.target.addEventListener(this.name, handler);
    return () => this.target.removeEventListener(this.name, handler);
  }
}
