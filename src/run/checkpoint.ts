/**
 * Checkpoints: any JSON-like value whose leaves may be typed arrays, in one file written atomically
 * ("TCK1", header length, JSON header, binary payload). Typed arrays round-trip bit-exactly, and so do
 * the non-finite numbers plain JSON would turn into null.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/files.js';
import { KitError } from '../util/errors.js';

const MAGIC = 'TCK1';
type Typed = Float32Array | Float64Array | Int32Array | Uint8Array | Uint32Array | Int8Array | Int16Array;
const KINDS: Record<string, new (b: ArrayBuffer, o: number, n: number) => Typed> = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
  u8: Uint8Array,
  u32: Uint32Array,
  i8: Int8Array,
  i16: Int16Array,
};

function kindOf(v: unknown): string | null {
  for (const [k, C] of Object.entries(KINDS)) if (v instanceof (C as unknown as typeof Float32Array)) return k;
  return null;
}

/** Serialises `value` into the checkpoint format. */
export function encodeCheckpoint(value: unknown): Uint8Array {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const header = JSON.stringify(value, function (_key, v) {
    if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
    const k = kindOf(v);
    if (!k) return v;
    const t = v as Typed;
    const pad = (8 - (offset % 8)) % 8;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    const bytes = new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice();
    const ref = { $ta: k, o: offset, n: t.length };
    chunks.push(bytes);
    offset += bytes.length;
    return ref;
  });
  const head = Buffer.from(header, 'utf8');
  const pre = Buffer.alloc(8);
  pre.write(MAGIC, 0, 'ascii');
  pre.writeUInt32LE(head.length, 4);
  return Buffer.concat([pre, head, ...chunks]);
}

/** A checkpoint file that cannot be read: names the file and what to do. */
export class CheckpointError extends KitError {
  constructor(where: string, what: string) {
    super(`${where}: ${what}. Delete the file to redo that part, or rerun with --fresh to start the run over.`);
    this.name = 'CheckpointError';
  }
}

/** Parses a checkpoint; `where` names the file in errors. */
export function decodeCheckpoint<T>(buf: Uint8Array, where: string): T {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8 || b.toString('ascii', 0, 4) !== MAGIC) throw new CheckpointError(where, 'not a kit checkpoint (bad magic)');
  const len = b.readUInt32LE(4);
  if (8 + len > b.length) throw new CheckpointError(where, 'truncated checkpoint header');
  const payloadStart = 8 + len;
  const payload = b.subarray(payloadStart);
  // Copy the payload into an aligned buffer so typed-array views are valid.
  const aligned = new Uint8Array(payload.length);
  aligned.set(payload);
  const reviver = (_k: string, v: { $num?: unknown; $ta?: unknown; o: number; n: number }) => {
    if (v && typeof v === 'object' && typeof v.$num === 'string') return Number(v.$num);
    if (v && typeof v === 'object' && typeof v.$ta === 'string') {
      const C = KINDS[v.$ta];
      if (!C) throw new CheckpointError(where, `unknown array kind ${v.$ta}`);
      const bytes = v.n * (C as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      if (!(v.o >= 0 && v.n >= 0 && v.o + bytes <= aligned.length)) throw new CheckpointError(where, 'truncated checkpoint payload');
      return new C(aligned.buffer, v.o, v.n).slice();
    }
    return v;
  };
  try {
    return JSON.parse(b.toString('utf8', 8, payloadStart), reviver) as T;
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(where, `corrupt checkpoint header (${(e as Error).message})`);
  }
}

/** A directory of named checkpoints. */
export interface CheckpointDir {
  dir: string;
  save(name: string, value: unknown): void;
  load<T>(name: string): T | null;
  has(name: string): boolean;
  remove(name: string): void;
}

export function checkpointDir(dir: string): CheckpointDir {
  const file = (name: string) => path.join(dir, `${name}.ckpt`);
  return {
    dir,
    save: (name, value) => writeFileAtomic(file(name), encodeCheckpoint(value)),
    load: <T>(name: string) => (fs.existsSync(file(name)) ? decodeCheckpoint<T>(fs.readFileSync(file(name)), file(name)) : null),
    has: (name) => fs.existsSync(file(name)),
    remove: (name) => fs.rmSync(file(name), { force: true }),
  };
}
