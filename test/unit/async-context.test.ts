import { execFile } from 'node:child_process';
import { AsyncLocalStorage } from 'node:async_hooks';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { disableAsyncStorageWhenIdle } from '../../src/db/async-context';
import { sleep } from '../support/processes';

const tick = () => sleep(1);

/** What test/support/async-hooks-scenarios.ts saw, in a process of its own (the promise hooks are the process's). */
async function scenario(name: 'storages' | 'server'): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/support/async-hooks-scenarios.ts', name], {
    timeout: 60_000,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('async-local storages, idle ones disabled', () => {
  it('keep each run its store through awaits, in nested and overlapping runs, and none outside them', async () => {
    disableAsyncStorageWhenIdle();
    const outer = new AsyncLocalStorage<string>();
    const inner = new AsyncLocalStorage<number>();
    const seen: unknown[] = [];
    const one = outer.run('a', async () => {
      await tick();
      seen.push(outer.getStore());
      await inner.run(1, async () => {
        await tick();
        seen.push([outer.getStore(), inner.getStore()]);
      });
      await tick();
      seen.push([outer.getStore(), inner.getStore()]);
    });
    const two = outer.run('b', async () => {
      await tick();
      await tick();
      seen.push(outer.getStore());
    });
    await Promise.all([one, two]);
    expect(seen).toHaveLength(4);
    expect(seen).toEqual(expect.arrayContaining(['a', ['a', 1], ['a', undefined], 'b']));
    expect(() =>
      outer.run('thrown', () => {
        throw new Error('sync');
      }),
    ).toThrow('sync');
    await expect(outer.run('rejected', async () => Promise.reject(new Error('async')))).rejects.toThrow('async');
    expect([outer.getStore(), inner.getStore()]).toEqual([undefined, undefined]);
  });

  it('turn the promise hooks off once no run is in progress, and on again for the next', async () => {
    expect(await scenario('storages')).toEqual({
      beforeAnyRun: false,
      whileARunWaits: true,
      onceItSettled: false,
      afterNestedRuns: false,
      afterThrowingAndRejecting: false,
      // A store set with enterWith has no end: the storages stay enabled from then on.
      afterEnterWith: true,
    });
  });

  it('leave a license server without promise hooks once its start and a management call are over', async () => {
    const seen = await scenario('server');
    expect(seen).toMatchObject({ afterStart: false, organizationCreated: true, afterManagementCall: false, afterClientCall: false });
    expect(seen.clientCallAnswered).toContain('UNAUTHENTICATED');
  });
});
