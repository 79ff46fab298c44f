import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { vi } from 'vitest';
import { expectJsonLines } from './json-lines';
import { TEST_SECRET } from './server';

const ROOT = resolve(__dirname, '../..');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until `condition` holds, failing with `what` after `ms`. */
export async function until(condition: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await condition())) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: ms, interval: 25 },
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A server process, started as `npm start` starts it (from source, through tsx, to skip the build). */
export interface Instance {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The GraphQL URL, once it serves. */
  url: string;
  /** The platform-admin token it printed, if it created one. */
  token: string | null;
  exited: Promise<number | null>;
  /** Whether it is still running. */
  alive(): boolean;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<number | null>;
}

export function spawnInstance(env: Record<string, string>): Omit<Instance, 'url' | 'token'> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((done) =>
    child.on('exit', (code) => {
      exitCode = code;
      done(code);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    alive: () => exitCode === undefined,
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      const code = await exited;
      // Every line an instance writes is JSON, what its database and Redis clients say included.
      expectJsonLines(out, 'the instance on stdout');
      expectJsonLines(err, 'the instance on stderr');
      return code;
    },
  };
}

/** Starts an instance and waits until it serves (or fails, with what it printed). */
export async function startInstance(env: Record<string, string>, ms = 60_000): Promise<Instance> {
  const run = spawnInstance(env);
  const serving = () => /serving (\S+)/.exec(run.stdout())?.[1];
  await until(() => Boolean(serving()) || !run.alive(), ms, 'the instance to serve');
  const url = serving();
  if (!url) throw new Error(`the instance did not start: ${run.stdout()}${run.stderr()}`);
  // The bootstrap token is printed after the URL, in the same write.
  const token = /(alm_[A-Za-z0-9_-]{43})/.exec(run.stdout())?.[1] ?? null;
  return { ...run, url, token };
}

/** The environment of an instance on PostgreSQL (and Redis), as a deployment gives every instance. */
export function instanceEnv(databaseUrl: string, redisUrl?: string, extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: databaseUrl, SECRET_KEY: TEST_SECRET, ...(redisUrl ? { REDIS_URL: redisUrl } : {}), ...extra };
}

const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** Whether this machine can start Redis servers of a test's own. */
export const canRunRedis = REDIS_SERVER !== undefined;

/** A Redis server of the test's own, on a port of its own: stopped and started again without touching any other. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const redis = new RedisServer(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!REDIS_SERVER) throw new Error('redis-server is not installed');
    const child = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', r));
    await until(() => reachable(this.port), 10_000, `Redis on port ${this.port}`);
  }

  /** Stops it at once, as a crash or a network cut would (no goodbye to its clients). */
  async stop(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }
}

function reachable(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/**
 * A TCP proxy that holds every byte a client sends for `delayMs` before passing it on (what comes back passes at
 * once): an instance connected to Redis through it publishes late, so that its events reach Redis after those of
 * instances that committed later.
 */
export async function delayingProxy(targetPort: number, delayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => setTimeout(() => upstream.write(chunk), delayMs));
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const PG_BIN = (() => {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const version = readdirSync(base).sort().pop();
  const bin = version ? join(base, version, 'bin') : undefined;
  return bin && existsSync(join(bin, 'initdb')) ? bin : undefined;
})();

/** Whether this machine can start PostgreSQL clusters of a test's own. */
export const canRunPostgres = PG_BIN !== undefined;

/**
 * A throwaway PostgreSQL cluster in a temporary folder, on a port of its own, that a test may stop and start again
 * without touching the machine's own server. PostgreSQL refuses to run as root: as root, it runs as `postgres`.
 */
export class PostgresCluster {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<PostgresCluster> {
    if (!PG_BIN) throw new Error('PostgreSQL server binaries are not installed');
    const dir = mkdtempSync(join(tmpdir(), 'license-manager-pg-'));
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(dir, uid, gid);
      chmodSync(dir, 0o700);
    }
    const cluster = new PostgresCluster(dir, await freePort());
    cluster.run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await cluster.start();
    return cluster;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private run(tool: string, args: string[]): void {
    const command = join(PG_BIN!, tool);
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'ignore' });
    else execFileSync(command, args, { stdio: 'ignore' });
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off -c full_page_writes=off`;
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-o', options, '-l', join(this.dir, 'log'), '-w', 'start']);
    await until(() => reachable(this.port), 20_000, `PostgreSQL on port ${this.port}`);
  }

  /** Freezes every process of the cluster (SIGSTOP): it accepts connections and answers nothing, as a hung server. */
  freeze(): void {
    this.signal('SIGSTOP');
  }

  thaw(): void {
    this.signal('SIGCONT');
  }

  private signal(signal: NodeJS.Signals): void {
    const postmaster = Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
    for (const pid of [postmaster, ...children]) process.kill(pid, signal);
  }

  /** Stops it at once (`immediate`): connections are cut as in a crash. */
  async stop(): Promise<void> {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    try {
      await this.stop();
    } catch {
      // stopped already
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
