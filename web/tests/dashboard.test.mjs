// The dashboard in a real browser (issue 19): Debian's chromium, headless, against a
// `flowscope serve` this test starts and feeds (harness.mjs). Every figure the page shows is
// compared with the API's answer to the same question, asked here with a Bearer key.
// Screenshots of every page (1440x900) go to FLOWSCOPE_TEST_ARTIFACTS, and to docs/screenshots
// when FLOWSCOPE_UPDATE_SCREENSHOTS=1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startWorld, newPage, login, LAB_CIDR, httpCall } from './harness.mjs';
import { count } from '../src/format.js';

let world;
let adminKey;

async function shot(page, name) {
  const file = join(world.artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env.FLOWSCOPE_UPDATE_SCREENSHOTS === '1') {
    const docs = join(process.env.FLOWSCOPE_SOURCE_DIR, 'docs', 'screenshots');
    mkdirSync(docs, { recursive: true });
    copyFileSync(file, join(docs, `${name}.png`));
  }
}

const hashParams = (page) => new URLSearchParams(new URL(page.url()).hash.split('?')[1] || '');

function inCidr(addr, cidr) {
  const [net, bits] = cidr.split('/');
  const n = (a) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(addr)) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(addr) / size) === Math.floor(n(net) / size);
}

before(async () => {
  world = await startWorld();
  adminKey = await world.key('noc', 'noc-secret');
});
after(async () => {
  if (world) await world.stop();
});

test('a wrong password shows the error; the right one logs in and shows user and groups', async () => {
  const { context, page } = await newPage(world);
  await page.goto(world.base + '/');
  await shot(page, 'login');
  await page.fill('#login-user', 'noc');
  await page.fill('#login-password', 'wrong');
  await page.click('#login-submit');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
  assert.match(await page.textContent('#login-error'), /bad_credentials|password|credentials/i);
  assert.equal(await page.$('#who-user'), null);
  await page.fill('#login-password', 'noc-secret');
  const t0 = Date.now();
  const [loginResponse] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/login')),
    page.click('#login-submit'),
  ]);
  const t1 = Date.now();
  await page.waitForSelector('#ov-chart[data-state="ready"]');
  const firstScreenMs = Date.now() - t1;
  assert.equal(loginResponse.status(), 200);
  console.log(`login (argon2id) ${t1 - t0} ms, then the first screen with data ${firstScreenMs} ms`);
  // The goal is 1 s on the demo store (docs/web.md has the measurement); the bound here leaves
  // room for a loaded 2-core CI machine and for sanitizer builds.
  const bound = process.env.FLOWSCOPE_SANITIZED === '1' ? 30000 : 5000;
  assert.ok(firstScreenMs < bound, `the overview took ${firstScreenMs} ms`);
  assert.equal(await page.textContent('#who-user'), 'noc');
  assert.equal(await page.textContent('#who-groups'), 'all data');
  // The key is in an HttpOnly, SameSite=Strict cookie that no script can read.
  const cookie = (await context.cookies()).find((c) => c.name === 'flowscope_key');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '');
  await context.close();
});

test('the overview chart renders and its figures are the API answer to the same question', async () => {
  const { context, page } = await newPage(world);
  await login(page, world, 'noc', 'noc-secret');
  await page.waitForSelector('#ov-chart[data-state="ready"] canvas');
  await page.waitForFunction(() => document.querySelector('#kpi-sessions').textContent !== '–', null, { timeout: 15000 });
  await shot(page, 'overview');
  const series = Number(await page.getAttribute('#ov-chart', 'data-series'));
  const shown = await page.$$eval('#ov-table tbody tr:not(.others) td[data-value]', (tds) => tds.map((td) => Number(td.dataset.value)));
  const r = (await world.apiGet(adminKey, '/api/v1/stat', { window: 'last 1h', group: 'service', count: 'bytes', dir: 'snd', top: 10, series: '1m' })).json();
  assert.ok(r.rows.length > 1, 'the generated data has several services');
  assert.equal(series, r.rows.length + (r.others && r.others.groups ? 1 : 0));
  assert.deepEqual(shown, r.rows.map((row) => row.bytes_sent));
  assert.equal(Number(await page.getAttribute('#ov-meta', 'data-total')), r.total.bytes_sent);
  // The stored sessions figure is the server's.
  const h = (await world.apiGet(adminKey, '/api/v1/health')).json();
  assert.equal(await page.textContent('#kpi-stored'), count(h.sessions_stored));
  // 50 series stay responsive: render them and hover the chart.
  await page.goto(world.base + '/#/overview?group=host&top=50');
  const t0 = Date.now();
  await page.waitForSelector('#ov-chart[data-state="ready"]');
  const n50 = Number(await page.getAttribute('#ov-chart', 'data-series'));
  await page.hover('#ov-chart', { position: { x: 700, y: 150 } });
  console.log(`overview with ${n50} series: ${Date.now() - t0} ms`);
  assert.ok(n50 >= 50, `${n50} series`);
  await context.close();
});

