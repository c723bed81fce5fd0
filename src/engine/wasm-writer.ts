/**
 * A minimal WebAssembly binary writer: LEB128 numbers, sections, vectors, the instructions the kit's
 * hand-assembled kernels use, and the scaffolding they share: a function body under construction
 * (`FunctionBody`), a module of functions over an imported `env.memory` (`memoryModuleBytes`), compile-once
 * (`lazyModule`), instantiation over a memory (`instantiate`) and the operand check of their JavaScript
 * wrappers (`checkView`). Its users: the XNOR-popcount layer (src/binary/wasm.ts, xnor.ts) and the fast
 * trainer's SIMD kernels (src/fast/simd.ts GEMM and Adam, simd-bn.ts batch norm, simd-conv.ts convolution
 * helpers). The kit has no wasm toolchain; its modules are a few hundred bytes to a few tens of kilobytes.
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

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** Instruction helpers (only what the kernels use). */
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
  else_: [0x05],
  call: (f: number) => [0x10, ...uleb(f)],
  select: [0x1b],
  f32Load: [0x2a, 0x02, 0x00],
  f32Store: [0x38, 0x02, 0x00],
  f32Const: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  ltS: [0x48],
  gtS: [0x4a],
  gtU: [0x4b],
  leS: [0x4c],
  leU: [0x4d],
  geS: [0x4e],
  f32Gt: [0x5e],
  divU: [0x6e],
  remU: [0x70],
  f32Add: [0x92],
  f32Max: [0x97],
  simd: (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm],
};

/**
 * The SIMD instructions the kernels use (prefix 0xfd), named once. Memory instructions take the alignment
 * exponent (0: 1 byte ... 4: 16 bytes; a hint) and the offset in bytes.
 */
export const vop = {
  load: (align: number, offset = 0) => op.simd(0x00, align, ...uleb(offset)),
  load32Splat: (offset = 0) => op.simd(0x09, 0x02, ...uleb(offset)),
  store: (align: number, offset = 0) => op.simd(0x0b, align, ...uleb(offset)),
  const: (bytes: number[]) => op.simd(0x0c, ...bytes),
  zero: op.simd(0x0c, ...new Array(16).fill(0)),
  /** i8x16.shuffle of (a, b) by byte index (b's bytes are 16..31). */
  shuffle: (lanes: number[]) => op.simd(0x0d, ...lanes),
  i32x4Splat: op.simd(0x11),
  f32x4Splat: op.simd(0x13),
  f64x2Splat: op.simd(0x14),
  i32x4LeU: op.simd(0x3e),
  f32x4Gt: op.simd(0x44),
  and: op.simd(0x4e),
  xor: op.simd(0x51),
  bitselect: op.simd(0x52),
  store32Lane: (offset: number, lane: number) => op.simd(0x5a, 0x02, ...uleb(offset), lane),
  store64Lane: (offset: number, lane: number) => op.simd(0x5b, 0x03, ...uleb(offset), lane),
  load64Zero: (offset = 0) => op.simd(0x5d, 0x03, ...uleb(offset)),
  f32x4DemoteF64x2Zero: op.simd(0x5e),
  f64x2PromoteLowF32x4: op.simd(0x5f),
  i8x16Popcnt: op.simd(0x62),
  i8x16Add: op.simd(0x6e),
  i16x8ExtaddPairwiseI8x16U: op.simd(0x7d),
  i32x4ExtaddPairwiseI16x8U: op.simd(0x7f),
  i16x8Add: op.simd(0x8e),
  i32x4Bitmask: op.simd(0xa4),
  i32x4Add: op.simd(0xae),
  f32x4Sqrt: op.simd(0xe3),
  f32x4Add: op.simd(0xe4),
  f32x4Sub: op.simd(0xe5),
  f32x4Mul: op.simd(0xe6),
  f32x4Div: op.simd(0xe7),
  f32x4Max: op.simd(0xe9),
  f64x2Neg: op.simd(0xed),
  f64x2Sqrt: op.simd(0xef),
  f64x2Add: op.simd(0xf0),
  f64x2Sub: op.simd(0xf1),
  f64x2Mul: op.simd(0xf2),
  f64x2Div: op.simd(0xf3),
  f64x2Max: op.simd(0xf5),
};

