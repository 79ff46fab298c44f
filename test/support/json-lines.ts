/** The lines of some output that are not JSON objects (blank lines aside). */
export function nonJsonLines(output: string | readonly string[]): string[] {
  const lines = typeof output === 'string' ? output.split('\n') : output;
  return lines.filter((line) => {
    if (!line.trim()) return false;
    try {
      const parsed: unknown = JSON.parse(line);
      return typeof parsed !== 'object' || parsed === null || Array.isArray(parsed);
    } catch {
      return true;
    }
  });
}

/** Fails, quoting the first offenders, unless every line `who` wrote is a JSON object: what a log collector expects. */
export function expectJsonLines(output: string | readonly string[], who: string): void {
  const bad = nonJsonLines(output);
  if (bad.length > 0) {
    throw new Error(`${who} wrote ${bad.length} line(s) that are not JSON, such as:\n${bad.slice(0, 5).join('\n')}`);
  }
}
