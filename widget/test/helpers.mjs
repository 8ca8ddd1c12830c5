// Test harness: the real chat-api binary on a free port with a fresh SQLite
// database, a host page on another origin, and Debian's Chromium.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { inflateSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..', '..');
export const BIN = process.env.CHAT_API_BIN
  || join(process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'chat-target'), 'debug', 'chat-api');

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
    s.on('error', fail);
  });
}

/** Starts chat-api in demo mode; resolves once it listens. */
export async function startServer({ port, dataDir, env = {} } = {}) {
  port = port || await freePort();
  dataDir = dataDir || mkdtempSync(join(tmpdir(), 'chat-widget-test-'));
  const proc = spawn(BIN, ['serve'], {
    env: {
      ...process.env,
      CHAT__SERVER__PORT: String(port),
      CHAT__DEMO__ENABLED: 'true',
      CHAT__DATABASE__URL: `sqlite://${dataDir}/chat.db?mode=rwc`,
      CHAT__ATTACHMENTS__DIR: join(dataDir, 'files'),
      CHAT__DATABASE__SQLITE_SYNCHRONOUS: 'normal',
      CHAT__SERVER__WIDGET_DIR: join(root, 'widget', 'dist'),
      CHAT__SERVER__DASHBOARD_DIR: join(root, 'frontend', 'dist'),
      CHAT__LOG__FORMAT: 'json',
      // The bot's turns too (outcome and time), for a failure's log.
      CHAT__LOG__FILTER: 'info,chat_service=debug,sqlx=warn,sea_orm=warn',
      CHAT__METRICS__LISTEN: '127.0.0.1:0',
      CHAT_CONFIG: '/nonexistent/chat.toml',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`chat-api did not start:\n${output}`)), 30000);
    const onData = (chunk) => {
      output += chunk;
      // The API's own line, not the metrics listener's.
      if (output.includes('"listening"')) { clearTimeout(timer); ok(); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`chat-api exited ${code}:\n${output}`)); });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url, port, dataDir,
    /** What the server printed so far (the last `bytes` of it). */
    log(bytes = 12000) { return output.slice(-bytes); },
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((ok) => proc.on('exit', ok));
      proc.kill('SIGTERM');
      await exited;
    },
    cleanup() { rmSync(dataDir, { recursive: true, force: true }); },
  };
}

/** Runs `body`; when it fails, the error carries the tail of each
 * server's log, so a failure seen only in CI says what the server did. */
export async function explained(servers, body) {
  try {
    return await body();
  } catch (e) {
    const logs = servers().filter(Boolean).map((s, i) => `--- server ${i + 1} log ---\n${s.log()}`).join('\n');
    if (e instanceof Error) e.message += `\n${logs}`;
    throw e;
  }
}

/** Settings that put a server on this machine's Redis under `prefix`. */
export function clusterEnv(prefix) {
  return { CHAT__REDIS__URL: process.env.CHAT_TEST_REDIS_URL || 'redis://127.0.0.1:6379', CHAT__REDIS__PREFIX: prefix };
}

/** Resolves once the server's cluster bridge is up. */
export async function bridgeUp(api) {
  for (let i = 0; i < 200; i++) {
    const r = await (await fetch(`${api}/readyz`)).json();
    if (r.redis === 'ok') return;
    await new Promise((ok) => setTimeout(ok, 25));
  }
  throw new Error('the cluster bridge never came up');
}

/** Kills the Redis connections named with `prefix` (only those), as an
 * outage would; the server resyncs its sockets once it reconnects. Then
 * the prefix's keys are deleted by `forgetPrefix`. */
export function killBridge(prefix) {
  const list = execFileSync('redis-cli', ['CLIENT', 'LIST'], { encoding: 'utf8' });
  let killed = 0;
  for (const line of list.split('\n')) {
    const name = /\bname=(\S*)/.exec(line)?.[1] ?? '';
    const id = /\bid=(\d+)/.exec(line)?.[1];
    if (id && name.startsWith(`${prefix}:`)) { execFileSync('redis-cli', ['CLIENT', 'KILL', 'ID', id]); killed++; }
  }
  return killed;
}

export function forgetPrefix(prefix) {
  const keys = execFileSync('redis-cli', ['--scan', '--pattern', `${prefix}:*`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  if (keys.length) execFileSync('redis-cli', ['DEL', ...keys]);
}

/** Serves one HTML page from its own origin. */
export async function hostPage(html) {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

export function widgetPage(api, { css = '', init = {} } = {}) {
  const opts = JSON.stringify({ apiUrl: api, tenantId: 'demo-tenant', ...init });
  return `<!doctype html><html><head><meta charset="utf-8"><style>${css}</style></head>
<body><h1>Host page</h1><p>Some host content.</p><div><button>Host button</button><input value="host input"></div>
<script src="${api}/chat-widget.js"></script><script>CallCenterChat.init(${opts});</script></body></html>`;
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--font-render-hinting=none'],
  });
}

export async function login(api, email = 'agent@demo.com', password = 'Test@1234') {
  const res = await fetch(`${api}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw new Error(`login ${res.status}`);
  return (await res.json()).token;
}

export async function agentSend(api, token, sessionId, body) {
  const res = await fetch(`${api}/api/v1/chat/sessions/${sessionId}/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ body }),
  });
  if (res.status !== 201) throw new Error(`agent send ${res.status}`);
  return (await res.json()).message;
}

