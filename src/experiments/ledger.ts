/**
 * The ledger of finished jobs of a run: `ledger/<job key>.ckpt` in the run directory, one file per job,
 * each written in one atomic step (the checkpoint format: JSON plus typed arrays, bit-exact). A killed run
 * reruns only the jobs whose key is missing. Only the main process writes it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkpointDir, type CheckpointDir } from '../run/checkpoint.js';
import type { JobOutcome } from './outcome.js';

export interface LedgerEntry {
  key: string;
  label: string;
  outcome: JobOutcome;
}

export interface Ledger {
  dir: string;
  has(key: string): boolean;
  get(key: string): LedgerEntry | null;
  put(entry: LedgerEntry): void;
  keys(): string[];
}

export function openLedger(dir: string): Ledger {
  let store: CheckpointDir | null = null;
  const open = () => (store ??= (fs.mkdirSync(dir, { recursive: true }), checkpointDir(dir)));
  const exists = () => fs.existsSync(dir);
  return {
    dir,
    has: (key) => exists() && open().has(key),
    get: (key) => (exists() ? open().load<LedgerEntry>(key) : null),
    put: (entry) => open().save(entry.key, entry),
    keys: () => (exists() ? fs.readdirSync(dir).filter((f) => f.endsWith('.ckpt')).map((f) => path.basename(f, '.ckpt')).sort() : []),
  };
}
