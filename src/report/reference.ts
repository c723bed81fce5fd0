/**
 * The reference page (docs/reference.md): layer kinds, quantizer kinds, training hooks and the fields of every
 * config file, generated from the zod schemas that validate them (through their JSON Schema), so the page
 * says what the kit accepts and cannot drift from it. `npm run docs` rewrites it; a test checks it is current.
 */
import { z } from 'zod';
import { LayerSpecSchema, ArchitectureSchema } from '../models/schema.js';
import { QUANTIZER_KINDS, QUANTIZER_KIND_NAMES } from '../quant/config.js';
import { CompressionSchema } from '../experiments/compression.js';
import { JobSpecSchema } from '../experiments/job.js';
import { HookSpecSchema, InitTransformSchema } from '../experiments/hooks.js';
import { DatasetViewSchema, VIEWS } from '../data/views.js';

type Json = Record<string, unknown>;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function jsonSchema(s: z.ZodType): Json {
  return z.toJSONSchema(s, { unrepresentable: 'any', io: 'input' }) as Json;
}

/** The `kind` constants of a union of `{kind: ...}` objects, or null. */
function kindsOf(s: Json): string[] | null {
  const any = s.anyOf as Json[] | undefined;
  if (!any) return null;
  const kinds = any.map((o) => ((o.properties as Json | undefined)?.kind as Json | undefined)?.const);
  return kinds.every((k) => typeof k === 'string') ? (kinds as string[]) : null;
}

const LAYER_KINDS = kindsOf(jsonSchema(LayerSpecSchema))!;
const HOOK_KINDS = kindsOf(jsonSchema(HookSpecSchema))!;
const INIT_KINDS = kindsOf(jsonSchema(InitTransformSchema))!;
const same = (a: string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));
const isSectioned = (kinds: string[]) => [QUANTIZER_KIND_NAMES, LAYER_KINDS, HOOK_KINDS, INIT_KINDS].some((k) => same(kinds, k));

