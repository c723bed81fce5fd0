/**
 * The study's measurements that need no training, on trained models (in the experiment's own process):
 * post-training quantization (TFLite's four schemes, simulated), one-shot pruning and clustering, distinct
 * weight values, and the ID analysis of a model's representations. Pure functions of a job's result and data.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import type { Architecture } from '../../models/arch.js';
import { layerName } from '../../models/arch.js';
import { buildModel } from '../../models/build.js';
import { writeModelWeights, inheritWeights } from '../../models/weights.js';
import type { Dataset } from '../../data/types.js';
import { miniSubset } from '../../data/split.js';
import { rngStream } from '../../engine/random.js';
import { evaluate } from '../../train/evaluate.js';
import { postTrainingQuantize, type PtqScheme } from '../../compress/ptq.js';
import { applyPruning, type PruningMethod } from '../../compress/prune.js';
import { clusterModel } from '../../compress/cluster.js';
import { isQuantLayer } from '../../quant/layers.js';
import type { JobResult } from '../run-job.js';
import { idProfile, layerRepresentations, type IdProfile, type IdProfileOptions } from '../../analysis/representations.js';
import { componentsFor } from '../../analysis/pca.js';
import { pcaSignificance, twoNNSignificance, hybridPrecisions, type LayerSignificance, type LayerPrecisions } from '../../analysis/significance.js';
import { prunableArchitecture } from './designs.js';
import { KitError } from '../../util/errors.js';

/** A job's trained model, rebuilt from its result (the caller disposes it). */
export function trainedModel(r: JobResult): LayersModel {
  if (!r.weights) throw new KitError(`job ${r.architecture.name}: its result has no weights (the study asked for output.weights false); cannot rebuild the trained model`);
  const m = buildModel(r.architecture, { seed: 0 });
  writeModelWeights(m, r.weights, 'trained weights');
  return m;
}

/** Test accuracy (fraction) of a model. */
export function testAccuracy(model: LayersModel, arch: Architecture, test: Dataset): number {
  return evaluate(model, test, arch.head).accuracy;
}

/** The first `n` training rows: TFLite's representative dataset for calibration. */
export function representative(train: Dataset, n: number): Dataset {
  return miniSubset(train, Math.min(n, train.y.length), 'first');
}

/** Test accuracy of the trained model under each PTQ scheme. */
export function ptqAccuracies(r: JobResult, test: Dataset, rep: Dataset, schemes: readonly PtqScheme[]): Record<PtqScheme, number> {
  const model = trainedModel(r);
  const out = {} as Record<PtqScheme, number>;
  try {
    for (const s of schemes) {
      const q = postTrainingQuantize(model, r.architecture, s, rep);
      try {
        out[s] = testAccuracy(q.model, q.arch, test);
      } finally {
        q.model.dispose();
      }
    }
  } finally {
    model.dispose();
  }
  return out;
}

/** Distinct values of each weighted layer's kernel as stored (latent) and as used in the forward pass (effective). */
export function distinctKernelValues(r: JobResult): { layer: string; latent: number; effective: number }[] {
  const model = trainedModel(r);
  try {
    return model.layers.flatMap((l) => {
      const cls = l.getClassName();
      if (!isQuantLayer(l) && cls !== 'Dense' && cls !== 'Conv2D') return [];
      const raw = isQuantLayer(l) ? l.rawKernel() : l.getWeights()[0].clone();
      const eff = isQuantLayer(l) ? l.effectiveKernel() : raw.clone();
      const latent = new Set(raw.dataSync()).size;
      const effective = new Set(eff.dataSync()).size;
      raw.dispose();
      eff.dispose();
      return [{ layer: l.name, latent, effective }];
    });
  } finally {
    model.dispose();
  }
}

/** Test accuracy after one-shot pruning of `layers` to each sparsity (no fine-tuning; seed 004 Fig. 4.5). */
export function pruningCurve(r: JobResult, test: Dataset, layers: string[], sparsities: number[], method: PruningMethod): number[] {
  const arch = prunableArchitecture(r.architecture, layers);
  return sparsities.map((s) => {
    const m = buildModel(arch, { seed: 0 });
    try {
      inheritWeights(r.weights!, m);
      applyPruning(m, s, method, layers);
      return testAccuracy(m, arch, test);
    } finally {
      m.dispose();
    }
  });
}

/** Test accuracy after one-shot k-means clustering of every weighted layer into each N_c (seed 004 Fig. 4.6). */
export function clusteringCurve(r: JobResult, test: Dataset, counts: number[], seed: string): number[] {
  const model = trainedModel(r);
  try {
    return counts.map((k) => {
      const c = clusterModel(model, r.architecture, { clusters: k, seed });
      try {
        return testAccuracy(c.model, c.arch, test);
      } finally {
        c.model.dispose();
      }
    });
  } finally {
    model.dispose();
  }
}

export interface IdAnalysis {
  profile: IdProfile;
  /** TwoNN (flattened) and PCA (per channel, at the hybrid fraction) significance of the weighted layers. */
  twonn: LayerSignificance[];
  pca: LayerSignificance[];
  /** The designs they give: TwoNN hybrid and PCA Hybrid-Net (first and last layers full precision). */
  twonnDesign: LayerPrecisions;
  pcaDesign: LayerPrecisions;
}

export interface IdAnalysisOptions extends IdProfileOptions {
  points: number;
  delta: number;
  hybridPcaFraction: number;
  hybridBits: number;
}

/**
 * The ID analysis of a trained model on `points` rows of `data` (a seeded stratified draw from the pair's
 * training split; the test split is never used for a choice): the profile of Table 4.5 and both rules'
 * significant layers and designs (§3.3.2; §2.1.3).
 */
export function analyseModel(r: JobResult, data: Dataset, o: IdAnalysisOptions): IdAnalysis {
  const model = trainedModel(r);
  try {
    return analyseLayers(model, r.architecture, data, o);
  } finally {
    model.dispose();
  }
}

/** The ID analysis of a model (built from `arch`) on `points` rows of `data` (`tck analyze id`, the study). */
export function analyseLayers(model: LayersModel, arch: Architecture, data: Dataset, o: IdAnalysisOptions): IdAnalysis {
  const batch = miniSubset(data, Math.min(o.points, data.y.length), 'stratified', rngStream(o.seed ?? 0, 'analysis:batch'));
  const reps = layerRepresentations(model, arch, batch);
  const profile = idProfile(reps, o);
  const weighted = arch.layers.flatMap((s, i) => (s.kind === 'conv2d' || s.kind === 'dense' ? [layerName(s, i)] : []));
  const twonn = twoNNSignificance(profile.rows.map((x) => ({ layer: x.layer, id: x.twonn })), o.delta);
  const pca = pcaSignificance(
    profile.spectra.map((s) => ({ layer: s.layer, id: componentsFor({ cumulative: Float64Array.from(s.cumulative) }, o.hybridPcaFraction) })),
    o.delta,
  );
  // The output layer's own representation is not measured (it is the logit): the designs keep it full precision.
  const bits = { significantBits: o.hybridBits, insignificantBits: 1 };
  return { profile, twonn, pca, twonnDesign: hybridPrecisions(weighted, twonn, bits), pcaDesign: hybridPrecisions(weighted, pca, bits) };
}
