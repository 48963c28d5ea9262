/** A parsed `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`). */
export interface ContentRange {
  start: number;
  end: number;
  total: number | undefined;
}

export function parseContentRange(value: string | undefined): ContentRange | undefined {
  const m = value ? /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value) : null;
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? undefined : Number(m[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}

/** The TOTAL of an unsatisfied range answer, `Content-Range: bytes * /TOTAL` (416). */
export function parseUnsatisfiedRange(value: string | undefined): number | undefined {
  const m = value ? /^\s*bytes\s+\*\/(\d+)\s*$/i.exec(value) : null;
  return m ? Number(m[1]) : undefined;
}