/** A one-line description of a schema's type and constraints. */
function typeOf(s: Json): string {
  if ('const' in s) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return (s.enum as unknown[]).map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  const kinds = kindsOf(s);
  if (kinds) {
    if (same(kinds, QUANTIZER_KIND_NAMES)) return 'a quantizer ([kinds](#quantizer-kinds))';
    if (same(kinds, LAYER_KINDS)) return 'a layer ([kinds](#layer-kinds))';
    if (same(kinds, HOOK_KINDS)) return 'a hook ([kinds](#training-hooks))';
    if (same(kinds, INIT_KINDS)) return 'an init transform ([kinds](#initial-weight-transforms))';
    return `one of kind ${kinds.map((k) => `\`${k}\``).join(', ')}`;
  }
  if (s.anyOf) {
    const props = (o: Json) => (o.properties ?? {}) as Json;
    const arch = (s.anyOf as Json[]).some((o) => 'layers' in props(o) && 'input' in props(o));
    const view = (s.anyOf as Json[]).some((o) => 'dataset' in props(o) && 'normalize' in props(o));
    if (arch) return 'a zoo model name (string) or an architecture ([fields](#architecture-files))';
    if (view) return 'a view name (string) or a view as data ([fields](#dataset-views))';
    const parts = (s.anyOf as Json[]).filter((o) => o.type !== 'null').map(typeOf);
    const nullable = (s.anyOf as Json[]).some((o) => o.type === 'null');
    return parts.join(' or ') + (nullable ? ' or `null`' : '');
  }
  const t = s.type as string | undefined;
  const range = (lo: string, hi: string) => {
    const r: string[] = [];
    if (s.minimum !== undefined && s.minimum !== -MAX_SAFE) r.push(`${lo} ${s.minimum}`);
    if (s.exclusiveMinimum !== undefined) r.push(`> ${s.exclusiveMinimum}`);
    if (s.maximum !== undefined && s.maximum !== MAX_SAFE) r.push(`${hi} ${s.maximum}`);
    if (s.exclusiveMaximum !== undefined) r.push(`< ${s.exclusiveMaximum}`);
    return r.length ? ` (${r.join(', ')})` : '';
  };
  switch (t) {
    case 'integer':
      return `integer${range('>=', '<=')}`;
    case 'number':
      return `number${range('>=', '<=')}`;
    case 'string':
      return s.minLength ? 'string (non-empty)' : 'string';
    case 'boolean':
      return 'boolean';
    case 'array': {
      const n = s.minItems !== undefined || s.maxItems !== undefined ? ` (${[s.minItems !== undefined ? `>= ${s.minItems}` : '', s.maxItems !== undefined ? `<= ${s.maxItems}` : ''].filter(Boolean).join(', ')} items)` : '';
      return `list of ${typeOf(s.items as Json)}${n}`;
    }
    case 'object':
      if (s.properties) return 'object (fields below)';
      if (s.additionalProperties && typeof s.additionalProperties === 'object') return `map of name to ${typeOf(s.additionalProperties as Json)}`;
      return 'object';
    default:
      return 'any';
  }
}

interface Row {
  field: string;
  type: string;
  required: boolean;
  def?: unknown;
  description?: string;
}

/** Rows for an object schema's fields, nested objects flattened to dotted paths. */
function rows(s: Json, prefix = '', depth = 0): Row[] {
  const props = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required as string[] | undefined) ?? []);
  const out: Row[] = [];
  for (const [k, p] of Object.entries(props)) {
    const field = prefix ? `${prefix}.${k}` : k;
    // an optional object, written by zod as anyOf [object, ...] with one object
    const obj = p.type === 'object' && p.properties ? p : null;
    out.push({ field, type: typeOf(p), required: required.has(k) && p.default === undefined, def: p.default, description: p.description as string | undefined });
    if (obj && depth < 3) out.push(...rows(obj, field, depth + 1));
    // a union by kind that has no section of its own: each kind's fields under `field (kind "x")`
    const kinds = kindsOf(p);
    if (kinds && !isSectioned(kinds) && depth < 3) {
      for (const o of p.anyOf as Json[]) {
        const { kind: _k, ...rest } = o.properties as Json;
        const kind = ((o.properties as Json).kind as Json).const as string;
        out.push(...rows({ ...o, properties: rest }, `${field} (kind "${kind}")`, depth + 1));
      }
    }
    // a record of objects (per-layer overrides)
    const ap = p.additionalProperties as Json | undefined;
    if (p.type === 'object' && ap && typeof ap === 'object' && ap.properties && depth < 3) out.push(...rows(ap, `${field}.<name>`, depth + 1));
  }
  return out;
}

function table(rs: Row[]): string {
  if (!rs.length) return '(no fields besides `kind`)\n';
  const esc = (x: string) => x.replace(/\|/g, '\\|').replace(/\\\\\|/g, '\\|');
  const described = rs.some((r) => r.description);
  const lines = [`| field | type | required | default |${described ? ' what |' : ''}`, `|---|---|---|---|${described ? '---|' : ''}`];
  for (const r of rs) {
    const d = described ? ` ${(r.description ?? '').replace(/\|/g, '\\|')} |` : '';
    lines.push(`| \`${r.field}\` | ${esc(r.type).replace(/\\\\/g, '\\')} | ${r.required ? 'yes' : ''} | ${r.def !== undefined ? `\`${JSON.stringify(r.def)}\`` : ''} |${d}`);
  }
  return lines.join('\n') + '\n';
}

/** One section per `kind` of a union, each with its fields. */
function kindSections(s: Json, describe: (kind: string) => string = () => ''): string {
  return (s.anyOf as Json[])
    .map((o) => {
      const kind = ((o.properties as Json).kind as Json).const as string;
      const { kind: _k, ...rest } = o.properties as Json;
      const d = describe(kind);
      return `### \`${kind}\`\n\n${d ? d + '\n\n' : ''}${table(rows({ ...o, properties: rest }))}`;
    })
    .join('\n');
}

