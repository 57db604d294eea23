#!/usr/bin/env node
// End-to-end LSP client for gopls-guard.
//
// A real LSP client (vscode-jsonrpc over a child process's stdio) that drives
// gopls, either directly or through gopls-guard, on a copy of the fixture
// module: it opens a file, edits it incrementally WITHOUT saving, and checks
// hover and go-to-definition on the unsaved text.  The `kill` scenario also
// SIGKILLs the real gopls mid-session (once between requests, once while a
// hover is in flight) and checks that the session carries on unnoticed.
// The `proactive` scenario waits, mid-session, for the guard to replace gopls
// on its own ([pressure] proactive; the test's policy sets a restart_above
// gopls is over at once) and checks hover and definition right afterwards.
// The `soak` scenario keeps editing several documents while it SIGKILLs the
// real gopls many times, then checks through the server that its view of
// every document equals the editor's.
//
//   node lsp-client.mjs [OPTIONS] -- SERVER [ARG...]
//
// Options:
//   --scenario basic|kill|proactive|soak  what to do (default: basic)
//   --server-pid-cmd CMD     shell command printing the pid of the real gopls
//                            to kill (run with E2E_CHILD_PID set to the pid of
//                            the process this client started); default: that
//                            process's own pid
//   --escape-slashes         write every outgoing message with each '/' escaped
//                            as '\/' (as Neovim's JSON encoder does:
//                            "textDocument\/hover"), framing it ourselves
//   --kills N                soak: how many times to kill the server (default 100)
//   --docs N                 soak: how many documents to edit besides main.go
//                            (default 4)
//   --guard-rss              soak: the started process is the guard; report its
//                            VmRSS/RssAnon after the first kill and at the end
//   --timeout SECONDS        bound on every single wait (default: 60)
//   --total-timeout SECONDS  bound on the whole run (default: 600)
//   --fixture DIR            module to copy (default: fixture/ beside this file)
//   --keep                   keep the temporary directory
//   --verbose                stream the server's stderr and every server
//                            notification; --trace also logs every message
//
// Output: one line per check (PASS/FAIL), then `N passed, N failed`.
// Exit status: 0 when every check passed, 1 otherwise, 2 on usage errors.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import rpc from 'vscode-jsonrpc/node.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- options

