/**
 * The reproduction report: gathers every run directory under results/ (its provenance.json, config.json,
 * comparison.csv and figures/) and the executed notebooks into results/REPORT.md and results/REPORT.html.
 * Published numbers of preset runs (profile smoke, quick or paper) are grouped by seed document, each beside the
 * kit's with the profile it came from; exploratory runs (profile custom: hand-set flags or configs) have a section
 * of their own, where a published number is listed once, not once per run. Estimates are marked data-free (they
 * compute from the architecture; their profile is only a label). Runs on stand-in data are marked wherever their
 * numbers or figures appear. REPORT.md links figures relatively (move or archive results/ whole); REPORT.html
 * embeds them (PNG as data: URIs), so it can be mailed or archived on its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { resultsDir, COMPARISON_COLUMNS, seedDocumentLabel, type ComparisonRow } from '../run/rundir.js';
import { writeFileAtomic } from '../util/files.js';
import { gitInfo, kitVersion } from '../run/provenance.js';
import { KIT_ROOT } from '../data/paths.js';
import { escapeHtml, formatValue, htmlTable, markdownTable, readCsvRows, type Row } from './tables.js';

export const STAND_IN_MARK = 'STAND-IN';
/** The `data` mark of numbers computed from the architecture alone (`tck estimate`): no dataset, no training. */
export const DATA_FREE_MARK = 'data-free';
/** Profiles that name a preset's settings; any other (custom, or none recorded) makes a run exploratory. */
export const PRESET_PROFILES = ['smoke', 'quick', 'paper'] as const;

/** `preset`: a preset at a profile (its numbers are the reproduction); `exploratory`: hand-set flags or config. */
export type RunKind = 'preset' | 'exploratory';

export function runKind(profile: string | null): RunKind {
  return (PRESET_PROFILES as readonly string[]).includes(profile ?? '') ? 'preset' : 'exploratory';
}

/** Commands whose numbers depend on the architecture only (no data, and the same at every profile). */
const DATA_FREE_COMMANDS = ['estimate'];

export interface ReportFigure {
  name: string;
  /** Paths relative to the results directory ('/'-separated). */
  png?: string;
  svg?: string;
}

export interface ReportComparison extends ComparisonRow {
  run: string;
  standIn: boolean;
  dataFree: boolean;
}

/** A published number from exploratory runs, listed once with every run that gave it. */
export interface ExploratoryComparison extends ReportComparison {
  runs: string[];
}

