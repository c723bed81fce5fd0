/**
 * Optimisers with explicit, serialisable state (for checkpoints that resume bit-exactly).
 * Adam follows Kingma & Ba (2015), Algorithm 1, with PyTorch's conventions (the reference implementations
 * use PyTorch): epsilon added to sqrt(v_hat), `weightDecay` as an L2 term added to the gradient
 * (torch.optim.Adam) or, with `decoupled`, applied to the weights directly (AdamW, Loshchilov & Hutter 2019).
 * SGD with momentum follows torch.optim.SGD (dampening 0, optional Nesterov).
 *
 * Each rule exists twice, with the same float32 arithmetic in the same order: as tfjs ops, and as a
 * JavaScript loop over the values (Adam also as the fast path's SIMD kernel, src/fast/simd.ts, same bits) (`f` = Math.fround; float32 +, -, *, / and sqrt are exactly the double
 * operation rounded once), so both give the same bits (tested). The ops cost about a dozen kernel calls per
 * variable, which dominates a step of the seeds' small networks; the loop costs about 20 ns per value, slower
 * than the ops on large tensors. Variables up to `JS_UPDATE_MAX_SIZE` values take the loop (measured here:
 * Adam on MLP 21-32-16-10 went from 431 to 60 us per step), larger ones the ops (VGG7: 55 ms with the ops,
 * 320 ms with the loop).
 */
import { z } from 'zod';
import { tf } from '../engine/backend.js';
import type { Tensor, Variable } from '@tensorflow/tfjs';
import { KitError } from '../util/errors.js';

export const OptimizerConfigSchema = z
  .strictObject({
    name: z.enum(['adam', 'sgd']),
    lr: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }).finite({ error: 'must be a positive number' }),
    beta1: z.number().min(0).max(1).optional(),
    beta2: z.number().min(0).max(1).optional(),
    epsilon: z.number().positive().optional(),
    momentum: z.number().min(0).lt(1).optional(),
    nesterov: z.boolean().optional(),
    weightDecay: z.number().min(0).optional(),
    /** AdamW-style decay (w -= lr * wd * w) instead of the L2 gradient term. */
    decoupled: z.boolean().optional(),
  })
  .superRefine((c, ctx) => {
    const only: [keyof typeof c, 'adam' | 'sgd'][] = [['momentum', 'sgd'], ['nesterov', 'sgd'], ['beta1', 'adam'], ['beta2', 'adam'], ['epsilon', 'adam']];
    for (const [field, name] of only) {
      if (c[field] !== undefined && c.name !== name) ctx.addIssue({ code: 'custom', path: [field], message: `applies to ${name} only, but the optimizer is ${c.name}` });
    }
  });

export type OptimizerConfig = z.infer<typeof OptimizerConfigSchema>;

export interface OptimizerState {
  name: string;
  step: number;
  /** Slot buffers per variable, in variable order (Adam: m then v; SGD: momentum buffer). */
  slots: Float32Array[][];
}

export interface Optimizer {
  readonly config: OptimizerConfig;
  /** Applies one update with learning rate `lr` (the schedule's value for this step). */
  apply(vars: Variable[], grads: Tensor[], lr: number): void;
  getState(): OptimizerState;
  setState(state: OptimizerState, vars: Variable[]): void;
  dispose(): void;
}

/** Variables of at most this many values are updated by the JavaScript loop, larger ones by tfjs ops. */
export const JS_UPDATE_MAX_SIZE = 4096;

function validate(cfg: OptimizerConfig): void {
  const r = OptimizerConfigSchema.safeParse(cfg);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new KitError(`optimizer.${i.path.join('.')}: ${i.message}`, 'ConfigError');
  }
}

/** Float32 constants of one step, shared by both forms of a rule. */
type Consts = Record<string, number>;

/**
 * An update rule in its two forms. `loop` reads `w` and `g`, updates the slot arrays in place and writes the
 * new weights to `out`; `ops` does the same with tensors, assigning the slot variables and returning the new
 * weights.
 */
