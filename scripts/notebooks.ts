/**
 * Executes notebooks headless with the project's tslab kernel, at one profile, stopping at the first cell that
 * fails (its error is printed and the exit status is 1). Executed copies, with their outputs, go to
 * results/notebooks/<name>.ipynb (the notebooks under notebooks/ stay as committed), with a summary.json that
 * `tck report` lists.
 *
 *   npm run notebooks [-- [--profile smoke|quick|paper] [--out <dir>] [--no-build] [<notebook.ipynb> ...]]
 *   npm run kernel                     install the tslab kernel spec into .jupyter/ (idempotent)
 *
 * Default notebooks: notebooks/*.ipynb. Default profile: $TCK_PROFILE, else smoke under CI, else quick; the
 * notebooks read it with `notebookProfile()`. The kit is imported by its package name (the self-dependency
 * node_modules/tiny-compression-kit -> ..), from dist/, which is rebuilt first when src/ is newer (unless --no-build).
 * Environment: TCK_NOTEBOOK_TIMEOUT (seconds per cell, default 3600), TCK_JUPYTER_PYTHON (a Python with
 * Jupyter; default /usr/bin/python3, Debian's, then python3 on PATH).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { notebookProfile, PROFILES } from '../src/run/profile.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const JUPYTER_DATA = path.join(ROOT, '.jupyter', 'share', 'jupyter');
const KERNEL_SPEC = path.join(JUPYTER_DATA, 'kernels', 'tslab', 'kernel.json');
const BIN = path.join(ROOT, 'node_modules', '.bin');

const TTY = process.stderr.isTTY;
const say = (s: string) => process.stderr.write(`${TTY ? '\x1b[1m[notebooks]\x1b[0m' : '[notebooks]'} ${s}\n`);
const red = (s: string) => (TTY ? `\x1b[31m${s}\x1b[0m` : s);
const rel = (from: string, p: string) => {
  const r = path.relative(from, p);
  return r.startsWith('..') || path.isAbsolute(r) ? p : r.split(path.sep).join('/') || '.';
};
class Fail extends Error {}

function findPython(): string {
  const candidates = [process.env.TCK_JUPYTER_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => Boolean(c));
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import nbclient, nbformat, jupyter_client'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  throw new Fail(
    `no Python with Jupyter (nbclient, nbformat, jupyter_client) among ${candidates.join(', ')}. ` +
      'Install it with: bash scripts/setup.sh (apt-get install jupyter-nbconvert jupyter-client python3-ipykernel)',
  );
}

/** Writes .jupyter/share/jupyter/kernels/tslab/kernel.json (argv "tslab kernel ...", found on npm's PATH). */
export function ensureKernel(python: string, force = false): void {
  if (!force && fs.existsSync(KERNEL_SPEC)) return;
  const tslab = path.join(BIN, 'tslab');
  if (!fs.existsSync(tslab)) throw new Fail(`${tslab} is missing: run npm ci (tslab is a devDependency)`);
  const r = spawnSync(tslab, ['install', '--python', python, '--prefix', path.join(ROOT, '.jupyter')], { encoding: 'utf8' });
  if (r.status !== 0 || !fs.existsSync(KERNEL_SPEC)) throw new Fail(`tslab install failed:\n${r.stdout}${r.stderr}`);
  say(`installed the tslab kernel spec in ${path.relative(ROOT, path.dirname(KERNEL_SPEC))}`);
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestMtime(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

/** Notebooks import the built package: rebuild dist/ when src/ changed since. */
function ensureBuilt(): void {
  const entry = path.join(ROOT, 'dist', 'index.js');
  if (fs.existsSync(entry) && fs.statSync(entry).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) return;
  say('building dist/ (src/ is newer)');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Fail('npm run build failed (see above)');
  fs.utimesSync(entry, new Date(), new Date());
}

interface Result {
  status: 'passed' | 'failed';
  seconds: number;
  cell?: number;
  error?: string;
}

function runOne(python: string, nb: string, out: string, env: NodeJS.ProcessEnv): Promise<{ code: number; result: Result | null }> {
  return new Promise((resolve) => {
    const child = spawn(python, [path.join(ROOT, 'scripts', 'execute_notebook.py'), nb, out], { cwd: path.dirname(nb), env, stdio: ['ignore', 'pipe', 'inherit'] });
    let result: Result | null = null;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('@@result ')) result = JSON.parse(line.slice(9)) as Result;
      else process.stdout.write(line + '\n');
    });
    child.on('close', (code) => resolve({ code: code ?? 1, result }));
  });
}

