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

/**
 * Legend of line series: a stroke swatch in the line's colour and dash (vega-lite's default for a line with
 * points is a filled circle, which matches neither). Long enough to show a dash pattern.
 */
export const LINE_LEGEND = { symbolType: 'stroke', symbolSize: 500, symbolStrokeWidth: 2.5 } as const;

/** Dash patterns by series order: solid, dashed, dotted, dash-dot (with colour, so series differ in grey too). */
export const DASHES: number[][] = [[1, 0], [7, 4], [2, 3], [8, 3, 2, 3]];

/** The ink of reference rules (test results, overall means): not a series colour. */
const REFERENCE_INK = '#222222';

/** `[lo, hi]` around `values` for an axis that shows their differences: padded, rounded, clamped to `limits`. */
export function closeDomain(values: number[], o: { minSpan?: number; limits?: [number, number]; pad?: number } = {}): [number, number] {
  const [minLimit, maxLimit] = o.limits ?? [-Infinity, Infinity];
  const v = values.filter((x) => Number.isFinite(x));
  if (!v.length) return [Number.isFinite(minLimit) ? minLimit : 0, Number.isFinite(maxLimit) ? maxLimit : 1];
  let lo = Math.min(...v);
  let hi = Math.max(...v);
  const minSpan = o.minSpan ?? 1;
  if (hi - lo < minSpan) {
    const mid = (hi + lo) / 2;
    [lo, hi] = [mid - minSpan / 2, mid + minSpan / 2];
  }
  const pad = (hi - lo) * (o.pad ?? 0.15);
  const step = hi - lo > 20 ? 5 : hi - lo > 4 ? 1 : 0.5;
  lo = Math.floor((lo - pad) / step) * step;
  hi = Math.ceil((hi + pad) / step) * step;
  if (lo < minLimit) [lo, hi] = [minLimit, Math.min(maxLimit, hi + (minLimit - lo))];
  if (hi > maxLimit) [lo, hi] = [Math.max(minLimit, lo - (hi - maxLimit)), maxLimit];
  return [lo, hi];
}

/** One epoch of training history (the fields of `EpochLog`; epochs counted from 0). */
export interface HistoryRow {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number | null;
  valAccuracy?: number | null;
}

export interface HistoryOptions {
  title?: string;
  /** The final model's test accuracy (a fraction, as `evaluate` returns it): a labelled rule on the accuracy panel. */
  testAccuracy?: number | null;
  /** The final model's test loss: a labelled rule on the loss panel. */
  testLoss?: number | null;
}

/**
 * The spec of a training-history figure: loss and accuracy per epoch, training (solid) and validation (dashed)
 * when the history has it, with the final test accuracy and loss as labelled dotted rules when given. The legend
 * shows each series' line in its colour and dash.
 */
