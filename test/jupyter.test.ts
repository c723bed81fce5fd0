/**
 * `npm run jupyter` (the interactive notebook server of the README) on this machine: it starts headless on
 * 127.0.0.1 with a token, its REST API lists the kit's TypeScript kernel spec (from .jupyter/, through the
 * JUPYTER_PATH the script sets), a kernel of that spec starts through the REST API, and code sent over the
 * kernel's websocket (Jupyter messaging protocol) comes back evaluated. The server is stopped in every case.
 * Not skipped when the front end is missing: that fails, naming scripts/setup.sh, which installs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpDir } from './helpers/tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The kernel spec under .jupyter/ whose language is TypeScript (tslab's is named `tslab`). */
function typescriptKernelName(): string {
  const dir = path.join(ROOT, '.jupyter', 'share', 'jupyter', 'kernels');
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const ts = names.find((n) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, n, 'kernel.json'), 'utf8')).language === 'typescript';
    } catch {
      return false;
    }
  });
  assert.ok(ts, `no TypeScript kernel spec in ${dir} (found ${names.join(', ') || 'none'}); npm run kernel installs it`);
  return ts;
}

/**
 * Sends one execute_request over /api/kernels/<id>/channels and collects what answers it. Runs in a child
 * node: Node 20 has a WebSocket client (undici's) only behind --experimental-websocket, and the kit has no
 * websocket package.
 */
const WS_CLIENT = String.raw`
const [url, code] = process.argv.slice(1);
const session = crypto.randomUUID(), msgId = crypto.randomUUID();
const out = { result: null, reply: null, error: null, stream: '', idle: false, seen: [] };
const finish = (extra) => { process.stdout.write(JSON.stringify({ ...out, ...extra })); process.exit(0); };
setTimeout(() => finish({ timeout: true }), 60000);
const ws = new WebSocket(url + '&session_id=' + session);
ws.onerror = (e) => finish({ wsError: String(e.message ?? e.error ?? 'websocket error') });
ws.onclose = (e) => finish({ closed: e.code });
ws.onopen = () => ws.send(JSON.stringify({
  header: { msg_id: msgId, session, username: 'tck-test', msg_type: 'execute_request', version: '5.3', date: new Date().toISOString() },
  parent_header: {}, metadata: {}, channel: 'shell', buffers: [],
  content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
}));
ws.onmessage = (ev) => {
  if (typeof ev.data !== 'string') return;
  const m = JSON.parse(ev.data);
  if (m.parent_header?.msg_id !== msgId) return;
  const t = m.header.msg_type;
  out.seen.push(t + ' ' + JSON.stringify(m.content).slice(0, 200));
  if (t === 'execute_result') out.result = m.content.data['text/plain'];
  else if (t === 'error') out.error = m.content.ename + ': ' + m.content.evalue;
  else if (t === 'stream') out.stream += m.content.text;
  else if (t === 'execute_reply') out.reply = m.content.status;
  else if (t === 'status' && m.content.execution_state === 'idle') out.idle = true;
  if (out.reply && out.idle) { ws.onclose = null; ws.close(); finish({}); }
};
`;

function execute(wsUrl: string, code: string): Promise<Record<string, unknown>> {
  const flags = typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function' ? [] : ['--experimental-websocket'];
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...flags, '--no-warnings', '-e', WS_CLIENT, wsUrl, code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (status) => {
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`websocket client exited ${status}: ${stdout}${stderr}`));
      }
    });
  });
}

