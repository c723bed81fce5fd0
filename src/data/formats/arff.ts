/** Reader for Weka ARFF text files (dense rows only). */
import { DataError } from '../types.js';

export interface ArffAttribute {
  name: string;
  type: 'nominal' | 'numeric' | 'string' | 'date';
  /** Declared values of a nominal attribute, in order. */
  values?: string[];
}

export interface ArffTable {
  relation: string;
  attributes: ArffAttribute[];
  /** One entry per attribute: number (numeric), string (nominal/string/date), null (missing `?`). */
  rows: (string | number | null)[][];
}

interface Token {
  text: string;
  quoted: boolean;
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Reads a quoted token starting at `s[i]` (a quote char); returns its text and the index after the closing quote. */
function readQuoted(s: string, i: number, fail: (msg: string) => never): { text: string; end: number } {
  const q = s[i];
  let text = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === '\\' && j + 1 < s.length) {
      const n = s[++j];
      text += n === 'n' ? '\n' : n === 't' ? '\t' : n;
    } else if (c === q) {
      return { text, end: j + 1 };
    } else {
      text += c;
    }
  }
  return fail(`unterminated ${q === '"' ? 'double' : 'single'} quote`);
}

/** Splits `s` on commas outside quotes; an unquoted `%` ends the line. Tokens are trimmed. */
function splitFields(s: string, fail: (msg: string) => never): Token[] {
  const out: Token[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    let tok: Token;
    if (s[i] === "'" || s[i] === '"') {
      const r = readQuoted(s, i, fail);
      tok = { text: r.text, quoted: true };
      i = r.end;
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
      if (i < s.length && s[i] !== ',' && s[i] !== '%') fail(`unexpected text after a quoted value: "${s.slice(i)}"`);
    } else {
      let j = i;
      while (j < s.length && s[j] !== ',' && s[j] !== '%') j++;
      tok = { text: s.slice(i, j).trim(), quoted: false };
      i = j;
    }
    out.push(tok);
    if (i >= s.length || s[i] === '%') return out;
    i++; // skip the comma
  }
}

/** Parses `@attribute <name> <type>` (the part after the keyword). */
function parseAttribute(rest: string, fail: (msg: string) => never): ArffAttribute {
  rest = rest.trim();
  let name: string;
  let i: number;
  if (rest[0] === "'" || rest[0] === '"') {
    const r = readQuoted(rest, 0, fail);
    name = r.text;
    i = r.end;
  } else {
    i = rest.search(/\s/);
    if (i < 0) fail(`@attribute "${rest}" has no type`);
    name = rest.slice(0, i);
  }
  const type = rest.slice(i).trim();
  if (type.startsWith('{')) {
    const close = type.lastIndexOf('}');
    if (close < 0) fail(`nominal attribute "${name}": missing closing "}"`);
    const values = splitFields(type.slice(1, close), fail).map((t) => t.text);
    if (values.some((v) => v === '')) fail(`nominal attribute "${name}": empty value in {${type.slice(1, close)}}`);
    return { name, type: 'nominal', values };
  }
  const kw = type.split(/\s+/)[0].toLowerCase();
  if (kw === 'numeric' || kw === 'real' || kw === 'integer') return { name, type: 'numeric' };
  if (kw === 'string') return { name, type: 'string' };
  if (kw === 'date') return { name, type: 'date' };
  if (kw === 'relational') fail(`attribute "${name}": relational attributes are not supported`);
  return fail(`attribute "${name}": unknown type "${type}"`);
}

/**
 * Parses ARFF text into a table. Numeric values become numbers, unquoted `?` becomes null,
 * nominal values are checked against the declared set.
 * Throws DataError (with the line number) on a bad header, a bad number, an undeclared nominal
 * value, a wrong column count, or a sparse `{...}` row (not supported).
 */
export function parseArff(text: string, where: string): ArffTable {
  const lines = text.split(/\r?\n/);
  let relation = '';
  const attributes: ArffAttribute[] = [];
  const rows: (string | number | null)[][] = [];
  let inData = false;
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const fail = (msg: string): never => {
      throw new DataError(where, `line ${lineNo}: ${msg}`);
    };
    const line = lines[n].trim();
    if (line === '' || line.startsWith('%')) continue;
    if (!inData) {
      const m = /^@(\w+)\s*(.*)$/.exec(line);
      if (!m) fail(`expected an @relation, @attribute or @data line, got "${line}"`);
      const kw = m![1].toLowerCase();
      if (kw === 'relation') {
        const r = m![2].trim();
        relation = r[0] === "'" || r[0] === '"' ? readQuoted(r, 0, fail).text : r;
      } else if (kw === 'attribute') {
        attributes.push(parseAttribute(m![2], fail));
      } else if (kw === 'data') {
        if (attributes.length === 0) fail('@data before any @attribute');
        inData = true;
      } else {
        fail(`unknown keyword @${m![1]}`);
      }
      continue;
    }
    if (line.startsWith('{')) fail('sparse ARFF rows ({index value, ...}) are not supported');
    const fields = splitFields(line, fail);
    if (fields.length !== attributes.length) {
      fail(`expected ${attributes.length} values, found ${fields.length}`);
    }
    rows.push(
      fields.map((f, k) => {
        const a = attributes[k];
        if (!f.quoted && f.text === '?') return null;
        if (a.type === 'numeric') {
          if (!NUMBER_RE.test(f.text)) fail(`attribute "${a.name}": "${f.text}" is not a number`);
          return Number(f.text);
        }
        if (a.type === 'nominal' && !a.values!.includes(f.text)) {
          fail(`attribute "${a.name}": "${f.text}" is not one of the declared values {${a.values!.join(',')}}`);
        }
        return f.text;
      }),
    );
  }
  if (!inData) throw new DataError(where, 'no @data section');
  return { relation, attributes, rows };
}