function usage(msg) {
  if (msg) process.stderr.write(`lsp-client: ${msg}\n`);
  process.stderr.write(
    'usage: node lsp-client.mjs [--scenario basic|kill|proactive|soak] [--server-pid-cmd CMD]\n' +
    '       [--escape-slashes] [--kills N] [--docs N] [--guard-rss] [--timeout S] [--total-timeout S] [--fixture DIR] [--keep] [--verbose] [--trace]\n' +
    '       -- SERVER [ARG...]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    scenario: 'basic', serverPidCmd: null, timeoutMs: 60_000, totalTimeoutMs: 600_000,
    fixture: path.join(HERE, 'fixture'), keep: false, verbose: false, trace: false, server: [],
    escapeSlashes: false, kills: 100, docs: 4, guardRss: false,
  };
  const count = (name, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) usage(`${name} wants a whole number of at least ${min}`);
    return n;
  };
  const positiveSeconds = (name, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) usage(`${name} wants a positive number of seconds`);
    return Math.round(n * 1000);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--': o.server = argv.slice(i + 1); i = argv.length; break;
      case '--scenario': o.scenario = value(); break;
      case '--server-pid-cmd': o.serverPidCmd = value(); break;
      case '--escape-slashes': o.escapeSlashes = true; break;
      case '--kills': o.kills = count(a, value(), 1); break;
      case '--docs': o.docs = count(a, value(), 1); break;
      case '--guard-rss': o.guardRss = true; break;
      case '--timeout': o.timeoutMs = positiveSeconds(a, value()); break;
      case '--total-timeout': o.totalTimeoutMs = positiveSeconds(a, value()); break;
      case '--fixture': o.fixture = path.resolve(value()); break;
      case '--keep': o.keep = true; break;
      case '--verbose': o.verbose = true; break;
      case '--trace': o.verbose = true; o.trace = true; break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown option ${a}`);
    }
  }
  if (!['basic', 'kill', 'proactive', 'soak'].includes(o.scenario)) usage(`unknown scenario ${o.scenario}`);
  if (o.server.length === 0) usage('no server command after --');
  if (!fs.existsSync(path.join(o.fixture, 'go.mod'))) usage(`no go.mod in fixture ${o.fixture}`);
  return o;
}

const opts = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------- logging and checks

const T0 = performance.now();
const stamp = () => `${((performance.now() - T0) / 1000).toFixed(3).padStart(8)}s`;
const log = (msg) => { if (!finishing) process.stdout.write(`${stamp()} ${msg}\n`); };
const vlog = (msg) => { if (opts.verbose) log(msg); };

const results = { passed: 0, failed: 0 };
let finishing = false; // once set (interrupt, watchdog, end), late checks are ignored
function check(name, ok, detail = '') {
  if (finishing) return ok;
  if (ok) results.passed++; else results.failed++;
  log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  return ok;
}

const short = (v, n = 200) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === undefined ? String(v) : (s.length > n ? `${s.slice(0, n)}…` : s);
};

// ---------------------------------------------------------------- temp dirs and the server's environment

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gopls-guard-e2e-'));
const ws = path.join(tmp, 'ws');
fs.cpSync(opts.fixture, ws, { recursive: true });

function writableDir(d) {
  try {
    fs.mkdirSync(d, { recursive: true });
    fs.accessSync(d, fs.constants.W_OK);
    return true;
  } catch { return false; }
}

const serverEnv = { ...process.env };
for (const [name, sub] of [['HOME', 'home'], ['GOPATH', 'gopath'], ['GOCACHE', 'gocache']]) {
  if (!serverEnv[name] || !writableDir(serverEnv[name])) {
    serverEnv[name] = path.join(tmp, sub);
    fs.mkdirSync(serverEnv[name], { recursive: true });
    log(`env: ${name} unset or not writable, using ${serverEnv[name]}`);
  }
}
serverEnv.GOPROXY = 'off';          // never download a module
serverEnv.GOFLAGS = serverEnv.GOFLAGS ?? '';

// ---------------------------------------------------------------- the document model (UTF-16, like LSP)

// JavaScript strings are UTF-16, so string indices are exactly LSP's
// UTF-16 "character" offsets.
class Doc {
  constructor(uri, text) { this.uri = uri; this.text = text; this.version = 1; }
  lines() { return this.text.split('\n'); }
  offsetAt({ line, character }) {
    const ls = this.lines();
    if (line >= ls.length) return this.text.length;
    let off = 0;
    for (let i = 0; i < line; i++) off += ls[i].length + 1;
    return off + Math.min(character, ls[line].length);
  }
  positionAt(offset) {
    const before = this.text.slice(0, offset).split('\n');
    return { line: before.length - 1, character: before[before.length - 1].length };
  }
  apply({ range, text }) {
    const a = this.offsetAt(range.start), b = this.offsetAt(range.end);
    this.text = this.text.slice(0, a) + text + this.text.slice(b);
  }
  // Position of the `nth` occurrence of `needle`, plus `delta` characters.
  find(needle, { nth = 1, delta = 0 } = {}) {
    let at = -1;
    for (let i = 0; i < nth; i++) {
      at = this.text.indexOf(needle, at + 1);
      if (at < 0) throw new Error(`fixture text has no occurrence ${nth} of ${JSON.stringify(needle)}`);
    }
    return this.positionAt(at + delta);
  }
  lineOf(needle) { return this.find(needle).line; }
}

// ---------------------------------------------------------------- wire accounting

// Every message is seen here before vscode-jsonrpc handles it, so duplicate or
// missing responses cannot be hidden by the library.
const wire = {
  sent: new Map(),        // id -> { method, responses, sentAt, written }
  strayResponses: [],     // responses whose id we never sent
  serverRequests: new Map(), // method -> count
  serverNotifications: new Map(),
  serverRequestIds: [],
};
const bump = (m, k) => m.set(k, (m.get(k) ?? 0) + 1);

function trackedReader(inner) {
  return {
    onError: inner.onError,
    onClose: inner.onClose,
    onPartialMessage: inner.onPartialMessage,
    dispose: () => inner.dispose(),
    listen(callback) {
      return inner.listen((msg) => {
        if (msg.method !== undefined && msg.id !== undefined) {
          bump(wire.serverRequests, msg.method);
          wire.serverRequestIds.push(msg.id);
          if (opts.trace) log(`<- request ${short(msg.id)} ${msg.method} ${short(msg.params, 300)}`);
        } else if (msg.method !== undefined) {
          bump(wire.serverNotifications, msg.method);
          if (opts.trace) log(`<- notification ${msg.method} ${short(msg.params, 300)}`);
        } else {
          const key = JSON.stringify(msg.id);
          const req = wire.sent.get(key);
          if (req) req.responses++; else wire.strayResponses.push(msg);
          if (opts.trace) {
            log(`<- response ${key}${req ? ` (${req.method})` : ' (UNKNOWN id)'} ` +
                (msg.error ? `error ${msg.error.code} ${msg.error.message}` : short(msg.result, 300)));
          }
        }
        callback(msg);
      });
    },
  };
}

function trackedWriter(inner) {
  return {
    onError: inner.onError,
    onClose: inner.onClose,
    end: () => inner.end(),
    dispose: () => inner.dispose(),
    write(msg) {
      const p = inner.write(msg);
      if (msg.method !== undefined && msg.id !== undefined) {
        const entry = { method: msg.method, responses: 0, sentAt: performance.now(), written: p };
        wire.sent.set(JSON.stringify(msg.id), entry);
        wire.lastWrite = p;
        if (opts.trace) log(`-> request ${msg.id} ${msg.method} ${short(msg.params, 300)}`);
      } else if (opts.trace) {
        log(msg.method !== undefined ? `-> notification ${msg.method} ${short(msg.params, 120)}`
          : `-> response ${short(msg.id)} ${msg.error ? `error ${msg.error.code}` : short(msg.result)}`);
      }
      return p;
    },
  };
}

// Neovim's encoder escapes '/' inside strings.  JSON has '/' nowhere outside
// strings, so escaping every '/' of the serialised message is exactly that.
// The counts let the run prove the escaping really went on the wire.
const escaping = { messages: 0, slashes: 0, methods: new Set() };
const slashEscapingEncoder = {
  name: 'application/json',
  encode(msg) {
    const json = JSON.stringify(msg).replaceAll('/', '\\/');
    escaping.messages++;
    escaping.slashes += json.split('\\/').length - 1;
    // The method as it went on the wire, e.g. "textDocument\/hover".
    const m = /"method":"((?:[^"\\]|\\.)*)"/.exec(json); // the first: vscode-jsonrpc writes it before params
    if (m && m[1].includes('\\/')) escaping.methods.add(m[1]);
    return Promise.resolve(Buffer.from(json, 'utf8'));
  },
};

// ---------------------------------------------------------------- process helpers

function pidAlive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch { return false; }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(pred, ms, stepMs = 50) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await pred()) return true;
    await sleep(stepMs);
  }
  return !!(await pred());
}

// ---------------------------------------------------------------- the session

let child = null;
let childExit = null;            // { code, signal } once it ended
let childExited = null;          // promise
let conn = null;
let closed = false;
let closedNotify;
const closedPromise = new Promise((r) => { closedNotify = r; });
const stderrTail = [];
const killedPids = new Set();

class RequestFailure extends Error {
  constructor(message, { code, timeout } = {}) { super(message); this.code = code; this.timeout = timeout; }
}

// Sends one request; every wait is bounded, and a closed connection fails it
// at once rather than after the timeout.
function request(method, params) {
  let p;
  try {
    p = params === undefined ? conn.sendRequest(method) : conn.sendRequest(method, params);
  } catch (e) {
    return Promise.reject(new RequestFailure(`${method}: cannot send (${e.message})`));
  }
  let timer;
  const timeout = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new RequestFailure(
      `${method}: no response within ${opts.timeoutMs / 1000} s`, { timeout: true })), opts.timeoutMs);
  });
  const gone = closedPromise.then(() => { throw new RequestFailure(`${method}: connection to the server closed`); });
  return Promise.race([
    p.catch((e) => {
      if (e instanceof rpc.ResponseError) throw new RequestFailure(`${method}: error ${e.code} ${e.message}`, { code: e.code });
      throw new RequestFailure(`${method}: ${e.message}`);
    }),
    timeout, gone,
  ]).finally(() => clearTimeout(timer));
}

function notify(method, params) {
  try {
    if (params === undefined) conn.sendNotification(method); else conn.sendNotification(method, params);
    return true;
  }
  catch (e) { log(`cannot send ${method}: ${e.message}`); return false; }
}

function startServer() {
  const [cmd, ...args] = opts.server;
  log(`starting server: ${opts.server.join(' ')} (cwd ${ws})`);
  child = spawn(cmd, args, { cwd: ws, env: serverEnv, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  childExited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      childExit = { code, signal };
      log(`server process ${child.pid} ended: ${signal ? `signal ${signal}` : `status ${code}`}`);
      resolve(childExit);
    });
    child.on('error', (e) => {
      log(`server process error: ${e.message}`);
      if (!childExit) { childExit = { code: null, signal: null, error: e }; resolve(childExit); }
    });
  });
  child.stdin.on('error', (e) => vlog(`server stdin: ${e.message}`));
  let partial = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const l of lines) {
      stderrTail.push(l);
      if (stderrTail.length > 200) stderrTail.shift();
      if (opts.verbose) process.stdout.write(`${stamp()} [server] ${l}\n`);
    }
  });

  const reader = trackedReader(new rpc.StreamMessageReader(child.stdout));
  const writer = trackedWriter(new rpc.StreamMessageWriter(child.stdin,
    opts.escapeSlashes ? { charset: 'utf-8', contentTypeEncoder: slashEscapingEncoder } : 'utf-8'));
  const logger = {
    error: (m) => log(`jsonrpc error: ${m}`),
    warn: (m) => log(`jsonrpc warning: ${m}`),
    info: (m) => vlog(`jsonrpc: ${m}`),
    log: (m) => vlog(`jsonrpc: ${m}`),
  };
  conn = rpc.createMessageConnection(reader, writer, logger);
  conn.onClose(() => {
    if (!closed) log('connection to the server closed');
    closed = true;
    closedNotify();
  });
  conn.onError(([e]) => vlog(`connection error: ${e?.message ?? e}`));
  conn.onRequest((method, params) => serverRequest(method, params));
  conn.onNotification((method, params) => serverNotification(method, params));
  conn.listen();
}

const workspaceFolder = () => ({ uri: pathToFileURL(ws).href, name: path.basename(ws) });

// Dynamic registrations in force (id -> method).  A server that registers an
// id again without unregistering it (as a restarted gopls would, unless the
// guard hides it) shows the editor that something happened.
const registered = new Map();
const duplicateRegistrations = [];

// What the server asks of the client, answered as an editor would.
function serverRequest(method, params) {
  switch (method) {
    case 'workspace/configuration':
      vlog(`server asked workspace/configuration for ${short((params?.items ?? []).map((i) => i.section))}`);
      return (params?.items ?? []).map(() => ({}));
    case 'client/registerCapability':
      for (const r of params?.registrations ?? []) {
        if (registered.has(r.id)) duplicateRegistrations.push(r.id);
        registered.set(r.id, r.method);
      }
      vlog(`server registered ${short((params?.registrations ?? []).map((r) => `${r.id} (${r.method})`))}`);
      return null;
    case 'client/unregisterCapability':
      for (const u of params?.unregisterations ?? params?.unregistrations ?? []) registered.delete(u.id);
      return null;
    case 'window/workDoneProgress/create':
      return null;
    case 'window/showMessageRequest':
      log(`server showMessageRequest: ${short(params)}`);
      return null;
    case 'workspace/workspaceFolders':
      return [workspaceFolder()];
    default:
      log(`unexpected server request ${method} ${short(params)}: answering MethodNotFound`);
      return new rpc.ResponseError(rpc.ErrorCodes.MethodNotFound, `client does not handle ${method}`);
  }
}

// Every publishDiagnostics, in order of arrival.
const published = [];
let publishedNotify = () => {};
function serverNotification(method, params) {
  switch (method) {
    case 'textDocument/publishDiagnostics': {
      published.push({ uri: params.uri, version: params.version, diagnostics: params.diagnostics ?? [] });
      vlog(`diagnostics for ${path.basename(params.uri)} v${params.version ?? '?'}: ${(params.diagnostics ?? []).length}`);
      publishedNotify();
      break;
    }
    case 'window/showMessage':
      log(`server showMessage (type ${params?.type}): ${short(params?.message, 300)}`);
      break;
    case 'window/logMessage':
      vlog(`server log (type ${params?.type}): ${short(params?.message, 300)}`);
      break;
    case '$/progress':
      vlog(`progress ${short(params, 160)}`);
      break;
    default:
      vlog(`notification ${method} ${short(params, 160)}`);
  }
}

// ---------------------------------------------------------------- the fixture edits

const EMOJI = '\u{1F44B}\u{1F3FD}\u{1F30D}'; // waving hand + skin tone + globe: 6 UTF-16 units, 12 UTF-8 bytes, 3 code points
const BYE_DOC = '// Bye waves goodbye to name; it exists only in the unsaved buffer.';
const BYE_DOC_2 = '// Bye waves a polite goodbye to name, edited after the server restarts.';
const BYE_SIG = 'func Bye(name string, times int) string';

let mainDoc, greetUri;

function didChange(doc, changes, what) {
  doc.version++;
  for (const c of changes) doc.apply(c);
  vlog(`didChange ${path.basename(doc.uri)} v${doc.version}: ${what}`);
  return notify('textDocument/didChange', {
    textDocument: { uri: doc.uri, version: doc.version },
    contentChanges: changes.map((c) => ({ range: c.range, text: c.text })),
  });
}

// Edit main.go in the ways an editor would while the user types; nothing is saved.
function makeUnsavedEdits() {
  const d = mainDoc;
  // 1. a new function, appended at the end of the buffer
  const end = d.positionAt(d.text.length);
  didChange(d, [{ range: { start: end, end }, text: `\n${BYE_DOC}\n${BYE_SIG} {\n\treturn "Bye, " + name\n}\n` }],
    'append func Bye');
  // 2. a new line in main with an emoji comment in front of a statement
  const after = { line: d.lineOf('\tfmt.Println(msg)') + 1, character: 0 };
  didChange(d, [{ range: { start: after, end: after }, text: `\t/* ${EMOJI} */ fmt.Println(msg)\n` }],
    'insert a line with an emoji comment');
  // 3. turn that `msg` (after the emoji: UTF-16 columns matter) into `Bye(msg, 2)`,
  //    as two changes in one notification, the second relative to the first
  const line = d.lineOf(EMOJI);
  const col = d.lines()[line].indexOf('Println(msg)') + 'Println('.length;
  didChange(d, [
    { range: { start: { line, character: col }, end: { line, character: col } }, text: 'Bye(' },
    { range: { start: { line, character: col + 7 }, end: { line, character: col + 7 } }, text: ', 2)' },
  ], 'wrap msg into Bye(msg, 2) after the emoji');
  const l = d.lines()[line];
  log(`unsaved line ${line + 1}: ${JSON.stringify(l)} ` +
      `(Bye at UTF-16 column ${l.indexOf('Bye(')}, byte column ${Buffer.byteLength(l.slice(0, l.indexOf('Bye(')))})`);
}

// ---------------------------------------------------------------- checks on the unsaved text

function hoverText(h) {
  if (!h || !h.contents) return '';
  const c = h.contents;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((x) => (typeof x === 'string' ? x : x.value)).join('\n');
  return c.value ?? '';
}

function locations(r) {
  if (!r) return [];
  const arr = Array.isArray(r) ? r : [r];
  return arr.map((x) => (x.targetUri ? { uri: x.targetUri, range: x.targetSelectionRange ?? x.targetRange } : x));
}

const posStr = (p) => `${p.line + 1}:${p.character + 1}`;

async function checkHover(label, pos, mustContain) {
  const name = `${label}: hover at ${posStr(pos)} shows ${short(mustContain.join(' + '), 80)}`;
  try {
    const t = performance.now();
    const h = await request('textDocument/hover', { textDocument: { uri: mainDoc.uri }, position: pos });
    const text = hoverText(h);
    const missing = mustContain.filter((s) => !text.includes(s));
    return check(name, missing.length === 0,
      missing.length ? `missing ${short(missing)}; got ${short(text, 300)}` : `${(performance.now() - t).toFixed(0)} ms`);
  } catch (e) {
    return check(name, false, e.message);
  }
}

async function checkDefinition(label, pos, wantUri, wantLine, wantChar) {
  const name = `${label}: definition at ${posStr(pos)} -> ${path.basename(wantUri)}:${wantLine + 1}:${wantChar + 1}`;
  try {
    const t = performance.now();
    const r = await request('textDocument/definition', { textDocument: { uri: mainDoc.uri }, position: pos });
    const locs = locations(r);
    const ok = locs.length === 1 && locs[0].uri === wantUri &&
      locs[0].range.start.line === wantLine && locs[0].range.start.character === wantChar;
    return check(name, ok, ok ? `${(performance.now() - t).toFixed(0)} ms` : `got ${short(locs, 300)}`);
  } catch (e) {
    return check(name, false, e.message);
  }
}

// Where things are in the current (unsaved) text.
function byeCallPos() { return mainDoc.find('Bye(msg', { delta: 1 }); } // on the `y`
function byeDeclPos() { return mainDoc.find('func Bye(', { delta: 5 }); }
function greetCallPos() { return mainDoc.find('Greet("world")', { delta: 2 }); }

async function checkUnsaved(label, doc = BYE_DOC) {
  const decl = byeDeclPos();
  await checkHover(label, byeCallPos(), [BYE_SIG, doc.replace(/^\/\/ /, '')]);
  await checkDefinition(label, byeCallPos(), mainDoc.uri, decl.line, decl.character);
  const greetFile = fs.readFileSync(path.join(ws, 'greet.go'), 'utf8').split('\n');
  const gl = greetFile.findIndex((l) => l.startsWith('func Greet('));
  await checkDefinition(`${label} (cross-file)`, greetCallPos(), greetUri, gl, 'func '.length);
  await checkHover(`${label} (cross-file)`, greetCallPos(),
    ['func Greet(name string) string', 'Greet returns a friendly greeting for name.']);
}

// Every version of the unsaved main.go is valid Go, so no diagnostic with
// severity Error may ever be published for it: a misapplied incremental edit
// (wrong UTF-16 column, wrong order) would show up here.  gopls 0.5.0 does not
// publish for every version (nor always say which version it diagnosed), so
// this only waits for at least one publication.
async function checkDiagnosticsClean() {
  const forMain = () => published.filter((d) => d.uri === mainDoc.uri);
  if (forMain().length === 0) {
    await Promise.race([
      new Promise((r) => { publishedNotify = () => { if (forMain().length) r(); }; }),
      sleep(opts.timeoutMs),
      closedPromise,
    ]);
    publishedNotify = () => {};
  }
  const all = forMain();
  const errors = all.flatMap((d) => d.diagnostics.filter((g) => g.severity === 1)
    .map((g) => `v${d.version ?? '?'} ${posStr(g.range.start)} ${g.message}`));
  check('no error diagnostics ever published for the unsaved main.go', all.length > 0 && errors.length === 0,
    all.length === 0 ? (closed ? 'none published before the connection closed' : `none published within ${opts.timeoutMs / 1000} s`)
      : errors.length ? short(errors, 500)
        : `${all.length} publications, versions ${all.map((d) => d.version ?? '?').join(',')}`);
}

// ---------------------------------------------------------------- killing the real server

function serverPid() {
  if (!opts.serverPidCmd) return child.pid;
  const r = spawnSync('/bin/sh', ['-c', opts.serverPidCmd], {
    env: { ...serverEnv, E2E_CHILD_PID: String(child.pid) }, encoding: 'utf8', timeout: 10_000,
  });
  const m = /^\s*(\d+)\s*$/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) {
    vlog(`--server-pid-cmd gave status ${r.status}, stdout ${short(r.stdout)}, stderr ${short(r.stderr)}`);
    return null;
  }
  return Number(m[1]);
}

// The pid of a live server we have not killed yet (after a restart the
// status file may lag behind), or null.
async function freshServerPid() {
  let pid = null;
  const ok = await waitUntil(() => {
    if (closed) return true; // nobody left to restart it
    pid = serverPid();
    return pid !== null && pid > 1 && pid !== process.pid && !killedPids.has(pid) && pidAlive(pid);
  }, opts.timeoutMs, 100);
  if (closed) log('the connection is closed: no server will come back');
  return ok && !closed ? pid : null;
}

function sigkill(pid) {
  killedPids.add(pid);
  try { process.kill(pid, 'SIGKILL'); return true; }
  catch (e) { log(`kill ${pid}: ${e.message}`); return false; }
}

// Kill #1: between requests.
async function killBetweenRequests() {
  const pid = await freshServerPid();
  if (!check('kill 1: found the live server pid', pid !== null)) return false;
  log(`kill 1: SIGKILL server pid ${pid} (no request in flight)`);
  sigkill(pid);
  check('kill 1: server process is gone', await waitUntil(() => !pidAlive(pid), 10_000), `pid ${pid}`);
  return true;
}

// Kill #2: while a hover request is in flight.
async function killDuringHover() {
  const pid = await freshServerPid();
  if (!check('kill 2: found the live server pid (a new one)', pid !== null)) return false;
  const pos = byeCallPos();
  const before = wire.sent.size;
  const pending = request('textDocument/hover', { textDocument: { uri: mainDoc.uri }, position: pos })
    .then((h) => ({ ok: true, h }), (e) => ({ ok: false, e }));
  await wire.lastWrite?.catch(() => {}); // the request is now in the pipe
  const inFlight = wire.sent.size === before + 1 && [...wire.sent.values()].at(-1).responses === 0;
  log(`kill 2: SIGKILL server pid ${pid} with hover ${inFlight ? 'in flight' : 'ALREADY ANSWERED'}`);
  const tKill = performance.now();
  sigkill(pid);
  check('kill 2: server process is gone', await waitUntil(() => !pidAlive(pid), 10_000), `pid ${pid}`);
  const r = await pending;
  // A figure for bench/run.sh, not a check: kill -> the in-flight request
  // answered by the replacement server after the session replay.
  console.log(`BENCH kill_to_answer_ms=${(performance.now() - tKill).toFixed(0)}`);
  // A read in flight when the server dies is sent again to the new server
  // (DESIGN.md): the editor gets the real answer, never an error.
  const method = opts.escapeSlashes ? 'hover written as "textDocument\\/hover"' : 'hover';
  if (r.ok) {
    const text = hoverText(r.h);
    check(`kill 2: in-flight ${method} answered with the real result`, text.includes(BYE_SIG), short(text, 160));
  } else {
    check(`kill 2: in-flight ${method} answered with the real result`, false,
      `${r.e.message}${r.e.code === -32801 ? ' (ContentModified: the guard did not send the request again to the new server)' : ''}`);
  }
  return true;
}

// ---------------------------------------------------------------- proactive restart by the guard

// The guard's status file (one line of JSON), or null.
function guardStatus() {
  const dir = serverEnv.XDG_RUNTIME_DIR;
  if (!dir) return null;
  try { return JSON.parse(fs.readFileSync(path.join(dir, 'gopls-guard', `${child.pid}.json`), 'utf8')); }
  catch { return null; }
}

// The guard replaces the server by itself (nobody here kills anything):
// a new live server pid, counted in proactive_restarts and not as a crash.
async function awaitProactiveRestart() {
  const pid = await freshServerPid();
  if (!check('proactive: found the live server pid', pid !== null)) return false;
  let next = null;
  const t0 = performance.now();
  const ok = await waitUntil(() => {
    const p = serverPid();
    if (p !== null && p !== pid && pidAlive(p)) next = p;
    return next !== null;
  }, opts.timeoutMs, 100);
  if (!check('proactive: the guard replaced the server by itself', ok, `pid ${pid} -> ${next}`)) return false;
  killedPids.add(pid); // not ours to reuse as "fresh"
  const st = guardStatus();
  check('proactive: counted as a proactive restart, not as a crash',
    !!st && st.proactive_restarts >= 1 && st.restarts === 0,
    st ? `proactive_restarts ${st.proactive_restarts}, restarts ${st.restarts}` : 'no status file');
  log(`proactive: server ${pid} replaced by ${next} after ${((performance.now() - t0) / 1000).toFixed(2)} s of waiting`);
  checkProactiveIncident();
  return true;
}

// The incident the guard kept at that restart ([incidents], under the run's
// scratch HOME), with the heap profile gopls wrote on its way out: a gzip'd
// pprof file (magic 1f 8b).
function checkProactiveIncident() {
  const dir = path.join(serverEnv.HOME || os.homedir(), '.local/state/gopls-guard/incidents');
  let names = [];
  try { names = fs.readdirSync(dir).filter((n) => n.endsWith('-proactive-restart')).sort(); }
  catch { /* none */ }
  if (!check('proactive: an incident was kept', names.length > 0, dir)) return;
  const inc = path.join(dir, names[names.length - 1]);
  let j = null;
  try { j = JSON.parse(fs.readFileSync(path.join(inc, 'incident.json'), 'utf8')); } catch { /* checked below */ }
  check('proactive: its incident.json says proactive-restart', !!j && j.kind === 'proactive-restart',
    j ? `kind ${j.kind}` : 'unreadable');
  let magic = '';
  let size = 0;
  try {
    const b = fs.readFileSync(path.join(inc, 'heap.pprof'));
    size = b.length;
    magic = b.subarray(0, 2).toString('hex');
  } catch { /* checked below */ }
  check('proactive: it holds gopls\'s heap profile (gzip\'d pprof)', magic === '1f8b',
    `heap.pprof ${size} bytes${j && j.heap_profile_note ? `; note: ${j.heap_profile_note}` : ''}`);
  log(`proactive: incident ${names[names.length - 1]}, heap profile ${size} bytes`);
}

// ---------------------------------------------------------------- soak: many kills under continuous edits

// Documents soak1.go..soakN.go, package main, each growing one function per
// edit.  Functions are written `{return N}`, which gofmt spaces out: the
// server's formatting edits then prove, applied to the editor's text, that
// the server formats the same text the editor has.
const soakDocs = [];

function soakFuncLine(name, value) { return `func ${name}() int {return ${value}}\n`; }

function writeSoakFiles() {
  for (let k = 1; k <= opts.docs; k++) {
    const file = path.join(ws, `soak${k}.go`);
    const text = `package main\n\n// soak${k}.go grows while the soak test edits it.\n${soakFuncLine(`Soak${k}_0`, 0)}`;
    fs.writeFileSync(file, text);
    const d = new Doc(pathToFileURL(file).href, text);
    d.k = k;
    d.funcs = [{ name: `Soak${k}_0`, value: 0 }];
    soakDocs.push(d);
  }
}

