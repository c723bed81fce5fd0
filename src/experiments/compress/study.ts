/**
 * Seed 004's compression study as an experiment: a function from its config to lists of jobs (trained by the
 * experiment engine, on any executor, resumable through the run's ledger) and a summary of their results.
 *
 * For each batch of runs (repeats) it works in three stages, each one `runJobs` call:
 *   A. trainings from scratch: the base model on each pair, the mixed-precision designs that need no ID
 *      analysis (XNOR-Net, single quantized layers), standalone;
 *   then, in this process, the measurements of the base models: PTQ (Tables 4.3, 4.4), one-shot pruning
 *      (Fig. 4.5) and clustering (Fig. 4.6) curves, the ID analysis (Table 4.5) and the designs it gives;
 *   B. trainings that start from a base model or need the ID analysis: QAT, transfer learning (fine-tuning on
 *      TD1 and TD2, with and without QAT), the designs fine-tuned on TD, the ID-based designs standalone, the
 *      clustered model (N_c = 16) and the TwoNN clustering / cluster-preserving-QAT pipeline;
 *   C. trainings from the clustered model: QAT on it (clusters not kept) and cluster-preserving QAT.
 * Every number is a test accuracy of the pair's test split; every choice (early stopping, the ID analysis)
 * uses training data only.
 */
import type { Executor } from '../executor.js';
import type { Ledger } from '../ledger.js';
import { runJobs } from '../runner.js';
import { parseJobSpec } from '../job.js';
import { loadJobData, type JobResult, type LoadedData } from '../run-job.js';
import type { DatasetRecord } from '../../run/provenance.js';
import { layerName } from '../../models/arch.js';
import { PTQ_SCHEMES, type PtqScheme } from '../../compress/ptq.js';
import { mean, std } from '../../util/stats.js';
import { xnorPrecisions, type LayerPrecisions, type LayerSignificance } from '../../analysis/significance.js';
import type { IdRow } from '../../analysis/representations.js';
import type { CompressStudyConfig, StudyPart } from './config.js';
import { QUANTNET, studyJob, domainView, type Domain, type StudyJob } from './jobs.js';
import { mixedPrecisionArchitecture, prunableArchitecture, stripClustering, withInt8Qat, INT8_KERNEL } from './designs.js';
import { analyseModel, clusteringCurve, distinctKernelValues, ptqAccuracies, pruningCurve, representative, type IdAnalysis } from './evaluations.js';

export const WEIGHTED = ['conv1', 'conv2', 'linear1', 'linear2', 'linear3'];

export interface StudyOptions {
  config: CompressStudyConfig;
  /** The resolved backend every job runs on. */
  backend: string;
  executor: Executor;
  ledger?: Ledger;
  log?: (event: Record<string, unknown>) => void;
  quiet?: boolean;
  /** Lines about the study's progress (stages, measurements). */
  say?: (line: string) => void;
  /** Runs per batch of stages (all results of a batch are held at once; default 4). */
  repeatsPerBatch?: number;
}

/** One training of the study, as `runs.csv` lists it. */
export interface JobRow {
  name: string;
  repeat: number;
  label: string;
  key: string;
  status: 'ok' | 'failed';
  epochs: number | null;
  stoppedEarly: boolean | null;
  valAccuracy: number | null;
  testAccuracy: number | null;
  seconds: number | null;
  worker: string;
  fromLedger: boolean;
  error: string;
}

/** Everything measured in one run (repeat) of the study. */
export interface RepeatMeasures {
  repeat: number;
  /** Test accuracies (fractions) by measurement key, e.g. `base:sa-sd`, `ptq-int8:tl-td1`, `mixed:f1ff f:td`. */
  acc: Record<string, number>;
  id: { sd?: IdAnalysis; td?: IdAnalysis };
  /** The designs of this run (precisions per weighted layer), by name. */
  designs: Record<string, LayerPrecisions>;
  distinct: Record<string, { layer: string; latent: number; effective: number }[]>;
}

export interface StudyRun {
  config: CompressStudyConfig;
  repeats: RepeatMeasures[];
  jobs: JobRow[];
  datasets: DatasetRecord[];
  failed: number;
}

