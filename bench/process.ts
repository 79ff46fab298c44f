import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const REPO = resolve(__dirname, '..');
/** Linux reports process times in clock ticks of 1/100 s (USER_HZ) on every common architecture. */
const TICKS_PER_SECOND = 100;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** A server running in a child process, so that it never shares an event loop with the load generator. */
export interface ChildServer<Info> {
  /** The JSON line the child printed once it listened. */
  readonly info: Info;
  /** Whether it died on its own before `stop()`: a crash, which fails the run. */
  crashed(): string | null;
  /** CPU time it has used so far (user + system), in seconds; NaN where /proc is missing. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * How much CPU a process used, from /proc/<pid>/stat. CPU per response is less skewed than requests per second
 * when other processes compete for the cores, and it shows whether a server was saturated.
 */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the whole line.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/**
 * Starts a child process (`node <args>`) and waits for the first stdout line that `pick` takes, a JSON object
 * (lines it does not take, such as log lines, are skipped). Its stderr is passed on with a prefix.
 */
function spawnChild<Info>(
  name: string,
  args: string[],
  env: Record<string, string>,
  pick: (line: Record<string, unknown>) => Info | undefined,
): Promise<ChildServer<Info>> {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO,
    // As deployed: NODE_ENV=production, which for one spares graphql-js its development-only instanceof checks.
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watch(name, child, pick);
}

/** Starts `bench/<script>` (a floor) under tsx and waits for its first stdout line, a JSON object. */
export function startChild<Info>(name: string, script: string, args: string[], env: Record<string, string>): Promise<ChildServer<Info>> {
  return spawnChild(name, ['--import', 'tsx', resolve(REPO, 'bench', script), ...args], env, (line) => line as Info);
}

async function watch<Info>(
  name: string,
  child: ChildProcess,
  pick: (line: Record<string, unknown>) => Info | undefined,
): Promise<ChildServer<Info>> {
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));

  let stopping = false;
  let crash: string | null = null;
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  void exited.then(([code, signal]) => {
    if (!stopping) crash = `${name} exited unexpectedly (code ${code}, signal ${signal})`;
  });

  const info = await new Promise<Info>((resolveInfo, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    const onLine = (line: string) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        clearTimeout(timer);
        reject(new Error(`${name} printed ${JSON.stringify(line)} instead of its JSON address`));
        return;
      }
      const info = parsed && typeof parsed === 'object' ? pick(parsed as Record<string, unknown>) : undefined;
      if (info === undefined) return;
      clearTimeout(timer);
      // What it writes from now on (its log) is drained unread: splitting it into lines would cost this process CPU
      // that the server under test shares the machine with.
      lines.close();
      child.stdout!.resume();
      resolveInfo(info);
    };
    lines.on('line', onLine);
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it listened`));
    });
  });

  return {
    info,
    crashed: () => crash,
    cpuSeconds: () => cpuSecondsOf(child.pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface ProjectInfo {
  url: string;
  /** The bootstrap platform-admin token of the fresh database. */
  token: string | null;
}

/**
 * BENCH_CPU_PROF=<dir> writes a CPU profile of each project server there when it stops. V8's profiler samples wall
 * time: on a machine whose cores the load generator shares, the time a server waits preempted after a system call
 * is charged to that call. BENCH_NODE_ARGS=--perf-basic-prof lets `perf record -p <pid>` name JavaScript frames,
 * for a profile of the time on the CPU only.
 */
function profilingArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  const extra = process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  return [...(dir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(dir)}`] : []), ...extra];
}

let built = false;

/**
 * Compiles the server as `npm start` does (`npm run build`: tsc, incremental), once per run, so that the server
 * measured is the one deployed. Under tsx the same source runs measurably slower: tsx compiles with esbuild's
 * `keepNames`, which gives every function made at run time its name again with `Object.defineProperty`.
 */
function buildServer(): void {
  if (built) return;
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'inherit' });
  built = true;
}

/** The line in which the server says where it serves (and the bootstrap token of a fresh database). */
function servingLine(line: Record<string, unknown>): ProjectInfo | undefined {
  if (typeof line.url !== 'string') return undefined;
  return { url: line.url, token: typeof line.bootstrapToken === 'string' ? line.bootstrapToken : null };
}

/**
 * The license server as deployed (`node dist/src/main.js`, built first) on a fresh SQLite file, listening on
 * 127.0.0.1 and an ephemeral port; the parent's DATABASE_URL or REDIS_URL must not leak into it. What it logs (at
 * `warn` unless `overrides` say otherwise) is read and dropped by this process, as a log collector would.
 */
export function startProject(sqlitePath: string, overrides: Record<string, string> = {}): Promise<ChildServer<ProjectInfo>> {
  buildServer();
  const env = {
    HOST: '127.0.0.1',
    PORT: '0',
    SQLITE_PATH: sqlitePath,
    DATABASE_URL: '',
    REDIS_URL: '',
    SECRET_KEY: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    ...overrides,
  };
  return spawnChild('project', [...profilingArgs(), resolve(REPO, 'dist/src/main.js')], env, servingLine);
}

/** The license server on a fresh PostgreSQL database (no Redis: one instance), otherwise as `startProject`. */
export function startProjectOnPostgres(databaseUrl: string, overrides: Record<string, string> = {}): Promise<ChildServer<ProjectInfo>> {
  return startProject('', { DATABASE_URL: databaseUrl, ...overrides });
}

export function startFloor(args: string[]): Promise<ChildServer<{ url: string }>> {
  return startChild<{ url: string }>('floor', 'floor.ts', args, {});
}

/** Fails the run when a server died under load. */
export function assertAlive(...servers: ChildServer<unknown>[]): void {
  for (const server of servers) {
    const crash = server.crashed();
    if (crash) throw new Error(crash);
  }
}
