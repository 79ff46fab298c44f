import type { ValidatorFn } from 'type-graphql';
import { AppError } from '../errors';

/**
 * The arguments of client operations: their service checks them (`checkClientArguments`, the key's format), so
 * class-validator does not run on this hot path.
 */
export const CHECKED_BY_THE_SERVICE: { validateFn: ValidatorFn } = { validateFn: () => undefined };

/** Longest accepted client arguments, matching their columns. */
export const CLIENT_ARGUMENT_LENGTHS = { fingerprint: 200, user: 320, feature: 100, site: 320 } as const;

/**
 * Checks the length of the string arguments client applications send. Client operations check their input
 * here, in the service, rather than through class-validator: they are the hot path, and this costs nothing.
 */
export function checkClientArguments(args: Partial<Record<keyof typeof CLIENT_ARGUMENT_LENGTHS, string | null | undefined>>): void {
  for (const [name, value] of Object.entries(args)) {
    const max = CLIENT_ARGUMENT_LENGTHS[name as keyof typeof CLIENT_ARGUMENT_LENGTHS];
    if (typeof value === 'string' && (value.length === 0 || value.length > max)) {
      throw AppError.badInput(`\`${name}\` must be 1 to ${max} characters.`, name);
    }
  }
}
