import { type Client, createClient } from 'graphql-ws';
import type { ClientAlertsSubscription, ClientAlertsSubscriptionVariables } from './generated';
import { OPERATIONS } from './operations';
import type { ClientStore } from './store';

export type StreamedAlert = ClientAlertsSubscription['alertRaised'];

export interface AlertStreamOptions {
  /** The server's WebSocket endpoint: `wss://licenses.example.com/graphql`. */
  url: string;
  /** An API token that may read the alerts (an INTEGRATOR's). */
  token: string;
  filter?: ClientAlertsSubscriptionVariables['filter'];
  /** Where the cursor (the id of the last alert handled) is kept across reconnects and restarts. */
  store: ClientStore;
  /** The name of the cursor in the store (one per stream). */
  cursorKey?: string;
  /** Handles one alert; the cursor moves past it once this has returned (or resolved). */
  onAlert: (alert: StreamedAlert) => void | Promise<void>;
  onError?: (error: unknown) => void;
  /** A WebSocket class where the platform has none (Node before 22: `ws`). */
  webSocketImpl?: unknown;
}

/**
 * An integrator's alert stream that never misses or repeats an alert: it subscribes to `alertRaised` after the
 * cursor it stored, hands each alert to `onAlert` in order, and stores its id once handled. After a dropped connection
 * it subscribes again from the stored cursor (the server replays what was raised meanwhile); an alert at or before
 * the cursor (ids follow commit order) is one already handled, and skipped. A process restarted with the same store
 * resumes where the last one stopped.
 */
export class AlertStream {
  private client: Client | undefined;
  private unsubscribe: (() => void) | undefined;
  private cursor: string | null = null;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Counts subscriptions: alerts of an earlier one still queued are left to the replay of the current one. */
  private generation = 0;

  constructor(private readonly options: AlertStreamOptions) {}

  async start(): Promise<void> {
    this.cursor = await this.options.store.get(this.key);
    this.client = createClient({
      url: this.options.url,
      connectionParams: { authorization: `Bearer ${this.options.token}` },
      webSocketImpl: this.options.webSocketImpl,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => !this.stopped,
      lazy: false,
      on: { connected: () => this.subscribe() },
    });
  }

  /** Stops: the alerts handed out so far are handled; the cursor stays stored. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.chain;
    await this.client?.dispose();
  }

  private get key(): string {
    return this.options.cursorKey ?? 'alert-cursor';
  }

  /** (Re)subscribes from the cursor stored: on each connection, so that a reconnect replays from where it stopped. */
  private subscribe(): void {
    this.unsubscribe?.();
    const generation = ++this.generation;
    const variables: ClientAlertsSubscriptionVariables = { after: this.cursor, filter: this.options.filter ?? null };
    this.unsubscribe = this.client!.subscribe<ClientAlertsSubscription>(
      { query: OPERATIONS.alerts, variables },
      {
        next: (result) => {
          const alert = result.data?.alertRaised;
          if (alert) this.chain = this.chain.then(() => this.handle(alert, generation));
          else if (result.errors) this.options.onError?.(result.errors);
        },
        error: (error) => this.options.onError?.(error),
        complete: () => undefined,
      },
    );
  }

  private async handle(alert: StreamedAlert, generation: number): Promise<void> {
    if (this.stopped || generation !== this.generation || (this.cursor !== null && alert.id <= this.cursor)) return;
    try {
      await this.options.onAlert(alert);
    } catch (error) {
      // Not handled: subscribed again from the cursor, the alert comes back, and none after it is handled first.
      this.options.onError?.(error);
      if (!this.stopped) this.subscribe();
      return;
    }
    this.cursor = alert.id;
    await this.options.store.set(this.key, alert.id);
  }
}
