/**
 * The optional native float32 GEMM: native/build/blas.node (native/blas.c, an N-API addon over Debian's
 * OpenBLAS, built at install by scripts/build-native.mjs; `npm run build:native` rebuilds it). For large
 * convolutions (im2col products) and matmuls only; everything else, and everything when the addon is absent,
 * runs on the kit's wasm kernels.
 *
 * `nativeBlas()` loads the addon lazily, once, and returns null SILENTLY when the file is missing or fails to
 * load, or when the environment has TCK_NATIVE=0; `nativeBlasStatus()` says why. Operands live in one
 * ArrayBuffer (a WebAssembly.Memory's `memory.buffer`, read afresh after any grow) at BYTE offsets.
 *
 * Threads: OpenBLAS runs one, unless OPENBLAS_NUM_THREADS says otherwise (applied when the addon loads; see
 * `load` for why); the parallelism comes from the addon's own cut of large products into `parts` blocks on
 * threads of their own, whose bits depend on the shape and the number of parts, not on the number of cores
 * (native/blas.c).
 *
 * Determinism (measured with Debian's OpenBLAS 0.3.21, pthread build, DYNAMIC_ARCH, on the fast trainer's im2col
 * shapes NN 51200x288x32, 12800x576x64, 3200x1152x128, TN 288x51200x32, NT 51200x32x288 and LeNet's 39200x25x6,
 * 5000x150x16): for a FIXED thread count sgemm is bit-identical run to run (20 runs per shape, 1 and 2 threads,
 * under a busy machine) and across processes. OpenBLAS splits C among its threads statically (by shape and
 * thread count only) and each element's sum over K is done by one thread, so no reduction order depends on
 * timing. 1 vs 2 threads is NOT guaranteed bit-identical: with the Haswell kernels (OPENBLAS_CORETYPE=Haswell)
 * 5 of those 7 shapes differed by rounding between 1 and 2 threads (single-threaded and threaded calls
 * take different driver/blocking paths); with the kernels OpenBLAS picks by itself on an AVX-512 CPU
 * (Cooperlake) all 7 were identical. The bits also depend on the kernel picked for the CPU (OPENBLAS_CORETYPE)
 * and differ from the wasm kernels' (another summation order). So a run is bit-repeatable for the same
 * machine/config, backend choice and OpenBLAS thread count, which is why the kit pins one thread by default
 * and jobs record the configuration and thread count (`timing.blas`).
 * The addon loads in worker_threads too; concurrent calls from 4 workers (40 each) gave the bits of the
 * same calls made alone.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeBlas {
  /**
   * C = op(A) op(B) + beta C, row-major, alpha 1 (cblas_sgemm). op(A) is M x K (A stored [M, K] with row stride
   * lda, or [K, M] when transA); op(B) is K x N (stored [K, N] with row stride ldb, or [N, K] when transB); C is
   * [M, N] with row stride ldc. aOff/bOff/cOff are byte offsets (multiples of 4) into `buffer`. Throws a
   * RangeError naming the operand when a range lies outside the buffer, or C overlaps A or B.
   */
  sgemm(
    buffer: ArrayBuffer,
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    aOff: number,
    lda: number,
    bOff: number,
    ldb: number,
    beta: number,
    cOff: number,
    ldc: number,
  ): void;
  /** openblas_get_config(), e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64". */
  readonly config: string;
  /** OpenBLAS's current thread count (openblas_get_num_threads). */
  readonly threads: number;
  /** Sets OpenBLAS's thread count for the whole process; returns the new count. */
  setThreads(n: number): number;
  /**
   * Large products (>= 2^24 multiply-adds) are cut into this many blocks of C, each a single-threaded sgemm on
   * its own thread (native/blas.c): parallel, and the bits depend on the shape and `parts`, not on the cores. Default
   * 2, or TCK_BLAS_PARTS; 1 turns the cut off.
   */
  readonly parts: number;
  setParts(n: number): number;
}

interface Addon {
  sgemm: NativeBlas['sgemm'];
  threads(): number;
  setThreads(n: number): number;
  setParts(n: number): number;
  config(): string;
}

/** native/build/blas.node, two levels up from this file both as src/engine/*.ts (tsx) and dist/engine/*.js. */
export const NATIVE_BLAS_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'native',
  'build',
  'blas.node',
);

let loaded: { blas: NativeBlas | null; reason: string } | undefined;

function load(): { blas: NativeBlas | null; reason: string } {
  if (!fs.existsSync(NATIVE_BLAS_PATH))
    return { blas: null, reason: `${NATIVE_BLAS_PATH} is not built (npm run build:native; needs gcc and libopenblas-dev)` };
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(NATIVE_BLAS_PATH) as Addon;
    if (typeof addon.sgemm !== 'function') throw new Error('no sgemm export');
  } catch (e) {
    return { blas: null, reason: `${NATIVE_BLAS_PATH} failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
  // One thread unless OPENBLAS_NUM_THREADS says otherwise: the bits then do not depend on the executor (an
  // in-process job and the same job on a worker-thread pool, whose workers share OpenBLAS's process-wide thread
  // count, get the same numbers), and pool workers do not oversubscribe the cores.
  const envThreads = Number(process.env.OPENBLAS_NUM_THREADS);
  addon.setThreads(Number.isInteger(envThreads) && envThreads >= 1 ? envThreads : 1);
  const envParts = Number(process.env.TCK_BLAS_PARTS);
  let parts = addon.setParts(Number.isInteger(envParts) && envParts >= 1 && envParts <= 16 ? envParts : 2);
  const config = String(addon.config());
  const blas: NativeBlas = {
    sgemm: addon.sgemm,
    config,
    get threads() {
      return addon.threads();
    },
    setThreads: (n) => addon.setThreads(n),
    get parts() {
      return parts;
    },
    setParts: (n) => (parts = addon.setParts(n)),
  };
  return { blas, reason: `loaded ${NATIVE_BLAS_PATH} (${config})` };
}

/** The native GEMM, or null (silently) when it is not built, does not load, or TCK_NATIVE=0. */
export function nativeBlas(): NativeBlas | null {
  if (process.env.TCK_NATIVE === '0') return null;
  loaded ??= load();
  return loaded.blas;
}

/** Why nativeBlas() is (or is not) null, for logs and skipped tests. */
export function nativeBlasStatus(): { available: boolean; reason: string } {
  if (process.env.TCK_NATIVE === '0') return { available: false, reason: 'disabled by TCK_NATIVE=0' };
  loaded ??= load();
  return { available: loaded.blas !== null, reason: loaded.reason };
}
