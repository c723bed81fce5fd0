/**
 * The study's tables (seed 004 Tables 4.3-4.9, Figs. 4.1, 4.5, 4.6 as data) with the seed's numbers beside
 * the kit's, and the rows of `comparison.csv`. Accuracies are means over the runs (population std beside them)
 * in %; sizes are parameter storage by the kit's estimators, compared as reductions relative to the base model
 * since the seed's "Model Size (MB)" are TensorFlow Lite files, which the kit does not write.
 */
import type { ComparisonRow } from '../../run/rundir.js';
import { mean } from '../../util/stats.js';
import { resolveView } from '../../data/views.js';
import type { Architecture } from '../../models/arch.js';
import type { LayerPrecisions } from '../../analysis/significance.js';
import {
  QUANT_SETUPS,
  QUANT_SETUP_LABELS,
  TABLE_4_3,
  TABLE_4_4,
  TABLE_4_5,
  TABLE_4_6,
  MIXED_DESIGNS,
  CLUSTER_SETUPS,
  TABLE_4_7,
  TABLE_4_8,
  PIPELINE_SETUPS,
  TABLE_4_9,
  BASE_MB,
  FIG_4_5_WEIGHT_PRUNING_DROP_AT_50,
  FIG_4_6_BEST_CLUSTERS,
  type QuantSetup,
} from './published.js';
import { storage, indexBits, STORAGE_RULES, type StorageEstimate } from './designs.js';
import { QUANTNET } from './jobs.js';
import { statOf, idStat, designTag, precisionsOf, WEIGHTED, FIXED_DESIGNS, type StudyRun } from './study.js';

export type Row = Record<string, unknown>;

export interface StudyTables {
  /** Table name (file name without .csv) to rows. */
  tables: Record<string, Row[]>;
  comparison: ComparisonRow[];
}

const r2 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 100) / 100);
const r3 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 1000) / 1000);

/** The kit's storage of each quantization setup (Tables 4.3, 4.4). */
function quantStorage(setup: QuantSetup): StorageEstimate {
  switch (setup) {
    case 'base':
    case 'qat':
      return storage(QUANTNET, STORAGE_RULES.full);
    case 'ptq-float16':
      return storage(QUANTNET, STORAGE_RULES.float16);
    case 'ptq-int16-activations':
      return storage(QUANTNET, STORAGE_RULES.int16Activations);
    default:
      return storage(QUANTNET, STORAGE_RULES.int8);
  }
}

const SIZE_NOTES: Partial<Record<string, string>> = {
  qat: 'the kit keeps one float32 copy of a QAT model (fake quantization); the seed\'s TFLite QAT file holds the float and the quantized parameters (4.1784 / 2.0852 = 2.00x the base)',
  'ptq-int16-activations': 'TFLite 16x8 mode: int8 weights, int64 biases',
  'clustered-ptq-on-qat': 'QAT undoes the clustering (Table 4.8), so the kit counts int8 weights; the seed\'s smaller file reflects compression of few distinct values',
};

/** Names of the data the study ran on, for captions. */
export function dataNames(run: StudyRun): { sd: string; td: string; td2: string; standIn: boolean } {
  const c = run.config;
  const n = (v: typeof c.source) => (typeof v === 'string' ? v : resolveView(v).name);
  return { sd: n(c.source), td: n(c.target), td2: `${n(c.source)} rotated ${c.rotation} degrees`, standIn: c.standIn };
}

function designLabel(p: LayerPrecisions): string {
  return p.map((x) => `${x.layer}=${x.bits >= 32 ? 'full' : x.bits === 1 ? 'binary' : `${x.bits}-bit`}`).join(' ');
}

/** The most common design of the runs (ties: the first seen) and how many runs chose it. */
function commonDesign(run: StudyRun, name: string): { design: LayerPrecisions | null; count: number; variants: string[] } {
  const counts = new Map<string, { p: LayerPrecisions; n: number }>();
  for (const m of run.repeats) {
    const p = m.designs[name];
    if (!p) continue;
    const t = designTag(p);
    const e = counts.get(t) ?? { p, n: 0 };
    e.n++;
    counts.set(t, e);
  }
  let best: { p: LayerPrecisions; n: number } | null = null;
  for (const e of counts.values()) if (!best || e.n > best.n) best = e;
  return { design: best?.p ?? null, count: best?.n ?? 0, variants: [...counts.entries()].map(([t, e]) => `${t} x${e.n}`) };
}

