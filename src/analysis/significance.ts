/**
 * Layer significance from an intrinsic-dimension profile, and the mixed-precision designs built on it.
 *
 * - TwoNN rule (seed 004 §3.3.2): layer l is significant when |ID_l - ID_(l-1)| > Delta (Delta = 20 in Figs. 3.3,
 *   4.3, 4.4); a large decrease counts as much as a large increase, since the ID profile is a hunchback.
 * - PCA Hybrid-Net rule (Chakraborty et al. 2020; seed 004 §2.1.3): layer l is significant when its nPC
 *   exceeds the previous layer's by more than Delta (an increase only); nPC at 99% of the variance in
 *   Chakraborty's rule, 95% in seed 004 Table 4.5.
 *
 * ID_(l-1) of the first layer is the ID of the input. The designs (§2.1.3, §3.3): the first and last weighted
 * layers stay at full precision; XNOR-Net makes every intermediate layer binary; the hybrids make significant
 * intermediate layers b-bit (2 in Table 4.6) and insignificant ones binary.
 */
import { KitError } from '../util/errors.js';

/** The ID of each representation, in order: the input first, then the output of each layer. */
export interface IdPoint {
  layer: string;
  id: number;
}

export interface LayerSignificance {
  layer: string;
  /** |ID_l - ID_(l-1)| (TwoNN) or ID_l - ID_(l-1) (PCA). */
  criterion: number;
  significant: boolean;
}

export type SignificanceRule = 'twonn' | 'pca';

/** The default threshold of seed 004 (Figs. 3.3, 4.3, 4.4). */
export const SIGNIFICANCE_DELTA = 20;

function check(profile: IdPoint[], delta: number, rule: string): void {
  if (profile.length < 2) throw new KitError(`${rule} significance: needs the input's ID and at least one layer's, got ${profile.length} entries`, 'AnalysisError');
  if (!(delta >= 0) || !Number.isFinite(delta)) throw new KitError(`${rule} significance: Delta must be a finite number >= 0, got ${delta}`, 'AnalysisError');
  const bad = profile.find((p) => !Number.isFinite(p.id));
  if (bad) throw new KitError(`${rule} significance: the ID of ${bad.layer} is ${bad.id}`, 'AnalysisError');
}

/** Seed 004 §3.3.2: significant when |ID_l - ID_(l-1)| > Delta. One entry per layer after the input. */
export function twoNNSignificance(profile: IdPoint[], delta = SIGNIFICANCE_DELTA): LayerSignificance[] {
  check(profile, delta, 'TwoNN');
  return profile.slice(1).map((p, i) => {
    const criterion = Math.abs(p.id - profile[i].id);
    return { layer: p.layer, criterion, significant: criterion > delta };
  });
}

/** Chakraborty et al.'s PCA Hybrid-Net rule: significant when nPC_l - nPC_(l-1) > Delta (increase only). */
export function pcaSignificance(profile: IdPoint[], delta = SIGNIFICANCE_DELTA): LayerSignificance[] {
  check(profile, delta, 'PCA');
  return profile.slice(1).map((p, i) => {
    const criterion = p.id - profile[i].id;
    return { layer: p.layer, criterion, significant: criterion > delta };
  });
}

export function significance(rule: SignificanceRule, profile: IdPoint[], delta = SIGNIFICANCE_DELTA): LayerSignificance[] {
  return rule === 'twonn' ? twoNNSignificance(profile, delta) : pcaSignificance(profile, delta);
}

/** Bits per weighted layer (32 = full precision), by layer name, in layer order. */
export type LayerPrecisions = { layer: string; bits: number }[];

export interface HybridOptions {
  /** Bits of significant intermediate layers (default 2, seed 004 Table 4.6). */
  significantBits?: number;
  /** Bits of insignificant intermediate layers (default 1, binary). */
  insignificantBits?: number;
}

/**
 * A hybrid design: for each weighted layer (in order), full precision for the first and the last, else
 * `significantBits` when the rule calls the layer significant and `insignificantBits` otherwise. A layer the
 * significance list does not mention is an error (its ID was not measured).
 */
export function hybridPrecisions(weighted: string[], sig: LayerSignificance[], o: HybridOptions = {}): LayerPrecisions {
  const by = new Map(sig.map((s) => [s.layer, s]));
  return weighted.map((layer, i) => {
    if (i === 0 || i === weighted.length - 1) return { layer, bits: 32 };
    const s = by.get(layer);
    if (!s) throw new KitError(`hybrid design: no significance for layer ${layer} (have: ${sig.map((x) => x.layer).join(', ')})`, 'AnalysisError');
    return { layer, bits: s.significant ? (o.significantBits ?? 2) : (o.insignificantBits ?? 1) };
  });
}

/** XNOR-Net (Rastegari et al. 2016; seed 004 §2.1.3): every intermediate layer binary, first and last full. */
export function xnorPrecisions(weighted: string[]): LayerPrecisions {
  return weighted.map((layer, i) => ({ layer, bits: i === 0 || i === weighted.length - 1 ? 32 : 1 }));
}
