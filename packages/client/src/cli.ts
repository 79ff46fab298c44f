import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import { verifyLicenseCertificate } from './verify';

const USAGE = `Usage: npm run -s verify -- <certificate | file> --jwks <file | url> [--fingerprint F] [--feature KEY] [--at ISO-TIME]

Checks a license certificate offline: its signature by a key of the JWKS (a file saved from the server's
/.well-known/jwks.json, or that address), its validity at --at (now by default), and what validateLicense
would check of the license it states. Prints each check; the exit status is 0 when valid, 1 when not, 2 on a
usage mistake.`;

class UsageError extends Error {}

async function jwksFrom(source: string): Promise<JSONWebKeySet> {
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source);
    if (!response.ok) throw new UsageError(`${source} answered ${response.status}`);
    return (await response.json()) as JSONWebKeySet;
  }
  if (!existsSync(source)) throw new UsageError(`no JWKS file ${source}`);
  return JSON.parse(readFileSync(source, 'utf8')) as JSONWebKeySet;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { jwks: { type: 'string' }, fingerprint: { type: 'string' }, feature: { type: 'string' }, at: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const given = positionals[0];
  if (!given || positionals.length > 1) throw new UsageError('give one certificate, or the file holding it');
  if (!values.jwks) throw new UsageError('--jwks is required');
  const now = values.at ? new Date(values.at) : new Date();
  if (Number.isNaN(now.getTime())) throw new UsageError('--at must be a time, such as 2026-12-06T12:00:00Z');
  const certificate = (existsSync(given) ? readFileSync(given, 'utf8') : given).trim();
  const verdict = await verifyLicenseCertificate(certificate, {
    jwks: await jwksFrom(values.jwks),
    now,
    fingerprint: values.fingerprint ?? null,
    feature: values.feature ?? null,
  });
  for (const c of verdict.checks) process.stdout.write(`${c.outcome.padEnd(4)} ${c.check.padEnd(11)} ${c.code.padEnd(26)} ${c.detail}\n`);
  const license = verdict.claims ? ` license ${verdict.claims.sub}, usable offline until ${verdict.expiresAt!.toISOString()}` : '';
  process.stdout.write(`${verdict.valid ? 'VALID' : 'NOT VALID'}: ${verdict.code}${license}\n`);
  return verdict.valid ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    const usage =
      error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`verify: ${error instanceof Error ? error.message : String(error)}\n${usage ? `\n${USAGE}\n` : ''}`);
    process.exit(usage ? 2 : 1);
  },
);
