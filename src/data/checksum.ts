/** File and buffer hashing, and checksum verification for downloaded/imported data files. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { DataError } from './types.js';

export type HashAlgo = 'sha256' | 'md5';

/** Hex digest of a file, read as a stream. Rejects with the fs error if the file cannot be read. */
export function hashFile(path: string, algo: HashAlgo): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash(algo);
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Hex digest of a buffer. */
export function hashBuffer(buf: Uint8Array, algo: HashAlgo): string {
  return createHash(algo).update(buf).digest('hex');
}

/**
 * Hashes a file and compares it with the expected sha256 and/or md5 (hex, case-insensitive). Returns its sha256
 * and, when a checksum differs, `mismatch` ("expected sha256 ..., got ..."). Throws DataError only if the file
 * cannot be read.
 */
export async function checkFile(
  path: string,
  expected: { sha256?: string; md5?: string },
  where: string,
): Promise<{ sha256: string; mismatch?: string }> {
  let sha256: string;
  let md5: string | undefined;
  try {
    sha256 = await hashFile(path, 'sha256');
    if (expected.md5) md5 = await hashFile(path, 'md5');
  } catch (e) {
    throw new DataError(where, `cannot read ${path} to verify it: ${(e as Error).message}`);
  }
  for (const [algo, want, got] of [['sha256', expected.sha256, sha256], ['md5', expected.md5, md5]] as const) {
    if (want && want.toLowerCase() !== got) return { sha256, mismatch: `expected ${algo} ${want.toLowerCase()}, got ${got}` };
  }
  return { sha256 };
}

/**
 * Checks a file against the expected sha256 and/or md5 (hex, case-insensitive) and returns its sha256.
 * Throws DataError on a mismatch or if the file cannot be read.
 */
export async function verifyFile(
  path: string,
  expected: { sha256?: string; md5?: string },
  where: string,
): Promise<{ sha256: string }> {
  const { sha256, mismatch } = await checkFile(path, expected, where);
  if (mismatch) {
    throw new DataError(where, `checksum mismatch for ${path}: ${mismatch}. The file is corrupt or a different version; delete it and fetch again.`);
  }
  return { sha256 };
}
