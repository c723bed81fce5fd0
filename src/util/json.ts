/** JSON helpers: canonical text (sorted keys) and content hashes of plain data (configs, job specs). */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level: equal data gives equal text whatever the key order. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x)
      ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]]))
      : x,
  );
}

/** sha256 (hex) of the canonical JSON of `v`. */
export function hashJson(v: unknown): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex');
}

/** Drops `undefined` members of plain objects, recursively (arrays and other values are kept as they are). */
export function stripUndefined<T>(o: T): T {
  if (!o || typeof o !== 'object' || Array.isArray(o) || ArrayBuffer.isView(o)) return o;
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined).map(([k, x]) => [k, stripUndefined(x)])) as T;
}
