import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createLicenseServer } from '../src/server/app';
import { expectJsonLines } from './support/json-lines';

const ROOT = resolve(__dirname, '..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'license-manager-start-'));
  dirs.push(dir);
  return dir;
}

/** The processes each test started: once it ends, everything they wrote must have been JSON lines. */
const runs: Run[] = [];
afterEach(() => {
  for (const run of runs.splice(0)) {
    expectJsonLines(run.stdout(), 'the server on stdout');
    expectJsonLines(run.stderr(), 'the server on stderr');
  }
});

/** The message of each line a server wrote (each a JSON object, as its log's). */
const messages = (output: string) =>
  output
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { msg: string }).msg);

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts the server as `npm start` does (from source, through tsx, to skip the build), on a port of its own. */
function start(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const run = { child, stdout: () => out, stderr: () => err, exited };
  runs.push(run);
  return run;
}

async function until(condition: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('start-up', () => {
  it('serves /graphql, prints the bootstrap token once, and stops cleanly on SIGTERM', async () => {
    const dir = dataDir();
    const port = await freePort();
    const env = { SQLITE_PATH: join(dir, 'db.sqlite'), PORT: String(port) };
    const first = start(env);
    await until(() => first.stdout().includes('alm_') || first.child.exitCode !== null);
    expect(first.stdout()).toContain(`http://localhost:${port}/graphql`);
    const token = /(alm_[A-Za-z0-9_-]{43})/.exec(first.stdout())![1]!;

    const live = await fetch(`http://127.0.0.1:${port}/livez`);
    expect([live.status, await live.json()]).toEqual([200, { status: 'alive' }]);
    for (const path of ['/readyz', '/health']) {
      const ready = await fetch(`http://127.0.0.1:${port}${path}`);
      expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', checks: { database: 'ok', migrations: 'current' } }]);
    }
    const answer = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ organizations { nodes { id } } }' }),
    });
    expect(await answer.json()).toEqual({ data: { organizations: { nodes: [] } } });

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = start(env);
    await until(() => second.stdout().includes('serving') || second.child.exitCode !== null);
    expect(second.stdout()).not.toContain('alm_');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('serves a playground page that loads nothing from the internet', async () => {
    const dir = dataDir();
    const port = await freePort();
    const run = start({ SQLITE_PATH: join(dir, 'db.sqlite'), PORT: String(port) });
    try {
      await until(() => run.stdout().includes('serving') || run.child.exitCode !== null);
      const page = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type')).toContain('text/html');
      const html = await page.text();
      expect(html).toContain('AINexLayer License Manager');
      // No script, style, font or worker is fetched from another origin.
      expect(html).not.toMatch(/(src|href)\s*=\s*["']https?:\/\//i);
      expect(html).not.toMatch(/@import\s+url\(["']?https?:/i);
      expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\.|fonts\.googleapis/i);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  const failures: [string, Record<string, string>, RegExp][] = [
    ['a malformed database URL', { DATABASE_URL: 'postgres//nowhere', SECRET_KEY: 'x'.repeat(40) }, /DATABASE_URL is not a valid URL/],
    ['a database URL of another kind', { DATABASE_URL: 'mysql://localhost/db', SECRET_KEY: 'x'.repeat(40) }, /must start with postgres/],
    [
      'a database that cannot be reached',
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', SECRET_KEY: 'x'.repeat(40) },
      /cannot start: .*(refused|connect)/i,
    ],
    ['a port that is not a number', { PORT: 'eighty' }, /PORT must be a whole number/],
  ];
  for (const [what, env, message] of failures) {
    it(`ends with one clear line and a non-zero status on ${what}`, async () => {
      const run = start({ SQLITE_PATH: join(dataDir(), 'db.sqlite'), PORT: '0', ...env });
      expect(await run.exited).toBe(1);
      const lines = messages(run.stderr());
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(run.stderr()).not.toMatch(/^\s+at\s/m);
    });
  }

  it('closes cleanly a server that never listened (a start that failed half-way)', async () => {
    const server = await createLicenseServer(
      loadConfig({ SQLITE_PATH: join(dataDir(), 'db.sqlite'), SECRET_KEY: 'x'.repeat(40) }),
      createLogger('silent'),
    );
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    try {
      await server.close();
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('uncaughtException', record);
    }
    expect(uncaught).toEqual([]);
  });

  it('leaves no token behind when the first start cannot listen; the next start prints one, and the admin command makes more', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as { port: number };
    const file = join(dataDir(), 'db.sqlite');
    try {
      const failed = start({ SQLITE_PATH: file, PORT: String(port), HOST: '127.0.0.1' });
      expect(await failed.exited).toBe(1);
      expect(failed.stdout()).not.toContain('alm_');
    } finally {
      blocker.close();
    }
    const tokens = () => {
      const db = new BetterSqlite3(file, { readonly: true });
      try {
        return db.prepare('select role from api_token').all();
      } finally {
        db.close();
      }
    };
    expect(tokens()).toEqual([]);

    const next = start({ SQLITE_PATH: file, PORT: String(await freePort()), HOST: '127.0.0.1' });
    await until(() => /alm_[A-Za-z0-9_-]{43}/.test(next.stdout()) || next.child.exitCode !== null);
    const url = /serving (\S+)/.exec(next.stdout())![1]!;
    const printed = /(alm_[A-Za-z0-9_-]{43})/.exec(next.stdout())![1]!;

    // With the server running, an operator with access to its database makes another platform-admin token.
    const admin = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', 'create-token', '--role', 'PLATFORM_ADMIN'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SQLITE_PATH: file },
      encoding: 'utf8',
    });
    expect(admin.status).toBe(0);
    const made = admin.stdout.trim();
    expect(made).toMatch(/^alm_[A-Za-z0-9_-]{43}$/);
    expect(admin.stderr).toContain('shown this once');
    for (const token of [printed, made]) {
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ apiTokens { nodes { role name } } }' }),
      });
      expect(await answer.json()).toEqual({
        data: {
          apiTokens: {
            nodes: [
              { role: 'PLATFORM_ADMIN', name: 'bootstrap platform admin' },
              { role: 'PLATFORM_ADMIN', name: 'platform admin (command line)' },
            ],
          },
        },
      });
    }
    const audit = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${made}` },
      body: JSON.stringify({ query: '{ auditLog(filter: { action: "apiToken.create" }) { nodes { actor { type label } } } }' }),
    });
    expect(await audit.json()).toEqual({
      data: {
        auditLog: { nodes: [{ actor: { type: 'SYSTEM', label: 'bootstrap' } }, { actor: { type: 'SYSTEM', label: 'command line' } }] },
      },
    });
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);

    const wrong = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', 'create-token', '--role', 'OWNER'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SQLITE_PATH: file },
      encoding: 'utf8',
    });
    expect(wrong.status).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(tokens()).toHaveLength(2);
  });

  it('ends with one clear line and a non-zero status when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, r));
    const { port } = blocker.address() as { port: number };
    try {
      const run = start({ SQLITE_PATH: join(dataDir(), 'db.sqlite'), PORT: String(port) });
      expect(await run.exited).toBe(1);
      expect(messages(run.stderr())).toEqual([`license-manager: cannot listen: port ${port} is already in use; set PORT to another port`]);
    } finally {
      blocker.close();
    }
  });
});
