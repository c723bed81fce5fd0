/**
 * Reader for R's `save()` files (.RData/.rda): gzip, xz, bzip2 or uncompressed, XDR format
 * (RDX2/RDX3). Supports the object types that data frames and factors are made of.
 */
import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../types.js';

/** Attributes of an R object, by name (`names`, `class`, `levels`, `row.names`, ...). */
export type RAttributes = Map<string, RValue>;

/**
 * An R object. Integer and logical NA (INT_MIN in the file) become NaN; NA_real_ stays NaN;
 * NA_character_ becomes null. Logical values are 1/0/NaN.
 */
export type RValue =
  | { kind: 'null' }
  | { kind: 'symbol'; name: string }
  | { kind: 'logical'; values: Float64Array; attributes: RAttributes }
  | { kind: 'integer'; values: Float64Array; attributes: RAttributes }
  | { kind: 'double'; values: Float64Array; attributes: RAttributes }
  | { kind: 'character'; values: (string | null)[]; attributes: RAttributes }
  | { kind: 'list'; values: RValue[]; attributes: RAttributes }
  | { kind: 'pairlist'; items: { tag: string | null; value: RValue }[]; attributes: RAttributes };

export interface RDataFrameColumn {
  name: string;
  kind: 'numeric' | 'integer' | 'factor' | 'character' | 'logical';
  /** Numbers for numeric/integer/logical (NA = NaN) and 0-based factor codes; strings (NA = null) for character. */
  values: Float64Array | (string | null)[];
  /** Factor levels; `values[i]` indexes into this. */
  levels?: string[];
}

// SEXP type numbers (R's Rinternals.h / serialize.c).
const SYMSXP = 1, LISTSXP = 2, CHARSXP = 9, LGLSXP = 10, INTSXP = 13, REALSXP = 14, STRSXP = 16, VECSXP = 19;
const ALTREP_SXP = 238, NILVALUE_SXP = 254, REFSXP = 255;
const NA_INT = -2147483648;
const CHAR_LATIN1 = 1 << 2;

/** Runs an external decompressor on `buf`; a missing tool gives a DataError saying which package to install. */
function runDecompressor(tool: string, pkg: string, buf: Uint8Array, where: string): Uint8Array {
  try {
    return new Uint8Array(execFileSync(tool, ['-dc'], { input: buf, maxBuffer: 1 << 30 }));
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new DataError(where, `file is ${tool}-compressed but the "${tool}" program is missing: install ${pkg}`);
    throw new DataError(where, `corrupt ${tool} data (${err.stderr?.toString().trim() || err.message})`);
  }
}

/** Decompresses by magic bytes: gzip, xz, bzip2, or returns `buf` as is. Throws DataError on corrupt data or a missing tool. */
export function decompressRData(buf: Uint8Array, where: string): Uint8Array {
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      return new Uint8Array(gunzipSync(buf));
    } catch (e) {
      throw new DataError(where, `corrupt gzip data (${(e as Error).message})`);
    }
  }
  const xz = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
  if (xz.every((b, i) => buf[i] === b)) return runDecompressor('xz', 'xz-utils', buf, where);
  if (buf[0] === 0x42 && buf[1] === 0x5a && buf[2] === 0x68) return runDecompressor('bzip2', 'bzip2', buf, where);
  return buf;
}

/**
 * Parses an R `save()` file into its named objects.
 * Throws DataError for a missing RDX2/RDX3 header, a non-XDR serialization, truncated data,
 * or an unsupported object type (naming the type number and the object path).
 */