interface Rule {
  slots: number;
  consts(lr: number, step: number): Consts;
  loop(w: Float32Array, g: Float32Array, slots: Float32Array[], out: Float32Array, c: Consts, step: number): void;
  ops(w: Tensor, g: Tensor, slots: Variable[], c: Record<string, Tensor>, step: number): Tensor;
}

/** A variable's slots: arrays for the loop, variables for the ops (created on the first step). */
type Slots = Float32Array[] | Variable[];

function optimizer(cfg: OptimizerConfig, rule: Rule, jsMaxSize: number): Optimizer {
  let step = 0;
  let slots: Slots[] | null = null;
  const small = (v: Variable) => v.size <= jsMaxSize;
  const newSlots = (v: Variable, values?: Float32Array[]): Slots =>
    small(v)
      ? Array.from({ length: rule.slots }, (_, k) => Float32Array.from(values?.[k] ?? new Float32Array(v.size)))
      : Array.from({ length: rule.slots }, (_, k) => tf.tidy(() => tf.variable(values ? tf.tensor(values[k], v.shape) : tf.zerosLike(v), false)));
  const disposeSlots = () => slots?.flat().forEach((t) => (t instanceof Float32Array ? undefined : t.dispose()));
  return {
    config: cfg,
    apply(vars, grads, lr) {
      if (grads.length !== vars.length) throw new Error(`optimizer: ${grads.length} gradients for ${vars.length} variables`);
      slots ??= vars.map((v) => newSlots(v));
      step++;
      const c = rule.consts(lr, step);
      let tc: Record<string, Tensor> | null = null;
      vars.forEach((v, i) => {
        if (small(v)) {
          const w = v.dataSync() as Float32Array; // a backend's own array on `cpu`: read only
          const out = new Float32Array(w.length);
          rule.loop(w, grads[i].dataSync() as Float32Array, slots![i] as Float32Array[], out, c, step);
          const next = tf.tensor(out, v.shape, 'float32');
          v.assign(next);
          next.dispose();
        } else {
          tc ??= Object.fromEntries(Object.entries(c).map(([k, x]) => [k, tf.scalar(x)]));
          tf.tidy(() => v.assign(rule.ops(v, grads[i], slots![i] as Variable[], tc!, step)));
        }
      });
      if (tc) Object.values(tc as Record<string, Tensor>).forEach((t) => t.dispose());
    },
    getState: () => ({
      name: cfg.name,
      step,
      slots: (slots ?? []).map((s) => s.map((t) => Float32Array.from(t instanceof Float32Array ? t : (t.dataSync() as Float32Array)))),
    }),
    setState(state, vars) {
      if (state.name !== cfg.name) throw new Error(`optimizer state is for ${state.name}, not ${cfg.name}`);
      if (state.slots.length && state.slots.length !== vars.length) {
        throw new Error(`optimizer state has slots for ${state.slots.length} variables, the model has ${vars.length}`);
      }
      disposeSlots();
      slots = state.slots.length ? state.slots.map((s, i) => newSlots(vars[i], s)) : null;
      step = state.step;
    },
    dispose() {
      disposeSlots();
      slots = null;
    },
  };
}

/**
 * Creates the optimiser named in `cfg`. `jsMaxSize` moves the threshold between the two forms of the update
 * (tests force one or the other; results do not depend on it).
 */
export function createOptimizer(cfg: OptimizerConfig, jsMaxSize = JS_UPDATE_MAX_SIZE): Optimizer {
  validate(cfg);
  return optimizer(cfg, cfg.name === 'adam' ? adam(cfg) : sgd(cfg), jsMaxSize);
}

/**
 * The same update rules on plain arrays, for trainers that keep their weights in typed arrays (src/fast/):
 * `apply` updates `weights[i]` in place from `grads[i]`. Same float32 arithmetic as the loop form above; its
 * state has the shape of `Optimizer.getState()`, so checkpoints move between the two.
 */
