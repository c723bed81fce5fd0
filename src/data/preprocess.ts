/**
 * Preprocessing as pure functions (dataset in, new dataset out): image normalisation, padding and resizing,
 * and the scalers of the seed-000 reference (scikit-learn's RobustScaler, StandardScaler, row-wise L2 norm).
 */
import { type Dataset, DataError, sampleSize } from './types.js';

/** Per-channel (x - mean) / std for NHWC images. MNIST: mean 0.1307, std 0.3081 (the reference's values). */
export function normalizeChannels(ds: Dataset, mean: number[], std: number[]): Dataset {
  const c = ds.shape[ds.shape.length - 1];
  if (mean.length !== c || std.length !== c) {
    throw new DataError(`dataset ${ds.id}`, `normalisation needs ${c} means and stds, got ${mean.length} and ${std.length}`);
  }
  const x = new Float32Array(ds.x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = i % c;
    x[i] = (ds.x[i] - mean[ch]) / std[ch];
  }
  return { ...ds, x };
}

/** Zero-pads NHWC images by `pad` pixels on each side (28x28 MNIST to 32x32 with pad 2). */
export function padImages(ds: Dataset, pad: number, value = 0): Dataset {
  const [h, w, c] = ds.shape;
  const H = h + 2 * pad;
  const W = w + 2 * pad;
  const n = ds.y.length;
  const x = new Float32Array(n * H * W * c).fill(value);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < h; r++) {
      const src = ((i * h + r) * w) * c;
      const dst = ((i * H + r + pad) * W + pad) * c;
      x.set(ds.x.subarray(src, src + w * c), dst);
    }
  }
  return { ...ds, x, shape: [H, W, c] };
}

/**
 * Bilinear resize of NHWC images with half-pixel centres and no antialiasing: PyTorch's
 * `interpolate(mode='bilinear', align_corners=False)`, which torchvision's `Resize` uses when enlarging
 * (the seed-000 reference enlarges MNIST 28x28 to 32x32 this way).
 */
export function resizeBilinear(ds: Dataset, outH: number, outW: number): Dataset {
  const [h, w, c] = ds.shape;
  const n = ds.y.length;
  const x = new Float32Array(n * outH * outW * c);
  const sy = h / outH;
  const sx = w / outW;
  const src = (v: number, scale: number, size: number) => {
    const s = Math.max(0, (v + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(s), size - 1);
    const i1 = Math.min(i0 + 1, size - 1);
    return [i0, i1, s - i0] as const;
  };
  for (let i = 0; i < n; i++) {
    const base = i * h * w * c;
    for (let r = 0; r < outH; r++) {
      const [r0, r1, fr] = src(r, sy, h);
      for (let q = 0; q < outW; q++) {
        const [q0, q1, fq] = src(q, sx, w);
        for (let ch = 0; ch < c; ch++) {
          const a = ds.x[base + (r0 * w + q0) * c + ch];
          const b = ds.x[base + (r0 * w + q1) * c + ch];
          const d = ds.x[base + (r1 * w + q0) * c + ch];
          const e = ds.x[base + (r1 * w + q1) * c + ch];
          x[((i * outH + r) * outW + q) * c + ch] = (1 - fr) * ((1 - fq) * a + fq * b) + fr * ((1 - fq) * d + fq * e);
        }
      }
    }
  }
  return { ...ds, x, shape: [outH, outW, c] };
}

/** Quantile with linear interpolation between order statistics (numpy's default, used by scikit-learn). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** A fitted per-column affine scaler: x' = (x - center) / scale. */
export interface ColumnScaler {
  center: Float64Array;
  scale: Float64Array;
}

function column(x: Float32Array, d: number, j: number): Float64Array {
  const n = x.length / d;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) col[i] = x[i * d + j];
  return col;
}

/**
 * scikit-learn's RobustScaler: centre = median, scale = interquartile range (25th to 75th percentile),
 * a zero range replaced by 1. Fitted on the columns listed (all when omitted).
 */
export function fitRobustScaler(x: Float32Array, d: number, columns?: number[]): ColumnScaler {
  const center = new Float64Array(d);
  const scale = new Float64Array(d).fill(1);
  for (const j of columns ?? Array.from({ length: d }, (_, k) => k)) {
    const col = column(x, d, j).sort();
    center[j] = quantile(col, 0.5);
    const iqr = quantile(col, 0.75) - quantile(col, 0.25);
    scale[j] = iqr === 0 ? 1 : iqr;
  }
  return { center, scale };
}

/** scikit-learn's StandardScaler: mean and population standard deviation (zero std replaced by 1). */
export function fitStandardScaler(x: Float32Array, d: number): ColumnScaler {
  const n = x.length / d;
  const center = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const col = column(x, d, j);
    const mean = col.reduce((a, b) => a + b, 0) / n;
    const v = col.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    center[j] = mean;
    scale[j] = v === 0 ? 1 : Math.sqrt(v);
  }
  return { center, scale };
}

export function applyScaler(x: Float32Array, d: number, s: ColumnScaler): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const j = i % d;
    out[i] = (x[i] - s.center[j]) / s.scale[j];
  }
  return out;
}

/** Scales every row to unit L2 norm (scikit-learn's `preprocessing.normalize`; zero rows stay zero). */
export function l2NormalizeRows(x: Float32Array, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[r * d + j] ** 2;
    const norm = s === 0 ? 1 : Math.sqrt(s);
    for (let j = 0; j < d; j++) out[r * d + j] = x[r * d + j] / norm;
  }
  return out;
}

/** Applies a scaler to a tabular dataset. */
export function scaleDataset(ds: Dataset, s: ColumnScaler): Dataset {
  return { ...ds, x: applyScaler(ds.x, sampleSize(ds), s) };
}

/**
 * One-hot encoding of categorical values with categories in sorted order (scikit-learn's OneHotEncoder);
 * `dropFirst` leaves out the first category (`drop='first'`, as the seed-000 reference does).
 */
export function oneHot(values: string[], dropFirst: boolean): { categories: string[]; columns: Float32Array[] } {
  const categories = [...new Set(values)].sort();
  const kept = dropFirst ? categories.slice(1) : categories;
  const columns = kept.map((cat) => Float32Array.from(values, (v) => (v === cat ? 1 : 0)));
  return { categories: kept, columns };
}