function openSoakDocs() {
  for (const d of soakDocs) {
    notify('textDocument/didOpen', { textDocument: { uri: d.uri, languageId: 'go', version: d.version, text: d.text } });
  }
}

// One notification with two changes: the last function's value is rewritten
// in place, then a new function is appended (its range is relative to the
// text after the first change, as LSP says).
function soakEdit(d, name, value) {
  const last = d.funcs.at(-1);
  const at = d.find(`func ${last.name}() int {return `, { delta: `func ${last.name}() int {return `.length });
  const old = String(last.value);
  last.value += 1000;
  const first = { range: { start: at, end: { line: at.line, character: at.character + old.length } }, text: String(last.value) };
  d.version++;
  d.apply(first);
  const end = d.positionAt(d.text.length);
  const second = { range: { start: end, end }, text: soakFuncLine(name, value) };
  d.apply(second);
  d.funcs.push({ name, value });
  return notify('textDocument/didChange', {
    textDocument: { uri: d.uri, version: d.version },
    contentChanges: [first, second],
  });
}

function soakHover(d, name) {
  return request('textDocument/hover', { textDocument: { uri: d.uri }, position: d.find(`func ${name}(`, { delta: 5 }) })
    .then((h) => ({ ok: true, text: hoverText(h) }), (e) => ({ ok: false, e }));
}

