const DAY_MS = 86_400_000;

/** What a license keeps of its term. */
export interface TermDates {
  startsAt: Date;
  expiresAt?: Date | null;
  termStartedAt?: Date | null;
  termDays?: number | null;
}

/** The latest term of a license: the one that ends when the license does. */
export interface Term {
  startedAt: Date;
  endsAt: Date;
  /** Its length: what a price per term pays for, and what an automatic renewal renews by. */
  lengthMs: number;
}

/**
 * The latest term of a license, or null when it is perpetual. A renewal before the end starts its term where the one
 * before ends, so this term may not have begun yet. Licenses issued before terms were kept start theirs `termDays`
 * before their end (or at their start).
 */
export function latestTerm(license: TermDates): Term | null {
  const { expiresAt } = license;
  if (!expiresAt) return null;
  let startedAt = license.termStartedAt;
  if (!startedAt) {
    const byLength = license.termDays ? expiresAt.getTime() - license.termDays * DAY_MS : license.startsAt.getTime();
    startedAt = new Date(Math.max(byLength, license.startsAt.getTime()));
  }
  return { startedAt, endsAt: expiresAt, lengthMs: expiresAt.getTime() - startedAt.getTime() };
}

/**
 * The term an automatic renewal gives a license whose term ended at `endsAt`: as long as the license's term
 * (`termDays`, else the latest term's length), as many of them as it takes to reach past `now` (a server that was
 * down for longer than a term renews once, for every term it missed).
 */
export function renewedTerm(license: TermDates, now: Date): (Term & { terms: number }) | null {
  const latest = latestTerm(license);
  if (!latest) return null;
  const lengthMs = license.termDays ? license.termDays * DAY_MS : latest.lengthMs;
  if (lengthMs <= 0) return null;
  const terms = Math.max(1, Math.floor((now.getTime() - latest.endsAt.getTime()) / lengthMs) + 1);
  const endsAt = new Date(latest.endsAt.getTime() + terms * lengthMs);
  return { startedAt: new Date(endsAt.getTime() - lengthMs), endsAt, lengthMs, terms };
}
