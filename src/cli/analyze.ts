/**
 * `tck analyze id`: the intrinsic dimension of each layer's representation of a trained model (a `tck train`
 * run directory), by TwoNN (Facco et al. 2017; seed 004 §2.4.2) and PCA (§2.4.1), and the layers the
 * significance rules pick (TwoNN |ID_l - ID_(l-1)| > Delta, §3.3.2; PCA Hybrid-Net, §2.1.3).
 *
 *   tck analyze id --run results/train-quantnet-stand-in-shirt-tshirt-custom --dataset stand-in-sandal-sneaker --json
 */
import path from 'node:path';
import { initEngine } from '../engine/backend.js';
import { loadModel } from '../models/io.js';
import { loadJobData } from '../experiments/run-job.js';
import { parseJobSpec } from '../experiments/job.js';
import { analyseLayers } from '../experiments/compress/evaluations.js';
import { STUDY_DEFAULTS } from '../experiments/compress/config.js';
import { designTag } from '../experiments/compress/study.js';
import { kitVersion, gitInfo } from '../run/provenance.js';
import { writeJsonAtomic } from '../util/files.js';
import { KitError } from '../util/errors.js';
import { readTrainRun } from './train-run.js';
import { COMMON_OPTIONS, parse, intFlag, numFlag, printJson, UsageError } from './common.js';

const D = STUDY_DEFAULTS.id;

const HELP = `tck analyze id: intrinsic dimension of every layer's representation of a trained model

  tck analyze id --run <run directory of tck train> [--dataset <view>] [--split train|test] [--points n]
                 [--channel-points n] [--pca-fraction f] [--delta d] [--seed n] [--out file.json] [--json]

Passes --points images (default ${D.points}, a seeded stratified draw of the --split, default train) of --dataset
(default: the run's own dataset; it must have the model's input shape) through the model and measures the
input and the output of every weighted layer but the last (after its activation, before pooling):
  twonn         TwoNN on the flattened representation (O*W*H; seed 004 §3.3.2), fit through the origin after
                discarding the largest 10% of mu (Facco et al. 2017); twonnMle its maximum-likelihood estimate
  twonnChannel  TwoNN* on per-pixel channel vectors (Table 4.5), at most --channel-points (default ${D.channelPoints})
  pcaChannel    PCA components for --pca-fraction of the variance (default ${D.pcaFraction}; Table 4.5), per channel
  pcaFlat       the same on the flattened representation (Gram matrix when fewer points than dimensions)
and the significant layers: TwoNN |ID_l - ID_(l-1)| > Delta and PCA nPC_l - nPC_(l-1) > Delta at 99% of the
variance (--delta, default ${D.delta}), with the hybrid designs they give (first and last layers full precision).
Writes --out (JSON with provenance) when given.
`;

export class AnalyzeError extends KitError {
  constructor(message: string) {
    super(message, 'AnalyzeError');
  }
}

