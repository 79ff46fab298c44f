import type { Measurement } from './load';

/** One server's figures in the summary table. */
export interface SummaryRow {
  benchmark: string;
  server: 'project' | 'floor';
  measurement: Measurement;
  /** The rate the ratio is taken of: requests, or checkout attempts, per second. */
  rate: number;
  rateUnit: string;
  /** Non-200 responses, responses with `errors`, unexpected answers, connection errors and timeouts. */
  clientErrors: number;
}

/** What a benchmark hands back to the summary. */
export interface BenchReport {
  rows: SummaryRow[];
  checks: TargetCheck[];
}

/** The verdict on one target, worded for the summary. */
export interface TargetCheck {
  name: string;
  actual: string;
  target: string;
  met: boolean;
  /** How far off a missed target is, e.g. "0.04 (27%)". */
  missedBy: string;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits)).toString();

export function atLeast(name: string, actual: number, minimum: number, unit = '', digits = 2): TargetCheck {
  const gap = minimum - actual;
  return {
    name,
    actual: `${round(actual, digits)}${unit}`,
    target: `>= ${minimum}${unit}`,
    met: actual >= minimum,
    missedBy: `${round(gap, digits)}${unit} (${round((gap / minimum) * 100, 0)}%)`,
  };
}

export function below(name: string, actual: number, limit: number, unit = '', digits = 2): TargetCheck {
  return {
    name,
    actual: `${round(actual, digits)}${unit}`,
    target: `< ${limit}${unit}`,
    met: actual < limit,
    missedBy: `${round(actual - limit, digits)}${unit} (${round(((actual - limit) / limit) * 100, 0)}%)`,
  };
}

export function exactly(name: string, actual: number, expected: number): TargetCheck {
  return { name, actual: String(actual), target: `= ${expected}`, met: actual === expected, missedBy: String(actual - expected) };
}

export const verdictOf = (check: TargetCheck): string => (check.met ? 'target met' : `target missed by ${check.missedBy}`);

/** Left-aligned text columns, for the tables printed to the console. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const fixed = (value: number, digits = 1): string => value.toFixed(digits);
