#!/usr/bin/env node
// Builds the optional native GEMM addon native/build/blas.node (native/blas.c: N-API over OpenBLAS) with
//   gcc -O2 -shared -fPIC -pthread -I<node include dir> native/blas.c -lopenblas -o native/build/blas.node
// then loads it in a child process and checks a small product. Runs at install (package.json "postinstall")
// and from scripts/setup.sh; `npm run build:native` reruns it. It NEVER fails: when something is missing (gcc,
// Node's headers, libopenblas-dev) or the result does not load, it prints one line saying so and exits 0, and
// the kit uses its wasm kernels. Up to date (newer than blas.c and this script, and loads) -> nothing is done;
// --force rebuilds. TCK_NATIVE=0 skips the build; CC overrides the compiler.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'native', 'blas.c');
const OUT_DIR = path.join(ROOT, 'native', 'build');
const OUT = path.join(OUT_DIR, 'blas.node');
const FALLBACK = 'the kit uses its wasm kernels';

function say(msg) {
  console.log(`[build:native] ${msg}`);
}

/** Loads `file` in a child node and checks a 2x3 * 3x2 product; returns the OpenBLAS config or throws. */
function verify(file) {
  const code = `
    const m = require(${JSON.stringify(file)});
    const buf = new ArrayBuffer(64 * 4), f = new Float32Array(buf);
    f.set([1, 2, 3, 4, 5, 6], 1);           // A [2,3] at float 1
    f.set([7, 8, 9, 10, 11, 12], 9);        // B [3,2] at float 9
    m.sgemm(buf, false, false, 2, 2, 3, 4, 3, 36, 2, 0, 80, 2);
    const c = Array.from(f.subarray(20, 24));
    if (c.join() !== '58,64,139,154') throw new Error('wrong product ' + c.join());
    process.stdout.write(String(m.config()));`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    const why = (r.stderr || '').split('\n').find((l) => /Error|error:|cannot|undefined symbol/.test(l)) ||
      (r.signal ? `killed by ${r.signal}` : `exit ${r.status}`);
    throw new Error(why.trim());
  }
  return r.stdout.trim();
}

function nodeIncludeDir() {
  const candidates = [
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  return candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h'))) ?? null;
}

/** Names what a failed compile lacked, from gcc's messages. */
function diagnose(stderr) {
  if (/cannot find -lopenblas|lopenblas.*not found/i.test(stderr)) return 'libopenblas-dev is missing (apt-get install libopenblas-dev)';
  if (/node_api\.h/.test(stderr)) return "Node's headers (node_api.h) are missing";
  if (/stdio\.h|stdint\.h|crt1?\.o|crti\.o|-lc\b/.test(stderr)) return 'the C library headers are missing (apt-get install libc6-dev)';
  const line = stderr.split('\n').find((l) => /error/i.test(l)) ?? stderr.split('\n')[0] ?? '';
  return `the compile failed: ${line.trim().slice(0, 200)}`;
}

function main() {
  const force = process.argv.includes('--force');
  if (process.env.TCK_NATIVE === '0') return say(`TCK_NATIVE=0: not built; ${FALLBACK}`);
  if (process.platform === 'win32') return say(`not built on Windows; ${FALLBACK}`);
  if (!fs.existsSync(SRC)) return say(`native/blas.c is missing; ${FALLBACK}`);

  if (!force && fs.existsSync(OUT)) {
    const built = fs.statSync(OUT).mtimeMs;
    const newest = Math.max(fs.statSync(SRC).mtimeMs, fs.statSync(fileURLToPath(import.meta.url)).mtimeMs);
    if (built >= newest) {
      try {
        return say(`native/build/blas.node is up to date (${verify(OUT)})`);
      } catch {
        fs.rmSync(OUT, { force: true }); // does not load against the installed libraries: rebuild below
      }
    }
  }

  const cc = process.env.CC || 'gcc';
  const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return say(`no C compiler (${cc}; apt-get install gcc libc6-dev); ${FALLBACK}`);
  const inc = nodeIncludeDir();
  if (!inc) return say(`Node's headers (node_api.h) were not found next to ${process.execPath} nor in /usr/include/node; ${FALLBACK}`);

  fs.mkdirSync(OUT_DIR, { recursive: true });
  const tmp = path.join(OUT_DIR, `blas.${process.pid}.tmp.node`);
  const args = ['-O2', '-shared', '-fPIC', '-pthread', `-I${inc}`, SRC, '-lopenblas', '-o', tmp];
  if (process.platform === 'darwin') args.splice(3, 0, '-undefined', 'dynamic_lookup');
  const r = spawnSync(cc, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error || r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    return say(`not built: ${r.error ? r.error.message : diagnose(r.stderr || '')}; ${FALLBACK}`);
  }
  let config;
  try {
    config = verify(tmp);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    return say(`built but does not work (${e.message}); ${FALLBACK}`);
  }
  fs.renameSync(tmp, OUT);
  say(`built native/build/blas.node (${config})`);
}

try {
  main();
} catch (e) {
  say(`not built: ${e && e.message ? e.message : e}; ${FALLBACK}`);
}
process.exitCode = 0;
