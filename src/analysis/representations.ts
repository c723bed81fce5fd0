/**
 * Data representations of a trained network's layers for a batch of inputs, and their intrinsic-dimension
 * profile (seed 004 §3.3.2 and Table 4.5).
 *
 * The representation of a weighted layer (conv2d or dense) is its output after the elementwise layers that
 * follow it (its own activation, batchnorm, activation and quantize layers), before pooling, dropout or flatten.
 * A conv output of M x H x W x O values is read two ways:
 * - `flat`: M points of dimension O*W*H (seed 004 §3.3.2, its TwoNN);
 * - `channel`: M*W*H points of dimension O, one per pixel (seed 004 Table 4.5's PCA and TwoNN*, after
 *   Chakraborty et al.'s PCA on "M * W * H activations of dimension O").
 * A dense output is M points of dimension units either way. The input itself is the first representation.
 */
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { tf } from '../engine/backend.js';
import { rngStream } from '../engine/random.js';
import type { Architecture, LayerSpec } from '../models/arch.js';
import { layerName } from '../models/arch.js';
import type { Dataset } from '../data/types.js';
import { sampleSize } from '../data/types.js';
import { AnalysisError, subsamplePoints, type PointSet } from './points.js';
import { twoNN, type TwoNNOptions } from './twonn.js';
import { componentsFor, pcaSpectrum } from './pca.js';

export type RepresentationMode = 'flat' | 'channel';

export interface Representation {
  /** `input` or the weighted layer's id. */
  layer: string;
  /** Shape of one sample's representation ([h, w, c] or [units]). */
  shape: number[];
  /** Samples, row-major: n * prod(shape) values. */
  values: Float32Array;
  n: number;
}

const ELEMENTWISE = new Set<LayerSpec['kind']>(['batchnorm', 'activation', 'quantize', 'hardtanh']);
const isWeighted = (s: LayerSpec) => s.kind === 'conv2d' || s.kind === 'dense';

/** The weighted layers' ids, in order. */
export function weightedLayers(arch: Architecture): string[] {
  return arch.layers.flatMap((s, i) => (isWeighted(s) ? [layerName(s, i)] : []));
}

/**
 * The input and the representation of each weighted layer for the first `n` samples of `data` (inference
 * mode), in batches of `batchSize`. `layers` chooses weighted layers (default: all but the last, the logits).
 */
export function layerRepresentations(
  model: LayersModel,
  arch: Architecture,
  data: Pick<Dataset, 'x' | 'shape' | 'y'>,
  o: { n?: number; layers?: string[]; batchSize?: number } = {},
): Representation[] {
  const n = Math.min(o.n ?? data.y.length, data.y.length);
  if (n < 1) throw new AnalysisError('layer representations: no samples');
  const weighted = weightedLayers(arch);
  const wanted = o.layers ?? weighted.slice(0, -1);
  const unknown = wanted.filter((l) => !weighted.includes(l));
  if (unknown.length) throw new AnalysisError(`layer representations: ${unknown.join(', ')} ${unknown.length > 1 ? 'are not weighted layers' : 'is not a weighted layer'} of ${arch.name} (weighted layers: ${weighted.join(', ')})`);
  if (model.layers.length !== arch.layers.length) throw new AnalysisError(`layer representations: the model has ${model.layers.length} layers but architecture ${arch.name} ${arch.layers.length}`);
  // Where each representation is read: after the last elementwise layer that follows the weighted layer.
  const readAt = new Map<number, string>();
  arch.layers.forEach((s, i) => {
    if (!isWeighted(s) || !wanted.includes(layerName(s, i))) return;
    let j = i;
    while (j + 1 < arch.layers.length && ELEMENTWISE.has(arch.layers[j + 1].kind)) j++;
    readAt.set(j, layerName(s, i));
  });
  const d = sampleSize(data as Dataset);
  const chunks = new Map<string, Float32Array[]>();
  const shapes = new Map<string, number[]>();
  const bs = o.batchSize ?? 250;
  for (let s = 0; s < n; s += bs) {
    const e = Math.min(n, s + bs);
    tf.tidy(() => {
      let x: Tensor = tf.tensor(data.x.subarray(s * d, e * d), [e - s, ...data.shape]);
      model.layers.forEach((layer, i) => {
        x = layer.apply(x, { training: false }) as Tensor;
        const name = readAt.get(i);
        if (name) {
          shapes.set(name, x.shape.slice(1) as number[]);
          const list = chunks.get(name) ?? [];
          list.push(x.dataSync() as Float32Array);
          chunks.set(name, list);
        }
      });
    });
  }
  const input: Representation = { layer: 'input', shape: [...data.shape], values: data.x.slice(0, n * d), n };
  const reps = wanted.map((layer): Representation => {
    const parts = chunks.get(layer)!;
    const values = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts) {
      values.set(p, off);
      off += p.length;
    }
    return { layer, shape: shapes.get(layer)!, values, n };
  });
  return [input, ...reps];
}

