import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AssignSeatDocument,
  CheckinSeatDocument,
  CheckoutSeatDocument,
  DiagnosticsDocument,
  type DiagnosticsQuery,
  LicenseDiagnosticsDocument,
  LicenseUsageDocument,
  RecordUsageDocument,
  ReleaseSeatDocument,
} from './generated/graphql';
import { SecretDigester } from '../src/auth/secrets';
import { issueToken, licensed, unique } from './support/factories';
import { freePort, until } from './support/processes';
import { POSTGRES_URL } from './support/databases';
import { describeEachDatabase, TEST_SECRET, type TestServer } from './support/server';

const ROOT = resolve(__dirname, '..');
const TEN_MINUTES = 10 * 60_000;
const REDIS_URL = process.env.TEST_REDIS_URL?.trim() || undefined;

type Check = DiagnosticsQuery['diagnostics']['checks'][number];

/** Runs `npm run doctor` as its script does (tsx), with only the given environment; resolves to its exit and output. */
function doctor(env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/doctor.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SECRET_KEY: TEST_SECRET, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('exit', (status) => done({ status, stdout, stderr }));
  });
}

/** The environment a server of this test's database would be started with. */
function databaseEnv(t: TestServer): Record<string, string> {
  const config = t.database.config;
  return config.driver === 'sqlite' ? { SQLITE_PATH: config.path } : { DATABASE_URL: config.url };
}

const byCode = (checks: readonly Check[], code: Check['code']) => checks.filter((c) => c.code === code);

