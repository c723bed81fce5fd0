/**
 * `tck estimate`: the hardware estimators on one architecture (issue 5).
 *
 *   tck estimate --model lenet5 --json
 *   tck estimate --model lenet5 --weight-bits 8,4,4,4,8 --act-bits 8
 *   tck estimate --model genome.json --weight-bits 4
 *
 * Writes results/estimate-<model>[-<hash>]-<profile>/ (or --out): estimate.json, layers.csv and comparison.csv (the seed
 * tables' numbers beside the kit's when the model is one they describe).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Architecture } from '../models/arch.js';
import { architectureByName, MODEL_NAMES } from '../models/zoo.js';
import { openRun } from '../run/rundir.js';
import { architectureFileSchema, architectureOf } from '../models/schema.js';
import { BitsError, PE_ACTIVATIONS, PE_COMPRESSIONS, resolveBits, type BitsInput, type PeActivation, type PeCompression } from '../hw/bits.js';
import { estimate, type Estimate } from '../hw/index.js';
import { comparisonRows } from '../hw/published.js';
import { ConfigError, readConfigFile, validateConfig } from './config.js';
import { COMMON_OPTIONS, parse, printJson, profileFlag, UsageError } from './common.js';

const bitsField = z.union([z.number().int().min(1).max(32), z.array(z.number().int().min(1).max(32)).min(1)]);

export const EstimateConfigSchema = z.strictObject({
  /** A built-in model name or the path of an architecture / genome JSON file. */
  model: z.string().min(1),
  weightBits: bitsField.optional(),
  biasBits: bitsField.optional(),
  actBits: bitsField.optional(),
  inputBits: z.number().int().min(1).max(32).optional(),
  compression: z.union([z.enum(PE_COMPRESSIONS as [PeCompression, ...PeCompression[]]), z.array(z.enum(PE_COMPRESSIONS as [PeCompression, ...PeCompression[]])).min(1)]).optional(),
  activation: z.union([z.enum(PE_ACTIVATIONS as [PeActivation, ...PeActivation[]]), z.array(z.enum(PE_ACTIVATIONS as [PeActivation, ...PeActivation[]])).min(1)]).optional(),
});
export type EstimateConfig = z.infer<typeof EstimateConfigSchema>;

const HELP = `tck estimate: parameters, MACs, storage, peak memory, arena, cycles and printed-electronics complexity

  tck estimate --model <name | file.json> [--weight-bits b | b1,b2,...] [--act-bits ...] [--json]

Options:
  --model <m>            ${MODEL_NAMES.join(', ')}, mlp-<in>-<hidden...>-<classes>, or an Architecture JSON file
                         (or a genome JSON with an "architecture" field)
  --weight-bits <list>   bits per weight: one value for every conv2d/dense layer, or one per such layer
  --bias-bits <list>     bits per bias (default: the weight bits)
  --act-bits <list>      bits per output activation (default: the weight bits)
  --input-bits <n>       bits per input value (default: the first layer's activation bits)
  --compression <list>   seed-000 mode per layer: binary, ternary, nbits, none (default from the weight bits)
  --activation <list>    seed-000 activation per layer: none, relu, binary, binary-reste (default from the model)
  --config <file.json>   the same fields as JSON (model, weightBits, biasBits, actBits, inputBits, compression,
                         activation); flags override it
  --profile <p>          smoke | quick | paper: only labels the run (reproduce.sh passes its own); default custom
  --out <dir>            run directory (default results/estimate-<model>[-<hash of the bit widths>]-<profile>;
                         the hash is added when any bit width or mode is given)
  --fresh                delete the run directory first (an estimate rewrites its own files anyway)
  --json                 end with one JSON line on stdout
`;

const FLAG_OF: Record<string, string> = {
  weightBits: '--weight-bits',
  biasBits: '--bias-bits',
  actBits: '--act-bits',
  inputBits: '--input-bits',
  compression: '--compression',
  activation: '--activation',
};

