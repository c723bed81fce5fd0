/** Test helper: a fresh temp dir per test, removed when the test ends. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export function tmpDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Points the kit's data directory (TCK_DATA_DIR) at a fresh temp dir for one test; restored when it ends. */
export function useDataDir(t: TestContext): string {
  const dir = tmpDir(t);
  const old = process.env.TCK_DATA_DIR;
  process.env.TCK_DATA_DIR = dir;
  t.after(() => {
    if (old === undefined) delete process.env.TCK_DATA_DIR;
    else process.env.TCK_DATA_DIR = old;
  });
  return dir;
}