describeEachDatabase('the diagnostics of a healthy server', (server) => {
  it('finds every check OK, this instance live with its clock on time, and the signing key under the current secret', async () => {
    const t = server();
    const { diagnostics } = await t.ok(DiagnosticsDocument, {});
    const problems = diagnostics.checks.filter((c) => c.status !== 'OK');
    expect(problems).toEqual([]);
    expect(diagnostics.status).toBe('OK');
    expect(new Set(diagnostics.checks.map((c) => c.code))).toEqual(
      new Set([
        'DATABASE_REACHABLE',
        'MIGRATIONS_CURRENT',
        'REDIS_CONNECTED',
        'DATABASE_CLOCK',
        'INSTANCE_CLOCKS',
        'INSTANCE_SECRETS',
        'SIGNING_KEY',
        'RETIRING_SIGNING_KEYS',
        'JOB_LAST_RUN',
        'RATE_LIMITS',
        'SERVER_SECRET',
      ]),
    );
    const migrations = byCode(diagnostics.checks, 'MIGRATIONS_CURRENT')[0]!;
    expect(migrations.value).toMatch(/^(\d+) of \1$/);
    expect(byCode(diagnostics.checks, 'DATABASE_CLOCK')[0]!.explanation).toMatch(
      t.kind === 'sqlite' ? /SQLite has no clock of its own/ : /agree/,
    );
    expect(byCode(diagnostics.checks, 'JOB_LAST_RUN').map((c) => c.subject)).toEqual(
      expect.arrayContaining(['instance-heartbeat', 'lease-reaper', 'expiry-watch', 'compliance-scan', 'demand-facts']),
    );

    const current = diagnostics.instances.filter((i) => i.current);
    expect(current).toHaveLength(1);
    expect(current[0]).toMatchObject({ live: true, pid: process.pid });
    expect(Math.abs(current[0]!.clockOffsetMs)).toBeLessThan(2_000);

    const [signing] = byCode(diagnostics.checks, 'SIGNING_KEY');
    expect(signing!.value).toMatch(/^[\w-]{16}$/);
    const currentSecret = diagnostics.secrets.find((s) => s.standing === 'CURRENT')!;
    expect(currentSecret.secretId).toBe(byCode(diagnostics.checks, 'SERVER_SECRET')[0]!.value);
    expect(currentSecret).toMatchObject({ signingKeys: 1 });
    expect(currentSecret.apiTokens).toBeGreaterThanOrEqual(1);
  });

  it('records the periodic jobs’ runs, and on which instance they ran', async () => {
    const t = server();
    // Half a minute: the heartbeat passes once and the demand facts every second (recorded once: nothing changed).
    await t.clock.advance(30_000);
    const { diagnostics } = await t.ok(DiagnosticsDocument, {});
    const self = diagnostics.instances.find((i) => i.current)!;
    const runs = new Map(diagnostics.jobs.map((run) => [run.job, run]));
    for (const job of ['instance-heartbeat', 'demand-facts']) {
      expect(runs.get(job), job).toMatchObject({ outcome: 'OK', instanceId: self.id });
      expect(runs.get(job)!.lastSucceededAt).toBe(runs.get(job)!.finishedAt);
    }
    const heartbeat = byCode(diagnostics.checks, 'JOB_LAST_RUN').find((c) => c.subject === 'instance-heartbeat')!;
    expect(heartbeat).toMatchObject({ status: 'OK' });
    expect(heartbeat.value).toContain(`pid ${process.pid}`);
  });

  it('counts the license keys and API tokens stored under each secret, unmarked digests apart', async () => {
    const t = server();
    const secretsNow = async () => (await t.ok(DiagnosticsDocument, {})).diagnostics.secrets;
    const before = await secretsNow();
    const current = (uses: typeof before) => uses.find((s) => s.standing === 'CURRENT')!;
    const license = await licensed(t, 'SUBSCRIPTION');
    await issueToken(t, 'AUDITOR', license.organizationId);
    const after = await secretsNow();
    // A license and its organization's plan: one key more; one token more.
    expect(current(after).licenseKeys).toBe(current(before).licenseKeys + 1);
    expect(current(after).apiTokens).toBe(current(before).apiTokens + 1);

    // A digest from before digests carried their secret's id: 64 hex characters.
    await t.server.db.write((tx) => tx.run('update license set key_digest = ? where id = ?', ['ab'.repeat(32), license.licenseId]));
    const marked = await secretsNow();
    expect(current(marked).licenseKeys).toBe(current(before).licenseKeys);
    expect(marked.find((s) => s.standing === 'UNMARKED')).toMatchObject({ secretId: null, licenseKeys: 1, apiTokens: 0, signingKeys: 0 });
    const secretCheck = byCode((await t.ok(DiagnosticsDocument, {})).diagnostics.checks, 'SERVER_SECRET')[0]!;
    expect(secretCheck.status).toBe('OK');
    expect(secretCheck.explanation).toContain('unmarked (UNMARKED): 1 license key(s)');
  });
});

