#!/usr/bin/env node
// Daemon mode end to end: `gopls-guard serve` with the real gopls, editors
// (vscode-jsonrpc) through `gopls-guard connect` and through gopls's own
// forwarder `gopls -remote=unix;SOCKET`.
//
//   node serve-client.mjs [--timeout S] [--keep] [--verbose] -- GUARD
//
// GUARD is the gopls-guard binary; gopls and go come from PATH and the
// socket and status file from $XDG_RUNTIME_DIR/gopls-guard (run.sh
// --fresh-runtime-dir).  What it checks, in order:
//   - editors A and B, each through its own `connect`, are served by ONE
//     gopls (the status file's server_pid, the only gopls child of the
//     guard), and keep separate unsaved texts of the same file (hover on
//     each shows its own);
//   - gopls SIGKILLed with a hover in flight from both: each gets its own
//     real answer from the next gopls (generation 2);
//   - editor C joins after the kill and is served;
//   - A leaves (shutdown, exit, close): B carries on, on the same gopls;
//   - an editor through `gopls -remote=unix;SOCKET` is served;
//   - SIGTERM: the guard exits 0, no socket and no gopls left.
// Figures (never asserted): connect -> initialize answered and connect ->
// first hover answered, for the first editor (cold: gopls just started,
// nothing loaded) and the second (warm), as BENCH lines.
//
// Output: PASS/FAIL lines, then `N passed, N failed`; exit 0 only if all passed.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import rpc from 'vscode-jsonrpc/node.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let timeoutMs = 60_000, keep = false, verbose = false, guard = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--timeout') timeoutMs = Number(args[++i]) * 1000;
  else if (args[i] === '--keep') keep = true;
  else if (args[i] === '--verbose') verbose = true;
  else if (args[i] === '--') { guard = args[i + 1]; break; }
  else { process.stderr.write(`serve-client: unknown option ${args[i]}\n`); process.exit(2); }
}
if (!guard || !Number.isFinite(timeoutMs)) {
  process.stderr.write('usage: node serve-client.mjs [--timeout S] [--keep] [--verbose] -- GUARD\n');
  process.exit(2);
}
const runtime = process.env.XDG_RUNTIME_DIR;
if (!runtime) { process.stderr.write('serve-client: XDG_RUNTIME_DIR is not set\n'); process.exit(2); }

const T0 = performance.now();
const stamp = () => `${((performance.now() - T0) / 1000).toFixed(3).padStart(8)}s`;
const log = (m) => process.stdout.write(`${stamp()} ${m}\n`);
const vlog = (m) => { if (verbose) log(m); };
const results = { passed: 0, failed: 0 };
function check(name, ok, detail = '') {
  if (ok) results.passed++; else results.failed++;
  log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitUntil(pred, ms = timeoutMs, step = 50) {
  const end = performance.now() + ms;
  for (;;) {
    if (await pred()) return true;
    if (performance.now() > end) return false;
    await sleep(step);
  }
}
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

// ---------------------------------------------------------------- workspace

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gopls-guard-serve-e2e-'));
const ws = path.join(tmp, 'ws');
fs.cpSync(path.join(HERE, 'fixture'), ws, { recursive: true });
const env = { ...process.env, GOPROXY: 'off', GOFLAGS: process.env.GOFLAGS ?? '' };
for (const [name, sub] of [['HOME', 'home'], ['GOPATH', 'gopath'], ['GOCACHE', 'gocache']]) {
  if (!env[name]) { env[name] = path.join(tmp, sub); fs.mkdirSync(env[name], { recursive: true }); }
}
const mainPath = path.join(ws, 'main.go');
const mainUri = pathToFileURL(mainPath).href;
const diskText = fs.readFileSync(mainPath, 'utf8');
// Each editor's unsaved main.go: a function Tag that exists only in its buffer.
const tagged = (who) => diskText.replace('fmt.Println(msg)', 'fmt.Println(msg, Tag())') +
  `\n// Tag is the unsaved text of editor ${who}.\nfunc Tag() string { return "${who}" }\n`;
function tagCallPos(text) {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes('Tag())'));
  return { line, character: lines[line].indexOf('Tag())') + 1 };
}
const hoverText = (h) => {
  const c = h?.contents;
  if (!c) return '';
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((x) => (typeof x === 'string' ? x : x.value)).join('\n');
  return c.value ?? '';
};

