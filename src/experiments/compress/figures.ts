/**
 * The study's figures as vega-lite specs built from its tables (seed 004 Figs. 3.3, 4.1-4.6), rendered by the
 * kit's figure helpers (SVG and PNG, profile and stand-in marks in the subtitle).
 */
import { figure, LINE_LEGEND, type Figure, type FigureOptions, type VegaLiteSpec } from '../../report/figures.js';
import type { StudyRun } from './study.js';
import type { Row } from './tables.js';
import { dataNames } from './tables.js';

const LAYER_ORDER = ['input', 'conv1', 'conv2', 'linear1', 'linear2', 'linear3'];
const W = 420;
const H = 240;

/** Error bars of mean +- std over runs, layered on a mark. */
function withErrorBars(x: Record<string, unknown>, mark: Record<string, unknown>, extra: Record<string, unknown> = {}): VegaLiteSpec {
  return {
    transform: [
      { calculate: 'datum.accuracy - (datum.std || 0)', as: 'lo' },
      { calculate: 'datum.accuracy + (datum.std || 0)', as: 'hi' },
    ],
    layer: [
      { mark, encoding: { x, y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy (%)', scale: { zero: false } }, ...extra } },
      { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, ...extra } },
    ],
  };
}

export interface StudyFigureInput {
  run: StudyRun;
  tables: Record<string, Row[]>;
}

/** Renders every figure the run's tables allow; returns them by name. */
export async function studyFigures(inp: StudyFigureInput, opts: Omit<FigureOptions, 'name'>): Promise<Figure[]> {
  const { run, tables } = inp;
  const names = dataNames(run);
  const o = (name: string): FigureOptions => ({ ...opts, name, standIn: names.standIn || opts.standIn });
  const runs = `mean and std over ${run.config.repeats} run${run.config.repeats > 1 ? 's' : ''}`;
  const out: Figure[] = [];
  const t41 = tables['fig-4.1'];
  if (t41) {
    out.push(
      await figure(
        t41.filter((r) => r.accuracy !== null),
        {
          title: { text: 'Fig. 4.1: quantizing one layer at a time', subtitle: `QuantNet on ${names.sd}; the layer at ${run.config.sensitivityBits} bit(s), QAT from scratch; ${runs}` },
          width: W,
          height: H,
          ...withErrorBars({ field: 'layer', type: 'nominal', sort: null, title: 'quantized layer', axis: { labelAngle: 0 } }, { type: 'bar' }),
        },
        o('fig-4.1-layer-sensitivity'),
      ),
    );
  }
  const t45 = tables['table-4.5'];
  const sig = tables['significance'];
  if (t45 && sig) {
    const profile = (d: 'sd' | 'td', rules: ('twonn' | 'pca' | 'twonn_channel')[]) =>
      t45.flatMap((r) =>
        rules.map((rule) => ({
          layer: r.layer,
          measure: rule === 'twonn' ? 'TwoNN (flattened)' : rule === 'pca' ? 'PCA nPC (95%, per channel)' : 'TwoNN* (per channel)',
          id: r[`${d}_${rule}_kit`],
          significant: rule === 'twonn_channel' ? false : (sig.find((s) => s.domain === d && s.rule === rule && s.layer === r.layer)?.significant_runs ?? 0) as number > 0,
        })),
      );
    const line = (rows: Row[], title: string, subtitle: string, name: string, facet: boolean) =>
      figure(
        rows.filter((r) => r.id !== null),
        {
          title: { text: title, subtitle },
          ...(facet ? { facet: { column: { field: 'measure', type: 'nominal', title: null } }, resolve: { scale: { y: 'independent' } } } : {}),
          spec: {
            width: facet ? 260 : W,
            height: H,
            layer: [
              { mark: { type: 'line', point: false }, encoding: { x: { field: 'layer', type: 'ordinal', sort: LAYER_ORDER, title: 'representation', axis: { labelAngle: 0 } }, y: { field: 'id', type: 'quantitative', title: 'intrinsic dimension' } } },
              {
                mark: { type: 'point', filled: true, size: 90 },
                encoding: {
                  x: { field: 'layer', type: 'ordinal', sort: LAYER_ORDER },
                  y: { field: 'id', type: 'quantitative' },
                  shape: { field: 'significant', type: 'nominal', title: `significant (Delta = ${run.config.id.delta})` },
                  color: { field: 'significant', type: 'nominal', title: `significant (Delta = ${run.config.id.delta})` },
                },
              },
            ],
          },
          ...(facet ? {} : {}),
        } as VegaLiteSpec,
        o(name),
      );
    out.push(await line(profile('sd', ['twonn']), 'Fig. 3.3: TwoNN intrinsic dimension of QuantNet\'s representations', `source domain ${names.sd}; significant: |ID_l - ID_(l-1)| > Delta in at least one run; ${runs}`, 'fig-3.3-twonn-profile', true));
    out.push(await line(profile('td', ['twonn', 'pca']), 'Fig. 4.3: significant layers by TwoNN and PCA, target domain', `${names.td} through the source model; ${runs}`, 'fig-4.3-id-profiles-target', true));
    const crit = sig
      .filter((s) => s.domain === 'td')
      .map((s) => ({ ...s, rule: s.rule === 'twonn' ? 'TwoNN: |ID_l - ID_(l-1)|' : 'PCA: nPC_l - nPC_(l-1)', significant: (s.significant_runs as number) * 2 > (s.runs as number) }));
    out.push(
      await figure(
        crit,
        {
          title: { text: 'Fig. 4.4: significance criteria per layer (target domain)', subtitle: `bars: mean criterion over runs; rule: Delta = ${run.config.id.delta}; colour: significant in most runs` },
          facet: { column: { field: 'rule', type: 'nominal', title: null } },
          resolve: { scale: { y: 'independent' } },
          spec: {
            width: 260,
            height: H,
            layer: [
              { mark: 'bar', encoding: { x: { field: 'layer', type: 'ordinal', sort: LAYER_ORDER, title: 'layer', axis: { labelAngle: 0 } }, y: { field: 'criterion', type: 'quantitative', title: 'criterion' }, color: { field: 'significant', type: 'nominal', title: 'significant' } } },
              { mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2 }, encoding: { y: { field: 'delta', type: 'quantitative' } } },
            ],
          },
        },
        o('fig-4.4-significance-criteria'),
      ),
    );
    const first = run.repeats.find((m) => m.id.td);
    if (first) {
      const curves = first.id.td!.profile.spectra.filter((s) => s.layer !== 'input').flatMap((s) => s.cumulative.map((v, i) => ({ layer: s.layer, components: i + 1, explained: 100 * v })));
      out.push(
        await figure(
          curves,
          {
            title: { text: 'Fig. 4.2: PCA of the intermediate representations (per channel)', subtitle: `${names.td} through the source model, run 1; dashed: 95%` },
            width: W,
            height: H,
            layer: [
              { mark: { type: 'line', strokeWidth: 2 }, encoding: { x: { field: 'components', type: 'quantitative', title: 'principal components' }, y: { field: 'explained', type: 'quantitative', title: 'cumulative explained variance (%)', scale: { domain: [0, 100] } }, color: { field: 'layer', type: 'nominal', sort: LAYER_ORDER, legend: LINE_LEGEND } } },
              { mark: { type: 'rule', strokeDash: [6, 4] }, encoding: { y: { datum: 95 } } },
            ],
          },
          o('fig-4.2-pca-curves'),
        ),
      );
    }
  }
  const t45p = tables['fig-4.5'];
  if (t45p) {
    out.push(
      await figure(
        t45p.filter((r) => r.accuracy !== null).map((r) => ({ ...r, pruned: 100 * (r.sparsity as number) })),
        {
          title: { text: 'Fig. 4.5: test accuracy with pruning', subtitle: `QuantNet on ${names.sd}; ${run.config.pruneFineTune ? 'fine-tuned after pruning' : 'one-shot (no fine-tuning)'}, output layer kept; ${runs}` },
          width: W,
          height: H,
          ...withErrorBars({ field: 'pruned', type: 'quantitative', title: 'pruned (%)' }, { type: 'line', point: true }, { color: { field: 'method', type: 'nominal', title: 'pruning', legend: LINE_LEGEND } }),
        },
        o('fig-4.5-pruning'),
      ),
    );
  }
  const t46 = tables['fig-4.6'];
  if (t46) {
    out.push(
      await figure(
        t46.filter((r) => r.accuracy !== null),
        {
          title: { text: 'Fig. 4.6: test accuracy against the number of clusters', subtitle: `QuantNet on ${names.sd}; ${run.config.clusterCurveFineTune ? 'fine-tuned' : 'one-shot'} k-means per layer; ${runs}` },
          width: W,
          height: H,
          ...withErrorBars({ field: 'clusters', type: 'quantitative', title: 'clusters per layer (N_c)' }, { type: 'line', point: true }),
        },
        o('fig-4.6-clusters'),
      ),
    );
  }
  return out;
}
