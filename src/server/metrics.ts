import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Express, Request, Response } from 'express';
import { type GraphQLSchema, Kind, type OperationDefinitionNode } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ErrorCode } from '../errors';
import type { Logger } from '../logger';

/** Where a request was served: the client lane, Apollo over HTTP, or graphql-ws. */
export type Lane = 'client' | 'http' | 'websocket';

/** The label of a request whose document names no operation of the schema (or could not be read). */
export const UNKNOWN_OPERATION = 'unknown';
/** The label of a document with several root fields. */
const SEVERAL_OPERATIONS = 'several';
const INTROSPECTION = 'introspection';
/** Error codes GraphQL and Apollo raise themselves, besides ours; anything else is counted as OTHER. */
const GRAPHQL_CODES = [
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
];
/** Request durations, in seconds: a validation takes about a millisecond, a report up to seconds. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

/** What the metrics read from the database and the connections when they are scraped, and only then. */
export interface ScrapeSources {
  /** Live leases by kind (ONLINE: kept alive by heartbeats; BORROWED: held offline). */
  liveLeases(): Promise<Record<'ONLINE' | 'BORROWED', number>>;
  /** Violations not resolved nor waived, by kind and status. */
  activeViolations(): Promise<{ kind: string; status: string; count: number }[]>;
  /** The database pool: connections in use, and calls waiting for one. */
  pool(): { inUse: number; waiting: number };
  /** Whether Redis carries events now; not given without Redis. */
  redisConnected?: () => boolean;
}

