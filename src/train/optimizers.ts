/**
 * Optimisers with explicit, serialisable state (for checkpoints that resume bit-exactly).
 * Adam follows Kingma & Ba (2015), Algorithm 1, with PyTorch's conventions (the reference implementations
 * use PyTorch): epsilon added to sqrt(v_hat), `weightDecay` as an L2 term added to the gradient
 * (torch.optim.Adam) or, with `decoupled`, applied to the weights directly (AdamW, Loshchilov & Hutter 2019).
 * SGD with momentum follows torch.optim.SGD (dampening 0, optional Nesterov).
 */
import { tf } from '../engine/backend.js';
import type { Tensor, Variable, Scalar } from '@tensorflow/tfjs';

export interface OptimizerConfig {
  name: 'adam' | 'sgd';
  lr: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  /** AdamW-style decay (w -= lr * wd * w) instead of the L2 gradient term. */
  decoupled?: boolean;
}

export interface OptimizerState {
  name: string;
  step: number;
  /** Slot tensors per variable, in variable order (Adam: m then v; SGD: momentum buffer). */
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

function zerosLikeSlots(vars: Variable[], n: number): Variable[][] {
  // tidy disposes the temporary zeros; variables are never disposed by tidy.
  return vars.map((v) => Array.from({ length: n }, () => tf.tidy(() => tf.variable(tf.zerosLike(v), false))));
}

function snapshot(name: string, step: number, slots: Variable[][] | null): OptimizerState {
  return { name, step, slots: (slots ?? []).map((s) => s.map((t) => Float32Array.from(t.dataSync() as Float32Array))) };
}

/** Replaces `current` slots by the saved ones (disposing the old). */
function restore(name: string, state: OptimizerState, vars: Variable[], current: Variable[][] | null): Variable[][] | null {
  if (state.name !== name) throw new Error(`optimizer state is for ${state.name}, not ${name}`);
  current?.flat().forEach((t) => t.dispose());
  return state.slots.length ? state.slots.map((s, i) => s.map((a) => tf.tidy(() => tf.variable(tf.tensor(a, vars[i].shape), false)))) : null;
}

function validate(cfg: OptimizerConfig): void {
  const bad = (field: string, why: string) => {
    throw new Error(`optimizer.${field}: ${why}`);
  };
  if (!(cfg.lr > 0) || !Number.isFinite(cfg.lr)) bad('lr', `must be a positive number, got ${cfg.lr}`);
  if (cfg.weightDecay !== undefined && !(cfg.weightDecay >= 0)) bad('weightDecay', `must be >= 0, got ${cfg.weightDecay}`);
  if (cfg.momentum !== undefined && !(cfg.momentum >= 0 && cfg.momentum < 1)) bad('momentum', `must be in [0, 1), got ${cfg.momentum}`);
}

/** Creates the optimiser named in `cfg`. Slots are created on the first `apply`. */
export function createOptimizer(cfg: OptimizerConfig): Optimizer {
  validate(cfg);
  return cfg.name === 'adam' ? adam(cfg) : sgd(cfg);
}

function adam(cfg: OptimizerConfig): Optimizer {
  const b1 = cfg.beta1 ?? 0.9;
  const b2 = cfg.beta2 ?? 0.999;
  const eps = cfg.epsilon ?? 1e-8;
  const wd = cfg.weightDecay ?? 0;
  let step = 0;
  let slots: Variable[][] | null = null;
  const c = tf.tidy(() => ({
    b1: tf.keep(tf.scalar(b1)),
    nb1: tf.keep(tf.scalar(1 - b1)),
    b2: tf.keep(tf.scalar(b2)),
    nb2: tf.keep(tf.scalar(1 - b2)),
    wd: tf.keep(tf.scalar(wd)),
  }));
  return {
    config: cfg,
    apply(vars, grads, lr) {
      if (!slots) slots = zerosLikeSlots(vars, 2);
      step++;
      // lr * m_hat / (sqrt(v_hat) + eps) == lrT * m / (sqrt(v) + epsT), with the bias corrections folded in.
      const bc1 = 1 - Math.pow(b1, step);
      const bc2 = 1 - Math.pow(b2, step);
      tf.tidy(() => {
        const lrT = tf.scalar((lr * Math.sqrt(bc2)) / bc1);
        const epsT = tf.scalar(eps * Math.sqrt(bc2));
        const lrWd = cfg.decoupled && wd > 0 ? tf.scalar(1 - lr * wd) : null;
        vars.forEach((v, i) => {
          let g = grads[i];
          if (wd > 0 && !cfg.decoupled) g = tf.add(g, tf.mul(c.wd, v));
          const [m, s] = slots![i];
          const m1 = tf.add(tf.mul(c.b1, m), tf.mul(c.nb1, g));
          const s1 = tf.add(tf.mul(c.b2, s), tf.mul(c.nb2, tf.square(g)));
          m.assign(m1);
          s.assign(s1);
          const base = lrWd ? tf.mul(v, lrWd) : v;
          v.assign(tf.sub(base, tf.mul(lrT, tf.div(m1, tf.add(tf.sqrt(s1), epsT)))));
        });
      });
    },
    getState: () => snapshot('adam', step, slots),
    setState(state, vars) {
      slots = restore('adam', state, vars, slots);
      step = state.step;
    },
    dispose() {
      slots?.flat().forEach((t) => t.dispose());
      Object.values(c).forEach((t: Scalar) => t.dispose());
    },
  };
}

function sgd(cfg: OptimizerConfig): Optimizer {
  const mom = cfg.momentum ?? 0;
  const wd = cfg.weightDecay ?? 0;
  let step = 0;
  let slots: Variable[][] | null = null;
  return {
    config: cfg,
    apply(vars, grads, lr) {
      if (!slots) slots = zerosLikeSlots(vars, mom > 0 ? 1 : 0);
      step++;
      tf.tidy(() => {
        const lrS = tf.scalar(lr);
        vars.forEach((v, i) => {
          let g = grads[i];
          if (wd > 0 && !cfg.decoupled) g = tf.add(g, tf.mul(wd, v));
          if (mom > 0) {
            const [buf] = slots![i];
            const b1 = step === 1 ? g : tf.add(tf.mul(mom, buf), g); // torch: buffer = g on the first step
            buf.assign(b1);
            g = cfg.nesterov ? tf.add(g, tf.mul(mom, b1)) : b1;
          }
          const base = cfg.decoupled && wd > 0 ? tf.mul(v, 1 - lr * wd) : v;
          v.assign(tf.sub(base, tf.mul(lrS, g)));
        });
      });
    },
    getState: () => snapshot('sgd', step, slots),
    setState(state, vars) {
      slots = restore('sgd', state, vars, slots);
      step = state.step;
    },
    dispose() {
      slots?.flat().forEach((t) => t.dispose());
    },
  };
}
