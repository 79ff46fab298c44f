import { type CheckResult, type DiagnosticCode, DiagnosticStatus } from './diagnostics.types';

/** A check's result; `more` adds what was measured, what to do, and the subject. */
export const check = (
  code: DiagnosticCode,
  status: DiagnosticStatus,
  explanation: string,
  more: { value?: string | null; action?: string | null; subject?: string | null } = {},
): CheckResult => ({ code, subject: more.subject ?? null, status, value: more.value ?? null, explanation, action: more.action ?? null });

export const ms = (value: number) => (Math.abs(value) >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);
export const signed = (value: number) => `${value >= 0 ? '+' : '−'}${ms(Math.abs(value))}`;

export function worst(checks: readonly CheckResult[]): DiagnosticStatus {
  if (checks.some((c) => c.status === DiagnosticStatus.ERROR)) return DiagnosticStatus.ERROR;
  return checks.some((c) => c.status === DiagnosticStatus.WARNING) ? DiagnosticStatus.WARNING : DiagnosticStatus.OK;
}
