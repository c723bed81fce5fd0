/**
 * download(): checksums, redirects, progress, errors and timeouts against a local server; and fetchSet's repair
 * of a corrupt downloaded archive (reported, downloaded again, verified, extracted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DataError } from '../src/data/types.js';
import { download } from '../src/data/download.js';
import { fetchSet, importArchive, resolveFiles } from '../src/data/sources.js';
import { getEntry } from '../src/data/registry.js';
import { zipSync } from 'fflate';
import { tmpDir, useDataDir } from './helpers/tmp.js';

const BODY = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7 + (i >> 8)) % 256));
const SHA = createHash('sha256').update(BODY).digest('hex');
const MD5 = createHash('md5').update(BODY).digest('hex');

const ROWS = '63.03 22.55 39.61 40.48 98.67 -0.25 DH\n68.83 22.22 50.09 46.61 105.99 -3.53 SL\n44.36 8.95 46.9 35.42 129.22 4.99 NO\n';
const ZIP = Buffer.from(zipSync({ 'column_3C.dat': new TextEncoder().encode(ROWS) }));

/**
 * A local server: /ok (the body), /moved (302 to /ok), /missing (404), /cut (closes mid-body), /slow (stalls),
 * /vertebral.zip (a small Vertebral Column archive, counting its requests in `served`).
 */
