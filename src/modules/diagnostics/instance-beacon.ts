import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Clock } from '../../common/clock';
import type { DiagnosticsStore } from './diagnostics-store';

/** How often an instance records itself. */
export const INSTANCE_BEAT_MS = 30_000;
/** An instance not heard from for this long is taken to have stopped (three beats missed). */
export const INSTANCE_LIVE_MS = 3 * INSTANCE_BEAT_MS;
/** An instance not heard from for a day is forgotten (one that died without saying so). */
const FORGET_AFTER_MS = 86_400_000;
/** The largest offset recorded (the column is a 32-bit integer of milliseconds). */
const MAX_OFFSET_MS = 2 ** 31 - 1;

/** The version of this build (package.json's), found upwards of this file whether it runs from source or compiled. */
export function buildVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: string };
      if (version) return version;
    } catch {
      // not ours; look further up
    }
  }
  return 'unknown';
}

/**
 * Responsible for this instance's record in the database (see DiagnosticsStore): who it is (id, host, pid, version,
 * the id of its secret), when it started, and at each beat its clock against the database's, measured over the round
 * trip (its midpoint against `now()`). On SQLite, which has no clock of its own, the machine's clock stands for it:
 * an instance whose clock was set apart from its machine's shows all the same.
 */
export class InstanceBeacon {
  readonly id = randomUUID();
  private readonly startedAt: Date;

  constructor(
    private readonly store: DiagnosticsStore,
    private readonly clock: Clock,
    private readonly secretId: string,
    private readonly version = buildVersion(),
  ) {
    this.startedAt = clock.now();
  }

  /** Records this instance as it is now; forgets instances not heard from for a day. */
  async beat(): Promise<{ clockOffsetMs: number }> {
    const before = this.clock.now().getTime();
    const { now } = await this.store.databaseTime();
    const after = this.clock.now().getTime();
    const reading = new Date(Math.round((before + after) / 2));
    const reference = now ?? new Date();
    // Kept within the column's 32 bits: an offset of more than 24 days is as wrong as one of exactly 24.
    const clockOffsetMs = Math.max(-MAX_OFFSET_MS, Math.min(MAX_OFFSET_MS, reading.getTime() - reference.getTime()));
    await this.store.recordInstance({
      id: this.id,
      host: hostname(),
      pid: process.pid,
      version: this.version,
      secretId: this.secretId,
      startedAt: this.startedAt,
      lastSeenAt: reference,
      clockReading: reading,
      clockOffsetMs,
    });
    await this.store.forgetInstances([], new Date(reference.getTime() - FORGET_AFTER_MS));
    return { clockOffsetMs };
  }

  /** Removes this instance's record as it stops. */
  async leave(): Promise<void> {
    await this.store.forgetInstances([this.id], new Date(0));
  }
}
