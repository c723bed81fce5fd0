/**
 * Config validation: configs are JSON validated by zod schemas; every problem is reported with the file and
 * the field path (`optimizer.lr: expected a number > 0, got -1`).
 */
import fs from 'node:fs';
import { z } from 'zod';
import { KitError } from '../util/errors.js';

export class ConfigError extends KitError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'nothing' : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/**
 * Validates `value` against `schema`; throws a `ConfigError` listing each bad field with its path, and with
 * the command-line flag that sets it where `flagOf` names one (`optimizer.lr (--lr): ...`).
 */
export function validateConfig<S extends z.ZodType>(schema: S, value: unknown, where: string, flagOf: Record<string, string> = {}): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const dotted = i.path.map(String).join('.');
    const path = i.path.length ? `${dotted}${flagOf[dotted] ? ` (${flagOf[dotted]})` : ''}` : '(top level)';
    const got = i.code === 'unrecognized_keys' || i.code === 'custom' ? '' : `, got ${describe(valueAt(value, i.path))}`;
    return `  ${path}: ${i.message}${got}`;
  });
  throw new ConfigError(`${where}: invalid config\n${lines.join('\n')}`);
}

/** Reads a JSON config file; a syntax error names the file and position. */
export function readConfigFile(file: string): unknown {
  if (!fs.existsSync(file)) throw new ConfigError(`${file}: no such config file`);
  if (!fs.statSync(file).isFile()) throw new ConfigError(`${file}: not a file (expected a JSON config file)`);
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    // V8 reports a character position; people read lines and columns.
    const msg = (e as Error).message;
    const pos = Number(/at position (\d+)/.exec(msg)?.[1] ?? NaN);
    const at = Number.isFinite(pos) ? (() => {
      const before = text.slice(0, pos).split('\n');
      return ` (line ${before.length}, column ${before.at(-1)!.length + 1})`;
    })() : text.trim() === '' ? ' (the file is empty)' : '';
    throw new ConfigError(`${file}: not valid JSON${at}: ${msg}`);
  }
}

/** Deep merge of plain objects (arrays and scalars are replaced), for preset < profile < file < flags. */
export function merge<T>(base: T, ...over: unknown[]): T {
  let out: unknown = base;
  for (const o of over) out = mergeTwo(out, o);
  return out as T;
}

function mergeTwo(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) out[k] = mergeTwo(out[k], v);
    return out;
  }
  return b;
}

/**
 * The top-level settings of `config` that differ from the preset's own (`presetOnly`), leaving out `ignore`
 * (the seed, say): a run that changes any of them is labelled `custom`, not the preset's profile.
 */
export function changedSettings(config: object, presetOnly: object, ignore: string[] = ['seed']): string[] {
  const p = presetOnly as Record<string, unknown>;
  return Object.entries(config).filter(([k, v]) => !ignore.includes(k) && JSON.stringify(v) !== JSON.stringify(p[k])).map(([k]) => k);
}
