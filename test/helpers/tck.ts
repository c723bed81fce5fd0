/** Test helper: runs the built `tck` command (bin/tck.js) and parses the JSON summary on its last stdout line. */
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TCK = path.join(ROOT, 'bin', 'tck.js');

export function tck(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [TCK, ...args], { encoding: 'utf8', env: { ...process.env, TCK_BACKEND: 'wasm', ...env } });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(last);
  } catch {
    json = null;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}
