/** Per-layer summary of an architecture: output shape, parameters, MACs. */
import { type Architecture, describeLayers } from './arch.js';

export interface SummaryRow {
  layer: string;
  kind: string;
  output: string;
  params: number;
  macs: number;
}

export interface ModelSummary {
  name: string;
  input: number[];
  rows: SummaryRow[];
  totalParams: number;
  totalMacs: number;
  /** Non-trainable state values (batchnorm moving statistics). */
  stateValues: number;
}

export function summarize(arch: Architecture): ModelSummary {
  const layers = describeLayers(arch);
  const rows = layers.map((l) => ({
    layer: l.name,
    kind: l.kind,
    output: `[${l.outputShape.join(', ')}]`,
    params: l.weights + l.biases,
    macs: l.macs,
  }));
  return {
    name: arch.name,
    input: arch.input,
    rows,
    totalParams: rows.reduce((s, r) => s + r.params, 0),
    totalMacs: rows.reduce((s, r) => s + r.macs, 0),
    stateValues: layers.reduce((s, l) => s + l.state, 0),
  };
}

/** Plain-text table of a summary (for terminals and notebooks). */
export function formatSummary(s: ModelSummary): string {
  const head = ['layer', 'kind', 'output', 'params', 'MACs'];
  const body = s.rows.map((r) => [r.layer, r.kind, r.output, r.params.toLocaleString('en-US'), r.macs.toLocaleString('en-US')]);
  const foot = ['total', '', '', s.totalParams.toLocaleString('en-US'), s.totalMacs.toLocaleString('en-US')];
  const all = [head, ...body, foot];
  const width = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c >= 3 ? v.padStart(width[c]) : v.padEnd(width[c]))).join('  ');
  const rule = width.map((w) => '-'.repeat(w)).join('  ');
  return [`${s.name}  input [${s.input.join(', ')}]`, line(head), rule, ...body.map(line), rule, line(foot)].join('\n');
}
