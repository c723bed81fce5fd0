/**
 * A zod schema for `Architecture` JSON (`tck estimate --model net.json`, genomes of the search issues), so a
 * malformed file is reported field by field with its path (`layers.2.filters: ...`). A file may hold the
 * architecture itself or an object with an `architecture` field (a genome with extra data).
 */
import { z } from 'zod';
import type { Architecture, LayerSpec } from './arch.js';
import { kindUnion, QuantizerConfigSchema } from '../quant/config.js';

const pos = z.number().int().min(1);
const activation = z.enum(['relu', 'tanh', 'sigmoid', 'linear', 'softmax']);
const init = z.enum(['glorotUniform', 'glorotNormal', 'heNormal', 'heUniform', 'torchDefault', 'zeros']);
const padding = z.enum(['valid', 'same']);
const name = z.string().min(1).optional();
/** A quantizer config (src/quant/config.ts); its errors keep their paths (`layers.2.kernelQuantizer.bits`). */
const quantizer = QuantizerConfigSchema;
const compression = {
  kernelQuantizer: quantizer.optional().describe('quantizer of the weights (forward), straight-through in the backward pass'),
  biasQuantizer: quantizer.optional().describe('quantizer of the bias'),
  inputQuantizer: quantizer.optional().describe("quantizer of the layer's input"),
  clusters: pos.optional().describe('weights as this many shared centroids plus indices (weight clustering)'),
  prune: z.boolean().optional().describe('the kernel has a pruning mask (set by pruning hooks and transforms)'),
  gradBits: pos.optional().describe('quantize the gradient flowing back through the layer to this many bits'),
};

/** An unknown `kind` is reported as `unknown layer kind "x"; valid kinds: conv2d, dense, ...`. */
export const LayerSpecSchema = kindUnion('layer', [
  z.strictObject({ kind: z.literal('conv2d'), filters: pos, kernel: pos, stride: pos.optional(), padding: padding.optional(), bias: z.boolean().optional(), activation: activation.optional(), init: init.optional(), name, ...compression }),
  z.strictObject({ kind: z.literal('dense'), units: pos, bias: z.boolean().optional(), activation: activation.optional(), init: init.optional(), name, ...compression }),
  z.strictObject({ kind: z.literal('maxpool'), size: pos, stride: pos.optional(), padding: padding.optional(), name }),
  z.strictObject({ kind: z.literal('avgpool'), size: pos, stride: pos.optional(), padding: padding.optional(), name }),
  z.strictObject({ kind: z.literal('flatten'), name }),
  z.strictObject({ kind: z.literal('batchnorm'), momentum: z.number().min(0).max(1).optional(), epsilon: z.number().positive().optional(), name }),
  z.strictObject({ kind: z.literal('activation'), fn: activation, name }),
  z.strictObject({ kind: z.literal('dropout'), rate: z.number().min(0).lt(1), name }),
  z.strictObject({ kind: z.literal('zeropad'), pad: z.number().int().min(0), name }),
  z.strictObject({ kind: z.literal('quantize'), quantizer, name }),
  z.strictObject({ kind: z.literal('hardtanh'), shift: z.number(), name }),
  /** A residual block (arch.ts): its branches are layer lists, validated by `innerLayers` with their paths. */
  z.strictObject({ kind: z.literal('residual'), layers: z.array(z.unknown()).min(1).transform(innerLayers), shortcut: z.array(z.unknown()).transform(innerLayers).optional(), name }),
]);

/** Validates the layers of a residual block's branch (a function, so that the schema can refer to itself). */
function innerLayers(layers: unknown[], ctx: z.RefinementCtx): LayerSpec[] {
  return layers.map((l, i) => {
    const r = LayerSpecSchema.safeParse(l);
    if (r.success) return r.data as LayerSpec;
    for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: [i, ...issue.path] });
    return l as LayerSpec;
  });
}

export const ArchitectureSchema = z.strictObject({
  name: z.string().min(1),
  input: z.array(pos).min(1).max(3),
  layers: z.array(LayerSpecSchema).min(1),
  head: z.enum(['softmax', 'sigmoid']).default('softmax'),
});

/** Genome-like files carry the architecture in an `architecture` field next to other data. */
export const GenomeFileSchema = z.looseObject({ architecture: ArchitectureSchema });

/**
 * The schema a parsed JSON value should be validated against: `GenomeFileSchema` when it has an
 * `architecture` field (errors then read `architecture.layers.2.filters`), else `ArchitectureSchema`. Not a
 * union, so that errors keep their field paths.
 */
export function architectureFileSchema(value: unknown): typeof ArchitectureSchema | typeof GenomeFileSchema {
  return value && typeof value === 'object' && !Array.isArray(value) && 'architecture' in value ? GenomeFileSchema : ArchitectureSchema;
}

/** The architecture inside a validated file. */
export function architectureOf(parsed: z.infer<typeof ArchitectureSchema> | z.infer<typeof GenomeFileSchema>): Architecture {
  return ('architecture' in parsed ? parsed.architecture : parsed) as Architecture;
}