function readRss(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(st) ?? [])[1]);
    return { vmRssKb: kb('VmRSS'), rssAnonKb: kb('RssAnon') };
  } catch { return null; }
}

async function soak() {
  const failures = { inFlight: [], afterRestart: [], kills: 0 };
  let rssFirst = null;
  const tSoak = performance.now();
  let tRestartSum = 0;
  for (let i = 1; i <= opts.kills; i++) {
    const d = soakDocs[i % soakDocs.length];
    const e = soakDocs[(i + 1) % soakDocs.length];
    const pid = await freshServerPid();
    if (pid === null) {
      check(`soak: found a live server before kill ${i}`, false, closed ? 'the connection closed' : `no new server pid within ${opts.timeoutMs / 1000} s`);
      break;
    }
    const name = `Soak${d.k}_${i}`;
    soakEdit(d, name, i);
    const inFlight = soakHover(d, name);
    await wire.lastWrite?.catch(() => {}); // the hover is in the pipe
    const tKill = performance.now();
    sigkill(pid);
    failures.kills++;
    // The editor keeps typing while the server is down.
    const nameDuring = `Soak${e.k}_${i}r`;
    soakEdit(e, nameDuring, -i);
    const r = await inFlight;
    if (!r.ok || !r.text.includes(`func ${name}() int`)) {
      failures.inFlight.push(`kill ${i}: ${r.ok ? `got ${short(r.text, 80)}` : r.e.message}`);
    }
    const r2 = await soakHover(e, nameDuring);
    tRestartSum += performance.now() - tKill;
    if (!r2.ok || !r2.text.includes(`func ${nameDuring}() int`)) {
      failures.afterRestart.push(`kill ${i}: ${r2.ok ? `got ${short(r2.text, 80)}` : r2.e.message}`);
    }
    if (i === 1 && opts.guardRss) rssFirst = readRss(child.pid);
    if (i % 10 === 0) log(`soak: ${i} kills, ${((performance.now() - tSoak) / 1000).toFixed(1)} s`);
    if (closed) break;
  }
  check(`soak: ${opts.kills} kills of the real server made`, failures.kills === opts.kills, `${failures.kills} made`);
  check('soak: every hover in flight at a kill was answered with the real result', failures.inFlight.length === 0,
    failures.inFlight.length ? `${failures.inFlight.length} not: ${short(failures.inFlight, 400)}` : `${failures.kills} hovers`);
  check('soak: every hover on an edit made while the server was down saw that edit', failures.afterRestart.length === 0,
    failures.afterRestart.length ? `${failures.afterRestart.length} not: ${short(failures.afterRestart, 400)}` : `${failures.kills} hovers`);
  console.log(`BENCH soak_kills=${failures.kills} soak_s=${((performance.now() - tSoak) / 1000).toFixed(1)} ` +
    `soak_kill_to_answer_mean_ms=${(tRestartSum / Math.max(1, failures.kills)).toFixed(0)}`);

  await soakCheckDocuments();

  if (opts.guardRss) {
    const rssLast = readRss(child.pid);
    console.log(`BENCH guard_vmrss_first_kb=${rssFirst?.vmRssKb} guard_vmrss_last_kb=${rssLast?.vmRssKb} ` +
      `guard_rssanon_first_kb=${rssFirst?.rssAnonKb} guard_rssanon_last_kb=${rssLast?.rssAnonKb}`);
    // Allocators keep freed memory: only a generous bound, meant to catch a
    // leak that grows with every restart.
    const ok = rssFirst && rssLast && rssLast.vmRssKb < 2 * rssFirst.vmRssKb + 8 * 1024;
    check('soak: guard VmRSS at the end < 2x its VmRSS after the first kill + 8 MiB', !!ok,
      `${rssFirst?.vmRssKb} kB -> ${rssLast?.vmRssKb} kB (RssAnon ${rssFirst?.rssAnonKb} -> ${rssLast?.rssAnonKb} kB)`);
  }
}