// ---------------------------------------------------------------- the serving guard

const policy = path.join(tmp, 'serve.ini');
fs.writeFileSync(policy, '[server]\ncommand = gopls\n[restart]\nbackoff_initial = 100ms\n' +
  '[serve]\nidle_timeout = 0\n[log]\ntarget = stderr\nlevel = debug\n');
const guardLog = [];
log(`starting ${guard} serve --workspace ${ws}`);
const tGuard = performance.now();
const server = spawn(guard, ['serve', '--workspace', ws, '--policy', policy],
  { cwd: ws, env, stdio: ['ignore', 'ignore', 'pipe'] });
let serverExit = null;
const serverExited = new Promise((r) => server.on('exit', (code, signal) => { serverExit = { code, signal }; r(); }));
server.stderr.setEncoding('utf8');
server.stderr.on('data', (d) => {
  for (const l of d.split('\n').filter(Boolean)) { guardLog.push(l); vlog(`[guard] ${l}`); }
});
const sockDir = path.join(runtime, 'gopls-guard');
const statusFile = path.join(sockDir, `${server.pid}.json`);
const status = () => { try { return JSON.parse(fs.readFileSync(statusFile, 'utf8')); } catch { return null; } };
let sock = null;
const findSock = () => {
  try {
    const s = fs.readdirSync(sockDir).find((n) => n.endsWith('.sock') && !n.startsWith('server-'));
    if (s) sock = path.join(sockDir, s);
  } catch { /* not yet */ }
  return sock !== null;
};

