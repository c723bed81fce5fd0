/**
 * Figures: vega-lite specs (plain JSON data) rendered headless to SVG by vega, and to PNG (2x) by resvg, in the
 * kit's one style (theme.ts). Both files go to a run's `figures/`; the SVG and PNG are returned too, for
 * inline display in notebooks: `tslab.display.html(figureHtml(fig))` (the PNG at the figure's size; survives
 * nbconvert's HTML export), or `tslab.display.svg(fig.svg)` / `tslab.display.png(fig.png)`.
 *
 * vega and vega-lite 6 are ESM only and vega-canvas uses top-level await, so they cannot be `require`d; they
 * are loaded here with a dynamic `import()` on first use, which keeps this module (and the whole kit)
 * loadable by `require`, as tslab does with the code of notebook cells.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { writeFileAtomic } from '../util/files.js';
import { THEME, FONT_FAMILY, OKABE_ITO } from './theme.js';
import { DEJAVU_SANS, DEJAVU_SANS_BOLD } from './font-metrics.js';
import { KitError } from '../util/errors.js';

/** A vega-lite specification as JSON data (https://vega.github.io/vega-lite/docs/spec.html). */
export type VegaLiteSpec = Record<string, unknown>;

/** What every figure says about where its numbers came from (conventions.md: profiles and stand-in data). */
export interface FigureLabel {
  /** smoke | quick | paper (or custom): shown in the subtitle so reduced runs are never mistaken for the paper's. */
  profile?: string;
  /** The run used an offline stand-in dataset: the subtitle says "stand-in data". */
  standIn?: boolean;
}

export interface FigureOptions extends FigureLabel {
  /** Directory to write `<name>.svg` and `<name>.png` into (e.g. `run.figurePath('')` or a run's figures/). */
  dir?: string;
  /** File name without extension (default `figure`). */
  name?: string;
  /** PNG pixels per SVG unit (default 2: print and high-DPI screens). */
  scale?: number;
}

export interface Figure {
  name: string;
  /** The SVG document (self-contained; fonts by family name). */
  svg: string;
  /** The PNG bytes. */
  png: Uint8Array;
  /** Paths written (absent when no `dir` was given). */
  files: { svg?: string; png?: string };
  /** The spec as rendered (theme and labels applied), for re-use or saving. */
  spec: VegaLiteSpec;
}

export class FigureError extends KitError {
  constructor(message: string) {
    super(message);
    this.name = 'FigureError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// vega, loaded lazily (ESM only), with text measured by DejaVu Sans's real advance widths

type Vega = typeof import('vega');
type VegaLite = typeof import('vega-lite');
let libs: Promise<{ vega: Vega; vl: VegaLite }> | null = null;

function textWidth(text: string, fontSize: number, bold: boolean): number {
  const table = bold ? DEJAVU_SANS_BOLD : DEJAVU_SANS;
  let em = 0;
  for (const ch of text) em += table[ch] ?? (ch.codePointAt(0)! > 0x2e80 ? 1 : 0.62);
  return em * fontSize;
}

function loadVega(): Promise<{ vega: Vega; vl: VegaLite }> {
  libs ??= (async () => {
    const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
    // Without a canvas vega guesses 0.8 em per character, which is far off for DejaVu Sans and leaves labels,
    // legends and titles misplaced; measure with the font's widths instead (vega supports a custom width).
    // (`textMetrics` is exported by vega at run time but missing from its type declarations)
    const metrics = (vega as unknown as { textMetrics: { width: (item: unknown, text?: unknown) => number } }).textMetrics;
    metrics.width = (item: unknown, text?: unknown) => {
      const it = item as { fontSize?: number; fontWeight?: string | number; text?: unknown; limit?: number };
      const size = it.fontSize != null ? +it.fontSize || 0 : 11;
      const s = text == null ? '' : String(text).trim();
      const w = it.fontWeight;
      return textWidth(s, size, w === 'bold' || w === 'bolder' || (typeof w === 'number' && w >= 600) || Number(w) >= 600);
    };
    return { vega, vl };
  })();
  return libs;
}

// ---------------------------------------------------------------------------------------------------------------
// PNG through resvg (a prebuilt binary from the npm registry), with the DejaVu files when they are present

const require = createRequire(import.meta.url);
const FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu', '/usr/share/fonts/TTF', '/usr/local/share/fonts'];
let fontFiles: string[] | null = null;

function dejavuFiles(): string[] {
  if (fontFiles) return fontFiles;
  fontFiles = [];
  for (const d of FONT_DIRS) {
    for (const f of ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf']) {
      if (fs.existsSync(path.join(d, f))) fontFiles.push(path.join(d, f));
    }
    if (fontFiles.length) break;
  }
  return fontFiles;
}

/** SVG text to PNG bytes at `scale` (DejaVu Sans from fonts-dejavu-core, else the system's fonts). */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  const files = dejavuFiles();
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { fontFiles: files, loadSystemFonts: files.length === 0, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  });
  return new Uint8Array(r.render().asPng());
}

// ---------------------------------------------------------------------------------------------------------------
// specs

/** Adds the profile and stand-in marks to the spec's subtitle (a title is created when there is none). */
export function labelSpec(spec: VegaLiteSpec, label: FigureLabel): VegaLiteSpec {
  const marks: string[] = [];
  if (label.profile) marks.push(`profile: ${label.profile}`);
  if (label.standIn) marks.push('STAND-IN DATA (not the published dataset)');
  if (!marks.length) return spec;
  const t = spec.title;
  const title: Record<string, unknown> = t == null ? { text: '' } : typeof t === 'object' && !Array.isArray(t) ? { ...(t as Record<string, unknown>) } : { text: t };
  const sub = title.subtitle == null ? [] : Array.isArray(title.subtitle) ? [...title.subtitle] : [title.subtitle];
  title.subtitle = [...sub, marks.join(' · ')];
  if (label.standIn) title.subtitleColor = OKABE_ITO[3];
  return { ...spec, title };
}