// The server's view of every soak document equals the editor's: its symbols
// are the editor's functions on the editor's lines, and its formatting
// edits, applied to the editor's text, give exactly gofmt of that text.
async function soakCheckDocuments() {
  for (const d of soakDocs) {
    const label = `soak: ${path.basename(fileURLToPath(d.uri))} v${d.version} (${d.funcs.length} functions)`;
    try {
      const syms = await request('textDocument/documentSymbol', { textDocument: { uri: d.uri } });
      const got = (syms ?? []).map((x) => `${x.name}@${(x.selectionRange ?? x.location?.range)?.start.line}`).sort();
      const want = d.funcs.map((f) => `${f.name}@${d.lineOf(`func ${f.name}()`)}`).sort();
      const same = got.length === want.length && got.every((x, k) => x === want[k]);
      check(`${label}: the server's symbols are the editor's functions on the editor's lines`, same,
        same ? `${got.length} symbols` : `server ${short(got.filter((x) => !want.includes(x)), 200)}, editor ${short(want.filter((x) => !got.includes(x)), 200)}`);
    } catch (e) {
      check(`${label}: the server's symbols are the editor's functions on the editor's lines`, false, e.message);
    }
    const gofmt = spawnSync('gofmt', [], { input: d.text, encoding: 'utf8', env: serverEnv, timeout: 30_000 });
    if (gofmt.status !== 0) {
      check(`${label}: gofmt of the editor's text`, false, `gofmt: status ${gofmt.status} ${short(gofmt.stderr ?? gofmt.error?.message)}`);
      continue;
    }
    try {
      const edits = await request('textDocument/formatting', {
        textDocument: { uri: d.uri }, options: { tabSize: 8, insertSpaces: false },
      }) ?? [];
      // Apply from the end, so earlier ranges stay valid.
      const copy = new Doc(d.uri, d.text);
      const sorted = [...edits].sort((a, b) => copy.offsetAt(b.range.start) - copy.offsetAt(a.range.start));
      for (const ed of sorted) copy.apply({ range: ed.range, text: ed.newText });
      check(`${label}: the server's formatting edits turn the editor's text into gofmt's`,
        edits.length > 0 && copy.text === gofmt.stdout,
        edits.length === 0 ? 'no edits (the server sees already formatted text)' : `${edits.length} edits`);
    } catch (e) {
      check(`${label}: the server's formatting edits turn the editor's text into gofmt's`, false, e.message);
    }
  }
  // Every version of every soak document is valid Go.
  const soakUris = new Set(soakDocs.map((d) => d.uri));
  const errors = published.filter((p) => soakUris.has(p.uri)).flatMap((p) => p.diagnostics
    .filter((g) => g.severity === 1).map((g) => `${path.basename(p.uri)} v${p.version ?? '?'} ${posStr(g.range.start)} ${g.message}`));
  check('soak: no error diagnostics ever published for the soak documents', errors.length === 0, short(errors, 400));
}