/** A representation as points: `flat` (n points of prod(shape)) or `channel` (n*h*w points of the channels). */
export function representationPoints(r: Representation, mode: RepresentationMode): PointSet {
  const size = r.shape.reduce((a, b) => a * b, 1);
  if (mode === 'flat' || r.shape.length === 1) return { x: r.values, n: r.n, dim: size };
  const c = r.shape[r.shape.length - 1];
  // NHWC: every pixel's channel vector is already contiguous.
  return { x: r.values, n: (r.n * size) / c, dim: c };
}

export interface IdProfileOptions extends TwoNNOptions {
  /** PCA explained-variance fraction (default 0.95, seed 004 Table 4.5). */
  pcaFraction?: number;
  /** At most this many points for TwoNN* on per-channel vectors (a seeded subsample; default 2000). */
  channelPoints?: number;
  /** Also the PCA of the flattened representation (Gram matrix; default true). */
  flatPca?: boolean;
  /** Seed of the subsample streams. */
  seed?: number | string;
}

export interface IdRow {
  layer: string;
  shape: string;
  /** Points and dimension of the flattened representation. */
  points: number;
  flatDim: number;
  /** TwoNN on the flattened representation (seed 004 §3.3.2): fit and maximum-likelihood estimate. */
  twonn: number;
  twonnMle: number;
  twonnMleError: number;
  duplicates: number;
  /** TwoNN* on per-channel vectors (Table 4.5): points used (a subsample) and the fit. */
  channelDim: number;
  channelPoints: number;
  twonnChannel: number;
  channelDuplicates: number;
  /** nPC of the per-channel vectors (Table 4.5's PCA) and of the flattened representation. */
  pcaChannel: number;
  pcaFlat: number | null;
  pcaFraction: number;
}

export interface IdProfile {
  rows: IdRow[];
  /** Cumulative explained variance of the per-channel PCA of each representation (Fig. 4.2). */
  spectra: { layer: string; cumulative: number[] }[];
}

/** The ID profile of a list of representations (TwoNN flat and per channel, PCA per channel and flat). */
export function idProfile(reps: Representation[], o: IdProfileOptions = {}): IdProfile {
  const fraction = o.pcaFraction ?? 0.95;
  const rows: IdRow[] = [];
  const spectra: IdProfile['spectra'] = [];
  for (const r of reps) {
    const flat = representationPoints(r, 'flat');
    const chan = representationPoints(r, 'channel');
    const t = twoNN(flat, o);
    const sub = subsamplePoints(chan, o.channelPoints ?? 2000, rngStream(o.seed ?? 0, `analysis:${r.layer}`));
    const tc = twoNN(sub, o);
    const sc = pcaSpectrum(chan);
    const pf = o.flatPca === false ? null : componentsFor(pcaSpectrum(flat), fraction);
    spectra.push({ layer: r.layer, cumulative: Array.from(sc.cumulative) });
    rows.push({
      layer: r.layer,
      shape: r.shape.join('x'),
      points: flat.n,
      flatDim: flat.dim,
      twonn: t.dimension,
      twonnMle: t.mle,
      twonnMleError: t.mleError,
      duplicates: t.duplicates,
      channelDim: chan.dim,
      channelPoints: sub.n,
      twonnChannel: tc.dimension,
      channelDuplicates: tc.duplicates,
      pcaChannel: componentsFor(sc, fraction),
      pcaFlat: pf,
      pcaFraction: fraction,
    });
  }
  return { rows, spectra };
}