/**
 * Responsible for the server's metrics in Prometheus' text format: one registry per server (several may run in one
 * process), with Node's default process metrics (event-loop lag among them). Labels are bounded: operation names only
 * for root fields of the schema, error codes only from the known set, kinds and outcomes from enums; never a license,
 * an organization or free text. Gauges drawn from the database are read at scrape time, with one grouped count each.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly operations: ReadonlySet<string>;
  private readonly codes: ReadonlySet<string> = new Set<string>([...Object.values(ErrorCode), ...GRAPHQL_CODES]);
  private readonly durations = new Map<string, { observe(value: number): void }>();
  private readonly requestDuration: Histogram<'operation' | 'lane'>;
  private readonly errors: Counter<'code' | 'lane'>;
  readonly connections: Gauge;
  readonly subscriptions: Gauge<'operation'>;
  /**
   * Deliveries counted where they happen, one addition each, and added to the counter when it is read: a delivery to
   * thousands of subscribers must not hash its labels thousands of times.
   */
  private readonly deliveries = new Map<string, { count: number }>();
  readonly cutOff: Counter<'reason'>;
  private readonly checkouts: Counter<'outcome'>;
  private readonly alerts: Counter<'kind'>;
  private readonly jobRuns: Counter<'job' | 'outcome'>;
  private readonly jobDuration: Histogram<'job'>;

  constructor(schema: GraphQLSchema, sources: ScrapeSources, logger: Logger) {
    const registers = [this.registry];
    this.operations = new Set(
      [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((type) =>
        Object.keys(type?.getFields() ?? {}),
      ),
    );
    collectDefaultMetrics({ register: this.registry });
    this.requestDuration = new Histogram({
      name: 'license_manager_request_duration_seconds',
      help: 'GraphQL requests served, by operation (root field) and lane (client, http, websocket), and how long they took.',
      labelNames: ['operation', 'lane'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.errors = new Counter({
      name: 'license_manager_graphql_errors_total',
      help: 'GraphQL errors answered, by code (extensions.code) and lane.',
      labelNames: ['code', 'lane'],
      registers,
    });
    this.connections = new Gauge({ name: 'license_manager_websocket_connections', help: 'WebSocket connections open.', registers });
    this.subscriptions = new Gauge({
      name: 'license_manager_subscriptions_active',
      help: 'Subscriptions running, by operation.',
      labelNames: ['operation'],
      registers,
    });
    const deliveries = this.deliveries;
    // license_manager_subscription_events_delivered_total: read only through its registry.
    new Counter({
      name: 'license_manager_subscription_events_delivered_total',
      help: 'Subscription events written to subscribers, by operation.',
      labelNames: ['operation'],
      registers,
      collect() {
        for (const [operation, tally] of deliveries) {
          if (tally.count === 0) continue;
          this.inc({ operation }, tally.count);
          tally.count = 0;
        }
      },
    });
    this.cutOff = new Counter({
      name: 'license_manager_subscribers_cut_off_total',
      help: 'Subscribers cut off for falling behind: events waiting past the stream limit (stream_backlog) or bytes past the socket limit (socket_backlog).',
      labelNames: ['reason'],
      registers,
    });
    this.checkouts = new Counter({
      name: 'license_manager_seat_checkouts_total',
      help: 'Seat checkouts (concurrent leases, borrows included), by outcome: GRANTED or the reason code of the refusal.',
      labelNames: ['outcome'],
      registers,
    });
    this.alerts = new Counter({
      name: 'license_manager_alerts_raised_total',
      help: 'Alerts raised, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.jobRuns = new Counter({
      name: 'license_manager_job_runs_total',
      help: 'Passes of the periodic jobs, by job and outcome (ok, failed).',
      labelNames: ['job', 'outcome'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'license_manager_job_duration_seconds',
      help: 'How long the passes of the periodic jobs took.',
      labelNames: ['job'],
      buckets: JOB_BUCKETS,
      registers,
    });
    this.scrapeGauges(sources, logger);
  }

  /** The gauges read when scraped: leases and violations from the database, the pool and Redis from their clients. */
  private scrapeGauges(sources: ScrapeSources, logger: Logger): void {
    const registers = [this.registry];
    const failed = (what: string) => (error: unknown) => logger.warn({ err: error, metric: what }, `cannot read ${what} for the metrics`);
    new Gauge({
      name: 'license_manager_leases_live',
      help: 'Live leases, by kind (ONLINE: kept alive by heartbeats; BORROWED: held offline).',
      labelNames: ['kind'],
      registers,
      async collect() {
        this.reset();
        const counts = await sources.liveLeases().catch(failed('live leases'));
        if (counts) for (const [kind, count] of Object.entries(counts)) this.set({ kind }, count);
      },
    });
    new Gauge({
      name: 'license_manager_violations_open',
      help: 'Violations not resolved nor waived, by kind and status (OPEN, ACKNOWLEDGED).',
      labelNames: ['kind', 'status'],
      registers,
      async collect() {
        this.reset();
        const counts = await sources.activeViolations().catch(failed('open violations'));
        for (const { kind, status, count } of counts ?? []) this.set({ kind, status }, count);
      },
    });
    new Gauge({
      name: 'license_manager_db_pool_connections_in_use',
      help: 'Database connections in use by calls.',
      registers,
      collect() {
        this.set(sources.pool().inUse);
      },
    });
    new Gauge({
      name: 'license_manager_db_pool_waiting',
      help: 'Calls waiting for a database connection (on SQLite, or for a write batch to take them).',
      registers,
      collect() {
        this.set(sources.pool().waiting);
      },
    });
    const { redisConnected } = sources;
    if (!redisConnected) return;
    new Gauge({
      name: 'license_manager_redis_connected',
      help: 'Whether Redis carries events between instances now (1) or not (0); absent without Redis.',
      registers,
      collect() {
        this.set(redisConnected() ? 1 : 0);
      },
    });
  }

  /** The label of an operation: its root field when that is one of the schema's, else a bucket of its own. */
  operationOf(operation: OperationDefinitionNode | null | undefined): string {
    const fields = operation?.selectionSet.selections ?? [];
    if (fields.length !== 1) return fields.length > 1 ? SEVERAL_OPERATIONS : UNKNOWN_OPERATION;
    const field = fields[0]!;
    if (field.kind !== Kind.FIELD) return UNKNOWN_OPERATION;
    if (field.name.value.startsWith('__')) return INTROSPECTION;
    return this.operations.has(field.name.value) ? field.name.value : UNKNOWN_OPERATION;
  }

  /** One request served, with the codes of the errors it answered. */
  request(lane: Lane, operation: string, seconds: number, codes: readonly string[]): void {
    const key = `${lane}\u0000${operation}`;
    let child = this.durations.get(key);
    if (!child) {
      child = this.requestDuration.labels(operation, lane);
      this.durations.set(key, child);
    }
    child.observe(seconds);
    this.errorsAnswered(lane, codes);
  }

  errorsAnswered(lane: Lane, codes: readonly string[]): void {
    for (const code of codes) this.errors.inc({ code: this.codes.has(code) ? code : 'OTHER', lane });
  }

  checkedOut(outcome: string): void {
    this.checkouts.inc({ outcome });
  }

  /** What counts one event written to a subscriber of `operation`. */
  deliveryCounter(operation: string): () => void {
    let tally = this.deliveries.get(operation);
    if (!tally) {
      tally = { count: 0 };
      this.deliveries.set(operation, tally);
    }
    const counted = tally;
    return () => {
      counted.count += 1;
    };
  }

  alertRaised(kind: string): void {
    this.alerts.inc({ kind });
  }

  jobRan(job: string, seconds: number, failed: boolean): void {
    this.jobRuns.inc({ job, outcome: failed ? 'failed' : 'ok' });
    this.jobDuration.observe({ job }, seconds);
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Whether a request comes from this machine. */
function fromLoopback(req: IncomingMessage): boolean {
  return LOOPBACK.has(req.socket.remoteAddress ?? '');
}

/** Whether the request carries `Authorization: Bearer <token>`, compared in constant time. */
function bearerMatches(req: Request, token: string): boolean {
  const given = Buffer.from(req.header('authorization') ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * Serves `GET /metrics`. With a token (`METRICS_TOKEN`), only to requests bearing it (401 otherwise), from anywhere;
 * without one, only to this machine (403 to any other address), so that a server reachable from outside never
 * shows its figures to whoever asks.
 */
export function mountMetrics(app: Express, metrics: ServerMetrics, token: string | undefined, logger: Logger): void {
  app.get('/metrics', async (req: Request, res: Response) => {
    if (token !== undefined && !bearerMatches(req, token)) {
      res
        .status(401)
        .set('www-authenticate', 'Bearer realm="metrics"')
        .json({ error: 'metrics need "Authorization: Bearer <METRICS_TOKEN>"' });
      return;
    }
    if (token === undefined && !fromLoopback(req)) {
      res.status(403).json({ error: 'metrics are served to this machine only; set METRICS_TOKEN to scrape them from elsewhere' });
      return;
    }
    try {
      const text = await metrics.registry.metrics();
      res.type(metrics.registry.contentType).send(text);
    } catch (error) {
      logger.error({ err: error }, 'cannot render the metrics');
      res.status(500).json({ error: 'metrics could not be rendered' });
    }
  });
}