// ---------------------------------------------------------------- accounting and shutdown

function checkAccounting() {
  const bad = [];
  for (const [id, r] of wire.sent) if (r.responses !== 1) bad.push(`${id} ${r.method}: ${r.responses} responses`);
  check(`every request sent got exactly one response (${wire.sent.size} requests)`, bad.length === 0, short(bad, 500));
  check('no response for an id the client never sent', wire.strayResponses.length === 0,
    short(wire.strayResponses.map((m) => m.id)));
  check('no capability registered twice under the same id', duplicateRegistrations.length === 0,
    duplicateRegistrations.length ? short(duplicateRegistrations) : `${registered.size} registrations: ${short([...registered.keys()])}`);
}

async function shutdown() {
  try {
    const r = await request('shutdown');
    check('shutdown answered', r === null || r === undefined, r ? `result ${short(r)}` : '');
  } catch (e) {
    check('shutdown answered', false, e.message);
  }
  notify('exit');
  let timer;
  const ended = await Promise.race([childExited, new Promise((r) => { timer = setTimeout(() => r(null), opts.timeoutMs); })]);
  clearTimeout(timer);
  check('server process exited with status 0 after shutdown/exit', ended && ended.code === 0,
    ended ? (ended.signal ? `signal ${ended.signal}` : `status ${ended.code}`) : `still running after ${opts.timeoutMs / 1000} s`);
}

