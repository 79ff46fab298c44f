import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server';

/** The shell commands of the README's walkthrough, as a newcomer would paste them. */
function walkthrough(): string {
  const readme = readFileSync(resolve(__dirname, '..', 'README.md'), 'utf8');
  const start = readme.indexOf('## A first walkthrough');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

describe('the README walkthrough', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await t.close();
  });

  it('works as written against a fresh server', async () => {
    const script = walkthrough()
      .replace(/^export TOKEN=alm_….*$/m, `export TOKEN=${t.admin}`)
      .replaceAll('http://localhost:4000/graphql', t.url);
    expect(script).toContain('createOrganization');
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', `${script}\necho "KEY=$KEY"`], { timeout: 60_000 });
    expect(stdout).toMatch(/KEY=AINX(-[0-9A-Z]{8}){4}/);
    expect(stdout).toContain('"validateLicense":{"valid":true,"code":"VALID"');
    expect(stdout).toContain('"heartbeatSeat":{"outcome":"EXTENDED"');
    expect(stdout).toContain('{"data":{"checkinSeat":{"outcome":"RELEASED"}}}');
    for (const action of ['organization.create', 'product.create', 'plan.create', 'license.issue', 'lease.checkout', 'lease.checkin']) {
      expect(stdout).toContain(`"action":"${action}"`);
    }
  });
});
