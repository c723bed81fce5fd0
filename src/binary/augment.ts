/**
 * Training-set augmentation of seed 002 §4.2.7 (as in ReCU, its ref. [61]): random rotation, random horizontal
 * flip and random crop with zero padding, drawn afresh every epoch. Used for CIFAR; MNIST is trained without it
 * (Table 5.3's footnote).
 *
 * It runs inside the ordinary training loop without changing it: the job trains on a copy of its training
 * rows, and a step hook rewrites that copy at the first step of every epoch from the original rows with
 * stream `augment:<epoch>` of the training seed. An epoch's images depend only on the epoch, so a resumed
 * training repeats them exactly. Per image: rotate by a uniform angle in [-degrees, degrees] (bilinear,
 * zero outside), flip with probability 1/2, then shift by a uniform offset in [-pad, pad] in each direction
 * (the crop of a zero-padded image). Zero is the mean colour of a normalised view. The rotation range is not
 * given by the seed; 15 degrees is the kit's default (an option).
 */
import { z } from 'zod';
import { rngStream, type Rng } from '../engine/random.js';
import type { Dataset } from '../data/types.js';

export const AugmentSchema = z.strictObject({
  flip: z.boolean().default(true),
  /** Random crop of the image padded by `pad` pixels (ReCU / the usual CIFAR recipe: 4). */
  crop: z.number().int().min(0).default(4),
  /** Random rotation range in degrees (0: none). */
  rotate: z.number().min(0).max(180).default(15),
});
export type AugmentConfig = z.infer<typeof AugmentSchema>;
export type AugmentInput = z.input<typeof AugmentSchema>;

/** One augmented image [h, w, c] from `src` into `dst` (both at offset 0 of their arrays). */
export function augmentImage(src: Float32Array, dst: Float32Array, shape: number[], c: AugmentConfig, rng: Rng): void {
  const [h, w, ch] = shape;
  const angle = c.rotate > 0 ? ((rng.next() * 2 - 1) * c.rotate * Math.PI) / 180 : 0;
  const flip = c.flip && rng.next() < 0.5;
  const dy = c.crop > 0 ? rng.int(2 * c.crop + 1) - c.crop : 0;
  const dx = c.crop > 0 ? rng.int(2 * c.crop + 1) - c.crop : 0;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // output pixel (y, x) <- crop shift <- flip <- rotation of the source
      const ys = y + dy;
      const xf = x + dx;
      const xs0 = flip ? w - 1 - xf : xf;
      const o = (y * w + x) * ch;
      if (ys < 0 || ys >= h || xs0 < 0 || xs0 >= w) {
        for (let k = 0; k < ch; k++) dst[o + k] = 0;
        continue;
      }
      const ry = cos * (ys - cy) - sin * (xs0 - cx) + cy;
      const rx = sin * (ys - cy) + cos * (xs0 - cx) + cx;
      const y0 = Math.floor(ry);
      const x0 = Math.floor(rx);
      const fy = ry - y0;
      const fx = rx - x0;
      for (let k = 0; k < ch; k++) {
        const at = (yy: number, xx: number) => (yy >= 0 && yy < h && xx >= 0 && xx < w ? src[(yy * w + xx) * ch + k] : 0);
        dst[o + k] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
      }
    }
  }
}

/** Augments every row of `original` into `out` for epoch `epoch` (stream `augment:<epoch>`). */
export function augmentEpoch(original: Dataset, out: Float32Array, c: AugmentConfig, seed: number | string, epoch: number): void {
  if (original.shape.length !== 3) throw new Error(`augment: dataset ${original.id} is not a set of images (shape [${original.shape}])`);
  const d = original.shape[0] * original.shape[1] * original.shape[2];
  const rng = rngStream(seed, `augment:${epoch}`);
  for (let i = 0; i < original.y.length; i++) augmentImage(original.x.subarray(i * d, (i + 1) * d), out.subarray(i * d, (i + 1) * d), original.shape, c, rng);
}

interface Hooks {
  beforeStep?(s: { epoch: number; batch: number }): void;
  afterStep?(s: never): void;
}

/**
 * The rows a job trains on (a copy) and the hooks that augment them at the first step of every epoch, wrapped
 * around the job's other hooks.
 */
export function augmentation<H extends Hooks>(train: Dataset, config: AugmentInput, seed: number | string, inner: H | undefined): { train: Dataset; hooks: H } {
  const c = AugmentSchema.parse(config);
  const copy: Dataset = { ...train, x: new Float32Array(train.x.length), id: `${train.id}[augmented]` };
  const hooks = {
    beforeStep(s: { epoch: number; batch: number }) {
      if (s.batch === 0) augmentEpoch(train, copy.x, c, seed, s.epoch);
      inner?.beforeStep?.(s as never);
    },
    afterStep: (s: never) => inner?.afterStep?.(s),
  } as unknown as H;
  return { train: copy, hooks };
}