/** `8` -> 8, `8,4,4` -> [8, 4, 4]; a bad entry names the flag and its position. */
function numberList(v: string | undefined, flag: string): number | number[] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => s.trim());
  const nums = parts.map((s, i) => {
    const n = Number(s);
    if (s === '' || !Number.isInteger(n) || n < 1 || n > 32) {
      throw new UsageError(`${flag}: ${parts.length > 1 ? `entry ${i + 1} ` : ''}${JSON.stringify(s)} is not an integer number of bits in 1..32`);
    }
    return n;
  });
  return nums.length === 1 ? nums[0] : nums;
}

function enumList<T extends string>(v: string | undefined, flag: string, allowed: readonly T[]): T | T[] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => s.trim());
  parts.forEach((s, i) => {
    if (!allowed.includes(s as T)) throw new UsageError(`${flag}: ${parts.length > 1 ? `entry ${i + 1} ` : ''}${JSON.stringify(s)} is not one of ${allowed.join(', ')}`);
  });
  return parts.length === 1 ? (parts[0] as T) : (parts as T[]);
}

/** A built-in name or an architecture file; file errors name the file and the field path. */
export function loadArchitecture(model: string): Architecture {
  const looksLikeFile = model.endsWith('.json') || model.includes('/') || model.includes(path.sep);
  if (!looksLikeFile) return architectureByName(model);
  if (!fs.existsSync(model)) throw new ConfigError(`${model}: no such architecture file`);
  const value = readConfigFile(model);
  return architectureOf(validateConfig(architectureFileSchema(value), value, model));
}

function resolve(argv: string[]) {
  const { values: v } = parse('estimate', argv, {
    model: { type: 'string' },
    'weight-bits': { type: 'string' },
    'bias-bits': { type: 'string' },
    'act-bits': { type: 'string' },
    'input-bits': { type: 'string' },
    compression: { type: 'string' },
    activation: { type: 'string' },
    // The conventions' flags that apply to a pure computation; no presets, seeds or backends.
    profile: COMMON_OPTIONS.profile,
    config: COMMON_OPTIONS.config,
    out: COMMON_OPTIONS.out,
    fresh: COMMON_OPTIONS.fresh,
    json: COMMON_OPTIONS.json,
    help: COMMON_OPTIONS.help,
  });
  if (v.help) return null;
  const file = v.config ? validateConfig(EstimateConfigSchema.partial(), readConfigFile(v.config), v.config) : {};
  const flags: Partial<EstimateConfig> = {
    model: v.model,
    weightBits: numberList(v['weight-bits'], '--weight-bits'),
    biasBits: numberList(v['bias-bits'], '--bias-bits'),
    actBits: numberList(v['act-bits'], '--act-bits'),
    inputBits: numberList(v['input-bits'], '--input-bits') as number | undefined,
    compression: enumList(v.compression, '--compression', PE_COMPRESSIONS),
    activation: enumList(v.activation, '--activation', PE_ACTIVATIONS),
  };
  if (Array.isArray(flags.inputBits)) throw new UsageError('--input-bits: expected one value');
  const fromFlag = new Set(Object.entries(flags).filter(([, x]) => x !== undefined).map(([k]) => k));
  const merged = { ...file, ...Object.fromEntries(Object.entries(flags).filter(([, x]) => x !== undefined)) };
  if (!merged.model) throw new UsageError('--model: required (a built-in name or an architecture JSON file; see tck estimate --help)');
  const config = validateConfig(EstimateConfigSchema, merged, v.config ?? 'estimate config');
  const arch = loadArchitecture(config.model);
  let bits;
  try {
    bits = resolveBits(arch, config as BitsInput);
  } catch (e) {
    if (!(e instanceof BitsError)) throw e;
    const [field, entry] = e.field.split('.');
    const msg = e.message.slice(e.field.length + 2);
    if (fromFlag.has(field)) throw new UsageError(`${FLAG_OF[field] ?? field}: ${entry !== undefined ? `entry ${Number(entry) + 1}: ` : ''}${msg}`);
    throw new ConfigError(`${v.config ?? 'estimate config'}: ${e.field}: ${msg}`);
  }
  // The numbers depend on the architecture only; --profile just labels the run (reproduce.sh passes its own).
  const profile = v.profile ? profileFlag(v.profile, 'quick') : 'custom';
  return { config, arch, bits, profile, out: v.out, fresh: Boolean(v.fresh), json: Boolean(v.json) };
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

function formatEstimate(e: Estimate): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const kib = (b: number) => `${n(b)} B (${(b / 1024).toFixed(2)} KiB)`;
  const lines = [
    `${e.model}  input [${e.input.join(', ')}]  weighted layers: ${e.weightedLayers.join(', ')}`,
    `  params            ${n(e.params)}`,
    `  MACs / MACCs      ${n(e.macs)} / ${n(e.maccs)}`,
    `  storage           ${kib(e.storageBytes)}`,
    `  peak memory       ${kib(e.peakMemoryBytes)} at ${e.peakMemoryLayer} (Listing 4.2)`,
    `  TFLM arena        ${kib(e.arenaBytes)}; with runtime overhead ${kib(e.tflm.memoryBytes)}`,
    `  PE complexity     ${n(e.peComplexity)} (seed 000 reference), ${n(e.peComplexityCorrected)} (corrected)`,
    `  cycles            float32 ${n(e.cycles.float32)}, int8 ${n(e.cycles.int8)}, int4 ${n(e.cycles.int4)}, int2 ${n(e.cycles.int2)}, configured ${n(e.cycles.configured)}`,
  ];
  return lines.join('\n') + '\n';
}