export interface ArrayOptimizer {
  readonly config: OptimizerConfig;
  apply(weights: Float32Array[], grads: Float32Array[], lr: number): void;
  getState(): OptimizerState;
  setState(state: OptimizerState, sizes: number[]): void;
}

/** Where an array optimiser keeps its slots, and a kernel that runs the Adam rule faster (same bits). */
export interface ArrayOptimizerOptions {
  /** Preallocated slot arrays, per variable two of its size (default: new Float32Arrays). */
  slots?: Float32Array[][];
  /** Runs one Adam update in place, with the same float32 operations as the loop (src/fast/simd.ts). */
  adamKernel?: (mode: 'plain' | 'l2' | 'decoupled', w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: Record<string, number>) => void;
  /**
   * With `adamKernel`: the weights, gradients and the two slots of every variable as four spans of memory, laid
   * out alike (the i-th variable at the same offset in each, zeros between variables), so that one kernel call
   * updates them all; the zeros stay zero under Adam (m = v = 0, step 0). Same bits as one call per variable.
   */
  fused?: { weights: Float32Array; grads: Float32Array; m: Float32Array; v: Float32Array };
}

export function createArrayOptimizer(cfg: OptimizerConfig, o: ArrayOptimizerOptions = {}): ArrayOptimizer {
  validate(cfg);
  const rule = cfg.name === 'adam' ? adam(cfg) : sgd(cfg);
  const wd = cfg.weightDecay ?? 0;
  const mode = wd > 0 ? (cfg.decoupled ? 'decoupled' : 'l2') : 'plain';
  const kernel = cfg.name === 'adam' ? o.adamKernel : undefined;
  const fused = kernel ? o.fused : undefined;
  if (fused && !o.slots) throw new Error('optimizer: fused spans need the preallocated slots they cover');
  if (fused && (fused.m.byteOffset !== o.slots![0][0].byteOffset || fused.v.byteOffset !== o.slots![0][1].byteOffset)) {
    throw new Error('optimizer: the fused slot spans do not start at the first variable\'s slots');
  }
  let step = 0;
  let slots: Float32Array[][] | null = null;
  const newSlots = (sizes: number[], values?: Float32Array[][]) =>
    sizes.map((n, i) =>
      Array.from({ length: rule.slots }, (_, k) => {
        const a = o.slots ? o.slots[i][k] : new Float32Array(n);
        a.fill(0);
        if (values) a.set(values[i][k]);
        return a;
      }),
    );
  return {
    config: cfg,
    apply(weights, grads, lr) {
      if (grads.length !== weights.length) throw new Error(`optimizer: ${grads.length} gradients for ${weights.length} variables`);
      slots ??= newSlots(weights.map((w) => w.length));
      step++;
      const c = rule.consts(lr, step);
      if (fused) {
        if (weights[0].byteOffset !== fused.weights.byteOffset || grads[0].byteOffset !== fused.grads.byteOffset || weights[0].buffer !== fused.weights.buffer) {
          throw new Error('optimizer: the weights and gradients are not the ones the fused spans cover');
        }
        kernel!(mode, fused.weights, fused.grads, fused.m, fused.v, c);
        return;
      }
      for (let i = 0; i < weights.length; i++) {
        // The loop reads w[j] before it writes out[j], so the update can be written in place.
        if (kernel) kernel(mode, weights[i], grads[i], slots[i][0], slots[i][1], c);
        else rule.loop(weights[i], grads[i], slots[i], weights[i], c, step);
      }
    },
    getState: () => ({ name: cfg.name, step, slots: (slots ?? []).map((s) => s.map((t) => Float32Array.from(t))) }),
    setState(state, sizes) {
      if (state.name !== cfg.name) throw new Error(`optimizer state is for ${state.name}, not ${cfg.name}`);
      if (state.slots.length && state.slots.length !== sizes.length) {
        throw new Error(`optimizer state has slots for ${state.slots.length} variables, the model has ${sizes.length}`);
      }
      slots = state.slots.length ? newSlots(sizes, state.slots) : null;
      step = state.step;
    },
  };
}

