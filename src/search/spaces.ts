/**
 * The search spaces of seed 000 as genomes: Table 2.1 (MLP) and Table 2.2 (CNN), with the reference code's CNN
 * variant (hidden FC heights 8..128 and 1..3 hidden FC layers; anchors.md §1.3) as an option. A genome is one
 * integer gene per field, each an index into the field's tuple of options, in the reference's field order
 * (`mlp_chromosome.py`, `cnn_chromosome.py`), including the fields with one option (ReSTE o and t, the
 * quantization modes, learning rate and weight decay of Table 2.3), so that the per-variable mutation
 * probability 1/n is the reference's (1/17 for the MLP, 1/35 for the CNN). Genes are encoded as reals in
 * [0, n - 1 + 0.99] and floored (anchors.md §1.3).
 */
import type { PeActivation, PeCompression } from '../hw/bits.js';
import { SearchError, type Problem } from './problem.js';

export interface Gene {
  name: string;
  options: readonly (number | string)[];
}

/** Bit widths 1..8 (Tables 2.1-2.2). */
const BITS = [1, 2, 3, 4, 5, 6, 7, 8] as const;
/** Seed 000 §2.1.3 / the reference's enums, cheapest first. */
export const COMPRESSIONS: readonly PeCompression[] = ['binary', 'ternary', 'nbits', 'none'];
export const ACTIVATIONS: readonly PeActivation[] = ['none', 'binary', 'binary-reste', 'relu'];
const DROPOUT = [0, 0.1, 0.2] as const;
/** Table 2.3 constants, genes with one option as in the reference. */
const RESTE_O = [3] as const;
const RESTE_T = [1.5] as const;
const QMODE = ['det'] as const;
const LR = [0.001] as const;
const WD = [0.00001] as const;
/** Table 2.1 / 2.2: per-hidden-layer heights and hidden layer counts. */
const TABLE_HEIGHTS = [6, 7, 8, 12, 16, 24, 32] as const;
const TABLE_HIDDEN = [0, 1, 2, 3] as const;
/** The reference code's CNN classifier (cnn_chromosome.py). */
const REF_FC_HEIGHTS = [8, 16, 32, 64, 128] as const;
const REF_FC_LAYERS = [1, 2, 3] as const;
/** Table 2.2: conv layers 1-4, channels, stride 1-2, pooling 1x1 / 2x2. */
const CONV_LAYERS = [1, 2, 3, 4] as const;
const CONV_CHANNELS = [16, 24, 32, 64, 128] as const;
const STRIDES = [1, 2] as const;
const POOLS = [1, 2] as const;

export type SpaceKind = 'mlp' | 'cnn';
/** `table`: seed 000 Tables 2.1 / 2.2; `reference`: the reference code's CNN classifier options (the MLP is the same). */
export type SpaceVariant = 'table' | 'reference';

export interface HiddenLayer {
  height: number;
  bits: number;
}
export interface ConvLayer {
  channels: number;
  stride: number;
  pool: number;
  bits: number;
}

/** What both genomes decode: input bits, hidden FC layers, output bits, activation and training genes. */
interface GenomeCommon {
  inBits: number;
  hidden: HiddenLayer[];
  outputBits: number;
  activation: PeActivation;
  resteO: number;
  resteT: number;
  dropout: number;
  lr: number;
  weightDecay: number;
}

/** A decoded MLP genome (Table 2.1). */
export interface MlpGenome extends GenomeCommon {
  kind: 'mlp';
  compression: PeCompression;
}

/**
 * A decoded CNN genome (Table 2.2). `outputBits` is also the bit width the reference decodes a third hidden FC
 * layer with (`quirks`).
 */
export interface CnnGenome extends GenomeCommon {
  kind: 'cnn';
  convs: ConvLayer[];
  convCompression: PeCompression;
  fcCompression: PeCompression;
}

export type Seed000Genome = MlpGenome | CnnGenome;

export interface SearchSpace {
  kind: SpaceKind;
  variant: SpaceVariant;
  genes: Gene[];
  /** The genome of integer gene values (indices into each gene's options). */
  decode(indices: readonly number[]): Seed000Genome;
}

const g = (name: string, options: readonly (number | string)[]): Gene => ({ name, options });

/** Table 2.1; the reference's 17 fields in order (mlp_chromosome.py). */
function mlpGenes(): Gene[] {
  return [
    g('in_bitwidth', BITS),
    g('hidden_layers', TABLE_HIDDEN),
    g('hidden_height1', TABLE_HEIGHTS),
    g('hidden_bitwidth1', BITS),
    g('hidden_height2', TABLE_HEIGHTS),
    g('hidden_bitwidth2', BITS),
    g('hidden_height3', TABLE_HEIGHTS),
    g('hidden_bitwidth3', BITS),
    g('output_bitwidth', BITS),
    g('compression', COMPRESSIONS),
    g('activation', ACTIVATIONS),
    g('reste_o', RESTE_O),
    g('parameters_quantization_mode', QMODE),
    g('activation_binarization_mode', QMODE),
    g('dropout', DROPOUT),
    g('learning_rate', LR),
    g('weight_decay', WD),
  ];
}