test('the time range picker puts the range into the URL, presets and absolute', async () => {
  const { context, page } = await newPage(world);
  await login(page, world, 'noc', 'noc-secret');
  await page.selectOption('#range-preset', 'LastFifteenMinutes');
  await page.waitForFunction(() => location.hash.includes('range=LastFifteenMinutes'));
  await page.waitForSelector('#ov-chart[data-state="ready"]');
  await page.selectOption('#range-preset', 'custom');
  const now = new Date();
  const from = new Date(now.getTime() - 3600e3).toISOString().slice(0, 16);
  const to = new Date(now.getTime() + 60e3).toISOString().slice(0, 16);
  await page.fill('#range-from', from);
  await page.fill('#range-to', to);
  await page.click('#range-apply');
  await page.waitForFunction(() => location.hash.includes('from='));
  const p = hashParams(page);
  assert.equal(p.get('from').slice(0, 16), from);
  assert.equal(p.get('to').slice(0, 16), to);
  // A shared link opens the same view: a new page on the same URL shows the same range.
  const url = page.url();
  const other = await context.newPage();
  await other.goto(url);
  await other.waitForSelector('#ov-chart[data-state="ready"]');
  assert.equal(await other.inputValue('#range-preset'), 'custom');
  assert.equal(await other.inputValue('#range-from'), from);
  await context.close();
});

