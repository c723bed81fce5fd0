/**
 * A compression recipe as data: which quantizers go on which layers, and whether to prune or cluster. It is the
 * user-facing form (`tck train --weights ternary --inputs 8bit --prune 0.5`, or a `compression` block in a config
 * file, see examples/) of what a job spec says through its architecture's layer quantizers, its `hooks` and its
 * `init`; `applyCompression` turns one into the other, so every compressed training is still an ordinary job.
 *
 * Order: `weights` / `inputs` / `weightBits` apply to every conv2d/dense layer (inputs: all but the first, whose
 * input is the data), `keepFirstLast` then restores the first and last weighted layers to full precision (the
 * common practice of XNOR-Net and seed 004's hybrids), and `layers` overrides single layers by name last.
 */
import { z } from 'zod';
import type { Architecture, LayerSpec } from '../models/arch.js';
import { assignLayerIds, layerName } from '../models/arch.js';
import { QuantizerConfigSchema, type QuantizerConfig } from '../quant/config.js';
import { isWeighted } from '../hw/bits.js';
import type { HookSpec, InitSpec } from './hooks.js';
import { KitError } from '../util/errors.js';

const bitWidth = z.number().int().min(1).max(32);
const PruningMethod = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('magnitude') }),
  z.strictObject({ kind: z.literal('structured'), norm: z.enum(['l1', 'l2']) }),
]);

/** Per-layer settings; `null` removes a quantizer the global settings gave the layer. */
const LayerCompressionSchema = z.strictObject({
  kernelQuantizer: QuantizerConfigSchema.nullable().optional(),
  biasQuantizer: QuantizerConfigSchema.nullable().optional(),
  inputQuantizer: QuantizerConfigSchema.nullable().optional(),
});

export const CompressionSchema = z.strictObject({
  /** Kernel quantizer of every conv2d/dense layer. */
  weights: QuantizerConfigSchema.optional().describe('kernel quantizer of every conv2d/dense layer'),
  /** Input (activation) quantizer of every conv2d/dense layer after the first. */
  inputs: QuantizerConfigSchema.optional().describe('input (activation) quantizer of every conv2d/dense layer after the first'),
  /** Symmetric per-channel affine weights of these widths: one for all weighted layers or one per layer (32: float). */
  weightBits: z.union([bitWidth, z.array(bitWidth).min(1)]).optional().describe('symmetric per-channel affine weights: one width for all weighted layers or one per layer (32: float; 1: binary)'),
  /** The first and last weighted layers stay at full precision. */
  keepFirstLast: z.boolean().optional().describe('leave the first and last weighted layers at full precision'),
  /** Overrides by layer name (see `tck estimate --model <m> --json` for the names). */
  layers: z.record(z.string(), LayerCompressionSchema).optional().describe('per-layer overrides by layer name, applied last'),
  /**
   * Magnitude (or structured) pruning to `sparsity` while training: TFMOT's polynomial decay from 0 at the first
   * step to `sparsity` at 3/4 of training, masks updated every `frequency` steps (seed 004 §2.3).
   */
  prune: z
    .strictObject({
      sparsity: z.number().min(0).lt(1).describe('final fraction of zero weights'),
      method: PruningMethod.optional().describe('magnitude (default) or structured (whole output channels by L1/L2 norm)'),
      layers: z.array(z.string()).optional().describe('layers to prune (default: every conv2d/dense layer)'),
      frequency: z.number().int().min(1).optional().describe('steps between mask updates (default: a twentieth of training, at most 100)'),
    })
    .optional()
    .describe('pruning while training: polynomial decay from 0 to sparsity at 3/4 of training'),
  /** Weight clustering into `clusters` centroids before training; training then moves the centroids only (seed 004 §2.2). */
  cluster: z
    .strictObject({ clusters: z.number().int().min(2).describe('centroids per kernel'), layers: z.array(z.string()).optional().describe('layers to cluster (default: every conv2d/dense layer)') })
    .optional()
    .describe('k-means weight clustering before training; training moves the centroids only'),
});

export type Compression = z.infer<typeof CompressionSchema>;

export class CompressionError extends KitError {
  constructor(message: string) {
    super(message, 'CompressionError');
  }
}