export function historySpec(history: HistoryRow[], opts: string | HistoryOptions = {}): VegaLiteSpec {
  const o: HistoryOptions = typeof opts === 'string' ? { title: opts } : opts;
  const rows: Record<string, unknown>[] = [];
  for (const h of history) {
    const epoch = h.epoch + 1;
    rows.push({ epoch, split: 'training', metric: 'loss', value: h.loss });
    rows.push({ epoch, split: 'training', metric: 'accuracy', value: h.accuracy * 100 });
    if (h.valLoss != null && Number.isFinite(h.valLoss)) rows.push({ epoch, split: 'validation', metric: 'loss', value: h.valLoss });
    if (h.valAccuracy != null && Number.isFinite(h.valAccuracy)) rows.push({ epoch, split: 'validation', metric: 'accuracy', value: h.valAccuracy * 100 });
  }
  const many = history.length > 1;
  const maxEpoch = Math.max(1, ...history.map((h) => h.epoch + 1));
  const xDomain = [many ? 1 : 0, maxEpoch + (many ? 0 : 1)];
  const splits = ['training', 'validation'].filter((s) => rows.some((r) => r.split === s));
  const test = {
    accuracy: o.testAccuracy != null && Number.isFinite(o.testAccuracy) ? o.testAccuracy * 100 : null,
    loss: o.testLoss != null && Number.isFinite(o.testLoss) ? o.testLoss : null,
  };
  // Accuracy axis: the data's range (and the test accuracy) widened to at least 10 points, within 0..100.
  const acc = rows.filter((r) => r.metric === 'accuracy').map((r) => r.value as number);
  if (test.accuracy !== null) acc.push(test.accuracy);
  let lo = acc.length ? Math.min(...acc) : 0;
  let hi = acc.length ? Math.max(...acc) : 100;
  if (hi - lo < 10) {
    const mid = (hi + lo) / 2;
    [lo, hi] = [mid - 5, mid + 5];
  }
  const accDomain = [Math.max(0, Math.floor(lo - 1)), Math.min(100, Math.ceil(hi + 1))];
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { domain: xDomain }, axis: { tickMinStep: 1, format: 'd' } };
  const panel = (metric: 'loss' | 'accuracy', yTitle: string) => {
    const yScale = metric === 'accuracy' ? { domain: accDomain } : { zero: true };
    const y = { field: 'value', type: 'quantitative', title: yTitle, scale: yScale };
    const only = [{ filter: { field: 'metric', equal: metric } }];
    const color = { field: 'split', type: 'nominal', title: null, scale: { domain: splits } };
    const layer: Record<string, unknown>[] = [
      {
        transform: only,
        mark: { type: 'line' },
        encoding: {
          x,
          y,
          color: { ...color, legend: { orient: 'bottom', ...LINE_LEGEND } },
          strokeDash: { field: 'split', type: 'nominal', title: null, scale: { domain: splits, range: DASHES.slice(0, splits.length) } },
        },
      },
      // a point per epoch, so one epoch is still visible (it shares the lines' legend, whose swatches are lines)
      { transform: only, mark: { type: 'point', filled: true, size: many ? 30 : 70 }, encoding: { x, y, color } },
    ];
    const t = test[metric];
    if (t !== null) {
      const label = metric === 'accuracy' ? `test ${t.toFixed(2)}%` : `test ${Number(t.toPrecision(3))}`;
      const ref = { data: { values: [{ value: t, label }] } };
      layer.push(
        { ...ref, mark: { type: 'rule', color: REFERENCE_INK, strokeDash: [2, 3], strokeWidth: 2 }, encoding: { y } },
        // the label at the left end, where accuracy curves are still low and loss curves still high
        { ...ref, mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 4, dy: -3, color: REFERENCE_INK, fontSize: 13 }, encoding: { x: { ...x, datum: xDomain[0], field: undefined }, y, text: { field: 'label' } } },
      );
    }
    return { width: 300, height: 220, layer };
  };
  return {
    $schema: 'https://vega.github.io/vega-lite/v6.json',
    title: { text: o.title ?? 'Training history' },
    data: { values: rows },
    hconcat: [panel('loss', 'loss (cross-entropy, nats)'), panel('accuracy', 'accuracy (%)')],
    resolve: { scale: { color: 'shared', strokeDash: 'shared' } },
  };
}

/** Renders (and with `dir` writes) the training-history figure `history.svg` / `history.png`. */
export function historyFigure(history: HistoryRow[], opts: FigureOptions & HistoryOptions = {}): Promise<Figure> {
  return renderFigure(historySpec(history, opts), { name: 'history', ...opts });
}

export interface PerClassOptions {
  /** The field naming the class (default `class`). */
  classField?: string;
  /** The field with the value, in the axis's units, e.g. accuracy in % (default `accuracy`). */
  valueField?: string;
  /** The overall value (same units): a labelled dotted rule. */
  overall?: number | null;
  title?: string;
  subtitle?: string;
  xTitle?: string;
  /** Default `accuracy (%)`. */
  yTitle?: string;
  /** Clamp the axis to these (default [0, 100], for percentages). */
  limits?: [number, number];
  /** Decimals of the value labels (default: 2 when the bars differ by less than 2 units, else 1). */
  decimals?: number;
  width?: number;
  height?: number;
}

/**
 * A bar per class (per-digit accuracy and the like) on an axis that shows their differences: the axis spans the
 * values (not 0..100 when every bar is near 98%), the bars start at the axis floor, every bar is labelled with
 * its value, and the subtitle says where the axis starts so the bars are not read as ratios of each other.
 */
