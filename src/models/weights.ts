/**
 * A model's weights as plain data, keyed by `<layer id>/<role>` (`conv1/kernel`, `bn3/moving_mean`), so they
 * can leave the engine (ledgers, worker threads, queues, job specs) and come back into any model with the same
 * layer ids. `inheritWeights` copies every weight whose layer id and shape match (weight inheritance of the
 * evolutionary searches, seed 001 §3.3) and reports what it copied and what kept its fresh initialisation.
 */
import { z } from 'zod';
import { tf } from '../engine/backend.js';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs';
import { KitError } from '../util/errors.js';

export interface ModelWeights {
  /** `<layer id>/<role>` of every weight, in model order. */
  names: string[];
  shapes: number[][];
  values: (Float32Array | Int32Array)[];
}

/** The weight's stable name: tfjs suffixes variable names (`fc1/kernel_3`) to keep them unique per engine. */
function weightName(v: LayerVariable): string {
  return (v as unknown as { originalName?: string }).originalName ?? v.name.replace(/_\d+$/, '');
}

/** Every weight of the model (trainable or not), as typed arrays of its dtype (int32 cluster indices stay int32). */
export function readModelWeights(model: LayersModel): ModelWeights {
  const names: string[] = [];
  const shapes: number[][] = [];
  const values: (Float32Array | Int32Array)[] = [];
  for (const v of model.weights) {
    const t = v.read();
    names.push(weightName(v));
    shapes.push([...t.shape]);
    values.push(t.dtype === 'int32' ? Int32Array.from(t.dataSync() as Int32Array) : Float32Array.from(t.dataSync() as Float32Array));
  }
  return { names, shapes, values };
}

export interface Inheritance {
  /** Weights copied from the parent (same layer id and shape). */
  copied: string[];
  /** Child weights the parent has no match for: they keep their fresh, seeded initialisation. */
  initialised: string[];
  /** Parent weights with the child's name but another shape (not copied). */
  shapeMismatch: { name: string; parent: number[]; child: number[] }[];
}

/**
 * Copies every parent weight whose layer id and shape match a weight of `child` into it (in place) and reports
 * what was copied and what kept its initialisation. Layer ids are the architecture's layer names, stable under
 * insertion of other layers (`insertLayer` in arch.ts), so a mutated child inherits all its unchanged layers.
 */
export function inheritWeights(parent: ModelWeights | LayersModel, child: LayersModel): Inheritance {
  const p = 'names' in parent ? parent : readModelWeights(parent);
  const byName = new Map(p.names.map((n, i) => [n, i]));
  const out: Inheritance = { copied: [], initialised: [], shapeMismatch: [] };
  for (const v of child.weights) {
    const name = weightName(v);
    const i = byName.get(name);
    if (i === undefined) {
      out.initialised.push(name);
      continue;
    }
    if (p.shapes[i].join() !== v.shape.join()) {
      out.shapeMismatch.push({ name, parent: p.shapes[i], child: [...v.shape] as number[] });
      out.initialised.push(name);
      continue;
    }
    const t = tf.tensor(p.values[i], p.shapes[i], v.dtype);
    v.write(t);
    t.dispose();
    out.copied.push(name);
  }
  return out;
}

/** Sets every weight of `model` from `w`; unlike `inheritWeights`, anything missing or misshapen is an error. */
export function writeModelWeights(model: LayersModel, w: ModelWeights, where = 'weights'): void {
  const r = inheritWeights(w, model);
  if (r.initialised.length || r.copied.length !== w.names.length) {
    const extra = w.names.filter((n) => !r.copied.includes(n));
    throw new KitError(
      `${where}: do not fit model ${model.name}` +
        (r.initialised.length ? `; the model's ${r.initialised.join(', ')} have no match` : '') +
        (extra.length ? `; ${extra.join(', ')} are not in the model` : '') +
        (r.shapeMismatch.length ? ` (shapes differ: ${r.shapeMismatch.map((m) => `${m.name} [${m.parent}] vs [${m.child}]`).join(', ')})` : ''),
      'WeightsError',
    );
  }
}

/** Weights as JSON (for job specs): names, shapes, dtypes and the little-endian bytes in base64. */
export const EncodedWeightsSchema = z.strictObject({
  names: z.array(z.string()),
  shapes: z.array(z.array(z.number().int().min(0))),
  dtypes: z.array(z.enum(['float32', 'int32'])),
  base64: z.string(),
});

export type EncodedWeights = z.infer<typeof EncodedWeightsSchema>;

export function encodeWeights(w: ModelWeights): EncodedWeights {
  const bytes = Buffer.concat(w.values.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength)));
  return { names: [...w.names], shapes: w.shapes.map((s) => [...s]), dtypes: w.values.map((v) => (v instanceof Int32Array ? 'int32' : 'float32')), base64: bytes.toString('base64') };
}

export function decodeWeights(e: EncodedWeights): ModelWeights {
  const buf = Buffer.from(e.base64, 'base64');
  let offset = 0;
  const values = e.shapes.map((shape, i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const bytes = new Uint8Array(buf.subarray(offset, offset + 4 * n));
    if (bytes.length !== 4 * n) throw new KitError(`encoded weights: ${e.names[i]} needs ${4 * n} bytes, ${bytes.length} are left`, 'WeightsError');
    offset += 4 * n;
    return e.dtypes[i] === 'int32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
  });
  return { names: [...e.names], shapes: e.shapes.map((s) => [...s]), values };
}
