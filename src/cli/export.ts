/**
 * `tck export --run <run directory of tck train>`: the trained model as an integer-only model (JSON and a C
 * header, src/compress/export.ts), with a check that the integer inference predicts what the tfjs model
 * predicts on the test split.
 *
 *   tck export --run results/train-lenet5-32-mnist32-1a2b3c4d-custom --json
 */
import path from 'node:path';
import { initEngine } from '../engine/backend.js';
import { loadModel } from '../models/io.js';
import { loadJobData } from '../experiments/run-job.js';
import { parseJobSpec } from '../experiments/job.js';
import { exportableModel, exportModel, integerInference, writeExport } from '../compress/export.js';
import { miniSubset } from '../data/split.js';
import { predictClasses } from '../train/evaluate.js';
import { kitVersion, gitInfo } from '../run/provenance.js';
import { writeJsonAtomic } from '../util/files.js';
import { TrainConfigSchema } from './train.js';
import { validateConfig } from './config.js';
import { readTrainRun } from './train-run.js';
import { COMMON_OPTIONS, parse, intFlag, printJson, UsageError } from './common.js';

const HELP = `tck export: the integer-only model of a trained run (tck train), as JSON and a C header

  tck export --run <run directory> [--out dir] [--samples n] [--calibration n] [--input-bits b] [--json]

Layers keep the quantizers they were trained with; every layer whose input is not quantized yet (the model
input, inputs after ReLU) gets a static affine input quantizer calibrated on the first --calibration training
rows (default 200; --input-bits, default 8). Weights must be quantized (train with --weights or --weight-bits).
Writes <name>.json, <name>.h and check.json (default <run>/export/): how many of the first --samples test rows
(default 1000; training rows for datasets without a test split) the integer inference classifies as the tfjs
model does, and both accuracies. Exit status 1 when any differ.
`;

export async function exportCommand(argv: string[]): Promise<number> {
  const { values: v } = parse('export', argv, {
    run: { type: 'string' },
    out: COMMON_OPTIONS.out,
    samples: { type: 'string' },
    calibration: { type: 'string' },
    'input-bits': { type: 'string' },
    backend: COMMON_OPTIONS.backend,
    json: COMMON_OPTIONS.json,
    help: COMMON_OPTIONS.help,
  });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!v.run) throw new UsageError('--run: the run directory of a tck train run is required (tck export --run results/train-...)');
  const samples = intFlag(v.samples, 'samples', 1) ?? 1000;
  const calibrationRows = intFlag(v.calibration, 'calibration', 1) ?? 200;
  const inputBits = intFlag(v['input-bits'], 'input-bits', 2) ?? 8;
  const dir = v.run;
  const saved = readTrainRun(dir, 'export', ' (train again with this kit version if the run predates architecture.json)');
  const config = validateConfig(TrainConfigSchema, saved.config, path.join(dir, 'config.json'));
  const arch = saved.architecture;
  const engine = await initEngine({ backend: v.backend ?? process.env.TCK_BACKEND ?? 'auto' });
  // The run's own data: its view and subset, the same rows it trained on.
  const spec = parseJobSpec(
    { model: arch, data: { source: config.dataset, subset: config.subset }, train: { epochs: 1, batchSize: config.batchSize, optimizer: config.optimizer }, seed: config.seed, backend: engine.backend },
    `${dir}/config.json`,
  );
  const data = await loadJobData(spec);
  // Checked on the test split; a dataset without one (the UCI tables) is checked on its training rows.
  const checkSet = data.test ?? data.train;
  const checkedOn = data.test ? 'test' : 'train (the dataset has no test split)';
  const trained = await loadModel(saved.modelDir);
  const ready = exportableModel(trained, arch, miniSubset(data.train, Math.min(calibrationRows, data.train.y.length), 'first'), inputBits);
  trained.dispose();
  try {
    const exp = exportModel(ready.model, arch.name);
    const out = v.out ?? path.join(dir, 'export');
    const files = writeExport(exp, out);
    const check = miniSubset(checkSet, Math.min(samples, checkSet.y.length), 'first');
    const ours = integerInference(exp, check.x, check.y.length).classes;
    const theirs = predictClasses(ready.model, check, arch.head ?? 'softmax');
    let agree = 0;
    let intCorrect = 0;
    let tfCorrect = 0;
    for (let i = 0; i < check.y.length; i++) {
      agree += ours[i] === theirs[i] ? 1 : 0;
      intCorrect += ours[i] === check.y[i] ? 1 : 0;
      tfCorrect += theirs[i] === check.y[i] ? 1 : 0;
    }
    const n = check.y.length;
    const summary = {
      command: 'export',
      run: dir,
      name: exp.name,
      json: files.json,
      header: files.header,
      layers: exp.layers.map((l) => ({ name: l.name, op: l.op, weightBits: l.weightBits, weights: l.weights.length })),
      weightBytes: exp.layers.reduce((s, l) => s + Math.ceil((l.weights.length * l.weightBits) / 8), 0),
      checked: n,
      checkedOn,
      agree,
      agreement: agree / n,
      integerAccuracy: intCorrect / n,
      tfjsAccuracy: tfCorrect / n,
      backend: engine.backend,
      kit: kitVersion(),
      git: gitInfo(),
      calibration: { rows: Math.min(calibrationRows, data.train.y.length), inputBits },
    };
    writeJsonAtomic(path.join(out, 'check.json'), summary);
    process.stderr.write(
      `tck export: ${path.relative(process.cwd(), files.json)} and ${path.relative(process.cwd(), files.header)}; ` +
        `the integer model classifies ${agree} of ${n} ${data.test ? 'test' : 'training'} rows as tfjs does (${((100 * agree) / n).toFixed(2)}%); ` +
        `accuracy integer ${((100 * intCorrect) / n).toFixed(2)}%, tfjs ${((100 * tfCorrect) / n).toFixed(2)}%\n`,
    );
    if (v.json) printJson(summary);
    return agree === n ? 0 : 1;
  } finally {
    ready.model.dispose();
  }
}
