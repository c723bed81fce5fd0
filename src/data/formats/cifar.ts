/** Reader for the official CIFAR-10 / CIFAR-100 binary batches. */
import { DataError } from '../types.js';

const PIXELS = 32 * 32;

/**
 * Parses a CIFAR binary batch. Records are `[coarse] label pixels[3072]` with pixels
 * channel-planar (1024 R, 1024 G, 1024 B, each row-major 32x32); the output `images` is NHWC,
 * `n*32*32*3` interleaved RGB. For cifar100, `labels` are the fine labels and `coarseLabels` the coarse ones.
 * Throws DataError if the length is not a positive multiple of the record size.
 */
export function parseCifarBatch(
  buf: Uint8Array,
  variant: 'cifar10' | 'cifar100',
  where: string,
): { images: Uint8Array; labels: Uint8Array; coarseLabels?: Uint8Array; n: number } {
  const labelBytes = variant === 'cifar100' ? 2 : 1;
  const rec = labelBytes + 3 * PIXELS;
  const name = variant === 'cifar100' ? 'CIFAR-100' : 'CIFAR-10';
  if (buf.length === 0 || buf.length % rec !== 0) {
    throw new DataError(where, `truncated or not a ${name} binary batch: ${buf.length} bytes is not a multiple of ${rec}`);
  }
  const n = buf.length / rec;
  const images = new Uint8Array(n * 3 * PIXELS);
  const labels = new Uint8Array(n);
  const coarseLabels = variant === 'cifar100' ? new Uint8Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const o = i * rec;
    if (coarseLabels) coarseLabels[i] = buf[o];
    labels[i] = buf[o + labelBytes - 1];
    const px = o + labelBytes;
    const out = i * 3 * PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      images[out + 3 * p] = buf[px + p];
      images[out + 3 * p + 1] = buf[px + PIXELS + p];
      images[out + 3 * p + 2] = buf[px + 2 * PIXELS + p];
    }
  }
  return coarseLabels ? { images, labels, coarseLabels, n } : { images, labels, n };
}

/** Class names from `batches.meta.txt` / `fine_label_names.txt` / `coarse_label_names.txt`: the non-empty trimmed lines. */
export function parseCifarClassNames(text: string): string[] {
  return text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
}