describeEachDatabase('the explanation of a license’s counts', (server) => {
  it('names the seats that make its user count', async () => {
    const t = server();
    const license = await licensed(t, 'USER', { limits: { namedUsers: 10 } });
    const users = [unique('ada'), unique('grace'), unique('linus')];
    const seatIds: string[] = [];
    for (const userId of users)
      seatIds.push((await t.ok(AssignSeatDocument, { licenseId: license.licenseId, userId })).assignSeat.seat!.id);
    await t.ok(ReleaseSeatDocument, { seatId: seatIds[1]! });

    const { licenseDiagnostics: d } = await t.ok(LicenseDiagnosticsDocument, { id: license.licenseId });
    const { licenseUsage } = await t.ok(LicenseUsageDocument, { licenseId: license.licenseId });
    expect(d.users).toMatchObject({ metric: 'ACTIVE_USERS', count: 2, limit: 10 });
    expect(d.users.count).toBe(licenseUsage.find((u) => u.metric === 'ACTIVE_USERS')!.value);
    expect(d.seats.map((s) => s.userId).sort()).toEqual([users[0], users[2]].sort());
    expect(d.seats.map((s) => s.id).sort()).toEqual([seatIds[0], seatIds[2]].sort());
    expect(d.users.explanation).toMatch(/^2 user\(s\): one for each named seat/);
  });

  it('names the live leases that make its session count', async () => {
    const t = server();
    const license = await licensed(t, 'CONCURRENT');
    const fingerprints = [unique('laptop'), unique('desktop'), unique('build-agent')];
    const leaseIds: string[] = [];
    for (const fingerprint of fingerprints) {
      leaseIds.push(
        (await t.ok(CheckoutSeatDocument, { key: license.key, fingerprint, user: `${fingerprint}@example.com` }, null)).checkoutSeat.lease!
          .id,
      );
    }
    await t.ok(CheckinSeatDocument, { key: license.key, leaseId: leaseIds[0]! }, null);

    const { licenseDiagnostics: d } = await t.ok(LicenseDiagnosticsDocument, { id: license.licenseId });
    const { licenseUsage } = await t.ok(LicenseUsageDocument, { licenseId: license.licenseId });
    expect(d.sessions).toMatchObject({ metric: 'CONCURRENT_SESSIONS', count: 2, limit: 3 });
    expect(d.sessions.count).toBe(licenseUsage.find((u) => u.metric === 'CONCURRENT_SESSIONS')!.value);
    expect(d.leases.map((l) => [l.id, l.fingerprint, l.userId])).toEqual(
      expect.arrayContaining([1, 2].map((i) => [leaseIds[i], fingerprints[i], `${fingerprints[i]}@example.com`])),
    );
    expect(d.leases).toHaveLength(2);
    expect(d.users.count).toBe(0);
  });

  it('lists the usage reports that make its storage and API-call totals', async () => {
    const t = server();
    const license = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1_000, apiCallsPerPeriod: 100 } });
    const report = (metric: 'API_CALLS' | 'STORAGE_BYTES', values: { value?: number; amount?: number }) =>
      t.ok(RecordUsageDocument, { key: license.key, metric, ...values }, null);
    await report('API_CALLS', { amount: 5 });
    await report('STORAGE_BYTES', { value: 300 });
    await report('API_CALLS', { amount: 7 });
    await report('STORAGE_BYTES', { amount: 50 });
    // Refused (over the limit under the default policy): changes nothing, and is not listed.
    const refused = await report('API_CALLS', { amount: 1_000 });

    const { licenseDiagnostics: d } = await t.ok(LicenseDiagnosticsDocument, { id: license.licenseId });
    const { licenseUsage } = await t.ok(LicenseUsageDocument, { licenseId: license.licenseId });
    const usage = (metric: string) => licenseUsage.find((u) => u.metric === metric)!;
    expect(d.apiCalls.total).toBe(usage('API_CALLS').value);
    expect(d.apiCalls.total).toBe(refused.recordUsage.outcome === 'DENIED' ? 12 : 1_012);
    expect(d.apiCalls.reports.map((r) => [r.reported, r.totalAfter])).toEqual(
      refused.recordUsage.outcome === 'DENIED'
        ? [
            [7, 12],
            [5, 5],
          ]
        : [
            [1_000, 1_012],
            [7, 12],
            [5, 5],
          ],
    );
    expect(d.apiCalls.reportCount).toBe(d.apiCalls.reports.length);
    expect(d.apiCalls).toMatchObject({ limit: 100, periodStart: usage('API_CALLS').periodStart, periodEnd: usage('API_CALLS').periodEnd });
    expect(d.storage.total).toBe(usage('STORAGE_BYTES').value);
    expect(d.storage).toMatchObject({ total: 350, limit: 1_000, periodStart: null, reportCount: 2 });
    expect(d.storage.reports.map((r) => [r.reported, r.totalAfter])).toEqual([
      [50, 350],
      [300, 300],
    ]);
    expect(d.apiCalls.explanation).toContain(`the sum of the ${d.apiCalls.reportCount} report(s)`);
  });
});