export function perClassSpec(rows: Record<string, unknown>[], o: PerClassOptions = {}): VegaLiteSpec {
  const cf = o.classField ?? 'class';
  const vf = o.valueField ?? 'accuracy';
  const values = rows.map((r) => Number(r[vf])).filter((v) => Number.isFinite(v));
  const limits = o.limits ?? [0, 100];
  const all = o.overall != null && Number.isFinite(o.overall) ? [...values, o.overall] : values;
  let [lo, hi] = closeDomain(all, { limits, minSpan: 1, pad: 0.2 });
  // a domain that already reaches down to a quarter of the top: start at the limit (plain bars)
  if (lo - limits[0] < 0.25 * (hi - limits[0])) lo = limits[0];
  // room above the tallest bar for its label
  hi = Math.min(limits[1], hi + (hi - lo) * 0.04);
  const spread = values.length ? Math.max(...values) - Math.min(...values) : 0;
  const decimals = o.decimals ?? (spread < 2 ? 2 : 1);
  const x = { field: cf, type: 'nominal', title: o.xTitle ?? cf, sort: null, axis: { labelAngle: 0 } };
  const y = { field: vf, type: 'quantitative', title: o.yTitle ?? 'accuracy (%)', scale: { domain: [lo, hi], zero: false, nice: false } };
  const layer: Record<string, unknown>[] = [
    { mark: { type: 'bar', clip: true }, encoding: { x, y, y2: { datum: lo } } },
    { mark: { type: 'text', baseline: 'bottom', dy: -3, fontSize: 12 }, encoding: { x, y, text: { field: vf, type: 'quantitative', format: `.${decimals}f` } } },
  ];
  if (o.overall != null && Number.isFinite(o.overall)) {
    const ref = { data: { values: [{ [vf]: o.overall, label: ['overall', o.overall.toFixed(decimals)] }] } };
    layer.push(
      { ...ref, mark: { type: 'rule', color: REFERENCE_INK, strokeDash: [2, 3], strokeWidth: 2 }, encoding: { y } },
      // labelled beside the plot, clear of the bars' labels
      { ...ref, mark: { type: 'text', align: 'left', baseline: 'middle', dx: 6, x: { expr: 'width' }, color: REFERENCE_INK, fontSize: 13, lineHeight: 16 }, encoding: { y, text: { field: 'label' } } },
    );
  }
  const axisNote = lo > limits[0] ? `axis starts at ${lo}, not ${limits[0]}` : '';
  const subtitle = [o.subtitle, axisNote].filter(Boolean) as string[];
  return {
    $schema: 'https://vega.github.io/vega-lite/v6.json',
    title: { text: o.title ?? 'Per class', ...(subtitle.length ? { subtitle } : {}) },
    data: { values: rows },
    width: o.width ?? Math.max(300, 40 * rows.length),
    height: o.height ?? 260,
    layer,
  };
}

/** Renders (and with `dir` writes) a per-class bar chart (default name `per-class`). */
export function perClassFigure(rows: Record<string, unknown>[], opts: FigureOptions & PerClassOptions = {}): Promise<Figure> {
  return renderFigure(perClassSpec(rows, opts), { name: 'per-class', ...opts });
}

export interface SeedSpreadOptions {
  /** The field on the x axis (epochs, bits, a method...). */
  x: string;
  /** The measured field (one value per seed at each x). */
  y: string;
  /** The field naming the seed (default `seed`). */
  seed?: string;
  /** A field that splits the rows into series (one colour each). */
  group?: string;
  /** `sd` (default): mean ± one sample standard deviation; `minmax`: the lowest and highest seed. */
  spread?: 'sd' | 'minmax';
  /** x as a number (band and line; the default when every x is a number) or as categories (point and error bar). */
  xType?: 'quantitative' | 'ordinal' | 'nominal';
  /** Draw every seed's value as a faint point (default true). */
  seeds?: boolean;
  title?: string;
  xTitle?: string;
  yTitle?: string;
  width?: number;
  height?: number;
}

/** Mean and spread of `y` over seeds at each `x` (and `group`): the rows `seedSpreadSpec` draws. */
export interface SeedSummaryRow {
  x: unknown;
  group: string | null;
  mean: number;
  lo: number;
  hi: number;
  sd: number;
  n: number;
}

export function summarizeSeeds(rows: Record<string, unknown>[], o: Pick<SeedSpreadOptions, 'x' | 'y' | 'seed' | 'group' | 'spread'>): SeedSummaryRow[] {
  const seedField = o.seed ?? 'seed';
  const cells = new Map<string, { x: unknown; group: string | null; values: Map<string, number> }>();
  for (const r of rows) {
    const v = Number(r[o.y]);
    if (r[o.y] == null || !Number.isFinite(v)) continue;
    if (!(seedField in r)) throw new FigureError(`seed spread: a row has no "${seedField}" field (rows need a seed column)`);
    const group = o.group ? String(r[o.group]) : null;
    const key = JSON.stringify([r[o.x], group]);
    const cell = cells.get(key) ?? { x: r[o.x], group, values: new Map<string, number>() };
    cell.values.set(String(r[seedField]), v); // one value per seed (a repeated seed keeps its last value)
    cells.set(key, cell);
  }
  return [...cells.values()].map(({ x, group, values }) => {
    const v = [...values.values()];
    const n = v.length;
    const mean = v.reduce((a, b) => a + b, 0) / n;
    const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
    const [lo, hi] = o.spread === 'minmax' ? [Math.min(...v), Math.max(...v)] : [mean - sd, mean + sd];
    return { x, group, mean, lo, hi, sd, n };
  });
}

/**
 * Mean and spread over seeds: `rows` hold one value per seed (a `seed` column) at each x (and group). A
 * numeric x gives the mean as a line with the spread as a shaded band; categories give the mean as a point
 * with the spread as an error bar. The subtitle says what the spread is and over how many seeds.
 */
