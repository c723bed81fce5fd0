/**
 * The reproduction report: gathers every run directory under results/ (its provenance.json, config.json,
 * comparison.csv and figures/) and the executed notebooks into results/REPORT.md and results/REPORT.html.
 * Published numbers are grouped by seed document, each beside the kit's with the profile it came from; runs on
 * stand-in data are marked wherever their numbers or figures appear. Links to figures are relative, so the
 * results/ folder can be moved or archived whole.
 */
import fs from 'node:fs';
import path from 'node:path';
import { resultsDir, COMPARISON_COLUMNS, type ComparisonRow } from '../run/rundir.js';
import { writeFileAtomic } from '../util/files.js';
import { gitInfo, kitVersion } from '../run/provenance.js';
import { KIT_ROOT } from '../data/paths.js';
import { escapeHtml, formatValue, htmlTable, markdownTable, readCsvRows, type Row } from './tables.js';

export const STAND_IN_MARK = 'STAND-IN';

export interface ReportFigure {
  name: string;
  /** Paths relative to the results directory ('/'-separated). */
  png?: string;
  svg?: string;
}

export interface ReportComparison extends ComparisonRow {
  run: string;
  standIn: boolean;
}

export interface ReportRun {
  /** Path of the run directory relative to the results directory. */
  name: string;
  dir: string;
  command: string | null;
  preset: string | null;
  profile: string | null;
  seed: number | null;
  backend: string | null;
  commit: string | null;
  dirty: boolean | null;
  status: string | null;
  startedAt: string | null;
  endedAt: string | null;
  standIn: boolean;
  datasets: { id: string; files: { path: string; sha256: string }[] }[];
  comparison: ReportComparison[];
  figures: ReportFigure[];
  /** Other CSV result files (relative to the results directory). */
  tables: string[];
  /** What could not be read (missing or malformed files). */
  problems: string[];
}

export interface NotebookEntry {
  name: string;
  source: string;
  executed: string;
  profile: string;
  status: 'passed' | 'failed';
  seconds: number;
  finishedAt: string;
  error?: string;
}

export interface ReportResult {
  markdownPath: string;
  htmlPath: string;
  markdown: string;
  html: string;
  runs: ReportRun[];
  seedDocuments: Record<string, ReportComparison[]>;
  notebooks: NotebookEntry[];
}

const RUN_FILES = ['provenance.json', 'config.json', 'comparison.csv'];
const posix = (p: string) => p.split(path.sep).join('/');

function readJsonLoose(file: string, problems: string[]): Record<string, unknown> | null {
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    problems.push(`${path.basename(file)} is not valid JSON (${(e as Error).message})`);
    return null;
  }
}

const STAND_IN_KEYS = ['standIn', 'stand-in', 'stand_in'];
function flagged(o: unknown): boolean {
  if (!o || typeof o !== 'object') return false;
  const r = o as Record<string, unknown>;
  return STAND_IN_KEYS.some((k) => r[k] === true || (typeof r[k] === 'string' && r[k] !== '' && r[k] !== 'false'));
}

/**
 * A run is on stand-in data when its provenance or config says so (`standIn` / `stand-in` true, or a string
 * naming the stand-in), it was started with `--stand-in`, or one of its datasets is flagged or named so.
 */
export function isStandInRun(provenance: Record<string, unknown> | null, config: unknown): boolean {
  if (flagged(provenance) || flagged(config)) return true;
  if (config && typeof config === 'object' && flagged((config as Record<string, unknown>).dataset)) return true;
  const argv = provenance?.argv;
  if (Array.isArray(argv) && argv.includes('--stand-in')) return true;
  const ds = provenance?.datasets;
  if (Array.isArray(ds) && ds.some((d) => flagged(d) || /stand-?in/i.test(String((d as { id?: unknown })?.id ?? '')))) return true;
  return false;
}

function isRunDir(dir: string): boolean {
  return RUN_FILES.some((f) => fs.existsSync(path.join(dir, f)));
}

