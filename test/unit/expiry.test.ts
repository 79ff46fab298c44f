import { describe, expect, it } from 'vitest';
import { dueNotice } from '../../src/modules/alert/expiry-watch';

const DAY = 86_400_000;
const expiresAt = new Date('2027-03-01T00:00:00.000Z');
const at = (daysFromEnd: number) => new Date(expiresAt.getTime() + daysFromEnd * DAY);
const REMINDERS = [90, 30, 7, 1];

describe('the notice a term is due', () => {
  it('is none while the term is further away than its longest reminder', () => {
    expect(dueNotice({ expiresAt, gracePeriodDays: 7 }, REMINDERS, at(-91))).toBeNull();
    expect(dueNotice({ expiresAt, gracePeriodDays: 7 }, [], at(-2))).toBeNull();
  });

  it('is the reminder of the fewest days whose moment has come, with a severity that grows as the end nears', () => {
    const due = (days: number) => dueNotice({ expiresAt, gracePeriodDays: 7 }, REMINDERS, at(-days));
    expect(due(90)).toMatchObject({ key: 'DAYS_90', kind: 'EXPIRY_NOTICE', daysBefore: 90, severity: 'INFO' });
    expect(due(45)).toMatchObject({ key: 'DAYS_90' });
    expect(due(30)).toMatchObject({ key: 'DAYS_30', severity: 'INFO' });
    expect(due(5)).toMatchObject({ key: 'DAYS_7', severity: 'WARNING' });
    expect(due(0.5)).toMatchObject({ key: 'DAYS_1', daysBefore: 1, severity: 'CRITICAL' });
    expect(due(1)?.message).toBe("The license's term ends in 1 day, 2027-03-01T00:00:00.000Z: time to renew.");
  });

  it('is the start of the grace period once the term has ended, and the expiry once the grace period has too', () => {
    expect(dueNotice({ expiresAt, gracePeriodDays: 7 }, REMINDERS, at(0))).toMatchObject({ key: 'GRACE', kind: 'GRACE_PERIOD_STARTED' });
    expect(dueNotice({ expiresAt, gracePeriodDays: 7 }, REMINDERS, at(6.9))).toMatchObject({ key: 'GRACE' });
    expect(dueNotice({ expiresAt, gracePeriodDays: 7 }, REMINDERS, at(7))).toMatchObject({
      key: 'EXPIRED',
      kind: 'LICENSE_EXPIRED',
      severity: 'CRITICAL',
    });
    // Without a grace period a term goes straight from its last reminder to expired.
    expect(dueNotice({ expiresAt, gracePeriodDays: 0 }, REMINDERS, at(0))).toMatchObject({ key: 'EXPIRED' });
  });
});
