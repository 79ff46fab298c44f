import { describe, expect, it } from 'vitest';
import { AdvisoryLock } from '../src/db/advisory-locks';
import type { SqlRunner, SqlValue } from '../src/db/sql';
import { Lock, LockOrderError, transactionOver } from '../src/db/transaction';

/** A runner that answers every statement and keeps what was asked of it. */
function recording(): SqlRunner & { statements: [string, readonly SqlValue[]][] } {
  const statements: [string, readonly SqlValue[]][] = [];
  const ask = <T>(sql: string, params: readonly SqlValue[] | undefined, answer: T): T => {
    statements.push([sql, params ?? []]);
    return answer;
  };
  return {
    statements,
    all: async (sql, params) => ask(sql, params, []),
    get: async <T>(sql: string, params?: readonly SqlValue[]) => ask(sql, params, { locked: true } as T),
    run: async (sql, params) => ask(sql, params, 1),
    afterCommit: (fn) => fn(),
  };
}

describe('the lock order of a transaction', () => {
  it('takes a license row, then a migration, then the log lock, then a violation', async () => {
    const tx = transactionOver(recording(), 'postgresql');
    await tx.advisoryLock(AdvisoryLock.COMPLIANCE_SCAN);
    await tx.lockLicense('a');
    expect(tx.forUpdate(Lock.MIGRATION, 'm')).toBe('for update');
    await tx.advisoryLock(AdvisoryLock.LOG_ORDER);
    expect(tx.forUpdate(Lock.VIOLATION, 'v')).toBe('for update');
  });

  it('refuses a lock of an earlier kind than one it holds, before running anything', async () => {
    const runner = recording();
    const tx = transactionOver(runner, 'postgresql');
    await tx.advisoryLock(AdvisoryLock.LOG_ORDER);
    const asked = runner.statements.length;
    await expect(tx.lockLicense('a')).rejects.toThrow(LockOrderError);
    expect(() => tx.forUpdate(Lock.LICENSE)).toThrow(/LICENSE lock was asked for while holding a LOG lock/);
    expect(runner.statements).toHaveLength(asked);
  });

  it('takes again what it holds, in any order: a held lock waits for nothing', async () => {
    const tx = transactionOver(recording(), 'postgresql');
    await tx.lockLicense('a');
    await tx.advisoryLock(AdvisoryLock.LOG_ORDER);
    tx.forUpdate(Lock.VIOLATION, 'v');
    await tx.advisoryLock(AdvisoryLock.LOG_ORDER);
    await tx.lockLicense('a');
    expect(() => tx.forUpdate(Lock.LICENSE, 'b')).toThrow(LockOrderError);
  });

  it('locks license rows in id order only', async () => {
    const tx = transactionOver(recording(), 'postgresql');
    await tx.lockLicense('b');
    await expect(tx.lockLicense('a')).rejects.toThrow(/locked after license b/);
    await tx.lockLicense('c');
  });

  it('checks the order on SQLite too, where a row lock is no statement', async () => {
    const runner = recording();
    const tx = transactionOver(runner, 'sqlite');
    await tx.lockLicense('a');
    expect(await tx.tryAdvisoryLock(AdvisoryLock.LOG_ORDER)).toBe(true);
    expect(tx.forUpdate(Lock.VIOLATION, 'v')).toBe('');
    expect(runner.statements).toEqual([]);
    await expect(tx.lockLicense('b')).rejects.toThrow(LockOrderError);
  });

  it('takes advisory locks with their keys on PostgreSQL', async () => {
    const runner = recording();
    const tx = transactionOver(runner, 'postgresql');
    expect(await tx.tryAdvisoryLock(AdvisoryLock.COMPLIANCE_SCAN)).toBe(true);
    await tx.lockLicense('a');
    expect(runner.statements).toEqual([
      ['select pg_try_advisory_xact_lock(?) as locked', [AdvisoryLock.COMPLIANCE_SCAN]],
      ['select id from license where id = ? for update', ['a']],
    ]);
  });
});
