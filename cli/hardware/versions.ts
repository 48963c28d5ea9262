/**
 * Dotted version numbers as the tools print them ("535.129.03", "12.4", "3.25.1"),
 * compared part by part as numbers so "535.129" > "535.54" (a string compare gets it wrong).
 */

/** The numeric parts of the first dotted version in `text`, or null ("v12.4.131" → [12, 4, 131]). */
export function parseVersion(text: string | null | undefined): number[] | null {
  const match = /(\d+(?:\.\d+)*)/.exec(text ?? '');
  return match?.[1] ? match[1].split('.').map(Number) : null;
}

/** < 0, 0, > 0 like a sort comparator; missing parts count as 0 ("12.4" == "12.4.0"). */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a) ?? [];
  const pb = parseVersion(b) ?? [];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

export function versionAtLeast(version: string, minimum: string): boolean {
  return compareVersions(version, minimum) >= 0;
}

/** "12.4.131" → "12.4"; null when there is no major.minor. */
export function majorMinor(version: string | null | undefined): string | null {
  const parts = parseVersion(version);
  return parts && parts.length >= 2 ? `${parts[0]}.${parts[1]}` : null;
}

export function majorOf(version: string): number {
  return parseVersion(version)?.[0] ?? 0;
}
