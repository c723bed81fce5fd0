/** Option parsing shared by the commands (node's util.parseArgs): the conventions' common flags. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PROFILES, type Profile } from '../run/profile.js';
import { KitError } from '../util/errors.js';

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

export class UsageError extends KitError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Values<O> = { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string };

/** Edit distance, for "did you mean" hints on mistyped flags. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Parses `argv` strictly: unknown flags, missing flag values and more positional arguments than the command
 * takes (`maxPositionals`, default none) are usage errors that name the flag and point to --help.
 */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: O,
  maxPositionals = 0,
): { values: Values<O>; positionals: string[] } {
  let r: { values: Values<O>; positionals: string[] };
  try {
    r = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as unknown as typeof r;
  } catch (e) {
    const err = e as Error & { code?: string };
    const flag = /'(-[^']*)'/.exec(err.message)?.[1];
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) {
      const name = flag.replace(/^-+/, '');
      const near = Object.keys(options).filter((k) => distance(k, name) <= 2 || k.startsWith(name));
      const hint = near.length ? `; did you mean ${near.map((k) => `--${k}`).join(' or ')}?` : '';
      throw new UsageError(`unknown option ${flag}${hint} (see tck ${command} --help)`);
    }
    throw new UsageError(`${err.message} (see tck ${command} --help)`);
  }
  if (r.positionals.length > maxPositionals) {
    const extra = r.positionals.slice(maxPositionals);
    const hint = extra.every((x) => /^[\d.,]+$/.test(x)) ? 'a list is written with commas and no spaces, e.g. --weight-bits 8,4,4; ' : '';
    throw new UsageError(`unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((x) => JSON.stringify(x)).join(' ')} (${hint}see tck ${command} --help)`);
  }
  return r;
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

/**
 * Ctrl-C / SIGTERM during a run: records the run as `interrupted` (provenance), prints what was saved and how to
 * resume, and exits (130 for SIGINT, 143 for SIGTERM). Returns a function that removes the handlers.
 */
export function onInterrupt(run: { dir: string; interrupt(signal: string): void }, saved: () => string, command: string): () => void {
  const handler = (signal: NodeJS.Signals) => {
    run.interrupt(signal);
    process.stderr.write(`\n${signal}: stopped. ${saved()}\nTo resume, run the same command again: ${command}\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** The command line as typed, for "run it again" hints. */
export function commandLine(command: string, argv: string[]): string {
  return ['tck', command, ...argv.map((a) => (/^[\w./:=,@+-]+$/.test(a) ? a : JSON.stringify(a)))].join(' ');
}
