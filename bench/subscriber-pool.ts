/**
 * The subscribers of the alert-delivery benchmark, spread over a few client processes (bench/subscriber-client.ts)
 * so that parsing thousands of messages never makes the load generator the bottleneck. The pool opens them, tells
 * when every subscriber has received the next alert, and gathers every receipt at the end. It does the same for
 * the project and the floor: only the server differs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once, EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { ClientReport, OpenCommand, PoolCommand, Receipts } from './subscriber-messages';
import { wallClock } from './subscriber-messages';

const REPO = resolve(__dirname, '..');
const STOP_TIMEOUT_MS = 10_000;

export interface PoolOptions extends Omit<OpenCommand, 'type' | 'sockets'> {
  subscribers: number;
  processes: number;
}

/** How the sockets came up. */
export interface Opened {
  subscribed: number;
  failed: number;
  firstError: string | null;
  seconds: number;
}

/** The alert a round waited for: its id once any subscriber got it, and whether every subscriber got it in time. */
export interface Delivery {
  alertId: string | null;
  complete: boolean;
}

interface Client {
  child: ChildProcess;
  /** Subscribed sockets: a process without any never reports an alert complete. */
  subscribed: number;
}

function startClient(index: number): Client {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(REPO, 'bench', 'subscriber-client.ts')], {
    cwd: REPO,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[subscribers-${index}] ${line}\n`));
  return { child, subscribed: 0 };
}

const send = (client: Client, command: PoolCommand) => client.child.send(command);

/** The next report of a type from one client; fails if the process exits first. */
function reportOf<T extends ClientReport['type']>(client: Client, type: T): Promise<Extract<ClientReport, { type: T }>> {
  return new Promise((resolveReport, reject) => {
    const onMessage = (report: ClientReport) => {
      if (report.type !== type) return;
      client.child.off('exit', onExit);
      client.child.off('message', onMessage);
      resolveReport(report as Extract<ClientReport, { type: T }>);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      reject(new Error(`a subscriber process exited (code ${code}, signal ${signal}) before it sent '${type}'`));
    client.child.on('message', onMessage);
    client.child.once('exit', onExit);
  });
}

/** The receipts of every client process as one. */
function merge(all: Receipts[]): Receipts {
  const byAlert = new Map<string, number[]>();
  for (const receipts of all) {
    for (const [alertId, times] of receipts.byAlert) byAlert.set(alertId, [...(byAlert.get(alertId) ?? []), ...times]);
  }
  const sum = (field: 'duplicates' | 'protocolErrors' | 'closed' | 'cpuSeconds') => all.reduce((total, r) => total + r[field], 0);
  return {
    byAlert,
    duplicates: sum('duplicates'),
    protocolErrors: sum('protocolErrors'),
    closed: sum('closed'),
    cpuSeconds: sum('cpuSeconds'),
    firstProblem: all.find((r) => r.firstProblem)?.firstProblem ?? null,
    messageBytes: Math.max(0, ...all.map((r) => r.messageBytes)),
  };
}

export class SubscriberPool {
  /** Alert ids in the order a first subscriber received them. */
  private readonly firstSeen = new Set<string>();
  /** For each alert id, how many client processes have it on every socket. */
  private readonly completions = new Map<string, number>();
  private readonly reports = new EventEmitter();

  private constructor(private readonly clients: Client[]) {
    for (const client of clients) client.child.on('message', (report: ClientReport) => this.track(report));
  }

  /** Starts the client processes and opens every subscriber; the pool is returned even when some failed. */
  static async open(options: PoolOptions): Promise<{ pool: SubscriberPool; opened: Opened }> {
    const clients = Array.from({ length: options.processes }, (_, index) => startClient(index));
    const pool = new SubscriberPool(clients);
    const started = wallClock();
    try {
      const reports = await Promise.all(
        clients.map((client, index) => {
          const share = Math.floor(options.subscribers / options.processes) + (index < options.subscribers % options.processes ? 1 : 0);
          const opened = reportOf(client, 'opened');
          const { url, connectionParams, subscribe } = options;
          send(client, { type: 'open', url, connectionParams, subscribe, sockets: share });
          return opened;
        }),
      );
      reports.forEach((report, index) => {
        clients[index]!.subscribed = report.subscribed;
      });
      const opened: Opened = {
        subscribed: reports.reduce((total, r) => total + r.subscribed, 0),
        failed: reports.reduce((total, r) => total + r.failed, 0),
        firstError: reports.find((r) => r.firstError)?.firstError ?? null,
        seconds: (wallClock() - started) / 1000,
      };
      return { pool, opened };
    } catch (error) {
      await pool.stop();
      throw error;
    }
  }

  private track(report: ClientReport): void {
    if (report.type === 'first') this.firstSeen.add(report.alertId);
    else if (report.type === 'complete') this.completions.set(report.alertId, (this.completions.get(report.alertId) ?? 0) + 1);
    else return;
    this.reports.emit('changed');
  }

  /** Opens the measured window: the clients count their CPU from here. */
  mark(): void {
    for (const client of this.clients) send(client, { type: 'mark' });
  }

  /**
   * Waits for the first alert not in `known` to reach every subscriber, or for the timeout. Only one alert is in
   * flight at a time, so the first new id any subscriber reports is the one just raised.
   */
  awaitDelivery(known: ReadonlySet<string>, timeoutMs: number): Promise<Delivery> {
    const everyone = this.clients.filter((client) => client.subscribed > 0).length;
    const newest = () => [...this.firstSeen].find((alertId) => !known.has(alertId)) ?? null;
    return new Promise((resolveDelivery) => {
      const settle = (complete: boolean) => {
        clearTimeout(timer);
        this.reports.off('changed', check);
        resolveDelivery({ alertId: newest(), complete });
      };
      const check = () => {
        const alertId = newest();
        if (alertId !== null && (this.completions.get(alertId) ?? 0) >= everyone) settle(true);
      };
      const timer = setTimeout(() => settle(false), timeoutMs);
      this.reports.on('changed', check);
      check();
    });
  }

  /** Every receipt of every subscriber; the sockets are closed and the processes end. */
  async finish(): Promise<Receipts> {
    const all = await Promise.all(
      this.clients.map((client) => {
        const receipts = reportOf(client, 'receipts');
        send(client, { type: 'finish' });
        return receipts;
      }),
    );
    await this.stop();
    return merge(all);
  }

  /** Ends the client processes: disconnected, they exit on their own; one that does not is killed. */
  async stop(): Promise<void> {
    await Promise.all(
      this.clients.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        if (child.connected) child.disconnect();
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