function report() {
  const fmt = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}×${v}`).join(', ') || 'none';
  log(`server->client requests: ${[...wire.serverRequests.values()].reduce((a, b) => a + b, 0)} (${fmt(wire.serverRequests)})`);
  log(`server->client notifications: ${fmt(wire.serverNotifications)}`);
  const ids = wire.serverRequestIds.map((i) => JSON.stringify(i));
  const dup = ids.filter((i, k) => ids.indexOf(i) !== k);
  if (dup.length) log(`note: the server reused request ids ${short([...new Set(dup)])}`);
}

// ---------------------------------------------------------------- cleanup

let cleanedUp = false;
async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  try { conn?.dispose(); } catch { /* already gone */ }
  if (child && child.pid && !childExit) {
    // Our child leads its own process group (detached): end it and what it started.
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    const gone = await Promise.race([childExited, sleep(5000).then(() => null)]);
    if (!gone) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
  } else if (child && child.pid) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* group already empty */ }
  }
  if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
  else process.stdout.write(`kept ${tmp}\n`);
}

async function finish(code) {
  if (finishing) return new Promise(() => {}); // the first caller exits
  finishing = true;
  clearTimeout(watchdog);
  await cleanup();
  if (results.failed > 0 && stderrTail.length && !opts.verbose) {
    process.stdout.write(`---- last ${stderrTail.length} lines of the server's stderr ----\n`);
    for (const l of stderrTail) process.stdout.write(`[server] ${l}\n`);
    process.stdout.write('----\n');
  }
  process.stdout.write(`${results.passed} passed, ${results.failed} failed\n`);
  process.exit(code ?? (results.failed === 0 && results.passed > 0 ? 0 : 1));
}