/** Symmetric per-channel affine weights of `bits` bits (32: none). */
export function affineWeights(bits: number): QuantizerConfig | undefined {
  return bits >= 32 ? undefined : bits === 1 ? { kind: 'binary', scale: 'channel' } : { kind: 'affine', bits, symmetric: true, perChannel: true };
}

/**
 * Short names for quantizers on the command line: `binary`, `ternary`, `<n>bit` (affine, weights symmetric
 * per channel; inputs asymmetric with a dynamic range), `sign`, `reste`, `float16`, `none`; anything else is
 * parsed as a quantizer config in JSON.
 */
export function quantizerByName(name: string, role: 'weights' | 'inputs', where: string): QuantizerConfig | undefined {
  const n = name.trim().toLowerCase();
  const bits = /^(\d+)-?bits?$/.exec(n);
  if (n === 'none' || n === 'float' || n === 'float32' || n === '32bit') return undefined;
  if (bits) {
    const b = Number(bits[1]);
    if (b < 1 || b > 16) throw new CompressionError(`${where}: ${b} bits: expected 1..16 (or none)`);
    if (role === 'weights') return affineWeights(b);
    return b === 1 ? { kind: 'sign' } : { kind: 'affine', bits: b, symmetric: false, signed: true };
  }
  if (n === 'binary') return role === 'weights' ? { kind: 'binary', scale: 'channel' } : { kind: 'sign' };
  if (n === 'ternary') {
    if (role === 'inputs') throw new CompressionError(`${where}: ternary is a weight quantizer; inputs take binary, sign, reste or <n>bit`);
    return { kind: 'ternary', perChannel: true };
  }
  if (n === 'sign' || n === 'reste' || n === 'float16') return { kind: n } as QuantizerConfig;
  if (n.startsWith('{')) {
    let v: unknown;
    try {
      v = JSON.parse(name);
    } catch (e) {
      throw new CompressionError(`${where}: not valid JSON: ${(e as Error).message}`);
    }
    const r = QuantizerConfigSchema.safeParse(v);
    if (!r.success) throw new CompressionError(`${where}: ${r.error.issues.map((i) => `${i.path.join('.') || '(quantizer)'}: ${i.message}`).join('; ')}`);
    return r.data;
  }
  throw new CompressionError(`${where}: unknown quantizer ${JSON.stringify(name)}; expected binary, ternary, <n>bit (1..16), sign, reste, float16, none, or a quantizer config as JSON`);
}

/** What a job needs for a compression recipe: the architecture with its quantizers, training hooks and init transforms. */
export interface CompressionParts {
  arch: Architecture;
  hooks: HookSpec[];
  init?: InitSpec;
}

/**
 * Applies `c` to `arch`. `totalSteps` (optimizer steps of the whole training) places the pruning schedule.
 * Unknown layer names and a `weightBits` list of the wrong length are errors naming the valid choices.
 */