export function readRData(buf: Uint8Array, where: string): Map<string, RValue> {
  const b = decompressRData(buf, where);
  const head = new TextDecoder('latin1').decode(b.subarray(0, 7));
  if (head.startsWith('RDA') || head.startsWith('RDB')) {
    throw new DataError(where, `R save format "${head.slice(0, 4)}" (ascii/native binary) is not supported; only XDR (RDX2/RDX3)`);
  }
  if (!(head.startsWith('RDX2\n') || head.startsWith('RDX3\n'))) {
    throw new DataError(where, 'not an R save() file: no RDX2/RDX3 header');
  }
  if (head.slice(5, 7) !== 'X\n') throw new DataError(where, `unsupported serialization format "${head.slice(5, 6)}" (only XDR "X")`);

  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 7;
  const refs: RValue[] = [];
  const need = (n: number, path: string): void => {
    if (pos + n > b.length) throw new DataError(where, `truncated R data while reading ${path} (needs ${n} more bytes at offset ${pos}, file has ${b.length})`);
  };
  const int = (path: string): number => {
    need(4, path);
    pos += 4;
    return view.getInt32(pos - 4, false);
  };
  const length = (path: string): number => {
    const n = int(path);
    if (n !== -1) return n;
    return int(path) * 2 ** 32 + (int(path) >>> 0); // long vector
  };
  const decoderUtf8 = new TextDecoder('utf-8');
  const decoderLatin1 = new TextDecoder('latin1');

  /** Reads a CHARSXP body (after its flags): null for NA_character_. */
  const charsxp = (flags: number, path: string): string | null => {
    const n = int(path);
    if (n === -1) return null;
    need(n, path);
    const bytes = b.subarray(pos, pos + n);
    pos += n;
    return ((flags >> 12) & CHAR_LATIN1 ? decoderLatin1 : decoderUtf8).decode(bytes);
  };
  const attrsOf = (v: RValue | null, path: string): RAttributes => {
    const m: RAttributes = new Map();
    if (v === null || v.kind === 'null') return m;
    if (v.kind !== 'pairlist') throw new DataError(where, `${path}: attributes are not a pairlist`);
    for (const { tag, value } of v.items) m.set(tag ?? '', value);
    return m;
  };
  const numbers = (n: number, path: string, read: (at: number) => number, size: number): Float64Array => {
    need(n * size, path);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = read(pos + i * size);
    pos += n * size;
    return out;
  };
  const intValue = (at: number): number => {
    const x = view.getInt32(at, false);
    return x === NA_INT ? NaN : x;
  };
  const dblValue = (at: number): number => view.getFloat64(at, false);

  const item = (path: string): RValue => {
    const flags = int(path);
    const type = flags & 0xff;
    const hasAttr = (flags & (1 << 9)) !== 0;
    switch (type) {
      case NILVALUE_SXP:
        return { kind: 'null' };
      case REFSXP: {
        const idx = flags >> 8 || int(path);
        const v = refs[idx - 1];
        if (!v) throw new DataError(where, `${path}: bad reference index ${idx}`);
        return v;
      }
      case SYMSXP: {
        const pf = int(path);
        if ((pf & 0xff) !== CHARSXP) throw new DataError(where, `${path}: symbol name is SEXP type ${pf & 0xff}, not CHARSXP`);
        const v: RValue = { kind: 'symbol', name: charsxp(pf, path) ?? 'NA' };
        refs.push(v);
        return v;
      }
      case LISTSXP: {
        // Read the chain iteratively: each cell is [attr] [tag] car cdr.
        const items: { tag: string | null; value: RValue }[] = [];
        let attributes: RAttributes = new Map();
        let f = flags;
        for (;;) {
          const cellAttr = f & (1 << 9) ? attrsOf(item(`${path}@attributes`), path) : null;
          if (items.length === 0 && cellAttr) attributes = cellAttr;
          let tag: string | null = null;
          if (f & (1 << 10)) {
            const t = item(`${path} tag`);
            tag = t.kind === 'symbol' ? t.name : null;
          }
          items.push({ tag, value: item(tag !== null ? `${path}$${tag}` : `${path}[[${items.length + 1}]]`) });
          f = int(path);
          if ((f & 0xff) === NILVALUE_SXP) break;
          if ((f & 0xff) !== LISTSXP) throw new DataError(where, `${path}: pairlist tail has SEXP type ${f & 0xff}`);
        }
        return { kind: 'pairlist', items, attributes };
      }
      case CHARSXP: {
        const s = charsxp(flags, path);
        return { kind: 'character', values: [s], attributes: new Map() };
      }
      case LGLSXP:
      case INTSXP:
      case REALSXP:
      case STRSXP:
      case VECSXP: {
        const n = length(path);
        let v: Extract<RValue, { attributes: RAttributes }>;
        if (type === LGLSXP || type === INTSXP) {
          v = { kind: type === LGLSXP ? 'logical' : 'integer', values: numbers(n, path, intValue, 4), attributes: new Map() };
        } else if (type === REALSXP) {
          v = { kind: 'double', values: numbers(n, path, dblValue, 8), attributes: new Map() };
        } else if (type === STRSXP) {
          const values: (string | null)[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const cf = int(path);
            if ((cf & 0xff) !== CHARSXP) throw new DataError(where, `${path}[${i + 1}]: string element is SEXP type ${cf & 0xff}, not CHARSXP`);
            values[i] = charsxp(cf, path);
          }
          v = { kind: 'character', values, attributes: new Map() };
        } else {
          const values: RValue[] = new Array(n);
          for (let i = 0; i < n; i++) values[i] = item(`${path}[[${i + 1}]]`);
          v = { kind: 'list', values, attributes: new Map() };
        }
        if (hasAttr) v.attributes = attrsOf(item(`${path}@attributes`), path);
        return v;
      }
      case ALTREP_SXP:
        return altrep(path);
      default:
        throw new DataError(where, `unsupported R object type ${type} (SEXP type number) at ${path}`);
    }
  };

  /** ALTREP (RDX3): compact integer/real sequences and wrappers are expanded; others are unsupported. */
  const altrep = (path: string): RValue => {
    const info = item(`${path} altrep info`);
    const cls = info.kind === 'pairlist' && info.items[0]?.value.kind === 'symbol' ? info.items[0].value.name : '?';
    const state = item(`${path} altrep state`);
    const attributes = attrsOf(item(`${path}@attributes`), path);
    if ((cls === 'compact_intseq' || cls === 'compact_realseq') && state.kind === 'double' && state.values.length === 3) {
      const [n, start, step] = state.values;
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = start + i * step;
      return { kind: cls === 'compact_intseq' ? 'integer' : 'double', values, attributes };
    }
    if (cls.startsWith('wrap_') && state.kind === 'list' && state.values.length >= 1) {
      const inner = state.values[0];
      return 'attributes' in inner ? { ...inner, attributes } : inner;
    }
    throw new DataError(where, `unsupported R object type 238 (ALTREP class "${cls}") at ${path}`);
  };

  const version = int('header');
  int('header'); // writer R version
  int('header'); // minimal reader R version
  if (version === 3) {
    const n = int('header');
    need(n, 'header');
    pos += n; // native encoding name
  } else if (version !== 2) {
    throw new DataError(where, `unsupported serialization version ${version} (expected 2 or 3)`);
  }
  const top = item('<top>');
  const out = new Map<string, RValue>();
  if (top.kind === 'null') return out;
  if (top.kind !== 'pairlist') throw new DataError(where, `expected a pairlist of named objects at the top, found ${top.kind}`);
  for (const { tag, value } of top.items) out.set(tag ?? '', value);
  return out;
}