// gopls children of the guard (the sentinel is a gopls-guard).
function goplsChildren(ppid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const fields = st.slice(st.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid && comm === 'gopls') out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

// ---------------------------------------------------------------- editors

class Editor {
  constructor(name, cmd, cmdArgs) {
    this.name = name;
    this.t0 = performance.now();
    this.proc = spawn(cmd, cmdArgs, { cwd: ws, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((r) => this.proc.on('exit', (code, signal) => r({ code, signal })));
    this.stderr = [];
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => { this.stderr.push(d); vlog(`[${name} stderr] ${d.trimEnd()}`); });
    this.proc.stdin.on('error', () => {});
    this.conn = rpc.createMessageConnection(new rpc.StreamMessageReader(this.proc.stdout),
      new rpc.StreamMessageWriter(this.proc.stdin));
    this.closed = false;
    this.conn.onClose(() => { this.closed = true; });
    this.conn.onError(() => {});
    this.conn.onRequest((method, params) => {
      if (method === 'workspace/configuration') return (params?.items ?? []).map(() => ({}));
      if (method === 'workspace/workspaceFolders') return [{ uri: pathToFileURL(ws).href, name: 'ws' }];
      return null; // registerCapability, workDoneProgress/create, ...
    });
    this.conn.onNotification(() => {});
    this.conn.listen();
    this.version = 1;
  }

  request(method, params) {
    let timer;
    return Promise.race([
      this.conn.sendRequest(method, params),
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${method}: no answer within ${timeoutMs / 1000} s`)), timeoutMs); }),
    ]).finally(() => clearTimeout(timer));
  }

  async initialize() {
    const folder = { uri: pathToFileURL(ws).href, name: 'ws' };
    const r = await this.request('initialize', {
      processId: process.pid, rootUri: folder.uri, workspaceFolders: [folder],
      capabilities: {
        workspace: { configuration: true, workspaceFolders: true },
        textDocument: { hover: { contentFormat: ['markdown', 'plaintext'] }, synchronization: {} },
      },
    });
    this.initMs = performance.now() - this.t0;
    this.conn.sendNotification('initialized', {});
    this.conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    return r;
  }

  open(text) {
    this.text = text;
    this.conn.sendNotification('textDocument/didOpen',
      { textDocument: { uri: mainUri, languageId: 'go', version: this.version, text } });
  }

  // Replace the whole text with one incremental change (a range covering it).
  edit(text) {
    const lines = this.text.split('\n');
    this.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri: mainUri, version: ++this.version },
      contentChanges: [{ range: { start: { line: 0, character: 0 },
        end: { line: lines.length - 1, character: lines[lines.length - 1].length } }, text }],
    });
    this.text = text;
  }

  hover(pos) { return this.request('textDocument/hover', { textDocument: { uri: mainUri }, position: pos }); }

  async leave() {
    const t = performance.now();
    try { await this.request('shutdown'); } catch (e) { log(`${this.name}: shutdown: ${e.message}`); }
    vlog(`${this.name}: shutdown answered in ${(performance.now() - t).toFixed(0)} ms`);
    this.conn.sendNotification('exit');
    await sleep(100);
    this.proc.stdin.end();
    let timer;
    const r = await Promise.race([this.exited, new Promise((res) => { timer = setTimeout(() => res(null), timeoutMs); })]);
    clearTimeout(timer);
    return r;
  }
}

const connectEditor = (name) => new Editor(name, guard, ['connect', ws]);

// Hover on Tag() until gopls has loaded the workspace (the first answer can
// come before the package is type-checked): the text must name `who`.
async function hoverShows(ed, who, label) {
  const pos = tagCallPos(ed.text);
  let text = '';
  const ok = await waitUntil(async () => {
    try { text = hoverText(await ed.hover(pos)); } catch (e) { text = e.message; return false; }
    return text.includes(`editor ${who}`);
  }, timeoutMs, 200);
  return check(`${label}: ${ed.name}'s hover shows its own unsaved text (editor ${who})`, ok, ok ? '' : text.slice(0, 200));
}

// ---------------------------------------------------------------- scenario

async function main() {
  check('the guard listens on its socket', await waitUntil(findSock), sock ?? `nothing in ${sockDir}`);
  if (!sock) return;

  // Two editors at once, each through connect.
  const a = connectEditor('A');
  const initA = await a.initialize().catch((e) => ({ error: e.message }));
  check('A initialized through connect', !!initA?.capabilities, initA?.error ?? '');
  a.open(diskText);
  a.edit(tagged('A'));
  await hoverShows(a, 'A', 'cold');
  const coldHover = performance.now() - a.t0;
  const b = connectEditor('B');
  const initB = await b.initialize().catch((e) => ({ error: e.message }));
  check('B initialized through connect', !!initB?.capabilities, initB?.error ?? '');
  b.open(diskText);
  b.edit(tagged('B'));
  await hoverShows(b, 'B', 'warm');
  const warmHover = performance.now() - b.t0;
  console.log(`BENCH serve_connect_to_initialize_ms cold=${a.initMs.toFixed(0)} warm=${b.initMs.toFixed(0)} ` +
    `(cold includes gopls starting ${((a.t0 - tGuard) / 1000).toFixed(2)} s after the guard)`);
  console.log(`BENCH serve_connect_to_first_hover_ms cold=${coldHover.toFixed(0)} warm=${warmHover.toFixed(0)}`);
  await hoverShows(a, 'A', 'with B connected');

  let st = status();
  const pid1 = st?.server_pid;
  const kids = goplsChildren(server.pid);
  check('one gopls serves both editors', kids.length === 1 && kids[0] === pid1,
    `status server_pid ${pid1}, gopls children of the guard ${JSON.stringify(kids)}`);
  check('still the first generation', st?.generation === 1, `generation ${st?.generation}`);

  // SIGKILL with a hover in flight from both editors.
  // Killed right after the hovers are sent: whether they still sit in the
  // pipes or the guard or reach the dying gopls, neither has been answered.
  let tKill = 0;
  const answered = (h) => ({ text: hoverText(h), after: performance.now() >= tKill });
  const pa = a.hover(tagCallPos(a.text)).then(answered, (e) => ({ text: `ERROR ${e.message}`, after: true }));
  const pb = b.hover(tagCallPos(b.text)).then(answered, (e) => ({ text: `ERROR ${e.message}`, after: true }));
  tKill = performance.now();
  process.kill(pid1, 'SIGKILL');
  log(`SIGKILL gopls ${pid1} with a hover in flight from A and B`);
  const [ha, hb] = await Promise.all([pa, pb]);
  console.log(`BENCH serve_kill_to_answers_ms=${(performance.now() - tKill).toFixed(0)}`);
  check('A\'s in-flight hover answered with its own text after the kill', ha.after && ha.text.includes('editor A'), ha.text.slice(0, 200));
  check('B\'s in-flight hover answered with its own text after the kill', hb.after && hb.text.includes('editor B'), hb.text.slice(0, 200));
  await waitUntil(() => status()?.generation === 2 && alive(status()?.server_pid ?? 0));
  st = status();
  const pid2 = st?.server_pid;
  check('a new gopls runs (generation 2)', st?.generation === 2 && pid2 !== pid1 && alive(pid2),
    `generation ${st?.generation}, server_pid ${pid2}`);
  await hoverShows(a, 'A', 'after the kill');
  await hoverShows(b, 'B', 'after the kill');

  // A third editor joins after the kill.
  const c = connectEditor('C');
  const initC = await c.initialize().catch((e) => ({ error: e.message }));
  check('C joins after the kill', !!initC?.capabilities, initC?.error ?? '');
  c.open(diskText);
  c.edit(tagged('C'));
  await hoverShows(c, 'C', 'joined');
  const kids2 = goplsChildren(server.pid);
  check('still one gopls for three editors', kids2.length === 1 && kids2[0] === pid2, JSON.stringify(kids2));

  // A leaves; B carries on, on the same gopls.
  const endA = await a.leave();
  check('A\'s connect exits 0 after shutdown/exit', endA?.code === 0, JSON.stringify(endA));
  await hoverShows(b, 'B', 'after A left');
  st = status();
  check('A leaving did not end or restart gopls', st?.server_pid === pid2 && st?.generation === 2 && alive(pid2),
    `server_pid ${st?.server_pid}, generation ${st?.generation}`);

  // gopls's own forwarder against the guard's socket.
  const d = new Editor('D (gopls -remote)', 'gopls', [`-remote=unix;${sock}`]);
  const initD = await d.initialize().catch((e) => ({ error: e.message }));
  check('gopls -remote=unix;SOCKET is served', !!initD?.capabilities, initD?.error ?? d.stderr.join('').slice(0, 300));
  d.open(diskText);
  d.edit(tagged('D'));
  await hoverShows(d, 'D', 'forwarder');
  await d.leave(); // its exit status is gopls's own business (2 even after shutdown)
  await hoverShows(c, 'C', 'after the forwarder left');

  // SIGTERM ends everything.
  await Promise.all([b.leave(), c.leave()]);
  server.kill('SIGTERM');
  await Promise.race([serverExited, sleep(timeoutMs)]);
  check('SIGTERM: the guard exits 0', serverExit?.code === 0, JSON.stringify(serverExit));
  check('no socket left', !fs.existsSync(sock));
  check('no gopls left', !alive(pid2), `pid ${pid2}`);
}

const watchdog = setTimeout(() => { check('whole run in time', false); finish(); }, 10 * timeoutMs);
async function finish() {
  clearTimeout(watchdog);
  if (!serverExit) { try { server.kill('SIGKILL'); } catch { /* gone */ } }
  if (results.failed && !verbose) for (const l of guardLog.slice(-60)) process.stdout.write(`[guard] ${l}\n`);
  if (!keep) fs.rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`${results.passed} passed, ${results.failed} failed\n`);
  process.exit(results.failed === 0 && results.passed > 0 ? 0 : 1);
}
main().catch((e) => check('client ran without an internal error', false, e?.stack ?? String(e))).finally(finish);
