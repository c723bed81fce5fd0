/**
 * A minimal WebAssembly binary writer: LEB128 numbers, sections, vectors and the instructions the kit's
 * hand-assembled kernels use (the XNOR-popcount layer, src/binary/wasm.ts; the fast trainer's float32 GEMM,
 * src/fast/simd.ts). The kit has no wasm toolchain; its modules are a few hundred bytes each.
 */

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
export const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];

export const I32 = 0x7f;
export const V128 = 0x7b;

/** Instruction helpers (only what the kernel uses). */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if_: [0x04, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (l: number) => [0x20, ...uleb(l)],
  set: (l: number) => [0x21, ...uleb(l)],
  tee: (l: number) => [0x22, ...uleb(l)],
  i32: (v: number) => [0x41, ...sleb(v | 0)],
  i32Load: [0x28, 0x02, 0x00],
  i32Store: [0x36, 0x02, 0x00],
  eqz: [0x45],
  eq: [0x46],
  ne: [0x47],
  ltU: [0x49],
  geU: [0x4f],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  and: [0x71],
  or: [0x72],
  shl: [0x74],
  shrU: [0x76],
  simd: (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm],
};

/** The part of the WebAssembly API used here (the kit's TypeScript lib has no DOM typings). */
export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (d: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => unknown;
  Instance: new (m: unknown, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
export const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

