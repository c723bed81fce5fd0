/**
 * Weight clustering (seed 004 §2.2, after Han et al. 2015 and TFMOT's cluster_weights): each layer's weights
 * are grouped into N_c clusters by seeded k-means (k-means++ initialisation, ml-kmeans) and share their
 * centroid. The clustered layer holds trainable centroids and non-trainable indices, so fine-tuning updates
 * centroids and the number of distinct values stays N_c (TFMOT's cluster-preserving QAT, seed 004 Table 4.8;
 * N_c = 16 there). A kernel quantizer on top (fake 8-bit) gives the "Clustered + QAT" variants.
 */
import { kmeans } from 'ml-kmeans';
import { tf } from '../engine/backend.js';
import type { LayersModel } from '@tensorflow/tfjs';
import { rngStream } from '../engine/random.js';
import type { Architecture, LayerSpec } from '../models/arch.js';
import { buildModel } from '../models/build.js';
import { isQuantLayer } from '../quant/layers.js';
import type { QuantizerConfig } from '../quant/quantizers.js';

export interface KMeansResult {
  centroids: Float32Array;
  /** Cluster index of each value. */
  assignments: Int32Array;
}

/**
 * One-dimensional k-means with k-means++ initialisation, seeded. Centroids come back sorted ascending and the
 * assignments renumbered to match, so the result does not depend on the initial order of centres.
 */
export function kmeans1d(values: Float32Array, k: number, seed: number | string, maxIterations = 100): KMeansResult {
  if (!Number.isInteger(k) || k < 1) throw new Error(`k-means: clusters must be a positive integer, got ${k}`);
  const distinct = new Set(values).size;
  if (k >= distinct) {
    // Fewer distinct values than clusters: every value is its own centroid.
    const uniq = Float32Array.from(new Set(values)).sort();
    const pos = new Map(Array.from(uniq, (v, i) => [v, i]));
    return { centroids: uniq, assignments: Int32Array.from(values, (v) => pos.get(v)!) };
  }
  const data = Array.from(values, (v) => [v]);
  const r = kmeans(data, k, { initialization: 'kmeans++', seed: rngStream(seed, 'cluster').int32() >>> 0, maxIterations });
  const raw = r.centroids.map((c) => c[0]);
  const order = raw.map((_, i) => i).sort((a, b) => raw[a] - raw[b]);
  const rank = new Int32Array(k);
  order.forEach((old, i) => (rank[old] = i));
  return { centroids: Float32Array.from(order, (i) => raw[i]), assignments: Int32Array.from(r.clusters, (c) => rank[c]) };
}

export interface ClusterOptions {
  clusters: number;
  seed: number | string;
  /** Layer names to cluster (default: every conv2d and dense layer). */
  layers?: string[];
  /** Kernel quantizer applied on top of the centroids (cluster-preserving QAT), e.g. affine 8-bit. */
  kernelQuantizer?: QuantizerConfig;
}

/**
 * A clustered copy of a trained model: the architecture with `clusters` set on the chosen layers, built, with
 * every other weight copied and the clustered kernels replaced by k-means centroids + indices.
 */
export function clusterModel(model: LayersModel, arch: Architecture, o: ClusterOptions): { arch: Architecture; model: LayersModel } {
  const chosen = (s: LayerSpec, i: number) =>
    (s.kind === 'conv2d' || s.kind === 'dense') && (!o.layers || o.layers.includes(s.name ?? `${s.kind}_${i}`));
  const clustered: Architecture = {
    ...arch,
    name: `${arch.name}-clustered${o.clusters}`,
    layers: arch.layers.map((s, i) =>
      chosen(s, i) ? ({ ...s, clusters: o.clusters, ...(o.kernelQuantizer ? { kernelQuantizer: o.kernelQuantizer } : {}) } as LayerSpec) : s,
    ),
  };
  const out = buildModel(clustered, { seed: o.seed });
  for (const target of out.layers) {
    const source = model.getLayer(target.name);
    if (!source) throw new Error(`clusterModel: the trained model has no layer ${target.name}`);
    if (isQuantLayer(target) && target.variables().centroids) {
      const kernel = isQuantLayer(source) ? source.rawKernel() : source.getWeights()[0].clone();
      const km = kmeans1d(kernel.dataSync() as Float32Array, o.clusters, `${o.seed}:${target.name}`);
      const v = target.variables();
      const c = tf.tensor1d(padTo(km.centroids, o.clusters));
      const ix = tf.tensor(km.assignments, kernel.shape, 'int32');
      v.centroids!.write(c);
      v.indices!.write(ix);
      [c, ix, kernel].forEach((t) => t.dispose());
      const bias = isQuantLayer(source) ? source.variables().bias : null;
      const srcBias = bias ? bias.read() : source.getWeights()[1];
      if (v.bias && srcBias) v.bias.write(srcBias);
      if (v.mask && isQuantLayer(source) && source.variables().mask) v.mask.write(source.variables().mask!.read());
    } else {
      target.setWeights(source.getWeights());
    }
  }
  return { arch: clustered, model: out };
}

/** Repeats the last centroid when k-means returned fewer (fewer distinct values than clusters). */
function padTo(c: Float32Array, k: number): Float32Array {
  if (c.length >= k) return c;
  const out = new Float32Array(k).fill(c[c.length - 1] ?? 0);
  out.set(c);
  return out;
}

/** Number of distinct values in each conv/dense layer's effective (quantized) kernel (seed 004 Table 4.8). */
export function distinctValues(model: LayersModel): { layer: string; distinct: number }[] {
  return model.layers.flatMap((l) => {
    if (!isQuantLayer(l) && !['Dense', 'Conv2D'].includes(l.getClassName())) return [];
    const k = isQuantLayer(l) ? l.effectiveKernel() : l.getWeights()[0].clone();
    const n = new Set(k.dataSync()).size;
    k.dispose();
    return [{ layer: l.name, distinct: n }];
  });
}
