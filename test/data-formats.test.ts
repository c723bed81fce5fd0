import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { zipSync } from 'fflate';
import { DataError } from '../src/data/types.js';
import { parseIdx, readIdxFile } from '../src/data/formats/idx.js';
import { parseArff } from '../src/data/formats/arff.js';
import { readRData, rDataFrame } from '../src/data/formats/rdata.js';
import { parseSklearnCsv } from '../src/data/formats/sklearn-csv.js';
import { parseCifarBatch, parseCifarClassNames } from '../src/data/formats/cifar.js';
import { extractTarGz, listZipEntries, readZipEntry } from '../src/data/formats/archive.js';
import { hashBuffer, hashFile, verifyFile } from '../src/data/checksum.js';
import { tmpDir } from './helpers/tmp.js';
import { compress, rChr, rDataFrameValue, rDbl, rFactor, rInt, rLgl, serializeRData } from './helpers/rdata-writer.js';

/** Asserts that `fn` throws a DataError whose message matches every regex. */
function throwsData(fn: () => unknown, ...res: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected DataError, got ${String(e)}`);
    for (const re of res) assert.match(e.message, re);
    return true;
  });
}

async function rejectsData(p: Promise<unknown>, ...res: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected DataError, got ${String(e)}`);
    for (const re of res) assert.match(e.message, re);
    return true;
  });
}

/** An IDX file of unsigned bytes with the given dims and payload. */
function idx(dims: number[], data: number[], type = 0x08): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

// ---------------------------------------------------------------- IDX

test('idx: plain and gzip round-trip dims and values', (t) => {
  const payload = Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);
  const plain = idx([2, 3, 4], payload);
  for (const buf of [plain, gzipSync(plain)]) {
    const r = parseIdx(buf, 'x.idx');
    assert.deepEqual(r.dims, [2, 3, 4]);
    assert.deepEqual(Array.from(r.data), payload);
  }
  const labels = idx([5], [5, 0, 4, 1, 9]);
  const dir = tmpDir(t);
  const f = path.join(dir, 'train-labels-idx1-ubyte.gz');
  writeFileSync(f, gzipSync(labels));
  const r = readIdxFile(f);
  assert.deepEqual(r.dims, [5]);
  assert.deepEqual(Array.from(r.data), [5, 0, 4, 1, 9]);
});

test('idx: truncated, trailing bytes, bad magic, bad type, bad rank, corrupt gzip', (t) => {
  throwsData(() => parseIdx(idx([2, 3], [1, 2, 3, 4]), 'imgs.idx'), /^imgs\.idx: /, /truncated: expected 6 bytes of data after the header, found 4/);
  throwsData(() => parseIdx(idx([2], [1, 2, 3]), 'l.idx'), /^l\.idx: /, /1 unexpected trailing bytes: expected 2 bytes/);
  const bad = idx([1], [7]);
  bad[0] = 0x50;
  throwsData(() => parseIdx(bad, 'm.idx'), /^m\.idx: not an IDX file: bad magic bytes 50 00 08 01/);
  throwsData(() => parseIdx(idx([1], [0, 0, 0, 0], 0x0d), 'f.idx'), /unsupported IDX element type 0x0d \(float32\)/);
  const rank0 = idx([], []);
  throwsData(() => parseIdx(rank0, 'r.idx'), /bad IDX rank 0/);
  const gz = Buffer.from(gzipSync(idx([4], [1, 2, 3, 4])));
  gz.fill(0xaa, 12, gz.length - 4); // keep the gzip header, destroy the deflate stream
  throwsData(() => parseIdx(gz, 'c.idx.gz'), /^c\.idx\.gz: corrupt gzip data/);
  const dir = tmpDir(t);
  throwsData(() => readIdxFile(path.join(dir, 'absent')), /absent: cannot read file/);
});

// ---------------------------------------------------------------- ARFF

const ARFF = `% Title: test set
% second comment line

@RELATION 'my data'
@Attribute 'first name' {'a b', "c,d", plain}
@ATTRIBUTE width NUMERIC
@attribute "the note" string
@attribute when DATE "yyyy-MM-dd"
@attribute n integer

@DATA
'a b', 1.5, 'hello, world', '2020-01-01', 3
% a comment inside the data
"c,d",?,?,?,-1

plain,-2e3,'it\\'s',2021-02-03,0
`;