/** The part of the WebAssembly API used here (the kit's TypeScript lib has no DOM typings). */
export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
/** A compiled module (WebAssembly.Module). */
export type WasmModule = object;
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (d: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
export const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * A function body under construction: `local(type)` allocates the next local after the `nParams` parameters
 * (locals are declared in allocation order, one entry per run of the same type), `e(...)` appends
 * instructions (a bound function: `const { e } = f` works), and `finish()` returns the body (local
 * declarations, the code and the final `end`) for `memoryModuleBytes`.
 */
export class FunctionBody {
  private readonly runs: [count: number, type: number][] = [];
  private next: number;
  readonly code: number[] = [];
  constructor(nParams: number) {
    this.next = nParams;
  }
  local(type: number = I32): number {
    const last = this.runs[this.runs.length - 1];
    if (last && last[1] === type) last[0]++;
    else this.runs.push([1, type]);
    return this.next++;
  }
  readonly e = (...parts: number[][]): void => {
    for (const p of parts) this.code.push(...p);
  };
  finish(): number[] {
    return [...vec(this.runs.map(([n, t]) => [...uleb(n), t])), ...this.code, ...op.end];
  }
}

/** A function of `memoryModuleBytes`: its parameter and result value types, its body, its export name if any. */
export interface ModuleFunction {
  params: number[];
  results?: number[];
  /** Local declarations, code and the final `end` (e.g. `FunctionBody.finish()`), without the size prefix. */
  body: number[];
  export?: string;
}

/** A name as the binary format stores it: its UTF-8 length, then the bytes. */
function nameBytes(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...uleb(b.length), ...b];
}

/**
 * The bytes of a module that imports its memory as `env.memory` (at least one page) and holds `funcs`, function
 * i at index i (calls between them use these indices): the type section has each distinct signature once, in
 * order of first use; the functions with an `export` name are exported under it, in function order.
 */
export function memoryModuleBytes(funcs: ModuleFunction[]): Uint8Array {
  const types: number[][] = [];
  const typeIndex = funcs.map((f) => {
    const t = [0x60, ...vec(f.params.map((p) => [p])), ...vec((f.results ?? []).map((r) => [r]))];
    const i = types.findIndex((u) => u.length === t.length && u.every((b, k) => b === t[k]));
    return i >= 0 ? i : types.push(t) - 1;
  });
  const type = section(1, vec(types));
  const imports = section(2, vec([[...nameBytes('env'), ...nameBytes('memory'), 0x02, 0x00, 0x01]]));
  const functions = section(3, vec(typeIndex.map((t) => uleb(t))));
  const exported = funcs.flatMap((f, i) => (f.export === undefined ? [] : [[...nameBytes(f.export), 0x00, ...uleb(i)]]));
  const exports = section(7, vec(exported));
  const code = section(10, vec(funcs.map((f) => [...uleb(f.body.length), ...f.body])));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imports, ...functions, ...exports, ...code]);
}

/**
 * Compile once: the returned function builds and compiles the module on its first call and returns the same
 * module after; null where the engine has no WebAssembly or cannot validate or compile the bytes (e.g. no
 * SIMD), also remembered.
 */
export function lazyModule(build: () => Uint8Array): () => WasmModule | null {
  let compiled: WasmModule | null | undefined;
  return () => {
    if (compiled === undefined) {
      try {
        const bytes = build();
        compiled = WA && WA.validate(bytes) ? new WA.Module(bytes) : null;
      } catch {
        compiled = null;
      }
    }
    return compiled;
  };
}

/** The exports of an instance of `mod` (from `lazyModule`, so WebAssembly exists) over `memory` as `env.memory`. */
export function instantiate(mod: WasmModule, memory: WasmMemory): Record<string, unknown> {
  return new WA!.Instance(mod, { env: { memory } }).exports;
}

/**
 * Throws unless `v` is a view of `buffer` (the kernel's memory) with at least `n` elements, naming the kernel
 * (e.g. "simd gemm"), the operand and, beside the needed length, `shape` if given (e.g. "3 x 4, ld 5"):
 * "simd conv: x holds 100 floats, needs 150".
 */
export function checkView(kernel: string, name: string, v: ArrayBufferView & { readonly length: number }, buffer: ArrayBufferLike, n: number, shape?: string): void {
  if (v.buffer !== buffer) throw new Error(`${kernel}: ${name} is not a view of the kernel's memory`);
  if (!(n <= v.length)) {
    const unit = v instanceof Float32Array ? 'floats' : 'values';
    throw new Error(`${kernel}: ${name} holds ${v.length} ${unit}, needs ${n}${shape === undefined ? '' : ` (${shape})`}`);
  }
}

