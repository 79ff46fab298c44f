import { check } from './check-result';
import { type CheckResult, DiagnosticCode, DiagnosticStatus, type SecretUse, SecretStanding } from './diagnostics.types';

/** How many of one kind of stored secret are under one server secret: null for those stored before ids were kept. */
export interface StoredCount {
  secretId: string | null;
  count: number;
}

/** The server's secrets' ids, and the owning modules' counts of what is stored under each (a grouped query each). */
export interface SecretSources {
  secretIds: { current: string; previous: string | null };
  stored: {
    licenseKeys(): Promise<StoredCount[]>;
    apiTokens(): Promise<StoredCount[]>;
    signingKeys(): Promise<StoredCount[]>;
  };
}

/** What is stored under each secret: the current one first, then the previous, the unmarked and unknown ones. */
export async function secretUses(sources: SecretSources): Promise<SecretUse[]> {
  const { current, previous } = sources.secretIds;
  const uses = new Map<string | null, SecretUse>();
  const use = (secretId: string | null): SecretUse => {
    let found = uses.get(secretId);
    if (!found) {
      const standing =
        secretId === null
          ? SecretStanding.UNMARKED
          : secretId === current
            ? SecretStanding.CURRENT
            : secretId === previous
              ? SecretStanding.PREVIOUS
              : SecretStanding.UNKNOWN;
      found = { secretId, standing, licenseKeys: 0, apiTokens: 0, signingKeys: 0 };
      uses.set(secretId, found);
    }
    return found;
  };
  use(current);
  if (previous) use(previous);
  const [licenseKeys, apiTokens, signingKeys] = await Promise.all([
    sources.stored.licenseKeys(),
    sources.stored.apiTokens(),
    sources.stored.signingKeys(),
  ]);
  for (const row of licenseKeys) use(row.secretId).licenseKeys += row.count;
  for (const row of apiTokens) use(row.secretId).apiTokens += row.count;
  for (const row of signingKeys) use(row.secretId).signingKeys += row.count;
  const order = [SecretStanding.CURRENT, SecretStanding.PREVIOUS, SecretStanding.UNMARKED, SecretStanding.UNKNOWN];
  return [...uses.values()].sort((a, b) => order.indexOf(a.standing) - order.indexOf(b.standing));
}

const total = (u: SecretUse) => u.licenseKeys + u.apiTokens + u.signingKeys;
const counted = (u: SecretUse) => `${u.licenseKeys} license key(s), ${u.apiTokens} API token(s), ${u.signingKeys} signing key(s)`;

/** Whether SECRET_KEY_PREVIOUS is still needed, and whether anything is stored under a secret no longer had. */
export function secretCheck(uses: readonly SecretUse[], sources: SecretSources): CheckResult {
  const { current, previous } = sources.secretIds;
  const value = previous ? `${current} (previous ${previous})` : current;
  const lines = uses.map((u) => `${u.secretId ?? 'unmarked'} (${u.standing}): ${counted(u)}`).join('; ');
  const unknown = uses.filter((u) => u.standing === SecretStanding.UNKNOWN && total(u) > 0);
  if (unknown.length > 0) {
    return check(
      DiagnosticCode.SERVER_SECRET,
      DiagnosticStatus.WARNING,
      `Some keys are stored under a secret this server does not have, and are no longer recognized: ${lines}.`,
      {
        value,
        action:
          'If that secret is at hand, give it as SECRET_KEY_PREVIOUS until they have been used. Otherwise reissue them: regenerateLicenseKey for license keys, new API tokens, rotateSigningKey.',
      },
    );
  }
  const waiting = uses.filter((u) => (u.standing === SecretStanding.PREVIOUS || u.standing === SecretStanding.UNMARKED) && total(u) > 0);
  if (previous && waiting.length > 0) {
    return check(
      DiagnosticCode.SERVER_SECRET,
      DiagnosticStatus.OK,
      `Stored under each secret: ${lines}. Each is stored anew under the current secret when first used.`,
      {
        value,
        action: `Keep SECRET_KEY_PREVIOUS until nothing is left under ${previous} or unmarked; what is still there when it is removed is no longer recognized (reissue it).`,
      },
    );
  }
  if (previous) {
    return check(DiagnosticCode.SERVER_SECRET, DiagnosticStatus.OK, `Nothing is stored under the previous secret any more: ${lines}.`, {
      value,
      action: 'SECRET_KEY_PREVIOUS may be removed from every instance.',
    });
  }
  return check(DiagnosticCode.SERVER_SECRET, DiagnosticStatus.OK, `Stored under each secret: ${lines}.`, { value });
}