test('arff: header, quotes, comments, missing values and types', () => {
  const t = parseArff(ARFF, 'x.arff');
  assert.equal(t.relation, 'my data');
  assert.deepEqual(t.attributes, [
    { name: 'first name', type: 'nominal', values: ['a b', 'c,d', 'plain'] },
    { name: 'width', type: 'numeric' },
    { name: 'the note', type: 'string' },
    { name: 'when', type: 'date' },
    { name: 'n', type: 'numeric' },
  ]);
  assert.deepEqual(t.rows, [
    ['a b', 1.5, 'hello, world', '2020-01-01', 3],
    ['c,d', null, null, null, -1],
    ['plain', -2000, "it's", '2021-02-03', 0],
  ]);
});

test('arff: bad rows report the line number and what is wrong', () => {
  const withRow = (row: string): string => ARFF + row + '\n';
  // The appended row is on line 17 of the text (ARFF has 16 lines, the last one empty).
  assert.equal(ARFF.split('\n').length, 17);
  throwsData(() => parseArff(withRow("plain,abc,'s',2020-01-01,1"), 'w.arff'), /^w\.arff: line 17: attribute "width": "abc" is not a number/);
  throwsData(() => parseArff(withRow("nope,1,'s',2020-01-01,1"), 'w.arff'), /^w\.arff: line 17: attribute "first name": "nope" is not one of the declared values \{a b,c,d,plain\}/);
  throwsData(() => parseArff(withRow('plain,1,s'), 'w.arff'), /^w\.arff: line 17: expected 5 values, found 3/);
  throwsData(() => parseArff(withRow('{0 plain, 1 2}'), 'w.arff'), /^w\.arff: line 17: sparse ARFF .* not supported/);
  throwsData(() => parseArff(withRow("'plain,1,s,d,1"), 'w.arff'), /line 17: unterminated single quote/);
  // A quoted '?' is the literal string "?", not missing, so it must be a declared value.
  throwsData(() => parseArff(withRow("'?',1,s,d,1"), 'w.arff'), /line 17: attribute "first name": "\?" is not one of/);
  throwsData(() => parseArff('@relation r\n@attribute a numeric\n', 'h.arff'), /^h\.arff: no @data section/);
  throwsData(() => parseArff('@relation r\n@attribute a blob\n@data\n', 'h.arff'), /line 2: attribute "a": unknown type "blob"/);
});

// ---------------------------------------------------------------- R data

/** A data.frame with numeric, integer, factor, character and logical columns, each with one NA. */
function sampleFrame() {
  return rDataFrameValue(
    {
      num: rDbl([1.5, NaN, -3, 1e10]),
      int: rInt([7, -2, NaN, 0]),
      grade: rFactor([2, 1, NaN, 3], ['lo', 'mid', 'hi']),
      name: rChr(['a', null, 'café', 'd']),
      ok: rLgl([1, 0, NaN, 1]),
    },
    4,
  );
}

/** The values of a numeric-like column, checking they are a Float64Array. */
function nums(values: Float64Array | (string | null)[]): number[] {
  assert.ok(values instanceof Float64Array, 'expected a Float64Array column');
  return Array.from(values);
}

function checkSampleFrame(df: ReturnType<typeof rDataFrame>): void {
  assert.equal(df.nrow, 4);
  assert.deepEqual(df.columns.map((c) => [c.name, c.kind]), [
    ['num', 'numeric'],
    ['int', 'integer'],
    ['grade', 'factor'],
    ['name', 'character'],
    ['ok', 'logical'],
  ]);
  assert.deepEqual(nums(df.columns[0].values), [1.5, NaN, -3, 1e10]);
  assert.deepEqual(nums(df.columns[1].values), [7, -2, NaN, 0]);
  assert.deepEqual(nums(df.columns[2].values), [1, 0, NaN, 2]);
  assert.deepEqual(df.columns[2].levels, ['lo', 'mid', 'hi']);
  assert.deepEqual(df.columns[3].values, ['a', null, 'café', 'd']);
  assert.deepEqual(nums(df.columns[4].values), [1, 0, NaN, 1]);
}

