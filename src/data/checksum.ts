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
 * Checks a file against the expected sha256 and/or md5 (hex, case-insensitive) and returns its sha256.
 * Throws DataError on a mismatch or if the file cannot be read.
 */
export async function verifyFile(
  path: string,
  expected: { sha256?: string; md5?: string },
  where: string,
): Promise<{ sha256: string }> {
  let sha256: string;
  let md5: string | undefined;
  try {
    sha256 = await hashFile(path, 'sha256');
    if (expected.md5) md5 = await hashFile(path, 'md5');
  } catch (e) {
    throw new DataError(where, `cannot read ${path} to verify it: ${(e as Error).message}`);
  }
  const check = (algo: HashAlgo, want: string | undefined, got: string | undefined): void => {
    if (want && want.toLowerCase() !== got) {
      throw new DataError(
        where,
        `checksum mismatch for ${path}: expected ${algo} ${want.toLowerCase()}, got ${got}. The file is corrupt or a different version; delete it and fetch again.`,
      );
    }
  };
  check('sha256', expected.sha256, sha256);
  check('md5', expected.md5, md5);
  return { sha256 };
}
