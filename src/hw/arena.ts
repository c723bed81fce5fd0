/**
 * Tensor-arena planning as TensorFlow Lite Micro's `GreedyMemoryPlanner` does it (anchors.md §2, "TFLite
 * Micro memory planner"), over a small tensor-lifetime graph.
 *
 * Lifetimes follow TFLM's allocation info: graph inputs and outputs are created at time 0, operator i
 * (0-based) runs at time i + 1, creates its outputs then and is the last use of its inputs at that time; graph
 * outputs stay live to the end. Buffers (sizes rounded up to the alignment, 16 B in TFLM) are sorted by size,
 * largest first (stable, so equal sizes keep graph order), and each is placed at the lowest offset where it
 * overlaps, in address, no already-placed buffer whose lifetime overlaps its own (lifetimes are inclusive).
 * The arena is the largest offset + size.
 *
 * Sequential architectures get their graph from `graphFromArchitecture`; branching graphs (residual blocks)
 * are written by hand as `TensorGraph`s.
 */
import { type Architecture, describeLayers } from '../models/arch.js';
import { type BitsConfig, activationBitsPerLayer, isWeighted } from './bits.js';
import { tensorBytes } from './memory.js';
import { KitError } from '../util/errors.js';

export interface TensorSpec {
  name: string;
  bytes: number;
}

export interface OpSpec {
  name: string;
  inputs: string[];
  outputs: string[];
}

/** Operators in execution order over named tensors (activations only; weights live in flash). */
export interface TensorGraph {
  tensors: TensorSpec[];
  ops: OpSpec[];
  inputs: string[];
  outputs: string[];
}

/** A buffer to place: size in bytes, first and last time used (inclusive). */
export interface BufferRequest {
  name: string;
  size: number;
  first: number;
  last: number;
}

export interface PlacedBuffer extends BufferRequest {
  offset: number;
}

export interface ArenaPlan {
  arenaBytes: number;
  buffers: PlacedBuffer[];
  /** Sum of live buffer sizes at each time: a lower bound for any plan is the largest of these. */
  liveBytes: number[];
}