/** Table 2.2 (or the reference's classifier options); the reference's 35 fields in order (cnn_chromosome.py). */
function cnnGenes(variant: SpaceVariant): Gene[] {
  const heights = variant === 'table' ? TABLE_HEIGHTS : REF_FC_HEIGHTS;
  const convs = [1, 2, 3, 4].flatMap((i) => [
    g(`conv_channels${i}`, CONV_CHANNELS),
    g(`conv_stride${i}`, STRIDES),
    g(`conv_pooling_size${i}`, POOLS),
    g(`conv_compression_bitwidth${i}`, BITS),
  ]);
  return [
    g('in_bitwidth', BITS),
    g('conv_layers', CONV_LAYERS),
    ...convs,
    g('fc_layers', variant === 'table' ? TABLE_HIDDEN : REF_FC_LAYERS),
    g('fc_height1', heights),
    g('fc_bitwidth1', BITS),
    g('fc_height2', heights),
    g('fc_bitwidth2', BITS),
    g('fc_height3', heights),
    g('fc_bitwidth3', BITS),
    g('fc_output_bitwidth', BITS),
    g('conv_compression', COMPRESSIONS),
    g('fc_compression', COMPRESSIONS),
    g('dropout', DROPOUT),
    g('activation', ACTIVATIONS),
    g('activation_qmode', QMODE),
    g('activation_reste_o', RESTE_O),
    g('activation_reste_threshold', RESTE_T),
    g('learning_rate', LR),
    g('weight_decay', WD),
  ];
}

/** The values of a genome's genes by name; throws a SearchError naming the gene for an index out of range. */
export function geneValues(genes: readonly Gene[], indices: readonly number[]): Record<string, number | string> {
  if (indices.length !== genes.length) throw new SearchError(`genome: expected ${genes.length} genes, got ${indices.length}`);
  const out: Record<string, number | string> = {};
  genes.forEach((gene, i) => {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= gene.options.length) {
      throw new SearchError(`genome: gene ${i} (${gene.name}) = ${k} is not an index of its ${gene.options.length} options ${JSON.stringify(gene.options)}`);
    }
    out[gene.name] = gene.options[k];
  });
  return out;
}

/**
 * Options of single genes replaced by a subset of their own (the reference's `options_override`), for smaller
 * spaces (the smoke profile's narrow CNN). Errors name the gene and the allowed values.
 */
export type GeneOptions = Record<string, readonly (number | string)[]>;

function withOverrides(genes: Gene[], over: GeneOptions | undefined): Gene[] {
  if (!over) return genes;
  for (const [name, opts] of Object.entries(over)) {
    const gene = genes.find((x) => x.name === name);
    if (!gene) throw new SearchError(`geneOptions.${name}: no such gene; genes: ${genes.map((x) => x.name).join(', ')}`);
    if (!opts.length) throw new SearchError(`geneOptions.${name}: give at least one option`);
    const bad = opts.filter((o) => !gene.options.includes(o));
    if (bad.length) throw new SearchError(`geneOptions.${name}: ${JSON.stringify(bad)} not among the gene's options ${JSON.stringify(gene.options)}`);
  }
  return genes.map((gene) => (over[gene.name] ? { ...gene, options: [...over[gene.name]] } : gene));
}

function decodeMlp(v: Record<string, never>): MlpGenome {
  const n = v.hidden_layers as number;
  return {
    kind: 'mlp',
    inBits: v.in_bitwidth,
    hidden: [1, 2, 3].slice(0, n).map((i) => ({ height: v[`hidden_height${i}`], bits: v[`hidden_bitwidth${i}`] })),
    outputBits: v.output_bitwidth,
    compression: v.compression,
    activation: v.activation,
    resteO: v.reste_o,
    resteT: RESTE_T[0],
    dropout: v.dropout,
    lr: v.learning_rate,
    weightDecay: v.weight_decay,
  };
}

function decodeCnn(v: Record<string, never>): CnnGenome {
  return {
    kind: 'cnn',
    inBits: v.in_bitwidth,
    convs: [1, 2, 3, 4].slice(0, v.conv_layers).map((i) => ({
      channels: v[`conv_channels${i}`],
      stride: v[`conv_stride${i}`],
      pool: v[`conv_pooling_size${i}`],
      bits: v[`conv_compression_bitwidth${i}`],
    })),
    hidden: [1, 2, 3].slice(0, v.fc_layers).map((i) => ({ height: v[`fc_height${i}`], bits: v[`fc_bitwidth${i}`] })),
    outputBits: v.fc_output_bitwidth,
    convCompression: v.conv_compression,
    fcCompression: v.fc_compression,
    activation: v.activation,
    resteO: v.activation_reste_o,
    resteT: v.activation_reste_threshold,
    dropout: v.dropout,
    lr: v.learning_rate,
    weightDecay: v.weight_decay,
  };
}

export function searchSpace(kind: SpaceKind, variant: SpaceVariant = 'table', overrides?: GeneOptions): SearchSpace {
  const genes = withOverrides(kind === 'mlp' ? mlpGenes() : cnnGenes(variant), overrides);
  const decode = (indices: readonly number[]): Seed000Genome => {
    const v = geneValues(genes, indices) as Record<string, never>;
    return kind === 'mlp' ? decodeMlp(v) : decodeCnn(v);
  };
  return { kind, variant, genes, decode };
}

/** The search space as a problem's variables: gene i in [0, n_i - 1 + 0.99] (the reference's bounds). */
export function spaceBounds(space: SearchSpace): Pick<Problem, 'nVar' | 'xl' | 'xu'> {
  return { nVar: space.genes.length, xl: space.genes.map(() => 0), xu: space.genes.map((gene) => gene.options.length - 1 + 0.99) };
}

/** The genes with every option at its first (cheapest) or last (most expensive) index: the normalisation bounds. */
export function extremeGenes(space: SearchSpace, which: 'lowest' | 'highest'): number[] {
  return space.genes.map((gene) => (which === 'lowest' ? 0 : gene.options.length - 1));
}