test('the filter bar completes field names, applies a filter and shows a parse error at its position', async () => {
  const { context, page } = await newPage(world);
  await login(page, world, 'noc', 'noc-secret');
  await page.click('#filter-input');
  await page.keyboard.type('SRVP');
  await page.waitForSelector('#filter-complete:not([hidden]) li');
  const first = await page.textContent('#filter-complete li.sel b');
  assert.equal(first, 'SRVPORT');
  await shot(page, 'filter-completion');
  await page.keyboard.press('Tab');
  assert.equal(await page.inputValue('#filter-input'), 'SRVPORT ');
  await page.keyboard.type('== 53');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.includes('filter='));
  assert.equal(hashParams(page).get('filter'), 'SRVPORT == 53');
  // The chart was already "ready" with the unfiltered view: wait for the filtered table itself
  // (one service answers on port 53), not for a state the old view also had.
  await page.waitForFunction(() => document.querySelectorAll('#ov-table tbody tr:not(.others)').length === 1);
  await page.waitForSelector('#ov-chart[data-state="ready"]');
  const labels = await page.$$eval('#ov-table tbody tr:not(.others) td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
  const dns = (await world.apiGet(adminKey, '/api/v1/stat', { window: 'last 1h', group: 'service', dir: 'snd', top: 10, filter: 'SRVPORT == 53' })).json();
  assert.equal(dns.rows.length, 1);
  assert.deepEqual(labels, [dns.rows[0].service]);

  const bad = 'SRVPORT == 443 && CLNIP = 10.0.0.300';
  await page.fill('#filter-input', bad);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#filter-error:not([hidden])');
  const api = await world.apiGet(adminKey, '/api/v1/stat', { window: 'last 1h', filter: bad });
  assert.equal(api.status, 400);
  const pos = api.json().error.position;
  assert.equal(typeof pos, 'number');
  const caret = await page.textContent('#filter-caret');
  assert.equal(caret.indexOf('^'), pos, `caret at ${caret.indexOf('^')}, parser says ${pos}`);
  assert.equal(Number(await page.getAttribute('#filter-caret', 'data-column')), pos + 1);
  assert.match(await page.textContent('#filter-error-text'), new RegExp(api.json().error.message.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await shot(page, 'filter-error');
  await context.close();
});

test('a click on a top-N row adds it to the filter and the view follows', async () => {
  const { context, page } = await newPage(world);
  await login(page, world, 'noc', 'noc-secret');
  await page.goto(world.base + '/#/top?by=host');
  await page.waitForSelector('#top-table[data-state="ready"] tr.drill');
  await shot(page, 'top-hosts');
  const r = (await world.apiGet(adminKey, '/api/v1/stat', { window: 'last 1h', group: 'host', count: 'bytes', top: 25 })).json();
  const shownBytes = await page.$$eval('#top-table tbody tr.drill', (trs) => trs.map((tr) => Number(tr.querySelector('td[data-value]').dataset.value)));
  assert.deepEqual(shownBytes, r.rows.map((row) => row.bytes));
  const second = r.rows[1].addr;
  await page.click('#top-table tbody tr.drill:nth-child(2) td:nth-child(3)');
  await page.waitForFunction(() => location.hash.includes('filter='));
  assert.equal(hashParams(page).get('filter'), `ADDR == ${second}`);
  // The unfiltered table was "ready" too: wait until the filtered one (the host first) is shown.
  await page.waitForFunction((host) => document.querySelector('#top-table tbody tr.drill td:nth-child(2)')?.textContent === host, second);
  await page.waitForSelector('#top-table[data-state="ready"] tr.drill');
  assert.equal(await page.inputValue('#filter-input'), `ADDR == ${second}`);
  // The view follows: the host is now first, and the table is the filtered answer.
  const f = (await world.apiGet(adminKey, '/api/v1/stat', { window: 'last 1h', group: 'host', count: 'bytes', top: 25, filter: `ADDR == ${second}` })).json();
  assert.equal(f.rows[0].addr, second);
  const cells = await page.$$eval('#top-table tbody tr.drill td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(cells, f.rows.map((row) => row.addr));
  // A second drill-down ANDs to the first.
  await page.click('#top-tabs a[data-by="service"]');
  await page.waitForSelector('#top-table[data-state="ready"] tr.drill');
  await page.click('#top-table tbody tr.drill:nth-child(1) td:nth-child(2)');
  await page.waitForFunction(() => decodeURIComponent(location.hash).includes('SERVICE'));
  assert.match(hashParams(page).get('filter'), new RegExp(`^\\(ADDR == ${second.replace(/\./g, '\\.')}\\) && SERVICE == "`));
  for (const by of ['pair', 'country', 'as', 'iface', 'group', 'app']) {
    await page.goto(world.base + `/#/top?by=${by}`);
    await page.waitForSelector('#top-table[data-state="ready"]');
  }
  await page.goto(world.base + '/#/top?by=group');
  await page.waitForSelector('#top-table[data-state="ready"]');
  await shot(page, 'top-ip-groups');
  await context.close();
});

test('the sessions table pages, and its CSV download is the API answer for the same filter', async () => {
  const { context, page } = await newPage(world);
  await login(page, world, 'noc', 'noc-secret');
  const filter = 'SRVPORT == 443';
  await page.goto(world.base + `/#/sessions?filter=${encodeURIComponent(filter)}&limit=20`);
  await page.waitForSelector('#s-table[data-state="ready"]');
  assert.equal(await page.getAttribute('#s-table', 'data-rows'), '20');
  await shot(page, 'sessions');
  await page.click('#s-next');
  await page.waitForFunction(() => document.querySelector('#s-page').textContent.startsWith('page 2'));
  const page2 = await page.$$eval('.sessions-table tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
  const api1 = (await world.apiGet(adminKey, '/api/v1/sessions', { window: 'last 1h', filter, limit: 20 })).json();
  const api2 = (await world.apiGet(adminKey, '/api/v1/sessions', { window: 'last 1h', filter, limit: 20, cursor: api1.next_cursor })).json();
  assert.deepEqual(page2, api2.rows.map((r) => String(r[api2.fields[0]])));
  // Column choice.
  await page.click('#cols summary');
  for (const c of await page.$$eval('#colgrid input:checked', (is) => is.map((i) => i.value))) await page.uncheck(`#colgrid input[value="${c}"]`);
  for (const c of ['session_id', 'cln_addr', 'srv_port', 'total_bytes']) await page.check(`#colgrid input[value="${c}"]`);
  await page.click('#cols-apply');
  await page.waitForFunction(() => location.hash.includes('cols='));
  await page.waitForSelector('#s-table[data-state="ready"]');
  assert.deepEqual(await page.$$eval('.sessions-table th', (ths) => ths.map((t) => t.textContent)), ['session_id', 'cln_addr', 'srv_port', 'total_bytes']);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const csv = readFileSync(await download.path(), 'utf8');
  const fromApi = await world.apiGet(adminKey, '/api/v1/sessions', { window: 'last 1h', filter, fields: 'session_id,cln_addr,srv_port,total_bytes', format: 'csv' });
  assert.equal(fromApi.status, 200);
  assert.ok(csv.split('\n').length > 50, `${csv.split('\n').length} lines`);
  assert.equal(csv, fromApi.text);
  await context.close();
});

test('exporters, host and admin pages show the server figures', async () => {
  const { context, page } = await newPage(world);
  await login(page, world, 'noc', 'noc-secret');
  await page.goto(world.base + '/#/exporters');
  await page.waitForSelector('#ex-table[data-state="ready"]');
  await page.waitForSelector('#if-table[data-state="ready"]');
  const ex = (await world.apiGet(adminKey, '/api/v1/exporters')).json();
  const shown = await page.$$eval('#ex-table tbody tr', (trs) => trs.map((tr) => tr.children[0].textContent));
  assert.deepEqual(shown, ex.exporters.map((e) => e.address));
  assert.ok(shown.length >= 1);
  await shot(page, 'exporters');
  const top = (await world.apiGet(adminKey, '/api/v1/stat', { window: 'last 1h', group: 'host', top: 1 })).json();
  const host = top.rows[0].addr;
  await page.goto(world.base + `/#/host/${host}`);
  await page.waitForSelector('#host-chart[data-state="ready"]');
  await page.waitForSelector('#host-peers tr.drill');
  const info = (await world.apiGet(adminKey, `/api/v1/ipinfo/${host}`)).json();
  const dl = await page.textContent('#host-info');
  const values = Object.values(info).map((v) => (typeof v === 'object' ? v.name : v));
  assert.ok(values.length >= 2 && info.ip_group.name === 'Servers', JSON.stringify(info));
  for (const v of values) assert.ok(dl.includes(String(v)), `${v} in ${dl}`);
  await shot(page, 'host');
  await page.goto(world.base + '/#/admin');
  await page.waitForSelector('#adm-users-table');
  const users = await page.$$eval('#adm-users-table tbody tr td:first-child', (tds) => tds.map((t) => t.textContent).sort());
  assert.deepEqual(users, ['lab', 'noc']);
  // A token made on the page works on the API.
  await page.fill('#adm-token-form input[name="user"]', 'lab');
  await page.fill('#adm-token-form input[name="label"]', 'browser test');
  await page.click('#adm-token-form button');
  await page.waitForSelector('#adm-new-token:not([hidden])');
  const token = (await page.textContent('#adm-new-token')).match(/fst_\S+/)[0];
  assert.equal((await world.apiGet(token, '/api/v1/me')).json().user, 'lab');
  await shot(page, 'admin');
  await context.close();
});

test('a restricted user sees only its IP group, and no admin page', async () => {
  const { context, page } = await newPage(world);
  await login(page, world, 'lab', 'lab-secret');
  assert.equal(await page.textContent('#who-groups'), 'labteam');
  assert.equal(await page.$('#nav a[data-page="admin"]'), null);
  await page.goto(world.base + '/#/top?by=host&n=100');
  await page.waitForSelector('#top-table[data-state="ready"]');
  const hosts = await page.$$eval('#top-table tbody tr.drill td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
  const labKey = await world.key('lab', 'lab-secret');
  const mine = (await world.apiGet(labKey, '/api/v1/stat', { window: 'last 1h', group: 'host', top: 100 })).json();
  const all = (await world.apiGet(adminKey, '/api/v1/stat', { window: 'last 1h', group: 'host', top: 100 })).json();
  assert.deepEqual(hosts, mine.rows.map((r) => r.addr));
  assert.ok(mine.total.sessions > 0 && mine.total.sessions < all.total.sessions, `${mine.total.sessions} of ${all.total.sessions}`);
  await page.goto(world.base + '/#/sessions?cols=cln_addr,srv_addr&limit=1000');
  await page.waitForSelector('#s-table[data-state="ready"]');
  const pairs = await page.$$eval('.sessions-table tbody tr', (trs) => trs.map((tr) => [tr.children[0].textContent, tr.children[1].textContent]));
  assert.ok(pairs.length > 0);
  for (const [c, s] of pairs) assert.ok(inCidr(c, LAB_CIDR) || inCidr(s, LAB_CIDR), `${c} -> ${s} is outside ${LAB_CIDR}`);
  // The admin page's API refuses this user even when asked directly from the page.
  const status = await page.evaluate(async () => (await fetch('/api/v1/admin/users')).status);
  assert.equal(status, 403);
  await shot(page, 'restricted-user');
  await context.close();
});

test('a POST without the CSRF token is refused; logout ends the key in the cookie', async () => {
  const { context, page } = await newPage(world);
  await login(page, world, 'noc', 'noc-secret');
  const forged = await page.evaluate(async () => {
    const r = await fetch('/api/v1/admin/groups', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"forged"}' });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(forged.status, 403);
  assert.equal(forged.body.error.code, 'csrf');
  const groups = (await world.apiGet(adminKey, '/api/v1/admin/groups')).json();
  assert.ok(!groups.groups.some((g) => g.name === 'forged'));
  const key = (await context.cookies()).find((c) => c.name === 'flowscope_key').value;
  assert.equal((await world.apiGet(key, '/api/v1/me')).status, 200);
  await page.click('#logout');
  await page.waitForSelector('#login-form');
  assert.equal((await world.apiGet(key, '/api/v1/me')).status, 401);
  assert.equal((await httpCall('GET', `${world.base}/api/v1/me`, { Cookie: `flowscope_key=${key}` })).status, 401);
  assert.equal((await context.cookies()).find((c) => c.name === 'flowscope_key'), undefined);
  await page.goto(world.base + '/#/overview');
  await page.waitForSelector('#login-form');
  await context.close();
});