const f = Math.fround;

function adam(cfg: OptimizerConfig): Rule {
  const beta1 = cfg.beta1 ?? 0.9;
  const beta2 = cfg.beta2 ?? 0.999;
  const wd = cfg.weightDecay ?? 0;
  const l2 = wd > 0 && !cfg.decoupled;
  const decay = wd > 0 && !!cfg.decoupled;
  return {
    slots: 2,
    consts(lr, step) {
      // lr * m_hat / (sqrt(v_hat) + eps) == stepSize * m / (sqrt(v) + epsHat), the bias corrections folded in
      // (Kingma & Ba 2015, end of §2).
      const bc1 = 1 - Math.pow(beta1, step);
      const bc2 = 1 - Math.pow(beta2, step);
      return {
        b1: f(beta1), nb1: f(1 - beta1), b2: f(beta2), nb2: f(1 - beta2), wd: f(wd),
        stepSize: f((lr * Math.sqrt(bc2)) / bc1), epsHat: f((cfg.epsilon ?? 1e-8) * Math.sqrt(bc2)), keep: f(1 - lr * wd),
      };
    },
    loop(w, g, [m, v], out, c) {
      for (let j = 0; j < w.length; j++) {
        const gj = l2 ? f(g[j] + f(c.wd * w[j])) : g[j];
        m[j] = f(c.b1 * m[j]) + f(c.nb1 * gj);
        v[j] = f(c.b2 * v[j]) + f(c.nb2 * f(gj * gj));
        out[j] = (decay ? f(w[j] * c.keep) : w[j]) - f(c.stepSize * f(m[j] / f(f(Math.sqrt(v[j])) + c.epsHat)));
      }
    },
    ops(w, g, [m, v], c) {
      const gj = l2 ? tf.add(g, tf.mul(c.wd, w)) : g;
      const m1 = tf.add(tf.mul(c.b1, m), tf.mul(c.nb1, gj));
      const v1 = tf.add(tf.mul(c.b2, v), tf.mul(c.nb2, tf.square(gj)));
      m.assign(m1);
      v.assign(v1);
      return tf.sub(decay ? tf.mul(w, c.keep) : w, tf.mul(c.stepSize, tf.div(m1, tf.add(tf.sqrt(v1), c.epsHat))));
    },
  };
}

function sgd(cfg: OptimizerConfig): Rule {
  const mom = cfg.momentum ?? 0;
  const wd = cfg.weightDecay ?? 0;
  const l2 = wd > 0 && !cfg.decoupled;
  const decay = wd > 0 && !!cfg.decoupled;
  return {
    slots: mom > 0 ? 1 : 0,
    consts: (lr) => ({ lr: f(lr), mom: f(mom), wd: f(wd), keep: f(1 - lr * wd) }),
    loop(w, g, [buf], out, c, step) {
      for (let j = 0; j < w.length; j++) {
        let gj = l2 ? f(g[j] + f(c.wd * w[j])) : g[j];
        if (mom > 0) {
          buf[j] = step === 1 ? gj : f(c.mom * buf[j]) + gj; // torch: the buffer is the gradient on the first step
          gj = cfg.nesterov ? f(gj + f(c.mom * buf[j])) : buf[j];
        }
        out[j] = (decay ? f(w[j] * c.keep) : w[j]) - f(c.lr * gj);
      }
    },
    ops(w, g, [buf], c, step) {
      let gj = l2 ? tf.add(g, tf.mul(c.wd, w)) : g;
      if (mom > 0) {
        const b = step === 1 ? gj : tf.add(tf.mul(c.mom, buf), gj);
        buf.assign(b);
        gj = cfg.nesterov ? tf.add(gj, tf.mul(c.mom, b)) : b;
      }
      return tf.sub(decay ? tf.mul(w, c.keep) : w, tf.mul(c.lr, gj));
    },
  };
}
