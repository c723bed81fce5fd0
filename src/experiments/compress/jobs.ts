/**
 * The study's trainings as job specs (plain data for the experiment engine). Every training of seed 004's study
 * is one of these: a base model, a QAT or transfer-learning fine-tune, a mixed-precision design trained from
 * scratch or fine-tuned, a clustered or pruned fine-tune. Derived jobs carry their parent's trained weights in
 * `init` (so their key, and the ledger, follow the parent's result).
 *
 * Seeds: `seed` drives the data streams (the training subset and the 80:20 split: the same for every run and
 * every job on a pair); run r trains with `trainSeed` `<seed>:r<r>`, so the jobs of one run start from the same
 * initial weights wherever their layers agree (paired comparisons).
 */
import type { Architecture } from '../../models/arch.js';
import { architectureByName } from '../../models/zoo.js';
import { resolveView, type DatasetView } from '../../data/views.js';
import { encodeWeights, type ModelWeights } from '../../models/weights.js';
import type { JobSpecInput } from '../job.js';
import type { InitSpec } from '../hooks.js';
import type { CompressStudyConfig } from './config.js';

export type Domain = 'sd' | 'td' | 'td2';

/** QuantNet for a class pair: one sigmoid output (seed 004 §3.2, §4.1.3). */
export const QUANTNET: Architecture = architectureByName('quantnet', { classes: 2 });

/** The view a domain's jobs train on: the source pair, the target pair, or the source pair rotated (TD2). */
export function domainView(c: CompressStudyConfig, d: Domain): string | DatasetView {
  const ref = d === 'td' ? c.target : c.source;
  if (d !== 'td2' && !c.testSubset) return ref;
  const { view } = resolveView(ref);
  return {
    ...view,
    ...(c.testSubset ? { testSubset: { n: c.testSubset, mode: 'stratified' as const } } : {}),
    ...(d === 'td2' ? { rotate: c.rotation } : {}),
  };
}

export interface StudyJob {
  /** A stable name within a run, e.g. `base:sd`, `qat:td`, `mixed:f1ff:sd-scratch`. */
  name: string;
  repeat: number;
  domain: Domain;
  spec: JobSpecInput;
}

export interface JobOptions {
  name: string;
  domain: Domain;
  repeat: number;
  model: Architecture;
  /** Parent weights copied by layer id (`inherit`), and init transforms (clustering, pruning). */
  parent?: ModelWeights;
  transforms?: InitSpec['transforms'];
  /** A fine-tune (c.fineTune's epochs and patience) rather than a training from scratch (c.train's). */
  fineTune?: boolean;
  /** Keep the trained weights in the result (needed by evaluations and later jobs). */
  weights?: boolean;
}

/** One training of the study as a job spec. */
export function studyJob(c: CompressStudyConfig, backend: string, o: JobOptions): StudyJob {
  const t = o.fineTune ? c.fineTune : c.train;
  const init: InitSpec | undefined = o.parent || o.transforms?.length ? { ...(o.parent ? { inherit: encodeWeights(o.parent) } : {}), transforms: o.transforms ?? [] } : undefined;
  const spec: JobSpecInput = {
    model: o.model,
    data: {
      source: domainView(c, o.domain),
      ...(c.trainSubset ? { subset: { n: c.trainSubset, mode: 'stratified' as const } } : {}),
      split: { kind: 'holdout', valFraction: c.train.valFraction },
    },
    train: { epochs: t.epochs, batchSize: c.train.batchSize, optimizer: { name: 'adam', lr: c.train.lr }, earlyStopping: { patience: t.patience } },
    ...(init ? { init } : {}),
    seed: c.seed,
    trainSeed: `${c.seed}:r${o.repeat}`,
    backend: backend as 'wasm',
    evaluate: ['validation', 'test'],
    output: { weights: o.weights ?? false, history: true },
    label: `${o.name} r${o.repeat}`,
  };
  return { name: o.name, repeat: o.repeat, domain: o.domain, spec };
}