/** The Table 4.6 designs that need no ID analysis, as precisions of conv1..linear3. */
export const FIXED_DESIGNS: Record<string, number[]> = {
  xnor: xnorPrecisions(WEIGHTED).map((p) => p.bits),
  'binary-conv1': [1, 32, 32, 32, 32],
  'binary-conv2': [32, 1, 32, 32, 32],
  'binary-linear1': [32, 32, 1, 32, 32],
};

export const precisionsOf = (bits: number[]): LayerPrecisions => WEIGHTED.map((layer, i) => ({ layer, bits: bits[i] }));
/** A design's short tag: one character per weighted layer, `f` for full precision (`f1fff`: conv2 binary). */
export const designTag = (p: LayerPrecisions) => p.map((x) => (x.bits >= 32 ? 'f' : String(x.bits))).join('');

/** What the parts need. */
function needs(parts: StudyPart[]) {
  const has = (p: StudyPart) => parts.includes(p);
  return {
    quantization: has('quantization'),
    sensitivity: has('sensitivity'),
    id: has('id-profile') || has('mixed-precision') || has('pipelines'),
    mixed: has('mixed-precision'),
    pruning: has('pruning'),
    clusterCurve: has('clustering'),
    clustered: has('clustering') || has('pipelines'),
    qatSd: has('quantization') || has('pipelines'),
    twonnSd: has('mixed-precision') || has('pipelines'),
    pipeline: has('pipelines'),
    baseTd: has('quantization'),
    tl: has('quantization') || has('mixed-precision'),
  };
}