export interface ReportRun {
  /** Path of the run directory relative to the results directory. */
  name: string;
  dir: string;
  command: string | null;
  preset: string | null;
  profile: string | null;
  /** preset (profile smoke | quick | paper) or exploratory (custom, or no profile recorded). */
  kind: RunKind;
  /** Computed from the architecture alone (`tck estimate`): no data, and the profile only labels the run. */
  dataFree: boolean;
  /** The command line's arguments as recorded in provenance.json. */
  argv: string[];
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
  /** The preset runs' published numbers by seed document. */
  seedDocuments: Record<string, ReportComparison[]>;
  /**
   * The exploratory runs' published numbers: `rows` once each (with the runs that gave them), without those equal
   * to a preset run's; `equalToPreset` and `duplicates` count the rows left out for each reason.
   */
  exploratory: { rows: ExploratoryComparison[]; equalToPreset: number; duplicates: number };
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
  const command = str(prov?.command);
  const dataFree = DATA_FREE_COMMANDS.includes(command ?? '');
  let comparison: ReportComparison[] = [];
  const compFile = path.join(dir, 'comparison.csv');
  if (fs.existsSync(compFile)) {
    try {
      const rows = readCsvRows(compFile);
      const missing = COMPARISON_COLUMNS.filter((c) => rows.length > 0 && !(c in rows[0]));
      if (missing.length) problems.push(`comparison.csv lacks column(s) ${missing.join(', ')}`);
      comparison = rows.map((r) => ({
        seed_document: str(r.seed_document) === null ? '(no seed document)' : seedDocumentLabel(r.seed_document),
        table_or_figure: str(r.table_or_figure) ?? '',
        quantity: str(r.quantity) ?? '',
        paper_value: (r.paper_value ?? null) as number | string | null,
        kit_value: (r.kit_value ?? null) as number | string | null,
        profile: str(r.profile) ?? profile ?? '',
        note: str(r.note) ?? '',
        run: name,
        standIn: standIn || /stand-?in/i.test(String(r.note ?? '')),
        dataFree,
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
    command,
    preset: str(prov?.preset),
    profile,
    kind: runKind(profile),
    dataFree,
    argv: Array.isArray(prov?.argv) ? (prov!.argv as unknown[]).map(String) : [],
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

/** A figure in the report: `src` relative to the results directory (Markdown), `png`/`svg` absolute (embedded in HTML). */
interface FigureItem {
  src: string;
  png?: string;
  svg?: string;
  caption: string;
  /** The caption in HTML, without the note on the SVG file beside it (the HTML stands alone). */
  captionHtml: string;
  alt: string;
  standIn: boolean;
}

type Block =
  | { kind: 'h'; level: number; text: string; id: string }
  | { kind: 'p'; md: string; html: string }
  | { kind: 'table'; rows: Row[]; columns: string[]; highlight?: (r: Row) => boolean; links?: string[] }
  | { kind: 'figures'; items: FigureItem[] }
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

function figureBlock(root: string, runs: ReportRun[]): Block | null {
  const items: FigureItem[] = [];
  const abs = (rel: string | undefined) => (rel ? path.join(root, ...rel.split('/')) : undefined);
  for (const r of runs) {
    for (const f of r.figures) {
      const src = f.png ?? f.svg;
      if (!src) continue;
      const mark = r.standIn ? ` (${STAND_IN_MARK})` : '';
      items.push({
        src,
        png: abs(f.png),
        svg: abs(f.svg),
        caption: `${r.name}: ${f.name}${f.svg && f.png ? ' (SVG beside it)' : ''}${mark}`,
        captionHtml: escapeHtml(`${r.name}: ${f.name}${mark}`),
        alt: `${r.name} ${f.name}`,
        standIn: r.standIn,
      });
    }
  }
  return items.length ? { kind: 'figures', items } : null;
}

/** The `data` column: stand-in data, none at all (an estimate), or the published dataset. */
const dataMark = (c: { standIn: boolean; dataFree: boolean }) => (c.standIn ? STAND_IN_MARK : c.dataFree ? DATA_FREE_MARK : 'published');
/** The `profile` column: an estimate's profile is a label only (every profile gives the same numbers). */
const profileMark = (profile: string, dataFree: boolean) => (dataFree && profile ? `${profile} (label only)` : profile);

/** The command line as recorded (`tck estimate --model lenet5 ...`), quoted where a word needs it. */
function commandLine(r: ReportRun): string {
  if (!r.argv.length) return '';
  const words = r.argv.map((a) => a.replace(/`/g, "'")).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  return `tck ${words.join(' ')}`;
}

/** One line on a run: command, preset, profile, seed, backend, status, and its data-free and stand-in marks. */
function describeRun(r: ReportRun, withArgv: boolean): string {
  const profile = r.profile && (r.dataFree ? `profile **${r.profile}** (a label only)` : `profile **${r.profile}**`);
  const what = [r.command && `command \`${r.command}\``, r.preset && `preset \`${r.preset}\``, profile, r.seed !== null && !r.dataFree && `seed ${r.seed}`, r.backend && !r.dataFree && `backend ${r.backend}`, r.status && `status ${r.status}`]
    .filter(Boolean)
    .join(', ');
  const line = withArgv ? commandLine(r) : '';
  const parts = [`${what || 'no provenance'}.`];
  if (line) parts.push(`Command line: \`${line}\`.`);
  if (r.dataFree) parts.push(`**${DATA_FREE_MARK}**: computed from the architecture alone (no data, no training); the profile only labels it.`);
  if (r.standIn) parts.push(`**${STAND_IN_MARK}**.`);
  return parts.join(' ');
}

function tableLinks(r: ReportRun): Block | null {
  if (!r.tables.length) return null;
  return { kind: 'list', items: r.tables.map((t) => ({ md: `[${mdEscape(path.posix.basename(t))}](${linkUrl(t)})`, html: `<a href="${escapeHtml(linkUrl(t))}">${escapeHtml(path.posix.basename(t))}</a>` })) };
}

function buildBlocks(root: string, runs: ReportRun[], docs: Record<string, ReportComparison[]>, exploratory: ReportResult['exploratory'], notebooks: NotebookEntry[]): Block[] {
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
  if (runs.some((r) => r.dataFree)) {
    p(
      `Rows marked **${DATA_FREE_MARK}** come from \`tck estimate\`: computed from the architecture alone, they use no data and no training, so their profile is only a label (every profile gives the same number).`,
    );
  }
  const exploratoryRuns = runs.filter((r) => r.kind === 'exploratory');
  if (exploratoryRuns.length) {
    p(
      `Exploratory runs (profile \`custom\`: hand-set flags or configs, or no profile recorded) are not a preset's settings; they are listed in [Exploratory runs](#${slug('Exploratory runs')}), not among the published numbers.`,
      `Exploratory runs (profile <code>custom</code>: hand-set flags or configs, or no profile recorded) are not a preset's settings; they are listed in <a href="#${slug('Exploratory runs')}">Exploratory runs</a>, not among the published numbers.`,
    );
  }
  const standInRuns = runs.filter((r) => r.standIn);
  if (standInRuns.length) {
    p(
      `**${STAND_IN_MARK}: ${standInRuns.length} run(s) used stand-in data:** ${standInRuns.map((r) => `\`${r.name}\``).join(', ')}.`,
      `<strong class="standin">${STAND_IN_MARK}: ${standInRuns.length} run(s) used stand-in data:</strong> ${standInRuns.map((r) => `<code>${escapeHtml(r.name)}</code>`).join(', ')}.`,
    );
  }

  const docNames = Object.keys(docs).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const others = runs.filter((r) => r.kind === 'preset' && r.comparison.length === 0);
  const contents: { md: string; html: string }[] = [];
  const tocItem = (text: string) => ({ md: `[${mdEscape(text)}](#${slug(text)})`, html: `<a href="#${slug(text)}">${escapeHtml(text)}</a>` });
  if (docNames.length === 0) contents.push(tocItem('Published numbers'));
  for (const d of docNames) contents.push(tocItem(`Seed document: ${d}`));
  if (others.length) contents.push(tocItem('Other runs'));
  if (exploratoryRuns.length) contents.push(tocItem('Exploratory runs'));
  contents.push(tocItem('Notebooks'), tocItem('Runs and provenance'));
  h(2, 'Contents');
  blocks.push({ kind: 'list', items: contents });

  if (docNames.length === 0) {
    h(2, 'Published numbers');
    p(exploratoryRuns.length ? 'No preset run has written comparison rows yet (only exploratory runs; see below).' : 'No run has written comparison rows yet (`comparison.csv` is empty everywhere).');
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
        profile: profileMark(r.profile, r.dataFree),
        data: dataMark(r),
        run: r.run,
        note: r.note,
      } as Row;
    });
    blocks.push({ kind: 'table', rows: table, columns: ['table / figure', 'quantity', 'paper', 'kit', 'kit − paper', 'profile', 'data', 'run', 'note'], highlight: (r) => r.data === STAND_IN_MARK });
    const docRuns = runs.filter((r) => r.kind === 'preset' && r.comparison.some((c) => c.seed_document === d));
    const figs = figureBlock(root, docRuns);
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
      p(describeRun(r, false));
      const links = tableLinks(r);
      if (links) blocks.push(links);
      const figs = figureBlock(root, [r]);
      if (figs) blocks.push(figs);
    }
  }

  if (exploratoryRuns.length) {
    h(2, 'Exploratory runs');
    p(
      'Runs with hand-set flags or configs (profile `custom`), or with no profile recorded: not a preset\'s settings, so their numbers are not the reproduction. ' +
        'A published number is not repeated once per run: one equal to a preset run\'s (above) is left out, and any other is listed once with the runs that gave it.',
    );
    const left = exploratory.equalToPreset + exploratory.duplicates;
    if (exploratory.rows.length) {
      blocks.push({
        kind: 'table',
        rows: exploratory.rows.map((r) => {
          const pv = numberOrNull(r.paper_value);
          const kv = numberOrNull(r.kit_value);
          return {
            'seed document': r.seed_document,
            'table / figure': r.table_or_figure,
            quantity: r.quantity,
            paper: r.paper_value,
            kit: r.kit_value,
            'kit − paper': pv !== null && kv !== null ? kv - pv : null,
            data: dataMark(r),
            runs: r.runs.join(', '),
            note: r.note,
          } as Row;
        }),
        columns: ['seed document', 'table / figure', 'quantity', 'paper', 'kit', 'kit − paper', 'data', 'runs', 'note'],
        highlight: (r) => r.data === STAND_IN_MARK,
      });
    }
    const total = exploratoryRuns.reduce((n, r) => n + r.comparison.length, 0);
    const from = `${exploratoryRuns.filter((r) => r.comparison.length).length} exploratory run(s)`;
    if (total && exploratory.rows.length === 0) {
      p(`The ${total} published-number row(s) from ${from} all equal a preset run's, so none is repeated here.`);
    } else if (total) {
      p(
        `${total} published-number row(s) from ${from}: ${exploratory.rows.length} listed above, ` +
          `${exploratory.equalToPreset} equal to a preset run's and ${exploratory.duplicates} repeating another exploratory run's (${left} not repeated).`,
      );
    }
    for (const r of exploratoryRuns) {
      h(3, r.name);
      p(describeRun(r, true));
      const links = tableLinks(r);
      if (links) blocks.push(links);
      const figs = figureBlock(root, [r]);
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
        kind: r.kind,
        data: dataMark(r),
        'published numbers': r.comparison.length,
      })),
      columns: ['run', 'command', 'preset', 'profile', 'kind', 'seed', 'backend', 'commit', 'status', 'started', 'wall time', 'data', 'published numbers'],
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
              if (c === 'runs') return s.split(', ').filter(Boolean).map((x) => `\`${x}\``).join(', ');
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
figure{display:inline-block;margin:1em 1em 1em 0;max-width:100%}figure img{max-width:100%;height:auto;border:1px solid #ddd}figcaption{font-size:0.85em;color:#555}
figure.standin img{border:3px solid #D55E00}`;

/** PNG width and height from its IHDR chunk (null when the bytes are not a whole PNG header). */
function pngSize(buf: Buffer): { width: number; height: number } | null {
  if (buf.length < 24 || buf.readUInt32BE(0) !== 0x89504e47 || buf.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/**
 * A figure embedded in the HTML, so the report needs no other file: the PNG as a data: URI (drawn by resvg with
 * the real fonts, so it looks the same everywhere; the kit writes it at 2x, shown at half its pixels), else the
 * SVG as one. A figure whose files cannot be read is named in its caption.
 */
function figureHtmlEmbedded(f: FigureItem): string {
  let img = '';
  try {
    if (f.png && fs.existsSync(f.png)) {
      const buf = fs.readFileSync(f.png);
      const size = pngSize(buf);
      const dims = size ? ` width="${Math.round(size.width / 2)}" height="${Math.round(size.height / 2)}"` : '';
      img = `<img src="data:image/png;base64,${buf.toString('base64')}" alt="${escapeHtml(f.alt)}"${dims}>`;
    } else if (f.svg && fs.existsSync(f.svg)) {
      const svg = fs.readFileSync(f.svg, 'utf8');
      const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
      const dims = m ? ` width="${Math.round(Number(m[1]))}" height="${Math.round(Number(m[2]))}"` : '';
      img = `<img src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}" alt="${escapeHtml(f.alt)}"${dims}>`;
    }
  } catch {
    img = '';
  }
  const caption = img ? f.captionHtml : `${f.captionHtml} (figure file ${escapeHtml(f.src)} could not be read)`;
  return `<figure${f.standIn ? ' class="standin"' : ''}>${img}<figcaption>${caption}</figcaption></figure>`;
}

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
        body.push(b.items.map(figureHtmlEmbedded).join('\n'));
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
  for (const r of runs) if (r.kind === 'preset') for (const c of r.comparison) (docs[c.seed_document] ??= []).push(c);
  const exploratory = exploratoryComparisons(runs);
  const notebooks = collectNotebooks(root);
  const blocks = buildBlocks(root, runs, docs, exploratory, notebooks);
  const markdown = toMarkdown(blocks);
  const html = toHtml(blocks);
  const markdownPath = path.join(root, 'REPORT.md');
  const htmlPath = path.join(root, 'REPORT.html');
  writeFileAtomic(markdownPath, markdown);
  writeFileAtomic(htmlPath, html);
  return { markdownPath, htmlPath, markdown, html, runs, seedDocuments: docs, exploratory, notebooks };
}

/**
 * The exploratory runs' published numbers, each once: a row equal to a preset run's (same seed document, table,
 * quantity, paper and kit value) is left out, and one several exploratory runs gave is listed with all of them.
 */
export function exploratoryComparisons(runs: ReportRun[]): ReportResult['exploratory'] {
  const key = (c: ReportComparison) => JSON.stringify([c.seed_document, c.table_or_figure, c.quantity, String(c.paper_value ?? ''), String(c.kit_value ?? '')]);
  const preset = new Set(runs.filter((r) => r.kind === 'preset').flatMap((r) => r.comparison.map(key)));
  const rows = new Map<string, ExploratoryComparison>();
  let equalToPreset = 0;
  let duplicates = 0;
  for (const r of runs) {
    if (r.kind !== 'exploratory') continue;
    for (const c of r.comparison) {
      const k = key(c);
      if (preset.has(k)) {
        equalToPreset++;
        continue;
      }
      const seen = rows.get(k);
      if (!seen) {
        rows.set(k, { ...c, runs: [c.run] });
        continue;
      }
      duplicates++;
      if (!seen.runs.includes(c.run)) seen.runs.push(c.run);
      seen.standIn ||= c.standIn;
      seen.dataFree &&= c.dataFree;
    }
  }
  return { rows: [...rows.values()], equalToPreset, duplicates };
}
