import { readFile, stat } from 'node:fs/promises';
import { writeJsonAtomically } from './part-state.js';

/**
 * NAME.verified.json beside a model: the SHA-256 we computed and the size and
 * mtime the file had then. A later run trusts it only while size and mtime
 * still match, so "already verified" is instant but a file changed since is re-hashed.
 */
export interface VerifiedRecord {
  sha256: string;
  size: number;
  mtimeMs: number;
  verifiedAt: string;
  /** Where the bytes came from: a URL or the imported file. */
  source: string;
  model?: string;
}

export function verifiedRecordPath(modelPath: string): string {
  return `${modelPath}.verified.json`;
}

export async function readVerifiedRecord(modelPath: string): Promise<VerifiedRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(verifiedRecordPath(modelPath), 'utf8')) as Partial<VerifiedRecord>;
    if (typeof r.sha256 === 'string' && typeof r.size === 'number' && typeof r.mtimeMs === 'number') return r as VerifiedRecord;
  } catch {
    // No record (or a damaged one): the file will be hashed.
  }
  return undefined;
}

/** Records `modelPath` as verified with `sha256`, taking size and mtime from the file as it is now. */
export async function writeVerifiedRecord(modelPath: string, fields: Pick<VerifiedRecord, 'sha256' | 'source' | 'model'>): Promise<VerifiedRecord> {
  const s = await stat(modelPath);
  const record: VerifiedRecord = {
    sha256: fields.sha256,
    size: s.size,
    mtimeMs: s.mtimeMs,
    verifiedAt: new Date().toISOString(),
    source: fields.source,
    ...(fields.model === undefined ? {} : { model: fields.model }),
  };
  await writeJsonAtomically(verifiedRecordPath(modelPath), record);
  return record;
}

/** True when the file is still the one the record vouches for, and that is the file we want. */
export async function isStillVerified(modelPath: string, expectedSha256: string): Promise<boolean> {
  const record = await readVerifiedRecord(modelPath);
  if (!record || record.sha256 !== expectedSha256) return false;
  try {
    const s = await stat(modelPath);
    return s.isFile() && s.size === record.size && s.mtimeMs === record.mtimeMs;
  } catch {
    return false;
  }
}
