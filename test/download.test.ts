import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DataError } from '../src/data/types.js';
import { download } from '../src/data/download.js';
import { tmpDir } from './helpers/tmp.js';

const BODY = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7 + (i >> 8)) % 256));
const SHA = createHash('sha256').update(BODY).digest('hex');
const MD5 = createHash('md5').update(BODY).digest('hex');

/** A local server: /ok (the body), /moved (302 to /ok), /missing (404), /cut (closes mid-body), /slow (stalls). */
async function startServer(t: import('node:test').TestContext): Promise<string> {
  const server = http.createServer((req, res) => {
    if (req.url === '/ok') {
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