// vscode-jsonrpc can leave a failed write to a dead server's stdin (EPIPE)
// unhandled; that is the server going away, which the checks report.
process.on('unhandledRejection', (e) => log(`note: unhandled rejection: ${e?.message ?? e}`));

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { check(`interrupted by ${sig}`, false); finish(1); });
}
const watchdog = setTimeout(() => {
  check(`whole run within ${opts.totalTimeoutMs / 1000} s`, false);
  finish(1);
}, opts.totalTimeoutMs);

// ---------------------------------------------------------------- main

async function main() {
  if (opts.scenario === 'soak') writeSoakFiles();
  startServer();
  const mainPath = path.join(ws, 'main.go');
  mainDoc = new Doc(pathToFileURL(mainPath).href, fs.readFileSync(mainPath, 'utf8'));
  greetUri = pathToFileURL(path.join(ws, 'greet.go')).href;

  const tInit = performance.now();
  let init;
  try {
    init = await request('initialize', {
      processId: process.pid,
      clientInfo: { name: 'gopls-guard-e2e', version: '0.1.0' },
      locale: 'en',
      rootUri: workspaceFolder().uri,
      rootPath: ws,
      workspaceFolders: [workspaceFolder()],
      initializationOptions: {},
      trace: 'off',
      capabilities: {
        general: { positionEncodings: ['utf-16'] },
        workspace: {
          applyEdit: false,
          workspaceFolders: true,
          configuration: true,
          didChangeConfiguration: { dynamicRegistration: true },
          didChangeWatchedFiles: { dynamicRegistration: true },
          workspaceEdit: { documentChanges: true },
        },
        textDocument: {
          synchronization: { dynamicRegistration: true, willSave: false, willSaveWaitUntil: false, didSave: true },
          hover: { dynamicRegistration: true, contentFormat: ['markdown', 'plaintext'] },
          definition: { dynamicRegistration: true, linkSupport: false },
          publishDiagnostics: { relatedInformation: true, versionSupport: true, tagSupport: { valueSet: [1, 2] } },
        },
        window: {
          workDoneProgress: true,
          showMessage: { messageActionItem: { additionalPropertiesSupport: false } },
        },
      },
    });
  } catch (e) {
    check('initialize answered', false, e.message);
    return finish(1);
  }
  const caps = init?.capabilities ?? {};
  const sync = typeof caps.textDocumentSync === 'number' ? caps.textDocumentSync : caps.textDocumentSync?.change;
  check('initialize answered', !!init?.capabilities,
    `${(performance.now() - tInit).toFixed(0)} ms, server ${short(init?.serverInfo ?? 'unnamed')}`);
  check('server syncs incrementally (textDocumentSync change = 2)', sync === 2, `change = ${sync}`);
  check('server uses UTF-16 positions', caps.positionEncoding === undefined || caps.positionEncoding === 'utf-16',
    `positionEncoding ${caps.positionEncoding ?? 'not given (UTF-16)'}`);
  check('server offers hover and definition', !!caps.hoverProvider && !!caps.definitionProvider);

  notify('initialized', {});
  notify('workspace/didChangeConfiguration', { settings: {} });
  notify('textDocument/didOpen', {
    textDocument: { uri: mainDoc.uri, languageId: 'go', version: mainDoc.version, text: mainDoc.text },
  });
  openSoakDocs();
  makeUnsavedEdits();
  check('main.go on disk is unchanged (edits are unsaved)',
    fs.readFileSync(mainPath, 'utf8') === fs.readFileSync(path.join(opts.fixture, 'main.go'), 'utf8'));

  const tFirst = performance.now();
  await checkUnsaved('unsaved');
  log(`first checks took ${((performance.now() - tFirst) / 1000).toFixed(2)} s (includes the workspace load)`);

  if (opts.scenario === 'kill') {
    if (await killBetweenRequests()) await checkUnsaved('after kill 1');
    if (await killDuringHover()) await checkUnsaved('after kill 2');
  }
  if (opts.scenario === 'proactive' && await awaitProactiveRestart()) {
    // A figure, not a check: the new server seen -> the first answers.
    const t = performance.now();
    await checkUnsaved('right after the proactive restart');
    console.log(`BENCH proactive_restart_to_answers_ms=${(performance.now() - t).toFixed(0)}`);
  }
  if (opts.scenario === 'soak') {
    await soak();
    await checkUnsaved('after the soak');
  }

  // The session goes on: one more unsaved edit, seen by whichever server runs now.
  const docLine = mainDoc.lineOf(BYE_DOC);
  didChange(mainDoc, [{
    range: { start: { line: docLine, character: 0 }, end: { line: docLine, character: BYE_DOC.length } },
    text: BYE_DOC_2,
  }], 'rewrite the doc comment of Bye');
  await checkHover('after a later edit', byeCallPos(), [BYE_SIG, BYE_DOC_2.replace(/^\/\/ /, '')]);
  await checkDiagnosticsClean();

  await shutdown();
  checkAccounting();
  if (opts.escapeSlashes) {
    check('every outgoing message went out with its slashes escaped', escaping.methods.has('textDocument\\/hover'),
      `${escaping.messages} messages, ${escaping.slashes} escaped slashes, methods ${short([...escaping.methods], 300)}`);
  }
  report();
  log(`scenario ${opts.scenario} took ${((performance.now() - T0) / 1000).toFixed(2)} s`);
  return finish();
}

main().catch((e) => {
  check('client ran without an internal error', false, e?.stack ?? String(e));
  finish(1);
});
