/** What every result file records about where it came from: kit version, git commit, engine, data, times. */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { KIT_ROOT } from '../data/paths.js';

export interface GitInfo {
  commit: string | null;
  /** True when the work tree had uncommitted changes to tracked files. */
  dirty: boolean | null;
}

export function kitVersion(): { name: string; version: string } {
  const pkg = JSON.parse(fs.readFileSync(path.join(KIT_ROOT, 'package.json'), 'utf8'));
  return { name: pkg.name, version: pkg.version };
}

export function gitInfo(): GitInfo {
  const git = (...args: string[]) => execFileSync('git', ['-C', KIT_ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no').length > 0;
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

export interface DatasetRecord {
  id: string;
  files: { path: string; sha256: string }[];
}

export interface Provenance {
  kit: { name: string; version: string };
  git: GitInfo;
  command: string;
  preset: string;
  profile: string;
  seed: number;
  argv: string[];
  engine: unknown;
  datasets: DatasetRecord[];
  /** True when the run used an offline stand-in dataset instead of the real one (`--stand-in`); every table says so. */
  standIn: boolean;
  startedAt: string;
  endedAt: string | null;
  /** `interrupted`: stopped by Ctrl-C / SIGTERM; rerunning the command resumes it. */
  status: 'running' | 'finished' | 'failed' | 'interrupted';
  error?: string;
  /** Start times of earlier, interrupted attempts that this run resumed. */
  resumedFrom?: string[];
  /**
   * Jobs trained in this attempt per training path: `fast` (the kit's own trainer, src/fast/), `tfjs` (the
   * reference path), `genetic` (seed 002's trainers). Jobs taken from the ledger are not counted.
   */
  trainingPaths?: Record<string, number>;
}

/** The provenance block small enough to embed in every result file (JSON results and CSV side files). */
export interface ProvenanceStamp {
  kit: string;
  commit: string | null;
  dirty: boolean | null;
  backend: string | null;
  seed: number;
  profile: string;
  preset: string;
  command: string;
}

export function provenanceStamp(p: Provenance): ProvenanceStamp {
  return {
    kit: `${p.kit.name}@${p.kit.version}`,
    commit: p.git.commit,
    dirty: p.git.dirty,
    backend: (p.engine as { backend?: string })?.backend ?? null,
    seed: p.seed,
    profile: p.profile,
    preset: p.preset,
    command: p.command,
  };
}