/** Mean over runs of a per-run value computed from that run's design. */
function perRunDesign(run: StudyRun, name: string, f: (p: LayerPrecisions) => number): number | null {
  const xs = run.repeats.flatMap((m) => (m.designs[name] ? [f(m.designs[name])] : []));
  return xs.length ? mean(xs) : null;
}

/** Mean of a measurement over runs, keyed per run by that run's design tag. */
function designStat(run: StudyRun, name: string, domain: 'sd' | 'td'): { mean: number | null; std: number | null; n: number } {
  const xs = run.repeats.flatMap((m) => {
    const p = m.designs[name];
    const v = p ? m.acc[`mixed:${designTag(p)}:${domain}`] : undefined;
    return v === undefined ? [] : [100 * v];
  });
  if (!xs.length) return { mean: null, std: null, n: 0 };
  const mu = mean(xs);
  return { mean: mu, std: Math.sqrt(mean(xs.map((x) => (x - mu) ** 2))), n: xs.length };
}

export function studyTables(run: StudyRun, profile: string): StudyTables {
  const c = run.config;
  const parts = new Set(c.parts);
  const names = dataNames(run);
  const tables: Record<string, Row[]> = {};
  const comparison: ComparisonRow[] = [];
  const standInNote = names.standIn ? `STAND-IN data (${names.sd} for Cat vs Dog, ${names.td} for Horse vs Frog); ` : '';
  const cmp = (table: string, quantity: string, paper: number | null, kit: number | null, note = '') =>
    comparison.push({ seed_document: 'seed 004', table_or_figure: table, quantity, paper_value: paper, kit_value: kit === null ? null : r3(kit), profile, note: `${standInNote}${note}`.replace(/; $/, '') });
  const accNote = (s: { std: number | null; n: number }) => (s.n ? `mean of ${s.n} run${s.n > 1 ? 's' : ''}, std ${r2(s.std)}` : 'no run finished');
  const base = storage(QUANTNET, STORAGE_RULES.full);

  if (parts.has('quantization')) {
    const t43: Row[] = [];
    const t44: Row[] = [];
    for (const s of QUANT_SETUPS) {
      const st = quantStorage(s);
      const sd = statOf(run, `${s}:sa-sd`);
      const td = statOf(run, `${s}:sa-td`);
      const td1 = statOf(run, `${s}:tl-td1`);
      const td2 = statOf(run, `${s}:tl-td2`);
      const paperRed = BASE_MB / TABLE_4_3[s].mb;
      const size = { kit_bytes: st.bytes, kit_reduction: r3(st.reduction), paper_mb: TABLE_4_3[s].mb, paper_reduction: r3(paperRed), size_note: SIZE_NOTES[s] ?? '' };
      t43.push({ setup: QUANT_SETUP_LABELS[s], source_kit: r2(sd.mean), source_std: r2(sd.std), source_paper: TABLE_4_3[s].catDog, target_kit: r2(td.mean), target_std: r2(td.std), target_paper: TABLE_4_3[s].horseFrog, runs: sd.n, ...size });
      t44.push({ setup: QUANT_SETUP_LABELS[s], sd_kit: r2(sd.mean), sd_std: r2(sd.std), sd_paper: TABLE_4_4[s].sd, td1_kit: r2(td1.mean), td1_std: r2(td1.std), td1_paper: TABLE_4_4[s].td1, td2_kit: r2(td2.mean), td2_std: r2(td2.std), td2_paper: TABLE_4_4[s].td2, runs: td1.n, ...size });
      cmp('Table 4.3', `Cat vs Dog test accuracy (%): ${QUANT_SETUP_LABELS[s]}`, TABLE_4_3[s].catDog, sd.mean, accNote(sd));
      cmp('Table 4.3', `Horse vs Frog test accuracy (%): ${QUANT_SETUP_LABELS[s]}`, TABLE_4_3[s].horseFrog, td.mean, accNote(td));
      cmp('Table 4.3', `size reduction vs base (x): ${QUANT_SETUP_LABELS[s]}`, r3(paperRed), st.reduction, `paper: 2.0852 MB / ${TABLE_4_3[s].mb} MB (TFLite files); kit: parameter storage ${st.bytes} B${SIZE_NOTES[s] ? `; ${SIZE_NOTES[s]}` : ''}`);
      cmp('Table 4.4', `TD1 (Horse vs Frog, fine-tuned) test accuracy (%): ${QUANT_SETUP_LABELS[s]}`, TABLE_4_4[s].td1, td1.mean, accNote(td1));
      cmp('Table 4.4', `TD2 (rotated Cat vs Dog, fine-tuned) test accuracy (%): ${QUANT_SETUP_LABELS[s]}`, TABLE_4_4[s].td2, td2.mean, `${accNote(td2)}; rotation ${c.rotation} degrees (the seed does not print its angle)`);
    }
    tables['table-4.3'] = t43;
    tables['table-4.4'] = t44;
  }

  if (parts.has('sensitivity')) {
    const b = statOf(run, 'base:sa-sd');
    tables['fig-4.1'] = [
      { layer: 'none (base)', bits: 32, accuracy: r2(b.mean), std: r2(b.std), runs: b.n },
      ...WEIGHTED.map((l, i) => {
        const tag = designTag(precisionsOf(WEIGHTED.map((_, k) => (k === i ? c.sensitivityBits : 32))));
        const s = statOf(run, `mixed:${tag}:sd`);
        return { layer: l, bits: c.sensitivityBits, accuracy: r2(s.mean), std: r2(s.std), runs: s.n };
      }),
    ];
  }

  if (parts.has('id-profile') || parts.has('mixed-precision')) {
    const rows: Row[] = [];
    for (const layer of ['input', ...WEIGHTED.slice(0, -1)]) {
      const row: Row = { layer };
      for (const d of ['sd', 'td'] as const) {
        const pca = idStat(run, d, layer, 'pcaChannel');
        const tw = idStat(run, d, layer, 'twonn');
        const twc = idStat(run, d, layer, 'twonnChannel');
        const mle = idStat(run, d, layer, 'twonnMle');
        const pf = idStat(run, d, layer, 'pcaFlat');
        const p = TABLE_4_5[d][layer];
        Object.assign(row, {
          [`${d}_pca_kit`]: r2(pca.mean),
          [`${d}_pca_paper`]: p.pca,
          [`${d}_twonn_kit`]: r2(tw.mean),
          [`${d}_twonn_std`]: r2(tw.std),
          [`${d}_twonn_paper`]: p.twonn,
          [`${d}_twonn_channel_kit`]: r2(twc.mean),
          [`${d}_twonn_channel_paper`]: p.twonnChannel,
          [`${d}_twonn_mle_kit`]: r2(mle.mean),
          [`${d}_pca_flat_kit`]: r2(pf.mean),
        });
        const dn = d === 'sd' ? 'source domain' : 'target domain';
        cmp('Table 4.5', `${layer} ID, ${dn}, PCA (95% variance, per channel)`, p.pca, pca.mean, `mean of ${pca.n} runs`);
        cmp('Table 4.5', `${layer} ID, ${dn}, TwoNN (flattened O*W*H)`, p.twonn, tw.mean, `mean of ${tw.n} runs, std ${r2(tw.std)}; ${c.id.points} images of the training split`);
        cmp('Table 4.5', `${layer} ID, ${dn}, TwoNN* (per channel)`, p.twonnChannel, twc.mean, `mean of ${twc.n} runs; at most ${c.id.channelPoints} channel vectors`);
      }
      rows.push(row);
    }
    tables['table-4.5'] = rows;
    // Figs. 3.3, 4.3, 4.4: the significance criteria per layer, first run and all runs' share.
    const sig: Row[] = [];
    for (const d of ['sd', 'td'] as const) {
      for (const rule of ['twonn', 'pca'] as const) {
        for (const layer of WEIGHTED.slice(0, -1)) {
          const vals = run.repeats.flatMap((m) => {
            const s = m.id[d]?.[rule].find((x) => x.layer === layer);
            return s ? [s] : [];
          });
          if (!vals.length) continue;
          sig.push({ domain: d, rule, layer, criterion: r2(mean(vals.map((v) => v.criterion))), significant_runs: vals.filter((v) => v.significant).length, runs: vals.length, delta: c.id.delta });
        }
      }
    }
    tables['significance'] = sig;
  }

  if (parts.has('mixed-precision')) {
    const rows: Row[] = [];
    const designs: { key: string; name: string; paper: (typeof TABLE_4_6)[keyof typeof TABLE_4_6] | null }[] = [
      ...MIXED_DESIGNS.map((k) => ({ key: k, name: k, paper: TABLE_4_6[k] })),
      { key: 'pca-hybrid', name: 'pca-hybrid (Chakraborty et al.; not in Table 4.6)', paper: null },
    ];
    for (const d of designs) {
      let sd: ReturnType<typeof statOf>;
      let td: ReturnType<typeof statOf>;
      let label: string;
      let reduction: number | null;
      let variants = '';
      if (d.key === 'full') {
        sd = statOf(run, 'base:sa-sd');
        td = statOf(run, 'base:tl-td1');
        label = designLabel(precisionsOf([32, 32, 32, 32, 32]));
        reduction = 1;
      } else if (d.key in FIXED_DESIGNS) {
        const p = precisionsOf(FIXED_DESIGNS[d.key]);
        sd = statOf(run, `mixed:${designTag(p)}:sd`);
        td = statOf(run, `mixed:${designTag(p)}:td`);
        label = designLabel(p);
        reduction = storage(QUANTNET, (_l, i) => STORAGE_RULES.precision(p[i].bits)).reduction;
      } else {
        sd = designStat(run, `${d.key}:sd`, 'sd');
        td = designStat(run, `${d.key}:td`, 'td');
        const common = commonDesign(run, `${d.key}:td`);
        label = common.design ? designLabel(common.design) : '(no ID analysis finished)';
        variants = `SD: ${commonDesign(run, `${d.key}:sd`).variants.join(', ')}; TD: ${common.variants.join(', ')}`;
        reduction = perRunDesign(run, `${d.key}:td`, (p) => storage(QUANTNET, (_l, i) => STORAGE_RULES.precision(p[i].bits)).reduction);
      }
      rows.push({
        design: d.name,
        precisions: label,
        designs_per_run: variants,
        sd_kit: r2(sd.mean),
        sd_std: r2(sd.std),
        sd_paper: d.paper?.sd ?? null,
        td_kit: r2(td.mean),
        td_std: r2(td.std),
        td_paper: d.paper?.td ?? null,
        reduction_kit: r3(reduction),
        reduction_paper: d.paper?.reduction ?? null,
        runs: sd.n,
      });
      if (d.paper) {
        const what = d.key === 'twonn-hybrid' ? 'TwoNN hybrid (the design each run\'s ID analysis gives)' : designLabel(precisionsOf([...d.paper.precisions, 32]));
        cmp('Table 4.6', `SD test accuracy (%): ${what}`, d.paper.sd, sd.mean, `${accNote(sd)}; trained from scratch with the design`);
        cmp('Table 4.6', `TD test accuracy (%): ${what}`, d.paper.td, td.mean, `${accNote(td)}; fine-tuned on the target from the source model`);
        cmp('Table 4.6', `memory reduction (x): ${what}`, d.paper.reduction, reduction, d.key === 'twonn-hybrid' ? `mean over runs of each run's design (${variants})` : 'every parameter of a layer at its precision (the table\'s footnote)');
      }
    }
    tables['table-4.6'] = rows;
  }

  if (parts.has('pruning')) {
    const rows: Row[] = [];
    const b = statOf(run, 'base:sa-sd');
    for (const method of ['weight', 'neuron'] as const) {
      rows.push({ method, sparsity: 0, accuracy: r2(b.mean), std: r2(b.std), runs: b.n });
      for (const s of c.sparsities) {
        const st = statOf(run, `prune-${method}-${s}:sa-sd`);
        rows.push({ method, sparsity: s, accuracy: r2(st.mean), std: r2(st.std), runs: st.n });
      }
    }
    tables['fig-4.5'] = rows;
    const at50 = statOf(run, 'prune-weight-0.5:sa-sd');
    if (at50.mean !== null && b.mean !== null) {
      cmp('Fig. 4.5', 'accuracy drop (points) with 50% of the weights pruned', FIG_4_5_WEIGHT_PRUNING_DROP_AT_50, b.mean - at50.mean, `"about a 6% reduction" (§4.2.3 text); ${c.pruneFineTune ? 'fine-tuned after pruning' : 'one-shot, no fine-tuning'}`);
    }
  }

  if (parts.has('clustering')) {
    // The printed labels say N_c = 16; a profile with other N_c (smoke) says so in the label.
    const ncLabel = (l: string) => (c.clusters === 16 ? l : l.replace('N_c = 16', `N_c = ${c.clusters}; the seed's: 16`));
    const curve: Row[] = c.clusterCounts.map((k) => {
      const s = statOf(run, `cluster-${k}:sa-sd`);
      return { clusters: k, accuracy: r2(s.mean), std: r2(s.std), runs: s.n };
    });
    tables['fig-4.6'] = curve;
    const done = curve.filter((x) => x.accuracy !== null) as { clusters: number; accuracy: number }[];
    if (done.length) {
      const best = Math.max(...done.map((x) => x.accuracy));
      // The seed's reading: the smallest N_c within 0.5 points of the best accuracy ("negligible" gains after).
      const knee = done.find((x) => x.accuracy >= best - 0.5)!.clusters;
      cmp('Fig. 4.6', 'smallest N_c within 0.5 points of the best accuracy', FIG_4_6_BEST_CLUSTERS, knee, `the seed's conclusion "the ideal number of clusters is 16"; ${c.clusterCurveFineTune ? 'fine-tuned' : 'one-shot'} clustering`);
    }
    const sizeOf = (s: string): StorageEstimate => {
      const k = c.clusters;
      switch (s) {
        case 'base':
        case 'clustered-qat':
          return storage(QUANTNET, STORAGE_RULES.full);
        case 'clustered':
          return storage(QUANTNET, () => STORAGE_RULES.clustered(k, 32));
        case 'clustered-ptq-float16':
          return storage(QUANTNET, () => STORAGE_RULES.clustered(k, 16, 16));
        case 'clustered-ptq-int16-activations':
          return storage(QUANTNET, () => STORAGE_RULES.clustered(k, 8, 64));
        case 'clustered-ptq-on-qat':
          return storage(QUANTNET, STORAGE_RULES.int8);
        default:
          return storage(QUANTNET, () => STORAGE_RULES.clustered(k, 8, 32));
      }
    };
    const t47: Row[] = [];
    for (const s of CLUSTER_SETUPS) {
      const st = s === 'base' ? statOf(run, 'base:sa-sd') : statOf(run, `${s}:sa-sd`);
      const size = sizeOf(s);
      const paperRed = BASE_MB / TABLE_4_7[s].mb;
      t47.push({ setup: ncLabel(TABLE_4_7[s].label), accuracy_kit: r2(st.mean), accuracy_std: r2(st.std), accuracy_paper: TABLE_4_7[s].acc, kit_bytes: size.bytes, kit_reduction: r3(size.reduction), paper_mb: TABLE_4_7[s].mb, paper_reduction: r3(paperRed), runs: st.n, size_note: SIZE_NOTES[s] ?? '' });
      cmp('Table 4.7', `Cat vs Dog test accuracy (%): ${ncLabel(TABLE_4_7[s].label)}`, TABLE_4_7[s].acc, st.mean, accNote(st));
      cmp('Table 4.7', `size reduction vs base (x): ${ncLabel(TABLE_4_7[s].label)}`, r3(paperRed), size.reduction, `paper: TFLite files; kit: ${c.clusters} clusters = ${indexBits(c.clusters)}-bit indices plus a codebook per layer`);
    }
    tables['table-4.7'] = t47;
    const t48: Row[] = [];
    for (const [key, p] of Object.entries(TABLE_4_8)) {
      const st = key === 'base' ? statOf(run, 'base:sa-sd') : statOf(run, `${key}:sa-sd`);
      const first = run.repeats.find((m) => m.distinct[key]);
      const latent = first?.distinct[key]?.map((x) => x.latent) ?? null;
      const effective = first?.distinct[key]?.map((x) => x.effective) ?? null;
      const size = key === 'base' || key === 'clustered-qat' ? base : key === 'clustered' ? sizeOf('clustered') : storage(QUANTNET, () => STORAGE_RULES.clustered(c.clusters, 8, 32));
      t48.push({ setup: ncLabel(p.label), accuracy_kit: r2(st.mean), accuracy_paper: p.acc, clusters_kit: latent?.join(', ') ?? '', clusters_used_kit: effective?.join(', ') ?? '', clusters_paper: p.clusters?.join(', ') ?? '-', kit_reduction: r3(size.reduction), paper_reduction: r3(BASE_MB / p.mb), runs: st.n });
      if (key === 'cp-qat' || key === 'clustered-qat') {
        cmp('Table 4.8', `Cat vs Dog test accuracy (%): ${ncLabel(p.label)}`, p.acc, st.mean, accNote(st));
        p.clusters?.forEach((n, i) =>
          cmp('Table 4.8', `distinct weight values of ${WEIGHTED[i]}: ${ncLabel(p.label)}`, n, latent?.[i] ?? null, `first run; stored (latent) values${effective ? `; used in the forward pass: ${effective[i]}` : ''}`),
        );
        cmp('Table 4.8', `size reduction vs base (x): ${ncLabel(p.label)}`, r3(BASE_MB / p.mb), size.reduction, key === 'cp-qat' ? `kit: ${indexBits(c.clusters)}-bit indices plus an int8 codebook per layer` : 'kit: float32 (the clusters are gone)');
      }
    }
    tables['table-4.8'] = t48;
  }

  if (parts.has('pipelines')) {
    const rows: Row[] = [];
    for (const s of PIPELINE_SETUPS) {
      let st: ReturnType<typeof statOf>;
      let size: number | null;
      let note = '';
      switch (s) {
        case 'base':
          st = statOf(run, 'base:sa-sd');
          size = 1;
          break;
        case 'ptq-on-qat':
          st = statOf(run, 'ptq-on-qat:sa-sd');
          size = storage(QUANTNET, STORAGE_RULES.int8).reduction;
          break;
        case 'twonn-mixed':
          st = designStat(run, 'twonn-hybrid:sd', 'sd');
          size = perRunDesign(run, 'twonn-hybrid:sd', (p) => storage(QUANTNET, (_l, i) => STORAGE_RULES.precision(p[i].bits)).reduction);
          note = `designs per run: ${commonDesign(run, 'twonn-hybrid:sd').variants.join(', ')}`;
          break;
        case 'clustered-ptq-on-qat':
          st = statOf(run, 'clustered-ptq-on-qat:sa-sd');
          size = storage(QUANTNET, STORAGE_RULES.int8).reduction;
          note = SIZE_NOTES['clustered-ptq-on-qat']!;
          break;
        case 'cp-qat':
          st = statOf(run, 'cp-qat:sa-sd');
          size = storage(QUANTNET, () => STORAGE_RULES.clustered(c.clusters, 8, 32)).reduction;
          break;
        case 'twonn-cluster-cpqat':
          st = statOf(run, 'twonn-cluster-cpqat:sa-sd');
          size = perRunDesign(run, 'twonn-cluster-cpqat', (p) => storage(QUANTNET, (_l, i) => STORAGE_RULES.clustered(c.clusters, p[i].bits === 8 ? 8 : 32)).reduction);
          note = `cluster-preserving QAT on ${commonDesign(run, 'twonn-cluster-cpqat').variants.join(', ')} (8: CP-QAT layers, f: clustered only)`;
          break;
      }
      const paperRed = BASE_MB / TABLE_4_9[s].mb;
      rows.push({ setup: TABLE_4_9[s].label, accuracy_kit: r2(st.mean), accuracy_std: r2(st.std), accuracy_paper: TABLE_4_9[s].acc, kit_reduction: r3(size), paper_mb: TABLE_4_9[s].mb, paper_reduction: r3(paperRed), runs: st.n, note });
      cmp('Table 4.9', `Cat vs Dog test accuracy (%): ${TABLE_4_9[s].label}`, TABLE_4_9[s].acc, st.mean, accNote(st));
      cmp('Table 4.9', `size reduction vs base (x): ${TABLE_4_9[s].label}`, r3(paperRed), size, note || 'kit: parameter storage');
    }
    tables['table-4.9'] = rows;
  }
  return { tables, comparison };
}

/** The architecture of a design (for reports): QuantNet with the design's precisions. */
export type { Architecture };
