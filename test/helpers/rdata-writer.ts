/**
 * Test helper: writes R `save()` files (XDR, RDX2 or RDX3) from RValue objects, the way R does:
 * symbols are written once and then referenced with REFSXP, NA_integer_ is INT_MIN, NA_real_ is the
 * NaN with payload 1954, NA_character_ is a CHARSXP of length -1. Two extra test-only kinds:
 * `compact_intseq` (written as R 3.5+'s ALTREP) and `unsupported` (an object of a raw SEXP type).
 */
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import type { RAttributes, RValue } from '../../src/data/formats/rdata.js';

export type WritableRValue = RValue | { kind: 'compact_intseq'; n: number; start: number } | { kind: 'unsupported'; type: number };

const TYPE = { logical: 10, integer: 13, double: 14, character: 16, list: 19 } as const;

export function serializeRData(objects: [string, WritableRValue][], version: 2 | 3 = 2): Uint8Array {
  const out: number[] = [];
  const bytes = (b: ArrayLike<number>): void => {
    for (let i = 0; i < b.length; i++) out.push(b[i]);
  };
  const int = (x: number): void => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(x);
    bytes(b);
  };
  const dbl = (x: number): void => {
    const b = Buffer.alloc(8);
    if (Number.isNaN(x)) {
      b.writeUInt32BE(0x7ff00000, 0); // NA_real_: a NaN with payload 1954
      b.writeUInt32BE(1954, 4);
    } else {
      b.writeDoubleBE(x);
    }
    bytes(b);
  };
  const charsxp = (s: string | null): void => {
    if (s === null) {
      int(9);
      return int(-1);
    }
    const utf8 = Buffer.from(s, 'utf8');
    int(9 | ((/^[\x00-\x7f]*$/.test(s) ? 64 : 8) << 12)); // ASCII or UTF8 flag in the levels bits
    int(utf8.length);
    bytes(utf8);
  };
  const symbols = new Map<string, number>();
  const symbol = (name: string): void => {
    const ref = symbols.get(name);
    if (ref !== undefined) return int((ref << 8) | 255);
    symbols.set(name, symbols.size + 1);
    int(1);
    charsxp(name);
  };
  const pairlist = (items: { tag: string | null; value: WritableRValue }[]): void => {
    for (const { tag, value } of items) {
      int(2 | (tag !== null ? 1 << 10 : 0));
      if (tag !== null) symbol(tag);
      item(value);
    }
    int(254);
  };
  const attributes = (a: RAttributes): void => pairlist([...a].map(([tag, value]) => ({ tag, value })));
  const item = (v: WritableRValue): void => {
    switch (v.kind) {
      case 'null':
        return int(254);
      case 'symbol':
        return symbol(v.name);
      case 'pairlist':
        return pairlist(v.items);
      case 'unsupported':
        return int(v.type);
      case 'compact_intseq':
        int(238);
        pairlist([
          { tag: null, value: { kind: 'symbol', name: 'compact_intseq' } },
          { tag: null, value: { kind: 'symbol', name: 'base' } },
          { tag: null, value: { kind: 'integer', values: Float64Array.of(13), attributes: new Map() } },
        ]);
        item({ kind: 'double', values: Float64Array.of(v.n, v.start, 1), attributes: new Map() });
        return int(254);
      default: {
        const hasAttr = v.attributes.size > 0;
        int(TYPE[v.kind] | (hasAttr ? 1 << 9 : 0) | (v.attributes.has('class') ? 1 << 8 : 0));
        int(v.values.length);
        if (v.kind === 'character') v.values.forEach(charsxp);
        else if (v.kind === 'list') v.values.forEach(item);
        else if (v.kind === 'double') v.values.forEach(dbl);
        else v.values.forEach((x) => int(Number.isNaN(x) ? -2147483648 : x));
        if (hasAttr) attributes(v.attributes);
      }
    }
  };
  bytes(Buffer.from(`RDX${version}\nX\n`, 'latin1'));
  int(version);
  int(0x040301); // written by R 4.3.1
  int(version === 3 ? 0x030500 : 0x020300);
  if (version === 3) {
    int(5);
    bytes(Buffer.from('UTF-8'));
  }
  pairlist(objects.map(([tag, value]) => ({ tag, value })));
  return Uint8Array.from(out);
}

/** Compresses with gzip (zlib), xz (`xz -z`) or bzip2 (`bzip2 -z`), as R's save(compress=) does. */
export function compress(buf: Uint8Array, how: 'gzip' | 'xz' | 'bzip2'): Uint8Array {
  if (how === 'gzip') return gzipSync(buf);
  return new Uint8Array(execFileSync(how, ['-z', '-c'], { input: buf }));
}

// Small constructors for building test objects.
const attrs = (a: Record<string, WritableRValue>): RAttributes => new Map(Object.entries(a) as [string, RValue][]);
export const rChr = (values: (string | null)[], a: Record<string, WritableRValue> = {}): RValue => ({ kind: 'character', values, attributes: attrs(a) });
export const rDbl = (values: number[], a: Record<string, WritableRValue> = {}): RValue => ({ kind: 'double', values: Float64Array.from(values), attributes: attrs(a) });
export const rInt = (values: number[], a: Record<string, WritableRValue> = {}): RValue => ({ kind: 'integer', values: Float64Array.from(values), attributes: attrs(a) });
export const rLgl = (values: number[]): RValue => ({ kind: 'logical', values: Float64Array.from(values), attributes: new Map() });
/** A factor: 1-based codes (NaN = NA) with levels. */
export const rFactor = (codes: number[], levels: string[]): RValue => rInt(codes, { levels: rChr(levels), class: rChr(['factor']) });
/** A data.frame with compact row names c(NA, -n), like R's data.frame(). */
export function rDataFrameValue(cols: Record<string, WritableRValue>, nrow: number): RValue {
  return {
    kind: 'list',
    values: Object.values(cols) as RValue[],
    attributes: attrs({ names: rChr(Object.keys(cols)), class: rChr(['data.frame']), 'row.names': rInt([NaN, -nrow]) }),
  };
}