function updateSummary(outDir: string, entry: Record<string, unknown>): void {
  const file = path.join(outDir, 'summary.json');
  let s: { notebooks: Record<string, unknown>[] } = { notebooks: [] };
  try {
    s = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    /* first run */
  }
  s.notebooks = [...(s.notebooks ?? []).filter((n) => n.name !== entry.name), entry];
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

async function main(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { profile: { type: 'string' }, out: { type: 'string' }, 'install-kernel': { type: 'boolean' }, 'no-build': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (v.help) {
    process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^\/\*\*\n?/, '').replace(/^ \* ?/gm, '').trimEnd() + '\n');
    return 0;
  }
  const python = findPython();
  ensureKernel(python, false);
  if (v['install-kernel']) return 0;
  if (v.profile && !(PROFILES as readonly string[]).includes(v.profile)) throw new Fail(`--profile: expected one of ${PROFILES.join(', ')}, got ${JSON.stringify(v.profile)}`);
  const profile = v.profile ?? notebookProfile();
  const files = positionals.length
    ? positionals.map((f) => path.resolve(f))
    : fs
        .readdirSync(path.join(ROOT, 'notebooks'))
        .filter((f) => f.endsWith('.ipynb'))
        .sort()
        .map((f) => path.join(ROOT, 'notebooks', f));
  for (const f of files) if (!fs.existsSync(f) || !f.endsWith('.ipynb')) throw new Fail(`${f}: no such notebook (.ipynb)`);
  if (files.length === 0) throw new Fail('no notebooks found in notebooks/');
  if (!v['no-build']) ensureBuilt();
  const resultsRoot = process.env.TCK_RESULTS_DIR ? path.resolve(process.env.TCK_RESULTS_DIR) : path.join(ROOT, 'results');
  const outDir = path.resolve(v.out ?? path.join(resultsRoot, 'notebooks'));
  fs.mkdirSync(outDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ''}`,
    JUPYTER_PATH: [JUPYTER_DATA, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
    TCK_PROFILE: profile,
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
    // require() of the kit's ES modules is stable in Node 20.19+, but still prints an ExperimentalWarning
    NODE_OPTIONS: [process.env.NODE_OPTIONS, '--disable-warning=ExperimentalWarning'].filter(Boolean).join(' '),
  };
  const t0 = Date.now();
  for (const [i, nb] of files.entries()) {
    const name = path.basename(nb);
    const out = path.join(outDir, name);
    say(`(${i + 1}/${files.length}) ${rel(process.cwd(), nb)} at profile ${profile}`);
    const { code, result } = await runOne(python, nb, out, env);
    const status = code === 0 && result?.status === 'passed' ? 'passed' : 'failed';
    updateSummary(outDir, {
      name,
      source: rel(ROOT, nb),
      executed: rel(resultsRoot, out),
      profile,
      status,
      seconds: result?.seconds ?? 0,
      finishedAt: new Date().toISOString(),
      ...(status === 'failed' ? { error: (result?.error ?? `exit status ${code}`).split('\n').slice(0, 3).join(' ') } : {}),
    });
    if (status !== 'passed') {
      say(`${red(`${name} failed${result?.cell ? ` at code cell ${result.cell}` : ''}`)}; the executed copy up to there: ${rel(process.cwd(), out)}`);
      return 1;
    }
    say(`${name} passed in ${result!.seconds.toFixed(1)} s -> ${rel(process.cwd(), out)}`);
  }
  say(`${files.length} notebook(s) passed at profile ${profile} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`npm run notebooks: error: ${e instanceof Fail ? e.message : (e as Error).stack}\n`);
    process.exit(e instanceof Fail ? 1 : 2);
  },
);