function str(v: unknown): string | null {
  return v === undefined || v === null ? null : String(v);
}

function readRun(root: string, dir: string): ReportRun {
  const problems: string[] = [];
  const prov = readJsonLoose(path.join(dir, 'provenance.json'), problems);
  const config = readJsonLoose(path.join(dir, 'config.json'), problems);
  if (!prov) problems.push('no provenance.json');
  const name = posix(path.relative(root, dir));
  const standIn = isStandInRun(prov, config);
  const git = (prov?.git ?? {}) as { commit?: string | null; dirty?: boolean | null };
  const engine = (prov?.engine ?? {}) as { backend?: string };
  const profile = str(prov?.profile);
  let comparison: ReportComparison[] = [];
  const compFile = path.join(dir, 'comparison.csv');
  if (fs.existsSync(compFile)) {
    try {
      const rows = readCsvRows(compFile);
      const missing = COMPARISON_COLUMNS.filter((c) => rows.length > 0 && !(c in rows[0]));
      if (missing.length) problems.push(`comparison.csv lacks column(s) ${missing.join(', ')}`);
      comparison = rows.map((r) => ({
        seed_document: str(r.seed_document) ?? '(no seed document)',
        table_or_figure: str(r.table_or_figure) ?? '',
        quantity: str(r.quantity) ?? '',
        paper_value: (r.paper_value ?? null) as number | string | null,
        kit_value: (r.kit_value ?? null) as number | string | null,
        profile: str(r.profile) ?? profile ?? '',
        note: str(r.note) ?? '',
        run: name,
        standIn: standIn || /stand-?in/i.test(String(r.note ?? '')),
      }));
    } catch (e) {
      problems.push(`comparison.csv: ${(e as Error).message}`);
    }
  } else {
    problems.push('no comparison.csv');
  }
  const figures: ReportFigure[] = [];
  const figDir = path.join(dir, 'figures');
  if (fs.existsSync(figDir)) {
    const byName = new Map<string, ReportFigure>();
    for (const f of fs.readdirSync(figDir).sort()) {
      const m = /^(.*)\.(png|svg)$/i.exec(f);
      if (!m || f.startsWith('.')) continue;
      const fig = byName.get(m[1]) ?? { name: m[1] };
      fig[m[2].toLowerCase() as 'png' | 'svg'] = posix(path.relative(root, path.join(figDir, f)));
      byName.set(m[1], fig);
    }
    figures.push(...byName.values());
  }
  const tables = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.csv') && f !== 'comparison.csv' && !f.startsWith('.'))
    .sort()
    .map((f) => posix(path.relative(root, path.join(dir, f))));
  const datasets = Array.isArray(prov?.datasets) ? (prov!.datasets as ReportRun['datasets']) : [];
  return {
    name,
    dir,
    command: str(prov?.command),
    preset: str(prov?.preset),
    profile,
    seed: typeof prov?.seed === 'number' ? prov.seed : null,
    backend: str(engine.backend),
    commit: str(git.commit),
    dirty: typeof git.dirty === 'boolean' ? git.dirty : null,
    status: str(prov?.status),
    startedAt: str(prov?.startedAt),
    endedAt: str(prov?.endedAt),
    standIn,
    datasets,
    comparison,
    figures,
    tables,
    problems,
  };
}

/** Every run directory under `root` (one level, or two for folders that group runs), sorted by path. */
export function collectRuns(root = resultsDir()): ReportRun[] {
  if (!fs.existsSync(root)) return [];
  const runs: ReportRun[] = [];
  const visit = (dir: string, depth: number) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!e.isDirectory() || e.name.startsWith('.') || e.name === 'notebooks' || e.name === 'node_modules') continue;
      const d = path.join(dir, e.name);
      if (isRunDir(d)) runs.push(readRun(root, d));
      else if (depth < 2) visit(d, depth + 1);
    }
  };
  visit(root, 1);
  return runs;
}

