/**
 * Crash-safe file writes: write to a temporary file in the same directory, flush it to disk, then rename over
 * the target. A process killed at any moment leaves either the old file or the new one, never half of one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import Papa from 'papaparse';

/** Temporary names are unique per process, thread and write, so concurrent writers never share one. */
let tmpCounter = 0;

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${threadId}-${tmpCounter++}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T>(file: string): T | null {
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Rows of objects as CSV text (papaparse); `columns` fixes the column order (default: keys of the first row). */
export function toCsv(rows: Record<string, unknown>[], columns?: string[]): string {
  const cols = columns ?? (rows[0] ? Object.keys(rows[0]) : []);
  if (rows.length === 0) return Papa.unparse([cols]) + '\n';
  return Papa.unparse({ fields: cols, data: rows.map((r) => cols.map((c) => r[c] ?? null)) }, { newline: '\n' }) + '\n';
}
