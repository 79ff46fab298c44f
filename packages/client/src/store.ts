/**
 * Where the client keeps what must outlive a restart: the last certificate and JWKS (to run offline) and an alert
 * stream's cursor (to resume without missing or repeating an alert). A file, `localStorage` or a database row all
 * fit; the default keeps them in memory for the process.
 */
export interface ClientStore {
  get(key: string): string | null | Promise<string | null>;
  set(key: string, value: string): void | Promise<void>;
}

export class MemoryStore implements ClientStore {
  private readonly values = new Map<string, string>();

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  set(key: string, value: string): void {
    this.values.set(key, value);
  }
}