/** The notebooks `npm run notebooks` executed (results/notebooks/summary.json). */
export function collectNotebooks(root = resultsDir()): NotebookEntry[] {
  const file = path.join(root, 'notebooks', 'summary.json');
  if (!fs.existsSync(file)) return [];
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as { notebooks?: NotebookEntry[] };
    return (s.notebooks ?? []).slice().sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// rendering: one document model, written as Markdown and as HTML

type Block =
  | { kind: 'h'; level: number; text: string; id: string }
  | { kind: 'p'; md: string; html: string }
  | { kind: 'table'; rows: Row[]; columns: string[]; highlight?: (r: Row) => boolean; links?: string[] }
  | { kind: 'figures'; items: { src: string; caption: string; alt: string; standIn: boolean }[] }
  | { kind: 'list'; items: { md: string; html: string }[] };

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .trim()
    .replace(/ /g, '-');
}

const mdEscape = (s: string) => s.replace(/([\\`*_[\]<>|])/g, '\\$1');

/** The little Markdown the report's own sentences use (`code`, **bold**, backslash escapes) as HTML. */
function inlineHtml(md: string): string {
  return md
    .split(/(`[^`]*`)/)
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length >= 2
        ? `<code>${escapeHtml(part.slice(1, -1))}</code>`
        : escapeHtml(part.replace(/\\([\\`*_[\]<>|])/g, '$1')).replace(/\*\*([^*]+)\*\*/g, (_m, t: string) => `<strong${t.includes(STAND_IN_MARK) ? ' class="standin"' : ''}>${t}</strong>`),
    )
    .join('');
}
const linkUrl = (rel: string) => rel.split('/').map(encodeURIComponent).join('/');

function numberOrNull(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function duration(a: string | null, b: string | null): string {
  if (!a || !b) return '';
  const s = (Date.parse(b) - Date.parse(a)) / 1000;
  if (!Number.isFinite(s) || s < 0) return '';
  return s < 90 ? `${s.toFixed(1)} s` : s < 5400 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;
}

function shortPath(p: string): string {
  const rel = path.relative(KIT_ROOT, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? posix(rel) : p;
}

function figureBlock(runs: ReportRun[]): Block | null {
  const items: { src: string; caption: string; alt: string; standIn: boolean }[] = [];
  for (const r of runs) {
    for (const f of r.figures) {
      const src = f.png ?? f.svg;
      if (!src) continue;
      const mark = r.standIn ? ` (${STAND_IN_MARK})` : '';
      items.push({ src, caption: `${r.name}: ${f.name}${f.svg && f.png ? ' (SVG beside it)' : ''}${mark}`, alt: `${r.name} ${f.name}`, standIn: r.standIn });
    }
  }
  return items.length ? { kind: 'figures', items } : null;
}

function buildBlocks(root: string, runs: ReportRun[], docs: Record<string, ReportComparison[]>, notebooks: NotebookEntry[]): Block[] {
  const { name, version } = kitVersion();
  const git = gitInfo();
  const blocks: Block[] = [];
  const h = (level: number, text: string) => blocks.push({ kind: 'h', level, text, id: slug(text) });
  const p = (md: string, html = inlineHtml(md)) => blocks.push({ kind: 'p', md, html });
  h(1, 'Reproduction report');
  const profiles = new Map<string, number>();
  for (const r of runs) profiles.set(r.profile ?? 'unknown', (profiles.get(r.profile ?? 'unknown') ?? 0) + 1);
  const profText = [...profiles].map(([k, n]) => `${k} (${n})`).join(', ') || 'none';
  const commit = git.commit ? `${git.commit.slice(0, 10)}${git.dirty ? ', uncommitted changes' : ''}` : 'no git';
  p(
    `Generated by \`tck report\` (${mdEscape(name)} ${version}, commit ${commit}) from ${runs.length} run director${runs.length === 1 ? 'y' : 'ies'} in \`${mdEscape(shortPath(root))}\`. Profiles: ${profText}.`,
    `Generated by <code>tck report</code> (${escapeHtml(name)} ${version}, commit ${escapeHtml(commit)}) from ${runs.length} run director${runs.length === 1 ? 'y' : 'ies'} in <code>${escapeHtml(shortPath(root))}</code>. Profiles: ${escapeHtml(profText)}.`,
  );
  p(
    'Each published number (paper) stands beside the kit\'s (kit) with the profile it came from. Only `paper` runs use the seeds\' settings; `quick` and `smoke` runs use reduced data, epochs or generations, so their numbers are not expected to match. ' +
      `Rows and figures from runs on offline stand-in data (not the published dataset) are marked **${STAND_IN_MARK}**.`,
    'Each published number (paper) stands beside the kit\'s (kit) with the profile it came from. Only <code>paper</code> runs use the seeds\' settings; <code>quick</code> and <code>smoke</code> runs use reduced data, epochs or generations, so their numbers are not expected to match. ' +
      `Rows and figures from runs on offline stand-in data (not the published dataset) are marked <strong class="standin">${STAND_IN_MARK}</strong>.`,
  );
  const standInRuns = runs.filter((r) => r.standIn);
  if (standInRuns.length) {
    p(
      `**${STAND_IN_MARK}: ${standInRuns.length} run(s) used stand-in data:** ${standInRuns.map((r) => `\`${r.name}\``).join(', ')}.`,
      `<strong class="standin">${STAND_IN_MARK}: ${standInRuns.length} run(s) used stand-in data:</strong> ${standInRuns.map((r) => `<code>${escapeHtml(r.name)}</code>`).join(', ')}.`,
    );
  }

  const docNames = Object.keys(docs).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const others = runs.filter((r) => r.comparison.length === 0);
  const contents: { md: string; html: string }[] = [];
  const tocItem = (text: string) => ({ md: `[${mdEscape(text)}](#${slug(text)})`, html: `<a href="#${slug(text)}">${escapeHtml(text)}</a>` });
  if (docNames.length === 0) contents.push(tocItem('Published numbers'));
  for (const d of docNames) contents.push(tocItem(`Seed document: ${d}`));
  if (others.length) contents.push(tocItem('Other runs'));
  contents.push(tocItem('Notebooks'), tocItem('Runs and provenance'));
  h(2, 'Contents');
  blocks.push({ kind: 'list', items: contents });

  if (docNames.length === 0) {
    h(2, 'Published numbers');
    p('No run has written comparison rows yet (`comparison.csv` is empty everywhere).');
  }
  for (const d of docNames) {
    const rows = docs[d];
    h(2, `Seed document: ${d}`);
    const nStand = rows.filter((r) => r.standIn).length;
    p(
      `${rows.length} published number(s) from ${new Set(rows.map((r) => r.run)).size} run(s)${nStand ? `; **${nStand} on stand-in data**` : ''}.`,
      `${rows.length} published number(s) from ${new Set(rows.map((r) => r.run)).size} run(s)${nStand ? `; <strong class="standin">${nStand} on stand-in data</strong>` : ''}.`,
    );
    const table = rows.map((r) => {
      const pv = numberOrNull(r.paper_value);
      const kv = numberOrNull(r.kit_value);
      return {
        'table / figure': r.table_or_figure,
        quantity: r.quantity,
        paper: r.paper_value,
        kit: r.kit_value,
        'kit − paper': pv !== null && kv !== null ? kv - pv : null,
        profile: r.profile,
        data: r.standIn ? STAND_IN_MARK : 'published',
        run: r.run,
        note: r.note,
      } as Row;
    });
    blocks.push({ kind: 'table', rows: table, columns: ['table / figure', 'quantity', 'paper', 'kit', 'kit − paper', 'profile', 'data', 'run', 'note'], highlight: (r) => r.data === STAND_IN_MARK });
    const docRuns = runs.filter((r) => r.comparison.some((c) => c.seed_document === d));
    const figs = figureBlock(docRuns);
    if (figs) {
      h(3, `Figures for ${d}`);
      blocks.push(figs);
    }
  }

  if (others.length) {
    h(2, 'Other runs');
    p('Runs that reproduce no published number (baselines, notebooks, checks), with their figures.');
    for (const r of others) {
      h(3, r.name);
      const what = [r.command && `command \`${r.command}\``, r.preset && `preset \`${r.preset}\``, r.profile && `profile **${r.profile}**`, r.seed !== null && `seed ${r.seed}`, r.backend && `backend ${r.backend}`, r.status && `status ${r.status}`]
        .filter(Boolean)
        .join(', ');
      const mark = r.standIn ? ` **${STAND_IN_MARK}**.` : '';
      p(`${what || 'no provenance'}.${mark}`);
      if (r.tables.length) {
        blocks.push({ kind: 'list', items: r.tables.map((t) => ({ md: `[${mdEscape(path.posix.basename(t))}](${linkUrl(t)})`, html: `<a href="${escapeHtml(linkUrl(t))}">${escapeHtml(path.posix.basename(t))}</a>` })) });
      }
      const figs = figureBlock([r]);
      if (figs) blocks.push(figs);
    }
  }

  h(2, 'Notebooks');
  if (notebooks.length === 0) p('No notebook has been executed yet (`npm run notebooks`).');
  else {
    const failed = notebooks.some((n) => n.status !== 'passed');
    p('Executed copies, with every output, are under `notebooks/` here; the notebooks in the repository stay without outputs.');
    blocks.push({
      kind: 'table',
      rows: notebooks.map((n) => ({ notebook: n.source, profile: n.profile, status: n.status, seconds: Math.round(n.seconds * 10) / 10, 'executed copy': n.executed, finished: n.finishedAt, error: n.error ?? '' })),
      columns: ['notebook', 'profile', 'status', 'seconds', 'executed copy', 'finished', ...(failed ? ['error'] : [])],
      highlight: (r) => r.status === 'failed',
      links: ['executed copy'],
    });
  }

  h(2, 'Runs and provenance');
  if (runs.length === 0) p('No run directories yet: run `./reproduce.sh` or a `tck` command.');
  else {
    blocks.push({
      kind: 'table',
      rows: runs.map((r) => ({
        run: r.name,
        command: r.command ?? '',
        preset: r.preset ?? '',
        profile: r.profile ?? '',
        seed: r.seed,
        backend: r.backend ?? '',
        commit: r.commit ? `${r.commit.slice(0, 10)}${r.dirty ? '+dirty' : ''}` : '',
        status: r.status ?? '',
        started: r.startedAt ?? '',
        'wall time': duration(r.startedAt, r.endedAt),
        data: r.standIn ? STAND_IN_MARK : 'published',
        'published numbers': r.comparison.length,
      })),
      columns: ['run', 'command', 'preset', 'profile', 'seed', 'backend', 'commit', 'status', 'started', 'wall time', 'data', 'published numbers'],
      highlight: (r) => r.data === STAND_IN_MARK,
    });
    const sums: Row[] = [];
    for (const r of runs) for (const d of r.datasets) for (const f of d.files ?? []) sums.push({ run: r.name, dataset: d.id, file: shortPath(f.path), sha256: f.sha256 });
    h(3, 'Dataset checksums');
    if (sums.length) blocks.push({ kind: 'table', rows: sums, columns: ['run', 'dataset', 'file', 'sha256'] });
    else p('No run recorded a dataset.');
    const problems = runs.filter((r) => r.problems.length);
    if (problems.length) {
      h(3, 'Problems found while reading');
      blocks.push({ kind: 'list', items: problems.map((r) => ({ md: `\`${r.name}\`: ${mdEscape(r.problems.join('; '))}`, html: `<code>${escapeHtml(r.name)}</code>: ${escapeHtml(r.problems.join('; '))}` })) });
    }
  }
  return blocks;
}

function cellText(v: unknown): string {
  return formatValue(v);
}

function toMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'h':
        out.push(`${'#'.repeat(b.level)} ${b.text}`);
        break;
      case 'p':
        out.push(b.md);
        break;
      case 'list':
        out.push(b.items.map((i) => `- ${i.md}`).join('\n'));
        break;
      case 'table':
        out.push(
          markdownTable(b.rows, b.columns, {
            format: (v, c) => {
              const s = cellText(v);
              if (c === 'data' && s === STAND_IN_MARK) return `**${STAND_IN_MARK}**`;
              if (b.links?.includes(c) && s) return `[${mdEscape(s)}](${linkUrl(s)})`;
              if (c === 'run' || c === 'notebook') return s ? `\`${s}\`` : s;
              return s;
            },
          }).trimEnd(),
        );
        break;
      case 'figures':
        out.push(b.items.map((f) => `![${mdEscape(f.alt)}](${linkUrl(f.src)})\n*${mdEscape(f.caption)}*`).join('\n\n'));
        break;
    }
  }
  return out.join('\n\n') + '\n';
}

const CSS = `body{font-family:"DejaVu Sans",Verdana,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f2f2f2}tr.standin td{background:#fde8dc}.standin{color:#b34700}code{font-family:"DejaVu Sans Mono",monospace;font-size:0.92em}
figure{display:inline-block;margin:1em 1em 1em 0;max-width:100%}figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:0.85em;color:#555}
figure.standin img{border:3px solid #D55E00}`;

function toHtml(blocks: Block[]): string {
  const body: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'h':
        body.push(`<h${b.level} id="${escapeHtml(b.id)}">${escapeHtml(b.text)}</h${b.level}>`);
        break;
      case 'p':
        body.push(`<p>${b.html}</p>`);
        break;
      case 'list':
        body.push(`<ul>${b.items.map((i) => `<li>${i.html}</li>`).join('')}</ul>`);
        break;
      case 'table': {
        body.push(
          htmlTable(b.rows, {
            columns: b.columns,
            maxRows: 100000,
            format: (v) => cellText(v),
            cellHtml: (v, c) => (b.links?.includes(c) && v ? `<a href="${escapeHtml(linkUrl(String(v)))}">${escapeHtml(String(v))}</a>` : null),
            // highlighted rows: stand-in data, failed notebooks
            rowClass: (r) => (b.highlight?.(r) ? 'standin' : null),
          }),
        );
        break;
      }
      case 'figures':
        body.push(
          b.items
            .map((f) => `<figure${f.standIn ? ' class="standin"' : ''}><img src="${escapeHtml(linkUrl(f.src))}" alt="${escapeHtml(f.alt)}" width="640"><figcaption>${escapeHtml(f.caption)}</figcaption></figure>`)
            .join('\n'),
        );
        break;
    }
  }
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Reproduction report</title><style>${CSS}</style></head><body>\n${body.join('\n')}\n</body></html>\n`;
}

/** Gathers the results directory and writes REPORT.md and REPORT.html into it. */
export function writeReport(opts: { root?: string } = {}): ReportResult {
  const root = path.resolve(opts.root ?? resultsDir());
  fs.mkdirSync(root, { recursive: true });
  const runs = collectRuns(root);
  const docs: Record<string, ReportComparison[]> = {};
  for (const r of runs) for (const c of r.comparison) (docs[c.seed_document] ??= []).push(c);
  const notebooks = collectNotebooks(root);
  const blocks = buildBlocks(root, runs, docs, notebooks);
  const markdown = toMarkdown(blocks);
  const html = toHtml(blocks);
  const markdownPath = path.join(root, 'REPORT.md');
  const htmlPath = path.join(root, 'REPORT.html');
  writeFileAtomic(markdownPath, markdown);
  writeFileAtomic(htmlPath, html);
  return { markdownPath, htmlPath, markdown, html, runs, seedDocuments: docs, notebooks };
}
