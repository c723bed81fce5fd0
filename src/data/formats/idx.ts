/** Reader for IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../types.js';

const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** Gunzips `buf` when it starts with the gzip magic 1f 8b; returns it unchanged otherwise. Throws DataError on corrupt gzip. */
export function maybeGunzip(buf: Uint8Array, where: string): Uint8Array {
  if (buf.length < 2 || buf[0] !== 0x1f || buf[1] !== 0x8b) return buf;
  try {
    return new Uint8Array(gunzipSync(buf));
  } catch (e) {
    throw new DataError(where, `corrupt gzip data (${(e as Error).message})`);
  }
}

/**
 * Parses an IDX file of unsigned bytes (type 0x08), gunzipping first if needed.
 * Returns the big-endian dims and the payload (a view, `prod(dims)` bytes).
 * Throws DataError for bad magic, another element type, bad rank, or a payload
 * shorter or longer than the dims say.
 */
export function parseIdx(buf: Uint8Array, where: string): { dims: number[]; data: Uint8Array } {
  const b = maybeGunzip(buf, where);
  if (b.length < 4) throw new DataError(where, `not an IDX file: only ${b.length} bytes`);
  if (b[0] !== 0 || b[1] !== 0) {
    const hex = Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw new DataError(where, `not an IDX file: bad magic bytes ${hex} (expected 00 00 08 <rank>)`);
  }
  const type = b[2];
  if (type !== 0x08) {
    const name = IDX_TYPES[type] ?? 'unknown';
    throw new DataError(where, `unsupported IDX element type 0x${type.toString(16).padStart(2, '0')} (${name}); only 0x08 (unsigned byte) is supported`);
  }
  const rank = b[3];
  if (rank < 1 || rank > 4) throw new DataError(where, `bad IDX rank ${rank} (expected 1..4)`);
  const headerLen = 4 + 4 * rank;
  if (b.length < headerLen) throw new DataError(where, `truncated: header needs ${headerLen} bytes, file has ${b.length}`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, d) => a * d, 1);
  const found = b.length - headerLen;
  if (found < expected) {
    throw new DataError(where, `truncated: expected ${expected} bytes of data after the header, found ${found}`);
  }
  if (found > expected) {
    throw new DataError(where, `${found - expected} unexpected trailing bytes: expected ${expected} bytes of data after the header (dims ${dims.join('x')}), found ${found}`);
  }
  return { dims, data: b.subarray(headerLen) };
}

/** Reads and parses an IDX file from disk (see `parseIdx`); errors name the path. */
export function readIdxFile(path: string): { dims: number[]; data: Uint8Array } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new DataError(path, `cannot read file (${(e as Error).message})`);
  }
  return parseIdx(buf, path);
}