test('rdata: gzip, xz, bzip2 and uncompressed round-trip of a data.frame with factor and NA', () => {
  for (const version of [2, 3] as const) {
    const raw = serializeRData([['df', sampleFrame()], ['note', rChr(['hello'])]], version);
    for (const buf of [raw, compress(raw, 'gzip'), compress(raw, 'xz'), compress(raw, 'bzip2')]) {
      const objs = readRData(buf, 'sample.rda');
      assert.deepEqual([...objs.keys()], ['df', 'note']);
      checkSampleFrame(rDataFrame(objs.get('df')!, 'sample.rda'));
      const note = objs.get('note')!;
      assert.equal(note.kind, 'character');
      assert.deepEqual(note.kind === 'character' && note.values, ['hello']);
    }
  }
  // Magic bytes really select the decompressor.
  assert.deepEqual(Array.from(compress(Uint8Array.of(1), 'xz').subarray(0, 6)), [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
});

test('rdata: symbols are shared through back-references; explicit row names and ALTREP columns', () => {
  const df = sampleFrame();
  const raw = serializeRData([['a', df], ['b', df]], 3);
  // The second frame reuses the symbols "names", "class", "row.names", "levels" via REFSXP.
  assert.equal(Buffer.from(raw).toString('latin1').split('row.names').length - 1, 1);
  const objs = readRData(raw, 'two.rda');
  checkSampleFrame(rDataFrame(objs.get('b')!, 'two.rda'));

  const explicit = rDataFrameValue({ x: { kind: 'compact_intseq', n: 3, start: 10 } }, 3);
  if (explicit.kind === 'list') explicit.attributes.set('row.names', rChr(['r1', 'r2', 'r3']));
  const parsed = rDataFrame(readRData(serializeRData([['e', explicit]], 3), 'e.rda').get('e')!, 'e.rda');
  assert.equal(parsed.nrow, 3);
  assert.deepEqual(parsed.columns.map((c) => [c.name, c.kind, nums(c.values)]), [['x', 'integer', [10, 11, 12]]]);
});

test('rdata: errors name the file, the type number and the object path', () => {
  const env = rDataFrameValue({ ok: rDbl([1]), bad: { kind: 'unsupported', type: 4 } }, 1);
  throwsData(() => readRData(serializeRData([['frame', env]]), 'env.rda'), /^env\.rda: unsupported R object type 4 .*at <top>\$frame\[\[2\]\]/);
  throwsData(() => readRData(Buffer.from('hello world'), 'txt.rda'), /^txt\.rda: not an R save\(\) file: no RDX2\/RDX3 header/);
  const raw = serializeRData([['df', sampleFrame()]]);
  throwsData(() => readRData(raw.subarray(0, raw.length - 30), 'cut.rda'), /^cut\.rda: truncated R data while reading/);
  const gz = Buffer.from(compress(raw, 'gzip'));
  gz.fill(0x55, 12, gz.length - 8);
  throwsData(() => readRData(gz, 'bad.rda'), /^bad\.rda: corrupt gzip data/);
  const xz = Buffer.from(compress(raw, 'xz'));
  xz.fill(0x55, 20, xz.length - 8);
  throwsData(() => readRData(xz, 'bad.rda'), /^bad\.rda: corrupt xz data/);
  const xzRaw = compress(raw, 'xz');
  const savedPath = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    throwsData(() => readRData(xzRaw, 'x.rda'), /^x\.rda: file is xz-compressed but the "xz" program is missing: install xz-utils/);
  } finally {
    process.env.PATH = savedPath;
  }
  throwsData(() => rDataFrame(rDbl([1, 2]), 'v.rda'), /^v\.rda: not a data\.frame \(found R double/);
  const short = rDataFrameValue({ a: rDbl([1, 2]), b: rDbl([1]) }, 2);
  throwsData(() => rDataFrame(short, 's.rda'), /^s\.rda: column "b": has 1 values but the data\.frame has 2 rows/);
  throwsData(() => rDataFrame(rDataFrameValue({ f: rFactor([4], ['x']) }, 1), 'f.rda'), /column "f": factor code 4 outside 1\.\.1/);
});

// ---------------------------------------------------------------- sklearn CSV

const SK = '3,2,malignant,benign\n1.5,2,0\n-3e-2,4.25,1\n0,0.5,1\n';

test('sklearn csv: header, features and labels', () => {
  const r = parseSklearnCsv(SK, 'bc.csv');
  assert.equal(r.nSamples, 3);
  assert.equal(r.nFeatures, 2);
  assert.deepEqual(r.classNames, ['malignant', 'benign']);
  assert.deepEqual(Array.from(r.x), [1.5, 2, -0.03, 4.25, 0, 0.5].map(Math.fround));
  assert.deepEqual(Array.from(r.y), [0, 1, 1]);
  assert.equal(parseSklearnCsv(SK.replace(/\n/g, '\r\n'), 'crlf.csv').y[1], 1);
});

test('sklearn csv: wrong row count, field count, value and label are errors with line numbers', () => {
  throwsData(() => parseSklearnCsv(SK.replace(/^3/, '4'), 'bc.csv'), /^bc\.csv: header says 4 samples but the file has 3 data rows/);
  throwsData(() => parseSklearnCsv(SK.replace('-3e-2,4.25,1', '-3e-2,1'), 'bc.csv'), /^bc\.csv: line 3: expected 3 fields \(2 features \+ label\), found 2/);
  throwsData(() => parseSklearnCsv(SK.replace('4.25', 'x'), 'bc.csv'), /line 3: feature 2: "x" is not a number/);
  throwsData(() => parseSklearnCsv(SK.replace('0.5,1', '0.5,2'), 'bc.csv'), /line 4: label "2" is not an integer in 0\.\.1/);
  throwsData(() => parseSklearnCsv('a,b\n', 'bc.csv'), /line 1: expected header/);
});

// ---------------------------------------------------------------- CIFAR

test('cifar10: channel-planar records become NHWC', () => {
  const rec = 1 + 3072;
  const buf = new Uint8Array(2 * rec);
  buf[0] = 3; // label of record 0
  buf[1 + 0 * 1024 + 1] = 200; // R at row 0, col 1
  buf[1 + 1 * 1024 + 0] = 100; // G at row 0, col 0
  buf[1 + 2 * 1024 + 31 * 32 + 31] = 50; // B at row 31, col 31
  buf[rec] = 9; // label of record 1
  buf[rec + 1 + 1024 + 2 * 32 + 5] = 77; // record 1: G at row 2, col 5
  const r = parseCifarBatch(buf, 'cifar10', 'data_batch_1.bin');
  assert.equal(r.n, 2);
  assert.deepEqual(Array.from(r.labels), [3, 9]);
  assert.equal(r.coarseLabels, undefined);
  assert.equal(r.images.length, 2 * 32 * 32 * 3);
  assert.equal(r.images[1 * 3 + 0], 200);
  assert.equal(r.images[0 * 3 + 1], 100);
  assert.equal(r.images[(31 * 32 + 31) * 3 + 2], 50);
  assert.equal(r.images[3072 + (2 * 32 + 5) * 3 + 1], 77);
  assert.equal(r.images.reduce((a, b) => a + b, 0), 200 + 100 + 50 + 77);
});

test('cifar100: coarse and fine labels; truncated batches; class names', () => {
  const rec = 2 + 3072;
  const buf = new Uint8Array(2 * rec);
  buf.set([11, 42], 0);
  buf.set([19, 99], rec);
  buf[2 + 2 * 1024] = 255; // B of pixel 0 in record 0
  const r = parseCifarBatch(buf, 'cifar100', 'train.bin');
  assert.deepEqual(Array.from(r.coarseLabels!), [11, 19]);
  assert.deepEqual(Array.from(r.labels), [42, 99]);
  assert.deepEqual(Array.from(r.images.subarray(0, 3)), [0, 0, 255]);

  throwsData(() => parseCifarBatch(new Uint8Array(3073 * 2 - 1), 'cifar10', 'b.bin'), /^b\.bin: truncated or not a CIFAR-10 binary batch: 6145 bytes is not a multiple of 3073/);
  throwsData(() => parseCifarBatch(new Uint8Array(3073), 'cifar100', 'c.bin'), /not a CIFAR-100 binary batch: 3073 bytes is not a multiple of 3074/);
  assert.deepEqual(parseCifarClassNames('airplane\r\nautomobile\n\n  bird \n'), ['airplane', 'automobile', 'bird']);
});

// ---------------------------------------------------------------- archives

test('archive: tar.gz extraction returns the paths and the files', async (t) => {
  const dir = tmpDir(t);
  const src = path.join(dir, 'src');
  mkdirSync(path.join(src, 'cifar-10-batches-bin'), { recursive: true });
  writeFileSync(path.join(src, 'cifar-10-batches-bin', 'batches.meta.txt'), 'airplane\nautomobile\n');
  writeFileSync(path.join(src, 'cifar-10-batches-bin', 'data_batch_1.bin'), Uint8Array.of(1, 2, 3));
  const file = path.join(dir, 'c.tar.gz');
  await tar.c({ gzip: true, file, cwd: src }, ['cifar-10-batches-bin']);
  const out = path.join(dir, 'out');
  const paths = await extractTarGz(file, out);
  assert.deepEqual([...paths].sort(), ['cifar-10-batches-bin/', 'cifar-10-batches-bin/batches.meta.txt', 'cifar-10-batches-bin/data_batch_1.bin']);
  assert.equal(readFileSync(path.join(out, 'cifar-10-batches-bin', 'batches.meta.txt'), 'utf8'), 'airplane\nautomobile\n');
  assert.deepEqual(Array.from(readFileSync(path.join(out, 'cifar-10-batches-bin', 'data_batch_1.bin'))), [1, 2, 3]);

  const cut = path.join(dir, 'cut.tar.gz');
  const whole = readFileSync(file);
  writeFileSync(cut, whole.subarray(0, whole.length >> 1));
  await rejectsData(extractTarGz(cut, path.join(dir, 'out2')), new RegExp(`^${cut.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cannot extract tar archive`));
  const junk = path.join(dir, 'junk.tar.gz');
  writeFileSync(junk, gzipSync(Buffer.from('this is not a tar file at all'.repeat(40))));
  await rejectsData(extractTarGz(junk, path.join(dir, 'out3')), /junk\.tar\.gz: cannot extract tar archive/);
});

test('archive: zip entries by name and regex; missing entry lists the entries', () => {
  const zip = zipSync({
    'vertebral_column_data/column_2C.dat': new TextEncoder().encode('63.03 22.55 AB\n'),
    'vertebral_column_data/column_3C.dat': Uint8Array.of(9, 8, 7),
  });
  assert.deepEqual(listZipEntries(zip, 'v.zip'), ['vertebral_column_data/column_2C.dat', 'vertebral_column_data/column_3C.dat']);
  assert.equal(new TextDecoder().decode(readZipEntry(zip, 'vertebral_column_data/column_2C.dat', 'v.zip')), '63.03 22.55 AB\n');
  assert.deepEqual(Array.from(readZipEntry(zip, /3C\.dat$/, 'v.zip')), [9, 8, 7]);
  throwsData(() => readZipEntry(zip, 'column_2C.dat', 'v.zip'), /^v\.zip: zip has no entry "column_2C\.dat"; entries: vertebral_column_data\/column_2C\.dat, vertebral_column_data\/column_3C\.dat$/);
  throwsData(() => readZipEntry(zip, /\.csv$/, 'v.zip'), /no entry \/\\\.csv\$\//);
  throwsData(() => listZipEntries(Uint8Array.of(1, 2, 3, 4), 'bad.zip'), /^bad\.zip: corrupt zip archive/);
});

// ---------------------------------------------------------------- checksums

test('checksum: hashes of buffers and files; verifyFile good and wrong', async (t) => {
  const abc = new TextEncoder().encode('abc');
  const SHA_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
  const MD5_ABC = '900150983cd24fb0d6963f7d28e17f72';
  assert.equal(hashBuffer(abc, 'sha256'), SHA_ABC);
  assert.equal(hashBuffer(abc, 'md5'), MD5_ABC);
  const dir = tmpDir(t);
  const f = path.join(dir, 'abc.txt');
  writeFileSync(f, abc);
  assert.equal(await hashFile(f, 'sha256'), SHA_ABC);
  assert.equal(await hashFile(f, 'md5'), MD5_ABC);
  assert.deepEqual(await verifyFile(f, { sha256: SHA_ABC.toUpperCase(), md5: MD5_ABC }, 'abc'), { sha256: SHA_ABC });
  assert.deepEqual(await verifyFile(f, {}, 'abc'), { sha256: SHA_ABC });
  const wrong = '0'.repeat(64);
  await rejectsData(
    verifyFile(f, { sha256: wrong }, 'mnist'),
    new RegExp(`^mnist: checksum mismatch for .*abc\\.txt: expected sha256 ${wrong}, got ${SHA_ABC}\\. The file is corrupt or a different version; delete it and fetch again\\.$`),
  );
  await rejectsData(verifyFile(f, { sha256: SHA_ABC, md5: 'f'.repeat(32) }, 'x'), /expected md5 f{32}, got 900150983cd24fb0d6963f7d28e17f72/);
  await rejectsData(verifyFile(path.join(dir, 'nope'), { sha256: SHA_ABC }, 'x'), /^x: cannot read .*nope/);
});