export async function analyzeCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(
    'analyze',
    argv,
    {
      run: { type: 'string' },
      dataset: { type: 'string' },
      split: { type: 'string' },
      points: { type: 'string' },
      'channel-points': { type: 'string' },
      'pca-fraction': { type: 'string' },
      delta: { type: 'string' },
      seed: COMMON_OPTIONS.seed,
      out: COMMON_OPTIONS.out,
      backend: COMMON_OPTIONS.backend,
      json: COMMON_OPTIONS.json,
      help: COMMON_OPTIONS.help,
    },
    1,
  );
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const what = positionals[0];
  if (what !== 'id') throw new UsageError(`${what === undefined ? 'a subcommand is required' : `unknown subcommand ${JSON.stringify(what)}`}: tck analyze id --run <dir> (see tck analyze --help)`);
  if (!v.run) throw new UsageError('--run: the run directory of a tck train run is required (tck analyze id --run results/train-...)');
  const split = v.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new UsageError(`--split: expected train or test, got ${JSON.stringify(split)}`);
  const points = intFlag(v.points, 'points', 3) ?? D.points;
  const channelPoints = intFlag(v['channel-points'], 'channel-points', 3) ?? D.channelPoints;
  const pcaFraction = numFlag(v['pca-fraction'], 'pca-fraction') ?? D.pcaFraction;
  if (!(pcaFraction > 0 && pcaFraction <= 1)) throw new UsageError(`--pca-fraction: expected a fraction in (0, 1], got ${pcaFraction}`);
  const delta = numFlag(v.delta, 'delta') ?? D.delta;
  if (delta < 0) throw new UsageError(`--delta: expected a number >= 0, got ${delta}`);
  const seed = intFlag(v.seed, 'seed', 0) ?? 1;

  const dir = v.run;
  const saved = readTrainRun(dir, 'analyze id');
  const runConfig = (saved.config ?? {}) as { dataset?: unknown };
  const arch = saved.architecture;
  const dataset = v.dataset ?? (typeof runConfig.dataset === 'string' ? runConfig.dataset : undefined);
  if (!dataset) throw new UsageError(`--dataset: ${path.join(dir, 'config.json')} names no dataset view; give one (e.g. --dataset mnist)`);

  const engine = await initEngine({ backend: v.backend ?? process.env.TCK_BACKEND ?? 'auto' });
  const spec = parseJobSpec({ model: arch, data: { source: dataset }, train: { epochs: 1, batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 } }, seed, backend: engine.backend }, `--dataset ${dataset}`);
  const data = await loadJobData(spec);
  const rows = split === 'test' ? data.test : data.train;
  if (!rows) throw new UsageError(`--split test: dataset ${dataset} has no test split`);
  const inShape = arch.input;
  if (JSON.stringify([...rows.shape]) !== JSON.stringify([...inShape])) {
    throw new AnalyzeError(`--dataset ${dataset}: samples of shape [${rows.shape.join(', ')}] do not fit the model ${arch.name} of ${dir}, whose input is [${inShape.join(', ')}]`);
  }
  const model = await loadModel(saved.modelDir);
  if (model.layers.length !== arch.layers.length) {
    model.dispose();
    throw new AnalyzeError(`${dir}: model/ has ${model.layers.length} layers but architecture.json ${arch.layers.length}`);
  }
  const t0 = Date.now();
  let a: ReturnType<typeof analyseLayers>;
  try {
    // The §3.3.2 analysis with the study's settings (src/experiments/compress/config.ts STUDY_DEFAULTS.id).
    a = analyseLayers(model, arch, rows, { ...D, points, channelPoints, pcaFraction, delta, hybridBits: STUDY_DEFAULTS.hybridBits, seed: `${seed}` });
  } finally {
    model.dispose();
  }
  const seconds = (Date.now() - t0) / 1000;
  const layers = a.profile.rows.map((r) => ({
    layer: r.layer,
    shape: r.shape,
    points: r.points,
    flatDim: r.flatDim,
    twonn: r.twonn,
    twonnMle: r.twonnMle,
    twonnMleError: r.twonnMleError,
    duplicates: r.duplicates,
    twonnChannel: r.twonnChannel,
    channelDim: r.channelDim,
    channelPoints: r.channelPoints,
    pcaChannel: r.pcaChannel,
    pcaFlat: r.pcaFlat,
    pcaFraction: r.pcaFraction,
    twonnSignificant: a.twonn.find((s) => s.layer === r.layer)?.significant ?? null,
    pcaSignificant: a.pca.find((s) => s.layer === r.layer)?.significant ?? null,
  }));
  const summary = {
    command: 'analyze id',
    run: dir,
    model: arch.name,
    dataset,
    split,
    points: Math.min(points, rows.y.length),
    delta,
    hybridPcaFraction: D.hybridPcaFraction,
    layers,
    significance: { twonn: a.twonn, pca: a.pca },
    designs: { twonnHybrid: designTag(a.twonnDesign), pcaHybrid: designTag(a.pcaDesign), precisions: { twonnHybrid: a.twonnDesign, pcaHybrid: a.pcaDesign } },
    seconds,
    backend: engine.backend,
    seed,
    kit: kitVersion(),
    git: gitInfo(),
  };
  const f = (x: number | null) => (x === null ? '-' : Number.isInteger(x) ? String(x) : x.toFixed(2));
  process.stderr.write(`tck analyze id: ${arch.name} of ${dir} on ${summary.points} ${split} images of ${dataset} (${seconds.toFixed(1)} s)\n`);
  process.stderr.write(`${'layer'.padEnd(10)} ${'shape'.padEnd(10)} ${'TwoNN'.padStart(7)} ${'MLE'.padStart(7)} ${'TwoNN*'.padStart(7)} ${'PCA'.padStart(5)} ${'PCAflat'.padStart(7)}  significant\n`);
  for (const l of layers) {
    const sig = [l.twonnSignificant ? 'TwoNN' : '', l.pcaSignificant ? 'PCA' : ''].filter(Boolean).join(', ');
    process.stderr.write(`${l.layer.padEnd(10)} ${l.shape.padEnd(10)} ${f(l.twonn).padStart(7)} ${f(l.twonnMle).padStart(7)} ${f(l.twonnChannel).padStart(7)} ${f(l.pcaChannel).padStart(5)} ${f(l.pcaFlat).padStart(7)}  ${sig}\n`);
  }
  process.stderr.write(`designs (one character per weighted layer, f = full precision): TwoNN hybrid ${summary.designs.twonnHybrid}, PCA Hybrid-Net ${summary.designs.pcaHybrid}\n`);
  if (v.out) {
    writeJsonAtomic(v.out, summary);
    process.stderr.write(`written to ${v.out}\n`);
  }
  if (v.json) printJson(summary);
  return 0;
}
