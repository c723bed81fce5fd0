/**
 * Tables: every result table is a danfojs DataFrame (for display and analysis in notebooks) and a CSV file
 * (for the record), plus Markdown and HTML renderings for the report and for notebooks
 * (`tslab.display.html(htmlTable(df))`).
 *
 * CSV is written by the kit (papaparse, atomically; inside a run with its provenance columns), not by
 * danfojs's `toCSV`, which does not quote fields that contain commas.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import Papa from 'papaparse';
import type { DataFrame } from 'danfojs-node';
import { toCsv, writeFileAtomic } from '../util/files.js';
import type { Run } from '../run/rundir.js';

export type Row = Record<string, unknown>;
export type Table = DataFrame | Row[];

const require = createRequire(import.meta.url);
/** danfojs-node takes about a second to load (tfjs, mathjs, xlsx): loaded on first use. */
function danfo(): typeof import('danfojs-node') {
  return require('danfojs-node') as typeof import('danfojs-node');
}

function isFrame(t: Table): t is DataFrame {
  return !Array.isArray(t);
}

/** Rows (objects) to a DataFrame; `columns` fixes the order (default: the keys of all rows, first seen first). */
export function toDataFrame(rows: Row[], columns?: string[]): DataFrame {
  const cols = columns ?? columnsOf(rows);
  const { DataFrame } = danfo();
  if (rows.length === 0) return new DataFrame([], { columns: cols });
  return new DataFrame(rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null]))), { columns: cols });
}

/** A DataFrame back to rows (objects keyed by column). */
export function frameRows(df: DataFrame): Row[] {
  const cols = df.columns as string[];
  return (df.values as unknown[][]).map((v) => Object.fromEntries(cols.map((c, i) => [c, v[i]])));
}

function columnsOf(rows: Row[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

function rowsAndColumns(t: Table, columns?: string[]): { rows: Row[]; columns: string[] } {
  if (isFrame(t)) return { rows: frameRows(t), columns: columns ?? (t.columns as string[]) };
  return { rows: t, columns: columns ?? columnsOf(t) };
}

/**
 * Writes a table as `<name>.csv`: into a run directory through `run.writeCsv` (every row gets the run's
 * provenance columns: seed, backend, kit, commit, config_sha256), or into a plain directory as it is.
 * Returns the file's path.
 */
export function writeTable(target: Run | string, name: string, table: Table, columns?: string[]): string {
  const { rows, columns: cols } = rowsAndColumns(table, columns);
  if (typeof target !== 'string') return target.writeCsv(name, rows, cols);
  const file = path.join(target, name.endsWith('.csv') ? name : `${name}.csv`);
  writeFileAtomic(file, toCsv(rows, cols));
  return file;
}

/** Reads a CSV file (numbers typed, empty fields null) into rows. */
export function readCsvRows(file: string): Row[] {
  const text = fs.readFileSync(file, 'utf8');
  const parsed = Papa.parse<Row>(text, { header: true, dynamicTyping: true, skipEmptyLines: true });
  if (parsed.errors.length) {
    const e = parsed.errors[0];
    throw new Error(`${file}: CSV error at row ${(e.row ?? 0) + 2}: ${e.message}`);
  }
  return parsed.data.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === '' || v === undefined ? null : v])));
}

/** Reads a CSV file into a DataFrame (the columns in the file's order). */
export function readTable(file: string): DataFrame {
  const text = fs.readFileSync(file, 'utf8');
  const header = Papa.parse<string[]>(text.split('\n', 1)[0]).data[0] ?? [];
  return toDataFrame(readCsvRows(file), header);
}

/** A number for people: integers as they are, others to 4 significant digits (no exponent for ordinary sizes). */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    if (a >= 1e-3 && a < 1e6) return String(Number(v.toPrecision(4)));
    return v.toPrecision(4);
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

function escapeMd(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A GitHub-flavoured Markdown table; numeric columns are right-aligned. */
export function markdownTable(table: Table, columns?: string[], opts: { format?: (v: unknown, column: string) => string } = {}): string {
  const { rows, columns: cols } = rowsAndColumns(table, columns);
  const fmt = opts.format ?? ((v: unknown) => formatValue(v));
  const numeric = cols.map((c) => rows.length > 0 && rows.every((r) => r[c] == null || typeof r[c] === 'number'));
  const head = `| ${cols.map(escapeMd).join(' | ')} |`;
  const rule = `|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`;
  const body = rows.map((r) => `| ${cols.map((c) => escapeMd(fmt(r[c], c))).join(' | ')} |`);
  return [head, rule, ...body].join('\n') + '\n';
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An HTML table (for notebooks and the HTML report); at most `maxRows` rows (default 200). */
export function htmlTable(
  table: Table,
  opts: {
    columns?: string[];
    caption?: string;
    maxRows?: number;
    format?: (v: unknown, column: string) => string;
    /** A cell's HTML (already escaped); return null for the default (the formatted, escaped value). */
    cellHtml?: (v: unknown, column: string, row: Row) => string | null;
    className?: string;
    /** Class of a body row (e.g. to highlight it), or null. */
    rowClass?: (row: Row) => string | null;
  } = {},
): string {
  const { rows, columns: cols } = rowsAndColumns(table, opts.columns);
  const fmt = opts.format ?? ((v: unknown) => formatValue(v));
  const max = opts.maxRows ?? 200;
  const numeric = cols.map((c) => rows.length > 0 && rows.every((r) => r[c] == null || typeof r[c] === 'number'));
  const style = (i: number) => (numeric[i] ? ' style="text-align:right"' : '');
  const head = cols.map((c, i) => `<th${style(i)}>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .slice(0, max)
    .map((r) => {
      const cls = opts.rowClass?.(r);
      const cells = cols.map((c, i) => `<td${style(i)}>${opts.cellHtml?.(r[c], c, r) ?? escapeHtml(fmt(r[c], c))}</td>`).join('');
      return `<tr${cls ? ` class="${escapeHtml(cls)}"` : ''}>${cells}</tr>`;
    })
    .join('\n');
  const more = rows.length > max ? `<tr><td colspan="${cols.length}">… ${rows.length - max} more rows</td></tr>` : '';
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : '';
  return `<table${opts.className ? ` class="${opts.className}"` : ''}>${caption}<thead><tr>${head}</tr></thead><tbody>\n${body}${more}</tbody></table>`;
}
