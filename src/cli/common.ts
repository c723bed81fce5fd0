/** Option parsing shared by the commands (node's util.parseArgs): the conventions' common flags. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PROFILES, type Profile } from '../run/profile.js';

export { PROFILES, type Profile };

/** Flags every experiment command takes (conventions.md, "Command line"). */
export const COMMON_OPTIONS = {
  preset: { type: 'string' },
  profile: { type: 'string' },
  config: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  fresh: { type: 'boolean' },
  'stand-in': { type: 'boolean' },
  json: { type: 'boolean' },
  backend: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Values<O> = { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string };

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: string[], options: O): { values: Values<O>; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as unknown as { values: Values<O>; positionals: string[] };
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (see tck ${command} --help)`);
  }
}

export function intFlag(v: string | undefined, name: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

export function numFlag(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

export function profileFlag(v: string | undefined, fallback: Profile): Profile {
  if (v === undefined) return fallback;
  if (!(PROFILES as readonly string[]).includes(v)) throw new UsageError(`--profile: expected one of ${PROFILES.join(', ')}, got ${JSON.stringify(v)}`);
  return v as Profile;
}

/** Prints the one-line JSON summary that ends `--json` output. */
export function printJson(summary: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(summary) + '\n');
}
