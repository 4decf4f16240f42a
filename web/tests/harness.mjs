// The browser tests' world: a `flowscope serve` on loopback with free ports (port 0 and its
// --ready-file) in a fresh directory, fed by `flowscope gen flows` until every session is
// stored, two users (an admin and one who may see one IP group only), and Debian's chromium
// driven by playwright-core. Everything is stopped by its PID at the end.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { chromium } from 'playwright-core';

// One request on its own connection (no keep-alive: the test holds no server thread idle).
function httpCall(method, url, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, text, json: () => JSON.parse(text) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
export { httpCall };

const bin = process.env.FLOWSCOPE_BINARY;
export const LAB_CIDR = '10.0.0.0/28';

function run(args) {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`flowscope ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function until(what, fn, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startWorld() {
  const dir = mkdtempSync(join(tmpdir(), 'flowscope-web-'));
  writeFileSync(join(dir, 'groups.toml'), `
[[group]]
name = "Lab"
id = 20
addresses = ["${LAB_CIDR}"]

[[group]]
name = "Clients"
id = 10
addresses = ["10.0.0.0/8"]

[[group]]
name = "Servers"
id = 30
addresses = ["198.18.0.0/15"]
`);
  const conf = join(dir, 'serve.toml');
  writeFileSync(conf, `
log_level = "warn"
[ingest]
listen = ["127.0.0.1"]
netflow_port = 0
ipfix_port = 0
sflow_port = 0
[stitch]
window = "1s"
[enrich]
ip_groups = "${join(dir, 'groups.toml')}"
services = "${join(process.env.FLOWSCOPE_SOURCE_DIR, 'data', 'services.tsv')}"
[store]
dir = "${join(dir, 'data')}"
commit_interval = "1s"
[query]
port = 0
[http]
port = 0
web_dir = "${process.env.FLOWSCOPE_WEB_DIST}"
`);
  run(['user', 'add', 'noc', '--role', 'admin', '-p', 'noc-secret', '-C', conf]);
  run(['user', 'groups', 'add', 'labteam', '-C', conf]);
  run(['user', 'grant', 'labteam', '--ip-group', 'Lab', '-C', conf]);
  run(['user', 'add', 'lab', '--role', 'analyst', '-g', 'labteam', '-p', 'lab-secret', '-C', conf]);
  const ready = join(dir, 'ready.json');
  const serve = spawn(bin, ['serve', '-C', conf, '--ready-file', ready], { stdio: ['ignore', 'inherit', 'inherit'] });
  const ports = await until('flowscope serve to be ready', () => existsSync(ready) && JSON.parse(readFileSync(ready, 'utf8')));
  const base = `http://127.0.0.1:${ports.http_port}`;
  // The last 50 minutes, one burst a minute of 40 to 200 flows (two exporters, a seed each), so
  // that the charts have a shape; then wait until the stitcher's window has closed every
  // session and the store holds them.
  const now = Date.now();
  for (let minute = 50; minute >= 1; minute -= 1) {
    const flows = 2 * Math.round(60 + 40 * Math.sin(minute / 4) + (minute % 7) * 6);
    run(['gen', 'flows', '--format', 'v9', '--to', `127.0.0.1:${ports.netflow_port}`, '--rate', '20000',
      '--count', String(flows), '--exporters', '2', '--seed', String(minute),
      '--start', new Date(now - minute * 60000).toISOString(), '-q']);
  }
  let previous = -1;
  await until('the sessions to be stored', async () => {
    const h = (await httpCall('GET', `${base}/api/v1/health`)).json();
    const done = h.sessions_stored > 0 && h.open_sessions === 0 && h.sessions_stored === previous;
    previous = h.sessions_stored;
    if (!done) await new Promise((r) => setTimeout(r, 800));
    return done;
  });
  const browser = await chromium.launch({
    executablePath: process.env.FLOWSCOPE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const artifacts = process.env.FLOWSCOPE_TEST_ARTIFACTS || join(dir, 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  return {
    dir, base, browser, artifacts, ports,
    // A session key through the API (Bearer), to ask the same questions the page asks.
    async key(user, password) {
      const r = await httpCall('POST', `${base}/api/v1/login`, { 'Content-Type': 'application/json' }, JSON.stringify({ user, password }));
      return r.json().key;
    },
    async apiGet(key, path, params = {}) {
      const url = new URL(path, base);
      for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
      return httpCall('GET', url, { Authorization: `Bearer ${key}` });
    },
    async stop() {
      await browser.close().catch(() => {});
      serve.kill('SIGTERM');
      await new Promise((r) => (serve.exitCode !== null ? r() : serve.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function newPage(world, { width = 1440, height = 900 } = {}) {
  const context = await world.browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  return { context, page };
}

export async function login(page, world, user, password) {
  await page.goto(world.base + '/');
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.waitForSelector('#who-user');
}