export async function estimateCommand(argv: string[]): Promise<number> {
  const r = resolve(argv);
  if (!r) {
    process.stdout.write(HELP);
    return 0;
  }
  const { arch, bits } = r;
  const result = estimate(arch, bits);
  // An estimate is a pure, instant computation: each distinct set of bit widths gets its own directory
  // (the model name plus a hash of the widths when any were given), whose files are rewritten on every run.
  const config = { model: r.config.model, architecture: arch, bits };
  const given = Object.keys(r.config).some((k) => k !== 'model');
  const tag = given ? `-${createHash('sha256').update(JSON.stringify(bits)).digest('hex').slice(0, 8)}` : '';
  const run = openRun({
    command: 'estimate',
    preset: `${safeName(arch.name)}${tag}`,
    profile: r.profile,
    seed: 0,
    config,
    out: r.out,
    fresh: r.fresh,
    resumable: false,
    engine: { backend: 'none', note: 'pure functions of the architecture; no tensor engine' },
  });
  try {
    run.writeJson('estimate.json', result as unknown as Record<string, unknown>);
    const dts = ['float32', 'int16', 'int8', 'int4', 'int2', 'configured'] as const;
    run.writeCsv(
      'layers.csv',
      result.layers.map((l) => ({
        ...l,
        inputShape: l.inputShape.join('x'),
        outputShape: l.outputShape.join('x'),
        cycles: undefined,
        ...Object.fromEntries(dts.map((d) => [`cycles_${d}`, l.cycles[d]])),
      })),
      ['index', 'name', 'kind', 'inputShape', 'outputShape', 'params', 'weights', 'biases', 'macs', 'maccs', 'weightBits', 'biasBits', 'actBits', 'storageBits', 'memoryBytes', 'peComplexity', 'peComplexityCorrected', ...dts.map((d) => `cycles_${d}`), 'xnor', 'popcount'],
    );
    run.writeComparison(comparisonRows(arch, r.profile));
    run.log({ type: 'estimate', params: result.params, macs: result.macs, storageBits: result.storageBits });
    run.finish();
  } catch (e) {
    run.fail(e);
    throw e;
  }
  if (r.json) printJson({ command: 'estimate', ...result, runDir: run.dir });
  else process.stdout.write(formatEstimate(result) + `run directory ${path.relative(process.cwd(), run.dir) || '.'}\n`);
  return 0;
}