export class ArenaError extends KitError {
  constructor(message: string) {
    super(message);
    this.name = 'ArenaError';
  }
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;
const overlapsInTime = (a: BufferRequest, b: BufferRequest) => !(a.first > b.last || b.first > a.last);

/** The greedy placement itself (largest first, lowest non-overlapping offset). */
export function planBuffers(requests: BufferRequest[], alignment = 1): ArenaPlan {
  const reqs = requests.map((r) => ({ ...r, size: alignUp(r.size, alignment) }));
  for (const r of reqs) {
    if (!(r.size >= 0) || !Number.isInteger(r.first) || !Number.isInteger(r.last) || r.first > r.last) {
      throw new ArenaError(`buffer ${r.name}: needs size >= 0 and integer times first <= last, got size ${r.size}, ${r.first}..${r.last}`);
    }
  }
  // Stable descending sort by size (Array.prototype.sort is stable).
  const order = reqs.map((_, i) => i).sort((a, b) => reqs[b].size - reqs[a].size);
  const placed: PlacedBuffer[] = [];
  const offsets = new Array<number>(reqs.length);
  for (const id of order) {
    const r = reqs[id];
    // Live neighbours in address order; walk the gaps between them.
    const live = placed.filter((p) => overlapsInTime(p, r)).sort((a, b) => a.offset - b.offset);
    let candidate = 0;
    for (const p of live) {
      if (p.offset - candidate >= r.size) break;
      candidate = Math.max(candidate, p.offset + p.size);
    }
    offsets[id] = candidate;
    placed.push({ ...r, offset: candidate });
  }
  const buffers = reqs.map((r, i) => ({ ...r, offset: offsets[i] }));
  const arenaBytes = buffers.reduce((m, b) => Math.max(m, b.offset + b.size), 0);
  const end = buffers.reduce((m, b) => Math.max(m, b.last), -1);
  const liveBytes = Array.from({ length: end + 1 }, (_, t) => buffers.filter((b) => b.first <= t && t <= b.last).reduce((s, b) => s + b.size, 0));
  return { arenaBytes, buffers, liveBytes };
}

/** Buffer lifetimes of a graph, as TFLM's allocation info marks them. */
export function graphLifetimes(g: TensorGraph): BufferRequest[] {
  const byName = new Map(g.tensors.map((t) => [t.name, t]));
  if (byName.size !== g.tensors.length) throw new ArenaError('tensor names must be unique');
  const need = (name: string, where: string) => {
    if (!byName.has(name)) throw new ArenaError(`${where}: unknown tensor ${JSON.stringify(name)}`);
  };
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const created = (n: string, t: number) => {
    if (!first.has(n)) first.set(n, t);
    last.set(n, Math.max(last.get(n) ?? t, t));
  };
  for (const n of [...g.inputs, ...g.outputs]) {
    need(n, 'graph inputs/outputs');
    created(n, 0);
  }
  g.ops.forEach((op, i) => {
    const t = i + 1;
    for (const n of op.outputs) {
      need(n, `op ${op.name}`);
      created(n, t);
    }
    for (const n of op.inputs) {
      need(n, `op ${op.name}`);
      if (!first.has(n)) throw new ArenaError(`op ${op.name}: reads tensor ${n} before any op or graph input creates it`);
      last.set(n, t);
    }
  });
  const end = g.ops.length;
  for (const n of g.outputs) last.set(n, end);
  return g.tensors
    .filter((t) => first.has(t.name) && t.bytes > 0)
    .map((t) => ({ name: t.name, size: t.bytes, first: first.get(t.name)!, last: last.get(t.name)! }));
}

/** Plans the arena of a graph (TFLM's 16-byte buffer alignment by default). */
export function planArena(g: TensorGraph, opts: { alignment?: number } = {}): ArenaPlan {
  return planBuffers(graphLifetimes(g), opts.alignment ?? 16);
}

export interface GraphOptions {
  /** Add the head (softmax/logistic) as an operator, as a deployed model has. Default true. */
  head?: boolean;
}

/**
 * The inference graph of a sequential architecture as a TFLite converter leaves it: batchnorm folded and
 * activations (and activation quantizers, hardtanh) fused into the conv2d/dense before them, dropout removed, every other layer (pooling, flatten
 * as RESHAPE, zero padding as PAD, a standalone activation) one operator with its own output tensor.
 */
export function graphFromArchitecture(arch: Architecture, bits: BitsConfig, opts: GraphOptions = {}): TensorGraph {
  const info = describeLayers(arch);
  const actBits = activationBitsPerLayer(arch, bits);
  const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const tensors: TensorSpec[] = [{ name: 'input', bytes: tensorBytes(prod(arch.input), bits.inputBits) }];
  const ops: OpSpec[] = [];
  let cur = 'input';
  let lastWeighted = false;
  arch.layers.forEach((spec, i) => {
    const l = info[i];
    const elementwise = spec.kind === 'activation' || spec.kind === 'quantize' || spec.kind === 'hardtanh';
    const fusable = spec.kind === 'batchnorm' || (elementwise && lastWeighted);
    if (spec.kind === 'dropout' || fusable) {
      if (fusable && tensors.length > 1) {
        // Folded into the previous op: its output carries this layer's bits.
        const t = tensors.find((x) => x.name === cur)!;
        t.bytes = tensorBytes(prod(l.outputShape), actBits[i]);
      }
      return;
    }
    lastWeighted = isWeighted(spec);
    const out = l.name;
    tensors.push({ name: out, bytes: tensorBytes(prod(l.outputShape), actBits[i]) });
    ops.push({ name: l.name, inputs: [cur], outputs: [out] });
    cur = out;
  });
  if (opts.head ?? true) {
    const last = info.length ? info[info.length - 1].outputShape : arch.input;
    const name = arch.head === 'sigmoid' ? 'logistic' : 'softmax';
    tensors.push({ name, bytes: tensorBytes(prod(last), actBits.at(-1) ?? bits.inputBits) });
    ops.push({ name, inputs: [cur], outputs: [name] });
    cur = name;
  }
  return { tensors, ops, inputs: ['input'], outputs: [cur] };
}

/** The TFLM-style arena of a sequential architecture. */
export function architectureArena(arch: Architecture, bits: BitsConfig, opts: GraphOptions & { alignment?: number } = {}): ArenaPlan & { graph: TensorGraph } {
  const graph = graphFromArchitecture(arch, bits, opts);
  return { ...planArena(graph, opts), graph };
}
