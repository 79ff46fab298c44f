import type { Express, Response } from 'express';
import { MIGRATIONS } from '../db/orm';
import type { SqlGateway } from '../db/sql';

/** How long readiness waits for the database before saying it cannot be reached. */
const DATABASE_CHECK_MS = 2_000;

export interface HealthSources {
  db: SqlGateway;
  /** The Redis bus's state, when Redis is configured. */
  redis?: () => 'connected' | 'connecting' | 'disconnected';
}

type Checks = { database: string; migrations: string; redis?: string };

/**
 * Liveness and readiness, for a load balancer or an orchestrator:
 * - `/livez`: the process is up and its event loop turns (200, always, while it answers at all);
 * - `/readyz` (and `/health`, its older name): the database answers, it holds every migration this instance knows,
 *   and Redis is connected when configured; 503 with the reasons when not.
 */
export function serveHealth(app: Express, sources: HealthSources): void {
  let migrationsCurrent = false;

  const database = async (): Promise<Pick<Checks, 'database' | 'migrations'>> => {
    try {
      const names = await withTimeout(
        sources.db.read((sql) => sql.all<{ name: string }>('select name from mikro_orm_migrations')),
        DATABASE_CHECK_MS,
      );
      if (!migrationsCurrent) {
        const applied = new Set(names.map((row) => row.name.replace(/\.[jt]s$/, '')));
        migrationsCurrent = MIGRATIONS.every((migration) => applied.has(migration.name));
      }
      return { database: 'ok', migrations: migrationsCurrent ? 'current' : 'pending' };
    } catch {
      return { database: 'unreachable', migrations: migrationsCurrent ? 'current' : 'unknown' };
    }
  };

  const ready = async (res: Response) => {
    const checks: Checks = { ...(await database()), ...(sources.redis ? { redis: sources.redis() } : {}) };
    const reasons: string[] = [];
    if (checks.database !== 'ok') reasons.push('the database cannot be reached');
    else if (checks.migrations !== 'current') reasons.push('the database lacks migrations this instance needs');
    if (checks.redis !== undefined && checks.redis !== 'connected') reasons.push(`Redis is ${checks.redis}`);
    res.status(reasons.length ? 503 : 200).json(reasons.length ? { status: 'unavailable', checks, reasons } : { status: 'ready', checks });
  };

  app.get('/livez', (_req, res) => {
    res.json({ status: 'alive' });
  });
  app.get('/readyz', (_req, res) => void ready(res));
  app.get('/health', (_req, res) => void ready(res));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