const chunk = <T>(xs: T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/** Runs the study's jobs and measurements. Deterministic: the same config and backend give the same numbers. */
export async function runCompressStudy(o: StudyOptions): Promise<StudyRun> {
  const c = o.config;
  const need = needs(c.parts);
  const say = o.say ?? (() => {});
  const jobs: JobRow[] = [];
  const datasets = new Map<string, DatasetRecord>();
  const measures: RepeatMeasures[] = [];
  const job = (x: Parameters<typeof studyJob>[2]) => studyJob(c, o.backend, x);

  const dataCache = new Map<Domain, LoadedData>();
  const dataOf = async (d: Domain, spec: StudyJob['spec']): Promise<LoadedData> => {
    let v = dataCache.get(d);
    if (!v) {
      v = await loadJobData(parseJobSpec(spec));
      dataCache.set(d, v);
      datasets.set(v.record.id, v.record);
    }
    return v;
  };

  /** Runs one stage's jobs; results by `<name>#<repeat>` (null when the job failed). */
  const stage = async (label: string, list: StudyJob[]): Promise<Map<string, JobResult | null>> => {
    const out = new Map<string, JobResult | null>();
    const unique = [...new Map(list.map((j) => [`${j.name}#${j.repeat}`, j])).values()];
    if (!unique.length) return out;
    say(`${label}: ${unique.length} training${unique.length > 1 ? 's' : ''}`);
    const s = await runJobs(unique.map((j) => j.spec), { executor: o.executor, ledger: o.ledger, log: o.log, quiet: o.quiet, label });
    s.records.forEach((rec, i) => {
      const j = unique[i];
      const ok = rec.outcome.status === 'ok';
      const r = ok ? (rec.outcome as Extract<typeof rec.outcome, { status: 'ok' }>).result : null;
      out.set(`${j.name}#${j.repeat}`, r);
      if (r) datasets.set(r.dataset.id, r.dataset);
      jobs.push({
        name: j.name,
        repeat: j.repeat,
        label: rec.label,
        key: rec.key,
        status: ok ? 'ok' : 'failed',
        epochs: r?.epochs ?? null,
        stoppedEarly: r?.stoppedEarly ?? null,
        valAccuracy: r?.metrics.valAccuracy ?? null,
        testAccuracy: r?.metrics.testAccuracy ?? null,
        seconds: r?.timing.seconds ?? null,
        worker: rec.outcome.meta.worker,
        fromLedger: rec.fromLedger,
        error: rec.outcome.status === 'failed' ? rec.outcome.error.message : '',
      });
    });
    return out;
  };

  const allRepeats = Array.from({ length: c.repeats }, (_, r) => r);
  for (const group of chunk(allRepeats, o.repeatsPerBatch ?? 4)) {
    const M = new Map<number, RepeatMeasures>(group.map((r) => [r, { repeat: r, acc: {}, id: {}, designs: {}, distinct: {} }]));
    const rangeLabel = group.length > 1 ? `runs ${group[0] + 1}-${group.at(-1)! + 1} of ${c.repeats}` : `run ${group[0] + 1} of ${c.repeats}`;

    // ---- stage A: from scratch
    const fixed: Record<string, number[]> = {};
    if (need.mixed) Object.assign(fixed, FIXED_DESIGNS);
    if (need.sensitivity) for (const [i, l] of WEIGHTED.entries()) fixed[`single-${l}`] = WEIGHTED.map((_, k) => (k === i ? c.sensitivityBits : 32));
    const a: StudyJob[] = [];
    for (const r of group) {
      a.push(job({ name: 'base:sd', domain: 'sd', repeat: r, model: QUANTNET, weights: true }));
      if (need.baseTd) a.push(job({ name: 'base:td', domain: 'td', repeat: r, model: QUANTNET, weights: true }));
      for (const [design, bits] of Object.entries(fixed)) {
        const p = precisionsOf(bits);
        M.get(r)!.designs[design] = p;
        a.push(job({ name: `mixed:${designTag(p)}:sd`, domain: 'sd', repeat: r, model: mixedPrecisionArchitecture(QUANTNET, p) }));
      }
    }
    const A = await stage(`stage A (${rangeLabel}): base models and designs from scratch`, a);
    const sdData = await dataOf('sd', a[0].spec);
    const tdData = need.baseTd || need.tl || need.id ? await dataOf('td', job({ name: 'x', domain: 'td', repeat: 0, model: QUANTNET }).spec) : null;
    const td2Data = need.quantization ? await dataOf('td2', job({ name: 'x', domain: 'td2', repeat: 0, model: QUANTNET }).spec) : null;

    // ---- measurements of the base models
    for (const r of group) {
      const m = M.get(r)!;
      const base = A.get(`base:sd#${r}`);
      const put = (key: string, v: number | null | undefined) => {
        if (v !== null && v !== undefined) m.acc[key] = v;
      };
      for (const [design] of Object.entries(fixed)) put(`mixed:${designTag(m.designs[design])}:sd`, A.get(`mixed:${designTag(m.designs[design])}:sd#${r}`)?.metrics.testAccuracy);
      if (!base) continue;
      put('base:sa-sd', base.metrics.testAccuracy);
      const rep = representative(sdData.train, c.calibrationSamples);
      if (need.quantization) {
        say(`run ${r + 1}: post-training quantization of the base models`);
        const p = ptqAccuracies(base, sdData.test!, rep, PTQ_SCHEMES);
        for (const s of PTQ_SCHEMES) put(`ptq-${s}:sa-sd`, p[s]);
        const bt = A.get(`base:td#${r}`);
        if (bt && tdData) {
          put('base:sa-td', bt.metrics.testAccuracy);
          const q = ptqAccuracies(bt, tdData.test!, representative(tdData.train, c.calibrationSamples), PTQ_SCHEMES);
          for (const s of PTQ_SCHEMES) put(`ptq-${s}:sa-td`, q[s]);
        }
      }
      if (need.pruning && !c.pruneFineTune) {
        say(`run ${r + 1}: one-shot weight and neuron pruning`);
        const prunable = WEIGHTED.slice(0, -1);
        const w = pruningCurve(base, sdData.test!, prunable, c.sparsities, { kind: 'magnitude' });
        const n = pruningCurve(base, sdData.test!, prunable, c.sparsities, { kind: 'structured', norm: 'l1' });
        c.sparsities.forEach((s, i) => {
          put(`prune-weight-${s}:sa-sd`, w[i]);
          put(`prune-neuron-${s}:sa-sd`, n[i]);
        });
      }
      if (need.clusterCurve && !c.clusterCurveFineTune) {
        say(`run ${r + 1}: one-shot clustering, N_c = ${c.clusterCounts.join(', ')}`);
        const k = clusteringCurve(base, sdData.test!, c.clusterCounts, `${c.seed}:r${r}`);
        c.clusterCounts.forEach((nc, i) => put(`cluster-${nc}:sa-sd`, k[i]));
      }
      if (need.id) {
        say(`run ${r + 1}: intrinsic dimension of the layers (TwoNN, TwoNN*, PCA) on ${c.id.points} images of each domain`);
        const opts = { ...c.id, hybridBits: c.hybridBits, seed: `${c.seed}:r${r}` };
        m.id.sd = analyseModel(base, sdData.train, opts);
        if (tdData) m.id.td = analyseModel(base, tdData.train, opts);
        m.designs['twonn-hybrid:sd'] = m.id.sd.twonnDesign;
        m.designs['pca-hybrid:sd'] = m.id.sd.pcaDesign;
        if (m.id.td) {
          m.designs['twonn-hybrid:td'] = m.id.td.twonnDesign;
          m.designs['pca-hybrid:td'] = m.id.td.pcaDesign;
        }
      }
    }

    // ---- stage B: from a base model, or needing the ID analysis
    const b: StudyJob[] = [];
    for (const r of group) {
      const m = M.get(r)!;
      const base = A.get(`base:sd#${r}`);
      if (!base) continue;
      const parent = base.weights!;
      if (need.qatSd) b.push(job({ name: 'qat:sd', domain: 'sd', repeat: r, model: withInt8Qat(QUANTNET), parent, fineTune: true, weights: true }));
      const bt = A.get(`base:td#${r}`);
      if (need.quantization && bt) b.push(job({ name: 'qat:td', domain: 'td', repeat: r, model: withInt8Qat(QUANTNET), parent: bt.weights!, fineTune: true, weights: true }));
      if (need.tl) b.push(job({ name: 'tl:td1', domain: 'td', repeat: r, model: QUANTNET, parent, fineTune: true, weights: true }));
      if (need.quantization) {
        b.push(job({ name: 'tl:td2', domain: 'td2', repeat: r, model: QUANTNET, parent, fineTune: true, weights: true }));
        b.push(job({ name: 'tl-qat:td1', domain: 'td', repeat: r, model: withInt8Qat(QUANTNET), parent, fineTune: true, weights: true }));
        b.push(job({ name: 'tl-qat:td2', domain: 'td2', repeat: r, model: withInt8Qat(QUANTNET), parent, fineTune: true, weights: true }));
      }
      if (need.mixed) {
        // Table 4.6's TD column: each design fine-tuned on the target domain from the source model.
        const tdDesigns = ['xnor', 'binary-conv1', 'binary-conv2', 'binary-linear1', 'twonn-hybrid:td', 'pca-hybrid:td'];
        for (const d of tdDesigns) {
          const p = m.designs[d];
          if (p) b.push(job({ name: `mixed:${designTag(p)}:td`, domain: 'td', repeat: r, model: mixedPrecisionArchitecture(QUANTNET, p), parent, fineTune: true }));
        }
        const pp = m.designs['pca-hybrid:sd'];
        if (pp) b.push(job({ name: `mixed:${designTag(pp)}:sd`, domain: 'sd', repeat: r, model: mixedPrecisionArchitecture(QUANTNET, pp) }));
      }
      if (need.twonnSd && m.designs['twonn-hybrid:sd']) {
        const p = m.designs['twonn-hybrid:sd'];
        b.push(job({ name: `mixed:${designTag(p)}:sd`, domain: 'sd', repeat: r, model: mixedPrecisionArchitecture(QUANTNET, p) }));
      }
      if (need.clustered) {
        b.push(job({ name: 'clustered:sd', domain: 'sd', repeat: r, model: QUANTNET, parent, transforms: [{ kind: 'cluster', clusters: c.clusters }], fineTune: true, weights: true }));
      }
      if (need.clusterCurve && c.clusterCurveFineTune) {
        for (const k of c.clusterCounts) b.push(job({ name: `cluster-${k}:sd`, domain: 'sd', repeat: r, model: QUANTNET, parent, transforms: [{ kind: 'cluster', clusters: k }], fineTune: true }));
      }
      if (need.pruning && c.pruneFineTune) {
        const prunable = WEIGHTED.slice(0, -1);
        for (const s of c.sparsities) {
          for (const [kind, method] of [['weight', { kind: 'magnitude' as const }], ['neuron', { kind: 'structured' as const, norm: 'l1' as const }]] as const) {
            b.push(job({ name: `prune-${kind}-${s}:sd`, domain: 'sd', repeat: r, model: prunableArchitecture(QUANTNET, prunable), parent, transforms: [{ kind: 'prune', sparsity: s, method, layers: prunable }], fineTune: true }));
          }
        }
      }
      if (need.pipeline && m.id.sd) {
        // §3.4, limited memory: clustering on the insignificant layers, cluster-preserving QAT on the significant
        // ones; the first and last layers, which every design keeps at its highest precision, get the latter.
        const sig = new Set(m.id.sd.twonn.filter((s) => s.significant).map((s) => s.layer));
        const cpq = WEIGHTED.filter((l, i) => i === 0 || i === WEIGHTED.length - 1 || sig.has(l));
        const plain = WEIGHTED.filter((l) => !cpq.includes(l));
        m.designs['twonn-cluster-cpqat'] = WEIGHTED.map((layer) => ({ layer, bits: cpq.includes(layer) ? 8 : 32 }));
        b.push(
          job({
            name: `pipeline:${designTag(m.designs['twonn-cluster-cpqat'])}:sd`,
            domain: 'sd',
            repeat: r,
            model: withInt8Qat(QUANTNET, cpq),
            parent,
            transforms: [
              ...(plain.length ? [{ kind: 'cluster' as const, clusters: c.clusters, layers: plain }] : []),
              { kind: 'cluster' as const, clusters: c.clusters, layers: cpq, kernelQuantizer: INT8_KERNEL },
            ],
            fineTune: true,
            weights: true,
          }),
        );
      }
    }
    const B = await stage(`stage B (${rangeLabel}): QAT, transfer learning, ID-based designs, clustering`, b);

    for (const r of group) {
      const m = M.get(r)!;
      const put = (key: string, v: number | null | undefined) => {
        if (v !== null && v !== undefined) m.acc[key] = v;
      };
      const acc = (name: string) => B.get(`${name}#${r}`)?.metrics.testAccuracy;
      const qsd = B.get(`qat:sd#${r}`);
      if (qsd) {
        put('qat:sa-sd', qsd.metrics.testAccuracy);
        put('ptq-on-qat:sa-sd', ptqAccuracies(qsd, sdData.test!, representative(sdData.train, c.calibrationSamples), ['int8'])['int8']);
      }
      const evalPtq = (name: string, key: string, data: LoadedData | null, schemes: readonly PtqScheme[], prefix: (s: PtqScheme) => string) => {
        const res = B.get(`${name}#${r}`);
        if (!res || !data) return;
        put(key, res.metrics.testAccuracy);
        const p = ptqAccuracies(res, data.test!, representative(data.train, c.calibrationSamples), schemes);
        for (const s of schemes) put(prefix(s), p[s]);
      };
      if (need.quantization) {
        say(`run ${r + 1}: post-training quantization of the QAT and transfer-learning models`);
        evalPtq('qat:td', 'qat:sa-td', tdData, ['int8'], () => 'ptq-on-qat:sa-td');
        evalPtq('tl:td1', 'base:tl-td1', tdData, PTQ_SCHEMES, (s) => `ptq-${s}:tl-td1`);
        evalPtq('tl:td2', 'base:tl-td2', td2Data, PTQ_SCHEMES, (s) => `ptq-${s}:tl-td2`);
        evalPtq('tl-qat:td1', 'qat:tl-td1', tdData, ['int8'], () => 'ptq-on-qat:tl-td1');
        evalPtq('tl-qat:td2', 'qat:tl-td2', td2Data, ['int8'], () => 'ptq-on-qat:tl-td2');
      } else put('base:tl-td1', acc('tl:td1'));
      for (const [d, p] of Object.entries(m.designs)) {
        if (d === 'twonn-cluster-cpqat') continue;
        const tag = designTag(p);
        put(`mixed:${tag}:sd`, acc(`mixed:${tag}:sd`) ?? m.acc[`mixed:${tag}:sd`]);
        put(`mixed:${tag}:td`, acc(`mixed:${tag}:td`));
      }
      if (need.clusterCurve && c.clusterCurveFineTune) for (const k of c.clusterCounts) put(`cluster-${k}:sa-sd`, acc(`cluster-${k}:sd`));
      if (need.pruning && c.pruneFineTune) {
        for (const s of c.sparsities) {
          put(`prune-weight-${s}:sa-sd`, acc(`prune-weight-${s}:sd`));
          put(`prune-neuron-${s}:sa-sd`, acc(`prune-neuron-${s}:sd`));
        }
      }
      const pipe = m.designs['twonn-cluster-cpqat'];
      if (pipe) {
        const res = B.get(`pipeline:${designTag(pipe)}:sd#${r}`);
        if (res) {
          put('twonn-cluster-cpqat:sa-sd', res.metrics.testAccuracy);
          m.distinct['twonn-cluster-cpqat'] = distinctKernelValues(res);
        }
      }
      const cl = B.get(`clustered:sd#${r}`);
      if (cl) {
        say(`run ${r + 1}: post-training quantization of the clustered model`);
        put('clustered:sa-sd', cl.metrics.testAccuracy);
        const p = ptqAccuracies(cl, sdData.test!, representative(sdData.train, c.calibrationSamples), PTQ_SCHEMES);
        for (const s of PTQ_SCHEMES) put(`clustered-ptq-${s}:sa-sd`, p[s]);
        m.distinct.clustered = distinctKernelValues(cl);
        const base = A.get(`base:sd#${r}`);
        if (base) m.distinct.base = distinctKernelValues(base);
      }
    }

    // ---- stage C: from the clustered model
    const cjobs: StudyJob[] = [];
    for (const r of group) {
      const cl = B.get(`clustered:sd#${r}`);
      if (!cl) continue;
      const stripped = stripClustering(cl.architecture, cl.weights!);
      cjobs.push(job({ name: 'clustered-qat:sd', domain: 'sd', repeat: r, model: withInt8Qat(stripped.arch), parent: stripped.weights, fineTune: true, weights: true }));
      cjobs.push(job({ name: 'cp-qat:sd', domain: 'sd', repeat: r, model: withInt8Qat(cl.architecture), parent: cl.weights!, fineTune: true, weights: true }));
    }
    const C = await stage(`stage C (${rangeLabel}): QAT and cluster-preserving QAT of the clustered model`, cjobs);
    for (const r of group) {
      const m = M.get(r)!;
      const cq = C.get(`clustered-qat:sd#${r}`);
      if (cq) {
        m.acc['clustered-qat:sa-sd'] = cq.metrics.testAccuracy!;
        m.acc['clustered-ptq-on-qat:sa-sd'] = ptqAccuracies(cq, sdData.test!, representative(sdData.train, c.calibrationSamples), ['int8'])['int8'];
        m.distinct['clustered-qat'] = distinctKernelValues(cq);
      }
      const cp = C.get(`cp-qat:sd#${r}`);
      if (cp) {
        m.acc['cp-qat:sa-sd'] = cp.metrics.testAccuracy!;
        m.distinct['cp-qat'] = distinctKernelValues(cp);
      }
      measures.push(m);
    }
  }
  const failed = jobs.filter((j) => j.status === 'failed').length;
  return { config: c, repeats: measures, jobs, datasets: [...datasets.values()], failed };
}

/** Mean and population std (in %) of a measurement over the runs that have it. */
export function statOf(run: StudyRun, key: string): { mean: number | null; std: number | null; n: number } {
  const xs = run.repeats.map((m) => m.acc[key]).filter((v): v is number => v !== undefined && Number.isFinite(v)).map((v) => 100 * v);
  return xs.length ? { mean: mean(xs), std: std(xs), n: xs.length } : { mean: null, std: null, n: 0 };
}

/** Mean of a per-run ID quantity over the runs. */
export function idStat(run: StudyRun, domain: 'sd' | 'td', layer: string, field: keyof IdRow): { mean: number | null; std: number | null; n: number } {
  const xs = run.repeats
    .map((m) => m.id[domain]?.profile.rows.find((x) => x.layer === layer)?.[field])
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return xs.length ? { mean: mean(xs), std: std(xs), n: xs.length } : { mean: null, std: null, n: 0 };
}

/** The significance lists of every run for a domain and rule. */
export function significanceOf(run: StudyRun, domain: 'sd' | 'td', rule: 'twonn' | 'pca'): LayerSignificance[][] {
  return run.repeats.flatMap((m) => (m.id[domain] ? [m.id[domain]![rule]] : []));
}

export { layerName, domainView };