/** The string values of attribute `name`, or [] when absent or not character. */
export function rStrings(v: RValue, name: string): (string | null)[] {
  const a = 'attributes' in v ? v.attributes.get(name) : undefined;
  return a?.kind === 'character' ? a.values : [];
}

/**
 * Turns an R data.frame (a list with class "data.frame") into named columns.
 * Factors become 0-based codes (NA = NaN) plus `levels`. Row count comes from `row.names`,
 * including the compact form c(NA, -n).
 * Throws DataError if `v` is not a data.frame, a column has an unsupported type, or lengths disagree.
 */
export function rDataFrame(
  v: RValue,
  where: string,
): { nrow: number; columns: RDataFrameColumn[] } {
  if (v.kind !== 'list' || !rStrings(v, 'class').includes('data.frame')) {
    throw new DataError(where, `not a data.frame (found R ${v.kind}${'attributes' in v ? ` with class ${JSON.stringify(rStrings(v, 'class'))}` : ''})`);
  }
  const names = rStrings(v, 'names');
  const rn = v.attributes.get('row.names');
  let nrow: number;
  if (rn && (rn.kind === 'integer' || rn.kind === 'double') && rn.values.length === 2 && Number.isNaN(rn.values[0])) {
    nrow = Math.abs(rn.values[1]);
  } else if (rn && 'values' in rn) {
    nrow = rn.values.length;
  } else {
    nrow = v.values.length > 0 && 'values' in v.values[0] ? v.values[0].values.length : 0;
  }
  const columns = v.values.map((col, i): RDataFrameColumn => {
    const name = names[i] ?? `V${i + 1}`;
    const fail = (msg: string): never => {
      throw new DataError(where, `column "${name}": ${msg}`);
    };
    let c: RDataFrameColumn;
    if (col.kind === 'integer' && rStrings(col, 'class').includes('factor')) {
      const levels = rStrings(col, 'levels').map((l) => l ?? 'NA');
      const values = col.values.map((x) => x - 1);
      for (const x of values) if (x < 0 || x >= levels.length) fail(`factor code ${x + 1} outside 1..${levels.length}`);
      c = { name, kind: 'factor', values, levels };
    } else if (col.kind === 'integer') c = { name, kind: 'integer', values: col.values };
    else if (col.kind === 'double') c = { name, kind: 'numeric', values: col.values };
    else if (col.kind === 'logical') c = { name, kind: 'logical', values: col.values };
    else if (col.kind === 'character') c = { name, kind: 'character', values: col.values };
    else return fail(`unsupported column type ${col.kind}`);
    if (c.values.length !== nrow) fail(`has ${c.values.length} values but the data.frame has ${nrow} rows`);
    return c;
  });
  return { nrow, columns };
}