export function applyCompression(arch0: Architecture, c: Compression | undefined, totalSteps: number): CompressionParts {
  if (!c) return { arch: arch0, hooks: [] };
  const arch = assignLayerIds(arch0);
  const weighted = arch.layers.flatMap((l, i) => (isWeighted(l) ? [i] : []));
  const names = arch.layers.map((l, i) => layerName(l, i));
  const weightedNames = weighted.map((i) => names[i]);
  const check = (list: string[] | undefined, field: string) => {
    const bad = (list ?? []).filter((n) => !weightedNames.includes(n));
    if (bad.length) throw new CompressionError(`compression.${field}: no conv2d/dense layer ${bad.map((b) => JSON.stringify(b)).join(', ')} in ${arch.name}; its layers: ${weightedNames.join(', ')}`);
  };
  check(Object.keys(c.layers ?? {}), 'layers');
  check(c.prune?.layers, 'prune.layers');
  check(c.cluster?.layers, 'cluster.layers');
  let bitsPerLayer: (number | undefined)[] = weighted.map(() => undefined);
  if (c.weightBits !== undefined) {
    if (c.weights) throw new CompressionError('compression: give weights or weightBits, not both');
    const list = Array.isArray(c.weightBits) ? c.weightBits : weighted.map(() => c.weightBits as number);
    if (list.length !== weighted.length) {
      throw new CompressionError(`compression.weightBits: ${list.length} widths for ${weighted.length} conv2d/dense layers (${weightedNames.join(', ')}); give one for all or one per layer`);
    }
    bitsPerLayer = list;
  }
  const pruned = new Set(c.prune ? (c.prune.layers ?? weightedNames) : []);
  const layers = arch.layers.map((spec, i): LayerSpec => {
    if (!isWeighted(spec)) return spec;
    const w = weighted.indexOf(i);
    const edge = c.keepFirstLast && (w === 0 || w === weighted.length - 1);
    let kernel: QuantizerConfig | undefined = c.weights ?? (bitsPerLayer[w] !== undefined ? affineWeights(bitsPerLayer[w]!) : spec.kernelQuantizer);
    let input: QuantizerConfig | undefined = w > 0 && c.inputs ? c.inputs : spec.inputQuantizer;
    let bias = spec.biasQuantizer;
    if (edge) {
      kernel = c.weights || c.weightBits !== undefined ? undefined : kernel;
      input = c.inputs ? spec.inputQuantizer : input;
    }
    const o = c.layers?.[names[i]];
    if (o) {
      if (o.kernelQuantizer !== undefined) kernel = o.kernelQuantizer ?? undefined;
      if (o.inputQuantizer !== undefined) input = o.inputQuantizer ?? undefined;
      if (o.biasQuantizer !== undefined) bias = o.biasQuantizer ?? undefined;
    }
    const { kernelQuantizer: _k, inputQuantizer: _i, biasQuantizer: _b, ...rest } = spec;
    return {
      ...rest,
      ...(kernel && kernel.kind !== 'none' ? { kernelQuantizer: kernel } : {}),
      ...(input && input.kind !== 'none' ? { inputQuantizer: input } : {}),
      ...(bias && bias.kind !== 'none' ? { biasQuantizer: bias } : {}),
      ...(pruned.has(names[i]) ? { prune: true } : {}),
    } as LayerSpec;
  });
  // A sign input after a ReLU sees only values >= 0: every input would be +1 and the network could not learn.
  layers.forEach((spec, i) => {
    if (!isWeighted(spec) || !spec.inputQuantizer || !['sign', 'reste'].includes(spec.inputQuantizer.kind)) return;
    for (let j = i - 1; j >= 0; j--) {
      const prev = layers[j];
      const relu = (prev.kind === 'activation' && prev.fn === 'relu') || (isWeighted(prev) && prev.activation === 'relu');
      if (relu) {
        throw new CompressionError(
          `compression: layer ${names[i]} gets a ${spec.inputQuantizer.kind} input quantizer, but its input comes after the ReLU of ${names[j]}: ` +
            'every input would be +1. Binary activations replace the ReLU: use an architecture without it (batchnorm, then a quantize layer; see examples/binary-lenet5.json)',
        );
      }
      if (isWeighted(prev)) break;
    }
  });
  const hooks: HookSpec[] = c.prune
    ? [
        {
          kind: 'pruning',
          schedule: { kind: 'polynomial', initial: 0, final: c.prune.sparsity, begin: 0, end: Math.max(1, Math.floor((3 * totalSteps) / 4)), frequency: c.prune.frequency ?? Math.max(1, Math.min(100, Math.floor(totalSteps / 20))) },
          ...(c.prune.method ? { method: c.prune.method } : {}),
          ...(c.prune.layers ? { layers: c.prune.layers } : {}),
        },
      ]
    : [];
  const init: InitSpec | undefined = c.cluster
    ? { transforms: [{ kind: 'cluster', clusters: c.cluster.clusters, ...(c.cluster.layers ? { layers: c.cluster.layers } : {}) }] }
    : undefined;
  const tag = [c.weights ? `${c.weights.kind}${'bits' in c.weights ? c.weights.bits : ''}` : c.weightBits !== undefined ? `w${[c.weightBits].flat().join('-')}` : '', c.inputs ? `in-${c.inputs.kind}` : '', c.prune ? `p${c.prune.sparsity}` : '', c.cluster ? `c${c.cluster.clusters}` : '']
    .filter(Boolean)
    .join('-');
  return { arch: { ...arch, name: tag ? `${arch.name}-${tag}` : arch.name, layers }, hooks, ...(init ? { init } : {}) };
}