/** An agent's socket that records every frame and can wait for one. */
export async function agentSocket(api, token) {
  const ws = new WebSocket(`${api.replace(/^http/, 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } });
  const frames = [];
  const waiters = [];
  ws.on('message', (data) => {
    const f = JSON.parse(String(data));
    frames.push(f);
    for (const w of [...waiters]) if (w.pred(f)) { waiters.splice(waiters.indexOf(w), 1); w.ok(f); }
  });
  await new Promise((ok, fail) => { ws.on('open', ok); ws.on('error', fail); });
  return {
    frames,
    waitFor(pred, ms = 10000) {
      const hit = frames.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((ok, fail) => {
        const w = { pred, ok: (f) => { clearTimeout(t); ok(f); } };
        const t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); fail(new Error('no matching frame')); }, ms);
        waiters.push(w);
      });
    },
    send(type, payload) { ws.send(JSON.stringify({ type, payload })); },
    close() { ws.close(); },
  };
}

/** The bodies of the widget's messages, in page order. */
export function shownMessages(page) {
  return page.locator('call-center-chat .log .m').evaluateAll((nodes) => nodes.map((n) => ({
    seq: n.getAttribute('data-seq') === null ? null : Number(n.getAttribute('data-seq')),
    cls: n.className,
    text: Array.from(n.childNodes).filter((c) => c.nodeType === 3).map((c) => c.textContent).join(''),
  })));
}

/** Sets the demo tenant's bot (the demo admin's token). */
export async function setBot(api, token, mode) {
  const res = await fetch(`${api}/api/v1/bot`, {
    method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ mode }),
  });
  if (res.status !== 200) throw new Error(`set bot ${res.status}`);
}

/** Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes). */
export function decodePng(buf) {
  let i = 8; let w = 0; let h = 0; let bpp = 3; const idat = [];
  while (i < buf.length) {
    const len = buf.readUInt32BE(i); const type = buf.toString('latin1', i + 4, i + 8);
    const chunk = buf.subarray(i + 8, i + 8 + len);
    if (type === 'IHDR') { w = chunk.readUInt32BE(0); h = chunk.readUInt32BE(4); bpp = chunk[9] === 6 ? 4 : 3; }
    if (type === 'IDAT') idat.push(chunk);
    i += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = w * bpp; const out = Buffer.alloc(h * stride); let p = 0;
  for (let y = 0; y < h; y++) {
    const f = raw[p++]; const line = out.subarray(y * stride, (y + 1) * stride);
    const prev = y ? out.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? line[x - bpp] : 0; const b = prev[x]; const c = x >= bpp ? prev[x - bpp] : 0;
      let v = raw[p++];
      if (f === 1) v += a; else if (f === 2) v += b; else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) { const q = a + b - c; const pa = Math.abs(q - a); const pb = Math.abs(q - b); const pc = Math.abs(q - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      line[x] = v & 255;
    }
  }
  return { w, h, bpp, data: out };
}

/** Pixels whose colour differs by more than `tolerance` in any channel. */
export function differingPixels(pngA, pngB, tolerance = 8) {
  const a = decodePng(pngA); const b = decodePng(pngB);
  if (a.w !== b.w || a.h !== b.h) return Infinity;
  let n = 0;
  for (let i = 0; i < a.data.length; i += a.bpp) {
    for (let c = 0; c < 3; c++) if (Math.abs(a.data[i + c] - b.data[i + c]) > tolerance) { n++; break; }
  }
  return n;
}

/** A real SMTP server (aiosmtpd, from the test venv) storing what it
 * accepts; `mails()` reads them back, `env` points a server at it. */
export async function smtpSink() {
  const { mkdtempSync: mkd, readdirSync, readFileSync } = await import('node:fs');
  const python = process.env.CHAT_TEST_PYTHON || join(homedir(), '.cache', 'chat-venv', 'bin', 'python');
  const dir = mkd(join(tmpdir(), 'chat-widget-mail-'));
  const proc = spawn(python, [join(root, 'crates', 'chat-api', 'tests', 'support', 'smtp_server.py'), dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((ok, fail) => {
    let out = '';
    proc.stdout.on('data', (c) => { out += c; const m = /PORT (\d+)/.exec(out); if (m) ok(Number(m[1])); });
    proc.on('exit', (code) => fail(new Error(`aiosmtpd exited ${code} (is it in ${python}?)`)));
  });
  /** Quoted-printable and headers undone enough to read text and links. */
  const decode = (raw) => raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  return {
    env: {
      CHAT__SMTP__URL: `smtp://127.0.0.1:${port}?tls=none`,
      CHAT__SMTP__FROM: 'Demo support <help@demo.test>',
      CHAT__EMAIL__UNSEEN_DELAY_SECS: '1',
      CHAT__EMAIL__POLL_INTERVAL_MS: '100',
    },
    mails() {
      return readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().map((f) => decode(readFileSync(join(dir, f), 'utf8')));
    },
    async waitFor(n, timeout = 15000) {
      const until = Date.now() + timeout;
      for (;;) {
        const got = this.mails();
        if (got.length >= n) return got;
        if (Date.now() > until) throw new Error(`${n} emails expected, ${got.length} arrived`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close() { proc.kill(); rmSync(dir, { recursive: true, force: true }); },
  };
}