export function seedSpreadSpec(rows: Record<string, unknown>[], o: SeedSpreadOptions): VegaLiteSpec {
  const summary = summarizeSeeds(rows, o);
  if (!summary.length) throw new FigureError(`seed spread: no row has a number in "${o.y}"`);
  const xType = o.xType ?? (summary.every((s) => typeof s.x === 'number') ? 'quantitative' : 'nominal');
  const counts = summary.map((s) => s.n);
  const [nMin, nMax] = [Math.min(...counts), Math.max(...counts)];
  const nText = nMin === nMax ? `${nMin} seed${nMin === 1 ? '' : 's'}` : `${nMin}–${nMax} seeds`;
  const spreadText = o.spread === 'minmax' ? 'lowest to highest seed' : '± 1 standard deviation';
  const data = summary.map((s) => ({ [o.x]: s.x, series: s.group, mean: s.mean, lo: s.lo, hi: s.hi, sd: s.sd, n: s.n }));
  const groups = o.group ? [...new Set(summary.map((s) => s.group as string))] : [];
  const integers = xType === 'quantitative' && summary.every((s) => Number.isInteger(s.x));
  const xAxis = xType !== 'quantitative' ? { sort: null, axis: { labelAngle: 0 } } : integers ? { axis: { tickMinStep: 1, format: 'd' } } : {};
  const x = { field: o.x, type: xType, title: o.xTitle ?? o.x, ...xAxis };
  const yTitle = o.yTitle ?? o.y;
  const y = (field: string) => ({ field, type: 'quantitative', title: yTitle, scale: { zero: false } });
  const color = o.group ? { field: 'series', type: 'nominal', title: o.group, scale: { domain: groups } } : undefined;
  // One legend for all layers: set on one layer only (a `legend: null` elsewhere would disable the merged one).
  const withColor = (enc: Record<string, unknown>, legend?: unknown) => (color ? { ...enc, color: legend === undefined ? color : { ...color, legend } } : enc);
  const layer: Record<string, unknown>[] = [];
  const raw = (o.seeds ?? true)
    ? {
        data: { values: rows.filter((r) => Number.isFinite(Number(r[o.y])) && r[o.y] != null).map((r) => ({ [o.x]: r[o.x], series: o.group ? String(r[o.group]) : null, value: Number(r[o.y]) })) },
        // fillOpacity, not opacity: a layer's opacity would carry into the shared legend's swatches
        mark: { type: 'point', filled: true, size: 22, fillOpacity: 0.45 },
        encoding: withColor({ x, y: y('value'), ...(xType !== 'quantitative' && o.group ? { xOffset: { field: 'series', type: 'nominal', scale: { domain: groups } } } : {}) }),
      }
    : null;
  if (xType === 'quantitative') {
    layer.push(
      { mark: { type: 'area', fillOpacity: 0.18 }, encoding: withColor({ x, y: y('lo'), y2: { field: 'hi' } }) },
      { mark: { type: 'line' }, encoding: withColor({ x, y: y('mean') }, { orient: 'bottom', ...LINE_LEGEND }) },
    );
    if (raw) layer.push(raw);
  } else {
    const offset = o.group ? { xOffset: { field: 'series', type: 'nominal', scale: { domain: groups } } } : {};
    layer.push(
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: withColor({ x, ...offset, y: y('lo'), y2: { field: 'hi' } }) },
      { mark: { type: 'tick', orient: 'horizontal', thickness: 2, size: 10 }, encoding: withColor({ x, ...offset, y: y('lo') }) },
      { mark: { type: 'tick', orient: 'horizontal', thickness: 2, size: 10 }, encoding: withColor({ x, ...offset, y: y('hi') }) },
      { mark: { type: 'point', filled: true, size: 70 }, encoding: withColor({ x, ...offset, y: y('mean') }, { orient: 'bottom' }) },
    );
    // the seeds last: the merged legend takes its swatches' look from the first layers (the error bars and means)
    if (raw) layer.push(raw);
  }
  return {
    $schema: 'https://vega.github.io/vega-lite/v6.json',
    title: { text: o.title ?? `${yTitle} over seeds`, subtitle: [`mean (${xType === 'quantitative' ? 'line' : 'point'}) and ${spreadText} (${xType === 'quantitative' ? 'band' : 'bar'}) over ${nText}`] },
    data: { values: data },
    width: o.width ?? 380,
    height: o.height ?? 260,
    layer,
  };
}

/** Renders (and with `dir` writes) a mean-and-spread-over-seeds figure (default name `seeds`). */
export function seedSpreadFigure(rows: Record<string, unknown>[], opts: FigureOptions & SeedSpreadOptions): Promise<Figure> {
  return renderFigure(seedSpreadSpec(rows, opts), { name: 'seeds', ...opts });
}