/** Compiles a vega-lite spec with the kit's theme and renders it to an SVG string. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const { vega, vl } = await loadVega();
  let compiled;
  try {
    compiled = vl.compile(spec as never, { config: THEME as never }).spec;
  } catch (e) {
    throw new FigureError(`vega-lite could not compile the spec: ${(e as Error).message}`);
  }
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Renders a vega-lite spec (theme, profile and stand-in marks applied) to SVG and PNG; with `dir`, writes
 * `<dir>/<name>.svg` and `<dir>/<name>.png` atomically.
 */
export async function renderFigure(spec: VegaLiteSpec, opts: FigureOptions = {}): Promise<Figure> {
  const name = opts.name ?? 'figure';
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new FigureError(`figure name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-" only`);
  const labelled = labelSpec(spec, opts);
  const svg = await renderSvg(labelled);
  const png = svgToPng(svg, opts.scale ?? 2);
  const files: Figure['files'] = {};
  if (opts.dir) {
    files.svg = path.join(opts.dir, `${name}.svg`);
    files.png = path.join(opts.dir, `${name}.png`);
    writeFileAtomic(files.svg, svg);
    writeFileAtomic(files.png, png);
  }
  return { name, svg, png, files, spec: labelled };
}

/**
 * The figure as an HTML `<img>` of its 2x PNG shown at the SVG's size, for notebooks:
 * `tslab.display.html(figureHtml(fig))`. Sharp on high-DPI screens, and it survives `jupyter nbconvert --to
 * html`, whose SVG sanitiser (nbconvert < 7.7, as in Debian 12) strips `image/svg+xml` outputs to bare text.
 */
export function figureHtml(fig: Pick<Figure, 'svg' | 'png' | 'name'>, opts: { alt?: string } = {}): string {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(fig.svg);
  const size = m ? ` width="${Math.round(Number(m[1]))}" height="${Math.round(Number(m[2]))}"` : '';
  const alt = (opts.alt ?? fig.name).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<img src="data:image/png;base64,${Buffer.from(fig.png).toString('base64')}"${size} alt="${alt}">`;
}

/** `renderFigure` with `rows` as the spec's inline data. */
export function figure(rows: Record<string, unknown>[], spec: VegaLiteSpec, opts: FigureOptions = {}): Promise<Figure> {
  return renderFigure({ ...spec, data: { values: rows } }, opts);
}

// ---------------------------------------------------------------------------------------------------------------
// ready-made figures

/** One epoch of training history (the fields of `EpochLog`; epochs counted from 0). */
export interface HistoryRow {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number | null;
  valAccuracy?: number | null;
}

/** The spec of a training-history figure: loss and accuracy per epoch, training and validation. */
export function historySpec(history: HistoryRow[], title = 'Training history'): VegaLiteSpec {
  const rows: Record<string, unknown>[] = [];
  for (const h of history) {
    const epoch = h.epoch + 1;
    rows.push({ epoch, split: 'training', metric: 'loss', value: h.loss });
    rows.push({ epoch, split: 'training', metric: 'accuracy', value: h.accuracy * 100 });
    if (h.valLoss != null && Number.isFinite(h.valLoss)) rows.push({ epoch, split: 'validation', metric: 'loss', value: h.valLoss });
    if (h.valAccuracy != null && Number.isFinite(h.valAccuracy)) rows.push({ epoch, split: 'validation', metric: 'accuracy', value: h.valAccuracy * 100 });
  }
  const maxEpoch = Math.max(1, ...history.map((h) => h.epoch + 1));
  const splits = ['training', 'validation'].filter((s) => rows.some((r) => r.split === s));
  // Accuracy axis: the data's range widened to at least 10 points, within 0..100 (one epoch gives one value).
  const acc = rows.filter((r) => r.metric === 'accuracy').map((r) => r.value as number);
  let lo = acc.length ? Math.min(...acc) : 0;
  let hi = acc.length ? Math.max(...acc) : 100;
  if (hi - lo < 10) {
    const mid = (hi + lo) / 2;
    [lo, hi] = [mid - 5, mid + 5];
  }
  const accDomain = [Math.max(0, Math.floor(lo - 1)), Math.min(100, Math.ceil(hi + 1))];
  const panel = (metric: string, yTitle: string, zero: boolean) => ({
    width: 300,
    height: 220,
    transform: [{ filter: { field: 'metric', equal: metric } }],
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { domain: [history.length > 1 ? 1 : 0, maxEpoch + (history.length > 1 ? 0 : 1)] }, axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: metric === 'accuracy' ? { domain: accDomain } : { zero } },
      color: { field: 'split', type: 'nominal', title: null, scale: { domain: splits }, legend: { orient: 'bottom' } },
    },
  });
  return {
    $schema: 'https://vega.github.io/vega-lite/v6.json',
    title: { text: title },
    data: { values: rows },
    hconcat: [panel('loss', 'loss (cross-entropy, nats)', true), panel('accuracy', 'accuracy (%)', false)],
    resolve: { scale: { color: 'shared' } },
  };
}

/** Renders (and with `dir` writes) the training-history figure `history.svg` / `history.png`. */
export function historyFigure(history: HistoryRow[], opts: FigureOptions & { title?: string } = {}): Promise<Figure> {
  return renderFigure(historySpec(history, opts.title), { name: 'history', ...opts });
}
