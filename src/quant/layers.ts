/**
 * Quantized layers for tfjs: `QuantDense` and `QuantConv2D` take kernel, bias and input quantizer configs
 * (Larq's `kernel_quantizer`, `input_quantizer`), with or without bias. The kernel can also be held as
 * cluster centroids + indices (weight clustering, seed 004 §2.2; training updates the centroids, so the number of
 * distinct values stays N_c) and be multiplied by a pruning mask (seed 004 §2.3). `QuantActivation` applies an
 * activation quantizer (sign-STE, ReSTE, uniform b-bit) as its own layer; `ShiftedHardtanh` is seed 002
 * §4.2.4's activation. Configs serialise, so save and load keep the quantizers.
 *
 * Kernel pipeline: base = clusters ? centroids[indices] : kernel; masked = prune ? base * mask : base;
 * used = kernelQuantizer(masked). Input pipeline: x~ = inputQuantizer(x). Output: x~ W~ + b~, then the
 * built-in activation; `gradBits` quantizes the gradient flowing back through the output (cyclic precision).
 */
import { tf } from '../engine/backend.js';
import type { Tensor, Tensor4D, LayerVariable } from '@tensorflow/tfjs';
import { makeQuantizer, quantizerCodes, type Quantizer, type QuantizerConfig } from './quantizers.js';

type Kwargs = Record<string, unknown>;
type Shape = (number | null)[];
type Init = ReturnType<typeof tf.initializers.zeros>;

export interface QuantLayerOptions {
  kernelQuantizer?: QuantizerConfig;
  biasQuantizer?: QuantizerConfig;
  inputQuantizer?: QuantizerConfig;
  useBias?: boolean;
  activation?: 'linear' | 'relu';
  /** Hold the kernel as `clusters` centroids plus per-weight indices. */
  clusters?: number;
  /** Multiply the kernel by a (non-trainable) pruning mask. */
  prune?: boolean;
  /** Quantize gradients passing back through the output to this many bits (symmetric, per tensor). */
  gradBits?: number;
  name?: string;
  trainable?: boolean;
  kernelInitializer?: Init;
  biasInitializer?: Init;
  inputShape?: number[];
  batchInputShape?: Shape;
}

/** Identity forward; backward rounds the gradient to `bits` (symmetric, max-abs scale) as CPT does. */
export function quantizeGradient(x: Tensor, bits: number): Tensor {
  const impl = (t: Tensor) => ({
    value: tf.clone(t),
    gradFunc: (dy: Tensor) =>
      tf.tidy(() => {
        const qmax = 2 ** (bits - 1) - 1;
        const s = tf.div(tf.maximum(tf.max(tf.abs(dy)), 1e-30), qmax);
        return tf.mul(tf.clipByValue(tf.round(tf.div(dy, s)), -qmax, qmax), s);
      }),
  });
  const f = tf.customGrad(impl as never);
  return f(x) as Tensor;
}

/** Shared machinery of QuantDense and QuantConv2D. */
abstract class QuantBase extends tf.layers.Layer {
  protected opts: QuantLayerOptions;
  protected kernelVar: LayerVariable | null = null;
  protected centroids: LayerVariable | null = null;
  protected indices: LayerVariable | null = null;
  protected mask: LayerVariable | null = null;
  protected biasVar: LayerVariable | null = null;
  private qKernel: Quantizer;
  private qBias: Quantizer;
  private qInput: Quantizer;

  constructor(opts: QuantLayerOptions) {
    super(opts as never);
    this.opts = { ...opts };
    this.qKernel = makeQuantizer(opts.kernelQuantizer ?? { kind: 'none' });
    this.qBias = makeQuantizer(opts.biasQuantizer ?? { kind: 'none' });
    this.qInput = makeQuantizer(opts.inputQuantizer ?? { kind: 'none' });
    if (opts.clusters !== undefined && !(Number.isInteger(opts.clusters) && opts.clusters >= 1)) {
      throw new Error(`layer ${opts.name}: clusters must be a positive integer, got ${opts.clusters}`);
    }
  }

  get quantizers(): { kernel: QuantizerConfig; bias: QuantizerConfig; input: QuantizerConfig } {
    return { kernel: this.qKernel.config, bias: this.qBias.config, input: this.qInput.config };
  }

  /** Replaces quantizer configs (cyclic precision, ReCU's tau schedule, PTQ calibration). */
  setQuantizers(q: { kernel?: QuantizerConfig; bias?: QuantizerConfig; input?: QuantizerConfig }): void {
    if (q.kernel) {
      this.qKernel = makeQuantizer(q.kernel);
      this.opts.kernelQuantizer = q.kernel;
    }
    if (q.bias) {
      this.qBias = makeQuantizer(q.bias);
      this.opts.biasQuantizer = q.bias;
    }
    if (q.input) {
      this.qInput = makeQuantizer(q.input);
      this.opts.inputQuantizer = q.input;
    }
  }

  setGradBits(bits: number | undefined): void {
    this.opts.gradBits = bits;
  }