const served: Record<string, number> = {};
async function startServer(t: import('node:test').TestContext): Promise<string> {
  const server = http.createServer((req, res) => {
    served[req.url ?? ''] = (served[req.url ?? ''] ?? 0) + 1;
    if (req.url === '/vertebral.zip') {
      res.writeHead(200, { 'content-length': ZIP.length });
      res.end(ZIP);
    } else if (req.url === '/ok') {
      res.writeHead(200, { 'content-length': BODY.length });
      res.end(BODY);
    } else if (req.url === '/moved') {
      res.writeHead(302, { location: '/ok' });
      res.end();
    } else if (req.url === '/slow') {
      res.writeHead(200, { 'content-length': BODY.length });
      res.write(BODY.subarray(0, 100)); // and never finish
    } else if (req.url === '/cut') {
      res.writeHead(200, { 'content-length': BODY.length });
      res.write(BODY.subarray(0, 5000), () => setTimeout(() => res.socket?.destroy(), 20));
    } else {
      res.writeHead(404, 'Not Found');
      res.end('no such file');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function rejectsData(p: Promise<unknown>, ...res: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected DataError, got ${String(e)}`);
    for (const re of res) assert.match(e.message, re);
    return true;
  });
}

test('download: right checksums, redirect, progress; file renamed into place', async (t) => {
  const base = await startServer(t);
  const dir = tmpDir(t);
  const dest = path.join(dir, 'nested', 'deeper', 'file.bin');
  const progress: [number, number | null][] = [];
  const r = await download(`${base}/moved`, dest, { sha256: SHA, md5: MD5, onProgress: (a, b) => progress.push([a, b]) });
  assert.deepEqual(r, { path: dest, sha256: SHA, bytes: BODY.length });
  assert.ok(readFileSync(dest).equals(BODY));
  assert.deepEqual(readdirSync(path.dirname(dest)), ['file.bin']);
  assert.ok(progress.length >= 1);
  assert.deepEqual(progress[progress.length - 1], [BODY.length, BODY.length]);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i][0] > progress[i - 1][0]);
  // Without expected checksums it still reports the sha256.
  const r2 = await download(`${base}/ok`, path.join(dir, 'two.bin'));
  assert.equal(r2.sha256, SHA);
});

test('download: wrong checksum leaves neither the file nor the partial', async (t) => {
  const base = await startServer(t);
  const dir = tmpDir(t);
  const dest = path.join(dir, 'file.bin');
  const wrong = 'ab'.repeat(32);
  await rejectsData(
    download(`${base}/ok`, dest, { sha256: wrong, id: 'mnist' }),
    new RegExp(`^mnist: checksum mismatch for ${base}/ok: expected sha256 ${wrong}, got ${SHA}`),
  );
  await rejectsData(download(`${base}/ok`, dest, { md5: 'c'.repeat(32) }), new RegExp(`expected md5 c{32}, got ${MD5}`));
  assert.deepEqual(readdirSync(dir), []);
});

test('download: HTTP 404 names the url and status, leaves no file', async (t) => {
  const base = await startServer(t);
  const dir = tmpDir(t);
  const dest = path.join(dir, 'file.bin');
  await rejectsData(download(`${base}/missing`, dest, { id: 'cifar10' }), new RegExp(`^cifar10: download of ${base}/missing failed: HTTP 404 Not Found$`));
  assert.deepEqual(readdirSync(dir), []);
});

test('download: connection closed mid-body leaves no file and hints at offline import', async (t) => {
  const base = await startServer(t);
  const dir = tmpDir(t);
  const dest = path.join(dir, 'file.bin');
  await rejectsData(
    download(`${base}/cut`, dest, { sha256: SHA, id: 'fashion-mnist' }),
    new RegExp(`^fashion-mnist: download of ${base}/cut failed after \\d+ bytes: .*`),
    /may be offline; .*`tck data import fashion-mnist <file>`/,
  );
  assert.equal(existsSync(dest), false);
  assert.equal(existsSync(dest + '.partial'), false);
});

test('download: unreachable server is a network error with the offline hint', async (t) => {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const dir = tmpDir(t);
  const url = `http://127.0.0.1:${port}/x`;
  await rejectsData(
    download(url, path.join(dir, 'f.bin')),
    new RegExp(`^${url.replace(/[.]/g, '\\.')}: download of ${url.replace(/[.]/g, '\\.')} failed: .*ECONNREFUSED`),
    /may be offline; .*`tck data import <id> <file>`/,
  );
  assert.deepEqual(readdirSync(dir), []);
});

test('download: timeout aborts a stalled transfer and removes the partial', async (t) => {
  const base = await startServer(t);
  const dir = tmpDir(t);
  await rejectsData(download(`${base}/slow`, path.join(dir, 'f.bin'), { timeoutMs: 300, id: 'mnist' }), /^mnist: download of .*\/slow failed after 100 bytes: .*timeout.*tck data import mnist/);
  assert.deepEqual(readdirSync(dir), []);
});

test('fetch: a corrupt downloaded archive is reported, downloaded again, verified and extracted', async (t) => {
  const base = await startServer(t);
  const dir = useDataDir(t);
  const entry = getEntry('vertebral');
  // The real entry, downloading from the local server instead of UCI.
  const local = { ...entry, archives: entry.archives!.map((a) => ({ ...a, url: `${base}/vertebral.zip` })) };
  const notes: string[] = [];
  const fetch = () => fetchSet(local, { onNote: (l) => notes.push(l) });

  // First fetch: downloaded, its sha256 recorded (UCI publishes none), extracted.
  assert.deepEqual(await fetch(), ['downloaded vertebral+column.zip', 'extracted vertebral+column.zip']);
  assert.equal(served['/vertebral.zip'], 1);
  await resolveFiles(local);
  const archive = path.join(dir, 'downloads', 'vertebral+column.zip');
  const member = path.join(dir, 'vertebral', 'column_3C.dat');

  // Both the extracted file and the downloaded archive are damaged: the archive is downloaded again.
  writeFileSync(member, ROWS.replace('DH', 'NO'));
  writeFileSync(archive, ZIP.subarray(0, ZIP.length - 10));
  assert.deepEqual(await fetch(), ['downloaded vertebral+column.zip', 'extracted vertebral+column.zip', 'repaired column_3C.dat (checksum verified)']);
  assert.equal(served['/vertebral.zip'], 2);
  assert.equal(notes.length, 2, notes.join('\n'));
  assert.match(notes[0], /^vertebral: column_3C\.dat is corrupt: .* does not match its checksum .*; extracting it again from vertebral\+column\.zip$/);
  assert.match(notes[1], /^vertebral: the archive .*vertebral\+column\.zip is corrupt: it does not match the sha256 recorded when it was first used .*\(expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}\); downloading it again$/);
  assert.ok(readFileSync(archive).equals(ZIP));
  assert.equal(readFileSync(member, 'utf8'), ROWS);
  await resolveFiles(local);

  // A server that now sends another file: refused against the recorded checksum, and not kept.
  writeFileSync(member, 'x');
  writeFileSync(archive, 'y');
  const other = { ...local, archives: local.archives.map((a) => ({ ...a, url: `${base}/ok` })) };
  await rejectsData(fetchSet(other), /archive vertebral\+column\.zip: the download from .*\/ok does not match the sha256 recorded when it was first used .* either/);
  assert.equal(existsSync(archive), false);
  // Published checksums are checked by the download itself.
  writeFileSync(archive, 'y');
  const pinned = { ...local, archives: local.archives.map((a) => ({ ...a, sha256: 'ab'.repeat(32) })) };
  await rejectsData(fetchSet(pinned), /checksum mismatch for .*\/vertebral\.zip: expected sha256 (ab){32}/);
  // And an archive imported by hand is enough to repair without any server.
  const mine = path.join(dir, 'vertebral+column.zip');
  writeFileSync(mine, ZIP);
  await importArchive(entry, mine);
  writeFileSync(member, 'x');
  const offline = { ...entry, archives: entry.archives!.map((a) => ({ ...a, url: 'http://127.0.0.1:9/unreachable' })) };
  assert.deepEqual(await fetchSet(offline), ['extracted vertebral+column.zip', 'repaired column_3C.dat (checksum verified)']);
});
