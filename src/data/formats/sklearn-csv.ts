/** Reader for scikit-learn's bundled classification CSVs (breast_cancer.csv, iris.csv, wine_data.csv). */
import { DataError } from '../types.js';

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses a CSV whose first line is `n_samples,n_features,<class names...>` followed by rows of
 * `n_features` numbers and an integer class label.
 * Throws DataError (with the line number) for a bad header, a row with the wrong field count,
 * a non-numeric value, a label outside 0..classNames.length-1, or a row count other than n_samples.
 */
export function parseSklearnCsv(
  text: string,
  where: string,
): { x: Float32Array; y: Int32Array; nSamples: number; nFeatures: number; classNames: string[] } {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const fail = (lineNo: number, msg: string): never => {
    throw new DataError(where, `line ${lineNo}: ${msg}`);
  };
  if (lines.length === 0) throw new DataError(where, 'empty file');
  const head = lines[0].split(',').map((s) => s.trim());
  const nSamples = Number(head[0]);
  const nFeatures = Number(head[1]);
  if (!/^\d+$/.test(head[0] ?? '') || !/^\d+$/.test(head[1] ?? '') || nFeatures < 1) {
    fail(1, `expected header "n_samples,n_features,<class names...>", got "${lines[0]}"`);
  }
  const classNames = head.slice(2);
  if (classNames.length === 0 || classNames.some((c) => c === '')) fail(1, 'header has no class names after n_samples,n_features');
  const nRows = lines.length - 1;
  if (nRows !== nSamples) {
    throw new DataError(where, `header says ${nSamples} samples but the file has ${nRows} data rows`);
  }
  const x = new Float32Array(nSamples * nFeatures);
  const y = new Int32Array(nSamples);
  for (let i = 0; i < nSamples; i++) {
    const lineNo = i + 2;
    const fields = lines[i + 1].split(',');
    if (fields.length !== nFeatures + 1) fail(lineNo, `expected ${nFeatures + 1} fields (${nFeatures} features + label), found ${fields.length}`);
    for (let j = 0; j < nFeatures; j++) {
      const s = fields[j].trim();
      if (!NUMBER_RE.test(s)) fail(lineNo, `feature ${j + 1}: "${s}" is not a number`);
      x[i * nFeatures + j] = Number(s);
    }
    const label = fields[nFeatures].trim();
    // Labels are integers; sklearn writes some as "0.0".
    const k = Number(label);
    if (!NUMBER_RE.test(label) || !Number.isInteger(k) || k < 0 || k >= classNames.length) {
      fail(lineNo, `label "${label}" is not an integer in 0..${classNames.length - 1}`);
    }
    y[i] = k;
  }
  return { x, y, nSamples, nFeatures, classNames };
}