  protected createKernel(shape: number[]): void {
    const init = this.opts.kernelInitializer ?? tf.initializers.glorotUniform({});
    if (this.opts.clusters) {
      this.centroids = this.addWeight('centroids', [this.opts.clusters], 'float32', tf.initializers.zeros(), undefined, true);
      this.indices = this.addWeight('indices', shape, 'int32', tf.initializers.zeros(), undefined, false);
    } else {
      this.kernelVar = this.addWeight('kernel', shape, 'float32', init, undefined, true);
    }
    if (this.opts.prune) this.mask = this.addWeight('mask', shape, 'float32', tf.initializers.ones(), undefined, false);
  }

  protected createBias(units: number): void {
    if (this.opts.useBias !== false) {
      this.biasVar = this.addWeight('bias', [units], 'float32', this.opts.biasInitializer ?? tf.initializers.zeros(), undefined, true);
    }
  }

  /** The float kernel before quantization (centroids gathered, mask applied), as a new tensor the caller owns. */
  rawKernel(): Tensor {
    return tf.tidy(() => {
      let k: Tensor;
      if (this.centroids && this.indices) {
        const idx = this.indices.read();
        k = tf.reshape(tf.gather(this.centroids.read(), tf.reshape(idx, [-1])), idx.shape);
      } else k = tf.clone(this.kernelVar!.read());
      return this.mask ? tf.mul(k, this.mask.read()) : k;
    });
  }

  /** The kernel the layer computes with (quantized), as a new tensor the caller owns. */
  effectiveKernel(): Tensor {
    return tf.tidy(() => this.qKernel(this.rawKernel()));
  }

  /** The bias the layer computes with (quantized), as a new tensor the caller owns. */
  effectiveBias(): Tensor | null {
    return this.biasVar ? tf.tidy(() => this.qBias(tf.clone(this.biasVar!.read()))) : null;
  }

  quantizeInput(x: Tensor): Tensor {
    return this.qInput(x);
  }

  /**
   * Inference on integer codes: acc = (codes_x - z_x) * codes_w in float32 (exact while partial sums stay
   * below 2^24), plus the bias rounded to accumulator units, times s_x s_w per channel. The same real numbers
   * as x~ W~ + b~, computed without accumulated rounding, so predictions match the integer export. Null when the
   * kernel has no integer form. Float inputs (no input quantizer) enter with scale 1 (exact for +-1 activations).
   */
  protected exactForward(x: Tensor, product: (a: Tensor, w: Tensor) => Tensor): Tensor | null {
    const raw = this.rawKernel();
    const w = quantizerCodes(this.qKernel.config, raw);
    raw.dispose();
    if (!w) return null;
    const xi = quantizerCodes(this.qInput.config, x) ?? { codes: tf.clone(x), scale: tf.scalar(1), zero: tf.scalar(0), bits: 32 };
    const units = this.kernelVar?.shape ?? this.indices!.shape;
    const channels = units[units.length - 1] as number;
    const y = tf.tidy(() => {
      const acc = product(tf.sub(xi.codes, xi.zero), w.codes);
      const S = tf.reshape(tf.mul(tf.broadcastTo(tf.reshape(w.scale, [-1]), [channels]), tf.reshape(xi.scale, [])), [channels]);
      const b = this.effectiveBias();
      const withBias = b ? tf.add(acc, tf.round(tf.div(b, S))) : acc;
      return tf.mul(withBias, S);
    });
    [w.codes, w.scale, w.zero, xi.codes, xi.scale, xi.zero].forEach((t) => t.dispose());
    return y;
  }

  protected finish(y: Tensor): Tensor {
    return this.opts.gradBits ? quantizeGradient(y, this.opts.gradBits) : y;
  }

  /** The layer's variables by role, for clustering, pruning and export. */
  variables(): { kernel: LayerVariable | null; centroids: LayerVariable | null; indices: LayerVariable | null; mask: LayerVariable | null; bias: LayerVariable | null } {
    return { kernel: this.kernelVar, centroids: this.centroids, indices: this.indices, mask: this.mask, bias: this.biasVar };
  }

  baseConfig(): Record<string, unknown> {
    const o = this.opts;
    return {
      kernelQuantizer: this.qKernel.config,
      biasQuantizer: this.qBias.config,
      inputQuantizer: this.qInput.config,
      useBias: o.useBias !== false,
      activation: o.activation ?? 'linear',
      clusters: o.clusters ?? null,
      prune: Boolean(o.prune),
      gradBits: o.gradBits ?? null,
    };
  }
}

function fromConfigOpts(config: Record<string, unknown>): QuantLayerOptions {
  const c = { ...config } as Record<string, unknown>;
  for (const k of ['clusters', 'gradBits']) if (c[k] === null) delete c[k];
  return c as QuantLayerOptions;
}

export class QuantDense extends QuantBase {
  static className = 'QuantDense';
  readonly units: number;

