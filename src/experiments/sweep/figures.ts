/**
 * The sweep's figures in the manner of seed 000 Figs. 3.1 and 3.2 (plotted there with plotly: accuracy against
 * complexity, colour by activation, symbol by compression; Fig. 3.2 the Pareto front alone): vega-lite specs as
 * data, rendered by the kit's figure helpers to SVG and PNG. Accuracy is cvBest in percent, complexity on a
 * log axis (it spans two orders of magnitude). Failed combinations have no accuracy and are left out.
 */
import { renderFigure, closeDomain, type Figure, type VegaLiteSpec } from '../../report/figures.js';
import { SWEEP_ACTIVATIONS, SWEEP_WEIGHTS } from './config.js';
import type { SweepRow } from './summary.js';

export interface SweepFigureOptions {
  /** e.g. "LeNet5 on mini-MNIST 32x32". */
  title: string;
  profile: string;
  standIn?: boolean;
  /** Directory to write into (a run's figures/). */
  dir?: string;
}

const WEIGHT_LABEL: Record<string, string> = { binary: 'binary', ternary: 'ternary', nbits: '4-bit', none: 'none (32-bit)' };
const ACT_LABEL: Record<string, string> = { none: 'none', binary: 'binary (STE)', 'binary-reste': 'binary (ReSTE)', relu: 'ReLU' };
const SHAPES = ['circle', 'square', 'triangle-up', 'diamond'];

type Basis = 'reference' | 'corrected';

function points(rows: SweepRow[], basis: Basis, nbits = 4) {
  return rows
    .filter((r) => r.status === 'ok' && r.cvBest !== null)
    .map((r) => ({
      compression: r.weights === 'nbits' ? `${nbits}-bit` : WEIGHT_LABEL[r.weights],
      activation: ACT_LABEL[r.activation],
      accuracy: 100 * r.cvBest!,
      complexity: basis === 'reference' ? r.complexityReference : r.complexityCorrected,
      pareto: basis === 'reference' ? r.pareto : r.paretoCorrected,
      label: `${r.weights === 'nbits' ? `${nbits}-bit` : r.weights}/${ACT_LABEL[r.activation]}`,
    }));
}

/**
 * Accuracy against complexity for every combination (Fig. 3.1), the Pareto front drawn as a step line through
 * its points, which are ringed; `frontOnly` draws only the front, each point labelled (Fig. 3.2).
 */
export function sweepSpec(rows: SweepRow[], o: { title: string; basis?: Basis; frontOnly?: boolean; nbits?: number }): VegaLiteSpec {
  const basis = o.basis ?? 'reference';
  const all = points(rows, basis, o.nbits);
  const shown = o.frontOnly ? all.filter((p) => p.pareto) : all;
  const front = all.filter((p) => p.pareto).sort((a, b) => a.complexity - b.complexity);
  const comps = SWEEP_WEIGHTS.map((w) => (w === 'nbits' ? `${o.nbits ?? 4}-bit` : WEIGHT_LABEL[w]));
  const acts = SWEEP_ACTIVATIONS.map((a) => ACT_LABEL[a]);
  const xTitle = basis === 'reference' ? 'complexity (seed-000 heuristic, log scale)' : 'complexity (corrected heuristic, log scale)';
  const x = { field: 'complexity', type: 'quantitative', title: xTitle, scale: { type: 'log', nice: false, padding: 16 }, axis: { format: '~s' } };
  const y = { field: 'accuracy', type: 'quantitative', title: 'cross-validation accuracy, cvBest (%)', scale: { domain: closeDomain(shown.map((p) => p.accuracy), { limits: [0, 100], minSpan: 2 }) } };
  const layer: Record<string, unknown>[] = [
    {
      data: { values: front },
      mark: { type: 'line', interpolate: 'step-after', color: '#444444', strokeDash: [4, 3], strokeWidth: 1.5 },
      encoding: { x, y },
    },
    {
      data: { values: shown.filter((p) => p.pareto) },
      mark: { type: 'point', shape: 'circle', size: 420, filled: false, color: '#222222', strokeWidth: 1.5 },
      encoding: { x, y },
    },
    {
      data: { values: shown },
      mark: { type: 'point', filled: true, size: 110, opacity: 0.9 },
      encoding: {
        x,
        y,
        color: { field: 'activation', type: 'nominal', title: 'activation', scale: { domain: acts } },
        shape: { field: 'compression', type: 'nominal', title: 'weight compression', scale: { domain: comps, range: SHAPES } },
        tooltip: [{ field: 'label' }, { field: 'accuracy', format: '.2f' }, { field: 'complexity', format: ',' }],
      },
    },
  ];
  if (o.frontOnly) {
    // Labels right of the points on the cheaper half of the front, left of them on the costlier half (the
    // front rises to the right, so neither runs into the legend or the line).
    const half = Math.ceil(shown.length / 2);
    const byCost = [...shown].sort((a, b) => a.complexity - b.complexity);
    const text = (values: typeof shown, align: 'left' | 'right') => ({
      data: { values },
      mark: { type: 'text', align, dx: align === 'left' ? 12 : -12, dy: -12, fontSize: 11, color: '#222222' },
      encoding: { x, y, text: { field: 'label' } },
    });
    layer.push(text(byCost.slice(0, half), 'left'), text(byCost.slice(half), 'right'));
  }
  return {
    $schema: 'https://vega.github.io/vega-lite/v6.json',
    title: {
      text: o.title,
      subtitle: o.frontOnly ? 'Pareto front: the most accurate model at each complexity (cf. seed 000 Fig. 3.2)' : 'every combination; ringed: the Pareto front (dashed) (cf. seed 000 Fig. 3.1)',
    },
    width: 520,
    height: 340,
    layer,
    resolve: { scale: { color: 'shared', shape: 'shared' } },
  };
}

/** Writes the three figures: `accuracy-complexity` (Fig. 3.1), `pareto-front` (Fig. 3.2), `accuracy-complexity-corrected`. */
export async function sweepFigures(rows: SweepRow[], o: SweepFigureOptions & { nbits?: number }): Promise<Figure[]> {
  const label = { profile: o.profile, standIn: o.standIn, dir: o.dir };
  return [
    await renderFigure(sweepSpec(rows, { title: `${o.title}: accuracy against complexity`, nbits: o.nbits }), { ...label, name: 'accuracy-complexity' }),
    await renderFigure(sweepSpec(rows, { title: `${o.title}: Pareto front`, frontOnly: true, nbits: o.nbits }), { ...label, name: 'pareto-front' }),
    await renderFigure(sweepSpec(rows, { title: `${o.title}: accuracy against corrected complexity`, basis: 'corrected', nbits: o.nbits }), { ...label, name: 'accuracy-complexity-corrected' }),
  ];
}
