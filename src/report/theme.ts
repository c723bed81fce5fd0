/**
 * The one look of every figure the kit makes: DejaVu Sans (Debian's fonts-dejavu-core, the font resvg draws
 * with), sizes readable at print width, labelled axes, and the Okabe-Ito colour-blind-safe palette.
 * `renderFigure` applies it as the vega-lite `config` under whatever a spec sets itself.
 */

/** The font family of every figure; its metrics are in font-metrics.ts. */
export const FONT_FAMILY = 'DejaVu Sans';

/**
 * Okabe & Ito (2008), "Color Universal Design": distinguishable with any common colour-vision deficiency.
 * Ordered for lines and bars on white (yellow late: weak contrast on white; black last).
 */
export const OKABE_ITO = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'] as const;

/** Sequential scheme for heatmaps (confusion matrices, sweeps): perceptually ordered and colour-blind safe. */
export const SEQUENTIAL_SCHEME = 'viridis';

const INK = '#222222';
const MUTED = '#555555';

/** vega-lite `config` for every kit figure. */
export const THEME: Record<string, unknown> = {
  font: FONT_FAMILY,
  background: 'white',
  padding: 12,
  view: { continuousWidth: 420, continuousHeight: 280, stroke: '#cccccc' },
  title: { fontSize: 17, fontWeight: 'bold', color: INK, anchor: 'start', offset: 10, subtitleFontSize: 13, subtitleColor: MUTED, subtitlePadding: 4 },
  axis: {
    labelFontSize: 13,
    labelColor: INK,
    titleFontSize: 14,
    titleFontWeight: 'normal',
    titleColor: INK,
    titlePadding: 8,
    domainColor: '#666666',
    tickColor: '#666666',
    gridColor: '#e6e6e6',
    labelLimit: 220,
  },
  legend: { labelFontSize: 13, labelColor: INK, titleFontSize: 13, titleFontWeight: 'normal', titleColor: INK, symbolSize: 140, symbolStrokeWidth: 2.5, labelLimit: 260 },
  header: { labelFontSize: 14, labelColor: INK, titleFontSize: 14, titleFontWeight: 'normal' },
  text: { fontSize: 13, color: INK },
  range: { category: [...OKABE_ITO], ordinal: { scheme: SEQUENTIAL_SCHEME }, ramp: { scheme: SEQUENTIAL_SCHEME }, heatmap: { scheme: SEQUENTIAL_SCHEME } },
  line: { strokeWidth: 2.5 },
  point: { size: 70, filled: true },
  bar: { color: OKABE_ITO[0] },
  mark: { color: OKABE_ITO[0] },
  rule: { color: MUTED },
  concat: { spacing: 40 },
};