/** Stops the server (SIGTERM to npm's process group: the server shuts its kernels down), SIGKILL after 15 s. */
async function stop(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  const group = (sig: NodeJS.Signals) => {
    try {
      process.kill(-server.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  group('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 15_000)))]);
  clearTimeout(timer);
  if (late) {
    group('SIGKILL');
    await exited;
  }
}

test('npm run jupyter: the notebook server starts, lists the TypeScript kernel, and a tslab kernel evaluates code', { timeout: 180_000 }, async (t) => {
  const version = spawnSync('jupyter', ['notebook', '--version'], { encoding: 'utf8' });
  assert.equal(
    version.status,
    0,
    `the Jupyter notebook front end is missing ("jupyter notebook --version": ${(version.stderr || version.error?.message || '').trim()}); ` +
      'install it with bash scripts/setup.sh (Debian package jupyter-notebook)',
  );

  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const tmp = tmpDir(t);
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  const server = spawn('npm', ['run', '--silent', 'jupyter', '--', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--port-retries=0'], {
    cwd: ROOT,
    detached: true, // its own process group, so that stop() reaches npm, the shell and the server
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      JUPYTER_TOKEN: token,
      // A private config and runtime dir: no user config (passwords, other ports) and no leftover files.
      JUPYTER_CONFIG_DIR: path.join(tmp, 'config'),
      JUPYTER_RUNTIME_DIR: path.join(tmp, 'runtime'),
      BROWSER: 'true',
    },
  });
  server.stdout!.on('data', (d) => (log += d));
  server.stderr!.on('data', (d) => (log += d));
  let kernelId: string | undefined;
  const api = (p: string, init: RequestInit = {}) =>
    fetch(`${base}${p}`, { ...init, headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json', ...init.headers } });

  try {
    // Wait until the REST API answers (or the server gives up).
    const deadline = Date.now() + 90_000;
    for (;;) {
      assert.ok(server.exitCode === null && server.signalCode === null, `the notebook server exited (${server.exitCode ?? server.signalCode}):\n${log}`);
      assert.ok(Date.now() < deadline, `the notebook server did not answer on ${base} within 90 s:\n${log}`);
      const r = await api('/api/status').catch(() => null);
      if (r?.ok) break;
      await r?.body?.cancel();
      await sleep(250);
    }
    // The token is required.
    const anonymous = await fetch(`${base}/api/kernels`);
    await anonymous.body?.cancel();
    assert.equal(anonymous.status, 403);

    const name = typescriptKernelName();
    const specs = (await (await api('/api/kernelspecs')).json()) as { kernelspecs: Record<string, { spec: { display_name: string } }> };
    assert.ok(specs.kernelspecs[name], `the server does not list the kernel spec ${name} (it lists ${Object.keys(specs.kernelspecs).join(', ')}): JUPYTER_PATH is not .jupyter/share/jupyter`);
    assert.equal(specs.kernelspecs[name].spec.display_name, 'TypeScript');

    const started = await api('/api/kernels', { method: 'POST', body: JSON.stringify({ name }) });
    assert.equal(started.status, 201, await started.clone().text());
    const kernel = (await started.json()) as { id: string; name: string };
    kernelId = kernel.id;
    assert.equal(kernel.name, name);

    const wsUrl = `ws://127.0.0.1:${port}/api/kernels/${kernel.id}/channels?token=${token}`;
    // tslab shows the value of a cell's last expression as text on stdout (other kernels send an execute_result).
    const r = await execute(wsUrl, 'const n: number = 1 + 1;\nn');
    const shown = String(r.result ?? r.stream).trim();
    assert.deepEqual({ shown, reply: r.reply, error: r.error }, { shown: '2', reply: 'ok', error: null }, `kernel answer: ${JSON.stringify(r)}\nserver log:\n${log}`);
    // A type error is reported as such: this is the TypeScript kernel, not plain JavaScript.
    const bad = await execute(wsUrl, 'const s: string = 1;');
    assert.equal(bad.reply, 'error', JSON.stringify(bad));
    assert.match(String(bad.error) + String(bad.stream), /not assignable to type 'string'/, JSON.stringify(bad));

    const del = await api(`/api/kernels/${kernel.id}`, { method: 'DELETE' });
    await del.body?.cancel();
    assert.equal(del.status, 204);
    kernelId = undefined;
  } finally {
    if (kernelId) await api(`/api/kernels/${kernelId}`, { method: 'DELETE' }).then((r) => r.body?.cancel(), () => {});
    await stop(server);
  }
});