describeEachDatabase('npm run doctor against the database of a running server', (server) => {
  it('says the server is healthy, and exits 0', { timeout: 90_000 }, async () => {
    const run = await doctor(databaseEnv(server()));
    expect(run.stdout, run.stderr).toMatch(/\nHealthy\.\n$/);
    expect(run.stdout).toMatch(/^OK +DATABASE_REACHABLE +\d+ ms$/m);
    expect(run.stdout).toMatch(/^OK +MIGRATIONS_CURRENT +(\d+) of \1$/m);
    expect(run.status).toBe(0);
  });

  it('names Redis unreachable and its fix, and exits 1', { timeout: 90_000 }, async () => {
    const run = await doctor({ ...databaseEnv(server()), REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(run.stdout, run.stderr).toMatch(/^ERROR REDIS_CONNECTED: Redis cannot be reached: connection refused at 127\.0\.0\.1:\d+/m);
    expect(run.stdout).toMatch(/^ {2}Fix: Check REDIS_URL, that Redis runs, and that this host may connect to it/m);
    expect(run.stdout).toMatch(/^OK +DATABASE_REACHABLE/m);
    expect(run.stdout).toMatch(/Not healthy: 1 error\(s\)/);
    expect(run.status).toBe(1);
  });
});

describeEachDatabase('an instance whose clock is 10 minutes ahead', (server) => {
  it('is named by the diagnostics query, with its offset', async () => {
    const t = server();
    t.clock.jumpTo(new Date(t.clock.now().getTime() + TEN_MINUTES));
    await t.server.services.instance.beat();
    const { diagnostics } = await t.ok(DiagnosticsDocument, {});
    const self = diagnostics.instances.find((i) => i.current)!;
    expect(Math.abs(self.clockOffsetMs - TEN_MINUTES)).toBeLessThan(2_000);
    const [clocks] = byCode(diagnostics.checks, 'INSTANCE_CLOCKS');
    expect(clocks).toMatchObject({ status: 'ERROR' });
    expect(clocks!.value).toMatch(/^\+600\.\d s$/);
    expect(clocks!.explanation).toContain(`pid ${process.pid}`);
    expect(diagnostics.status).toBe('ERROR');
  });

  it('is named by the doctor, with the fix, and the doctor exits 1', { timeout: 90_000 }, async () => {
    const run = await doctor(databaseEnv(server()));
    expect(run.stdout, run.stderr).toMatch(
      new RegExp(
        `^ERROR INSTANCE_CLOCKS: The clock of \\S+ \\(pid ${process.pid}, instance \\w+\\) is \\+600\\.\\d s from the database's`,
        'm',
      ),
    );
    expect(run.stdout).toMatch(/^ {2}Fix: Synchronize the clock with NTP/m);
    // The doctor's own clock is right: only the instance is off.
    expect(run.stdout).toMatch(/^OK +DATABASE_CLOCK/m);
    expect(run.status).toBe(1);
  });
});

describe('npm run doctor with a wrong DATABASE_URL', () => {
  it('names the database unreachable and its fix when nothing listens there, and exits 1', { timeout: 90_000 }, async () => {
    const run = await doctor({ DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/license_manager` });
    expect(run.stdout, run.stderr).toMatch(
      /^ERROR DATABASE_REACHABLE: The database cannot be reached: connection refused at 127\.0\.0\.1:\d+/m,
    );
    expect(run.stdout).toMatch(/^ {2}Fix: Check DATABASE_URL \(host, port, database name, user and password\)/m);
    expect(run.stdout).toMatch(/Not healthy/);
    expect(run.status).toBe(1);
  });

  it.skipIf(!POSTGRES_URL)('names a database that does not exist, and creates none (TEST_DATABASE_URL)', { timeout: 90_000 }, async () => {
    const url = new URL(POSTGRES_URL!);
    const name = `lm_missing_${process.pid}`;
    url.pathname = `/${name}`;
    const run = await doctor({ DATABASE_URL: url.toString() });
    expect(run.stdout, run.stderr).toMatch(/^ERROR DATABASE_REACHABLE: .*the database named in the URL does not exist/m);
    expect(run.status).toBe(1);
    const again = await doctor({ DATABASE_URL: url.toString() });
    expect(again.stdout).toMatch(/does not exist/);
  });
});

const PREVIOUS_SECRET = Buffer.from('the-previous-secret-key-of-at-least-thirty-two-characters');

describeEachDatabase(
  'the diagnostics after a rotation of the server secret',
  (server) => {
    it('counts the keys still under the previous secret, and says when SECRET_KEY_PREVIOUS may be removed', async () => {
      const t = server();
      const license = await licensed(t, 'SUBSCRIPTION');
      const secretCheck = async () => {
        const { diagnostics } = await t.ok(DiagnosticsDocument, {});
        return { check: byCode(diagnostics.checks, 'SERVER_SECRET')[0]!, secrets: diagnostics.secrets };
      };
      const [digest] = await t.server.db.read((sql) =>
        sql.all<{ key_digest: string }>('select key_digest from license where id = ?', [license.licenseId]),
      );
      // A key digested under the previous secret, as it was before the rotation.
      const former = new SecretDigester(PREVIOUS_SECRET).digest(unique('AINX'));
      await t.server.db.write((tx) => tx.run('update license set key_digest = ? where id = ?', [former, license.licenseId]));
      const waiting = await secretCheck();
      const previousId = former.slice(0, 8);
      expect(waiting.secrets.find((s) => s.standing === 'PREVIOUS')).toMatchObject({ secretId: previousId, licenseKeys: 1, apiTokens: 0 });
      expect(waiting.check.value).toBe(`${waiting.secrets[0]!.secretId} (previous ${previousId})`);
      expect(waiting.check.action).toMatch(/^Keep SECRET_KEY_PREVIOUS until nothing is left under/);

      await t.server.db.write((tx) => tx.run('update license set key_digest = ? where id = ?', [digest!.key_digest, license.licenseId]));
      const done = await secretCheck();
      expect(done.secrets.find((s) => s.standing === 'PREVIOUS')).toMatchObject({ licenseKeys: 0, apiTokens: 0, signingKeys: 0 });
      expect(done.check).toMatchObject({ status: 'OK', action: 'SECRET_KEY_PREVIOUS may be removed from every instance.' });
    });

    it('counts none of its own bookkeeping in what a request costs', async () => {
      const t = server();
      const counter = t.server.queries;
      counter.statements.length = 0;
      counter.recording = true;
      try {
        await t.server.services.instance.beat();
      } finally {
        counter.recording = false;
      }
      expect(counter.statements).toEqual([]);
    });
  },
  { secretKeyPrevious: PREVIOUS_SECRET },
);

if (REDIS_URL) {
  describeEachDatabase(
    'the diagnostics of a server with Redis',
    (server) => {
      it('finds Redis answering, with the round trip of a PING, and the rate limits counted in it', async () => {
        const t = server();
        // Ready once Redis is connected (it connects beside the start, not before it).
        await until(async () => (await fetch(t.url.replace(/\/graphql$/, '/readyz'))).status === 200, 20_000, 'Redis connected');
        const { diagnostics } = await t.ok(DiagnosticsDocument, {});
        const [redis] = byCode(diagnostics.checks, 'REDIS_CONNECTED');
        expect(redis).toMatchObject({ status: 'OK', explanation: 'Redis answers a PING.' });
        expect(redis!.value).toMatch(/^\d+ ms$/);
        expect(byCode(diagnostics.checks, 'RATE_LIMITS')[0]!.explanation).toMatch(/^Counted in Redis/);
      });
    },
    { redisUrl: REDIS_URL, redisChannelPrefix: `diagnostics-${process.pid}:` },
  );
}
