/** Archive helpers: extract .tar.gz to a directory, read entries from a .zip in memory. */
import { mkdirSync } from 'node:fs';
import * as tar from 'tar';
import { unzipSync } from 'fflate';
import { DataError } from '../types.js';

/**
 * Extracts a .tar.gz (or plain .tar) into `destDir` (created if needed).
 * Returns the relative paths of the extracted entries, in archive order.
 * Throws DataError naming `file` if it is missing, corrupt or truncated.
 */
export async function extractTarGz(file: string, destDir: string): Promise<string[]> {
  mkdirSync(destDir, { recursive: true });
  const paths: string[] = [];
  try {
    await tar.x({
      file,
      cwd: destDir,
      strict: true,
      onReadEntry: (entry) => {
        paths.push(entry.path);
      },
    });
  } catch (e) {
    throw new DataError(file, `cannot extract tar archive: ${(e as Error).message}`);
  }
  return paths;
}

function unzip(buf: Uint8Array, where: string): Record<string, Uint8Array> {
  try {
    return unzipSync(buf);
  } catch (e) {
    throw new DataError(where, `corrupt zip archive: ${(e as Error).message}`);
  }
}

/** Names of the entries in a zip archive. Throws DataError if it is not a valid zip. */
export function listZipEntries(buf: Uint8Array, where: string): string[] {
  return Object.keys(unzip(buf, where));
}

/**
 * Returns the contents of the first zip entry whose name equals `name` (string) or matches it (RegExp).
 * Throws DataError for a corrupt zip or a missing entry (listing the entries that exist).
 */
export function readZipEntry(buf: Uint8Array, name: string | RegExp, where: string): Uint8Array {
  const entries = unzip(buf, where);
  const names = Object.keys(entries);
  const hit = names.find((n) => (typeof name === 'string' ? n === name : name.test(n)));
  if (hit === undefined) {
    throw new DataError(where, `zip has no entry ${typeof name === 'string' ? `"${name}"` : String(name)}; entries: ${names.join(', ') || '(none)'}`);
  }
  return entries[hit];
}