/** The whole page, as Markdown. */
export function renderReference(trainConfig: z.ZodType): string {
  const parts: string[] = [];
  parts.push(`# Reference: layers, quantizers, hooks and config files

Generated by \`npm run docs\` from the zod schemas that validate every config (\`src/report/reference.ts\`); do
not edit by hand. Every config file is checked against these schemas: a wrong field is reported with its path
(\`layers.2.kernelQuantizer.bits: must be an integer in 2..16\`), an unknown field or kind is an error that lists
the valid ones. Examples of each file are in \`examples/\`.

Contents: [architecture](#architecture-files) · [layer kinds](#layer-kinds) · [quantizer kinds](#quantizer-kinds) ·
[compression recipes](#compression-recipes) · [tck train config](#tck-train-config-files) · [job specs](#job-specs) ·
[training hooks](#training-hooks) · [initial-weight transforms](#initial-weight-transforms) · [dataset views](#dataset-views)
`);
  const arch = jsonSchema(ArchitectureSchema);
  parts.push(`## Architecture files

What \`--model file.json\` (\`tck train\`, \`tck estimate\`) reads: the architecture itself, or an object with an
\`architecture\` field (a genome with extra data). Layers run in order; \`name\` is a layer's identity (its
weights' key, what per-layer settings and weight inheritance refer to).

${table(rows(arch))}`);
  parts.push(`## Layer kinds

${kindSections(jsonSchema(LayerSpecSchema))}`);
  parts.push(`## Quantizer kinds

A quantizer is a config object \`{"kind": ..., ...}\` given to a layer as \`kernelQuantizer\`, \`biasQuantizer\` or
\`inputQuantizer\`, or to a \`quantize\` layer. *Family* says what it is meant for; *bits* is what the estimators
count per stored value.

| kind | family | description |
|---|---|---|
${QUANTIZER_KIND_NAMES.map((k) => `| \`${k}\` | ${QUANTIZER_KINDS[k].family} | ${QUANTIZER_KINDS[k].description.replace(/\|/g, '\\|')} |`).join('\n')}

${kindSections(jsonSchema(z.union(QUANTIZER_KIND_NAMES.map((k) => QUANTIZER_KINDS[k].schema) as unknown as [z.ZodType, z.ZodType])))}`);
  parts.push(`## Compression recipes

The \`compression\` block of a \`tck train\` config (the flags \`--weights\`, \`--inputs\`, \`--weight-bits\`,
\`--keep-first-last\`, \`--prune\`, \`--cluster\` set the same fields). Order: \`weights\` / \`inputs\` /
\`weightBits\` apply to every conv2d/dense layer (inputs: all but the first), \`keepFirstLast\` restores the first
and last to full precision, \`layers\` overrides single layers by name (\`null\` removes a quantizer).

${table(rows(jsonSchema(CompressionSchema)))}`);
  parts.push(`## tck train config files

\`tck train --config file.json\`: any of these fields (flags override them). A file may add
\`"profiles": {"smoke": {...}, "quick": {...}, "paper": {...}}\`, settings that \`--profile\` applies over the
file's (see \`examples/\`).

${table(rows(jsonSchema(trainConfig)))}`);
  parts.push(`## Job specs

One training as data (\`tck jobs <file>\` runs a list of them; experiments generate them). The same spec gives the
same bits on every executor; its hash (without \`label\`) keys the run's ledger.

${table(rows(jsonSchema(JobSpecSchema)))}`);
  parts.push(`## Training hooks

Entries of a job's \`hooks\`: schedules applied while training.

${kindSections(jsonSchema(HookSpecSchema))}`);
  parts.push(`## Initial-weight transforms

Entries of a job's \`init.transforms\`, applied in order to the initial (or given) weights before training.

${kindSections(jsonSchema(InitTransformSchema))}`);
  parts.push(`## Dataset views

A dataset is named by a view: one of the names below, or a view as data with these fields.

| view | what |
|---|---|
${Object.entries(VIEWS)
  .map(([k, v]) => `| \`${k}\` | ${v.description.replace(/\|/g, '\\|')} |`)
  .join('\n')}

${table(rows(jsonSchema(DatasetViewSchema)))}`);
  return parts.join('\n').replace(/\n{3,}/g, '\n\n');
}