  constructor(opts: QuantLayerOptions & { units: number }) {
    super(opts);
    this.units = opts.units;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    this.createKernel([s[s.length - 1] as number, this.units]);
    this.createBias(this.units);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [...s.slice(0, -1), this.units];
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const raw = Array.isArray(inputs) ? inputs[0] : inputs;
      if (kwargs.training !== true) {
        const y = this.exactForward(raw, (a, w) => tf.matMul(a, w));
        if (y) return this.opts.activation === 'relu' ? tf.relu(y) : y;
      }
      const x = this.quantizeInput(raw);
      const y = tf.fused.matMul({ a: x, b: this.effectiveKernel(), bias: this.effectiveBias() ?? undefined, activation: this.opts.activation ?? 'linear' });
      return this.finish(y);
    });
  }

  override getConfig() {
    return { ...super.getConfig(), units: this.units, ...this.baseConfig() } as never;
  }

  static override fromConfig<T>(cls: new (o: never) => T, config: Record<string, unknown>): T {
    return new cls(fromConfigOpts(config) as never);
  }
}

export class QuantConv2D extends QuantBase {
  static className = 'QuantConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: 'valid' | 'same';

  constructor(opts: QuantLayerOptions & { filters: number; kernelSize: number; strides?: number; padding?: 'valid' | 'same' }) {
    super(opts);
    this.filters = opts.filters;
    this.kernelSize = opts.kernelSize;
    this.strides = opts.strides ?? 1;
    this.padding = opts.padding ?? 'valid';
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    this.createKernel([this.kernelSize, this.kernelSize, s[3] as number, this.filters]);
    this.createBias(this.filters);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const out = (n: number) => (this.padding === 'same' ? Math.ceil(n / this.strides) : Math.ceil((n - this.kernelSize + 1) / this.strides));
    return [s[0], out(s[1] as number), out(s[2] as number), this.filters];
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const raw = Array.isArray(inputs) ? inputs[0] : inputs;
      if (kwargs.training !== true) {
        const y = this.exactForward(raw, (a, w) => tf.conv2d(a as Tensor4D, w as Tensor4D, this.strides, this.padding));
        if (y) return this.opts.activation === 'relu' ? tf.relu(y) : y;
      }
      const x = this.quantizeInput(raw) as Tensor4D;
      const y = tf.fused.conv2d({
        x,
        filter: this.effectiveKernel() as Tensor4D,
        strides: this.strides,
        pad: this.padding,
        bias: this.effectiveBias() ?? undefined,
        activation: this.opts.activation ?? 'linear',
      });
      return this.finish(y);
    });
  }

  override getConfig() {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, ...this.baseConfig() } as never;
  }

  static override fromConfig<T>(cls: new (o: never) => T, config: Record<string, unknown>): T {
    return new cls(fromConfigOpts(config) as never);
  }
}

/** An activation quantizer as a layer (sign-STE, ReSTE, uniform b-bit on [-1, 1], ...). */
export class QuantActivation extends tf.layers.Layer {
  static className = 'QuantActivation';
  private q: Quantizer;

  constructor(opts: { quantizer: QuantizerConfig; name?: string; inputShape?: number[] }) {
    super(opts as never);
    this.q = makeQuantizer(opts.quantizer);
  }

  get quantizer(): QuantizerConfig {
    return this.q.config;
  }

  setQuantizer(c: QuantizerConfig): void {
    this.q = makeQuantizer(c);
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => this.q(Array.isArray(inputs) ? inputs[0] : inputs));
  }

  override computeOutputShape(s: Shape | Shape[]): Shape | Shape[] {
    return s;
  }

  override getConfig() {
    return { ...super.getConfig(), quantizer: this.q.config } as never;
  }
}

/**
 * Hardtanh shifted horizontally, clip(x - shift, -1, 1) (seed 002 §4.2.4, after Kim et al. 2021, its ref.
 * [62], who shift the threshold of the binary activation). Ordinary gradient (1 inside the linear part).
 * The shift is a required argument: the value ref. [62] uses could not be consulted offline, so there is no
 * default that would claim to be theirs.
 */
export class ShiftedHardtanh extends tf.layers.Layer {
  static className = 'ShiftedHardtanh';
  readonly shift: number;

  constructor(opts: { shift: number; name?: string; inputShape?: number[] }) {
    super(opts as never);
    if (!Number.isFinite(opts.shift)) throw new Error(`ShiftedHardtanh ${opts.name ?? ''}: shift must be a number, got ${opts.shift}`);
    this.shift = opts.shift;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => tf.clipByValue(tf.sub(Array.isArray(inputs) ? inputs[0] : inputs, this.shift), -1, 1));
  }

  override computeOutputShape(s: Shape | Shape[]): Shape | Shape[] {
    return s;
  }

  override getConfig() {
    return { ...super.getConfig(), shift: this.shift } as never;
  }
}

for (const cls of [QuantDense, QuantConv2D, QuantActivation, ShiftedHardtanh]) tf.serialization.registerClass(cls as never);

export type QuantLayer = QuantDense | QuantConv2D;

export function isQuantLayer(l: unknown): l is QuantLayer {
  return l instanceof QuantDense || l instanceof QuantConv2D;
}
