// Host: everything about one address: IP info (reverse name, IP group, country, city, AS),
// its traffic over time (sent and received), its peers, services and countries.
import { api } from './api.js';
import { navigate, bucketFor } from './state.js';
import { stackedChart } from './chart.js';
import { esc } from './format.js';
import { topTable } from './top.js';

export function hostPage(ctx) {
  const addr = ctx.arg;
  ctx.root.innerHTML = `
    <form class="card hostform" id="host-form"><h2>Host</h2>
      <input id="host-addr" placeholder="an IPv4 or IPv6 address" value="${esc(addr)}"><button>Show</button></form>
    <div id="host-body"></div>`;
  ctx.root.querySelector('#host-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    navigate({}, 'host', ctx.root.querySelector('#host-addr').value.trim());
  });
  if (!addr) return null;
  const body = ctx.root.querySelector('#host-body');
  body.innerHTML = `
    <section class="card"><dl class="ipinfo" id="host-info"></dl></section>
    <section class="card"><div class="card-head"><h2>Traffic of ${esc(addr)}</h2></div><div id="host-chart" class="chart small" data-state="loading"></div></section>
    <div class="cols3">
      <section class="card"><h2>Peers</h2><div id="host-peers"></div></section>
      <section class="card"><h2>Services</h2><div id="host-services"></div></section>
      <section class="card"><h2>Countries</h2><div id="host-countries"></div></section>
    </div>`;
  let stopped = false;
  const own = `ADDR == ${addr}`;
  const filter = ctx.filter ? `(${ctx.filter}) && ${own}` : own;
  const sel = { ...ctx.time.api, filter };
  const bucket = bucketFor(ctx.time.seconds);
  const sub = { ...ctx, addFilter: ctx.addFilter };
  api.ipinfo(addr).then((info) => {
    if (stopped) return;
    const shown = (v) => (v && typeof v === 'object' ? (v.name ? `${v.name}${v.id !== undefined ? ` (id ${v.id})` : ''}` : JSON.stringify(v)) : v);
    const rows = Object.entries(info).map(([k, v]) => `<dt>${esc(k.replace(/_/g, ' '))}</dt><dd>${esc(shown(v))}</dd>`);
    ctx.root.querySelector('#host-info').innerHTML = rows.join('');
  }).catch((e) => !stopped && ctx.showError(e));
  // Sent (as client: client bytes; as server: server bytes) is the host's side: group by the
  // side's address and keep the host's own row.
  Promise.all([
    api.stat({ ...sel, group: 'cln_addr', count: 'bytes', dir: 'snd', top: 0, series: bucket.name, filter: `(${filter}) && CLNIP == ${addr}` }),
    api.stat({ ...sel, group: 'srv_addr', count: 'bytes', dir: 'snd', top: 0, series: bucket.name, filter: `(${filter}) && SRVIP == ${addr}` }),
    api.stat({ ...sel, group: 'cln_addr', count: 'bytes', dir: 'rcv', top: 0, series: bucket.name, filter: `(${filter}) && CLNIP == ${addr}` }),
    api.stat({ ...sel, group: 'srv_addr', count: 'bytes', dir: 'rcv', top: 0, series: bucket.name, filter: `(${filter}) && SRVIP == ${addr}` }),
  ]).then(([cs, ss, cr, sr]) => {
    if (stopped) return;
    const pts = (...answers) => {
      const m = new Map();
      for (const a of answers) for (const r of a.rows) for (const p of r.series || []) m.set(p.time, (m.get(p.time) || 0) + (p.value * 8) / bucket.seconds);
      return [...m.entries()].sort((a, b) => a[0] - b[0]);
    };
    const el = ctx.root.querySelector('#host-chart');
    stackedChart(el, [{ name: 'sent', points: pts(cs, ss) }, { name: 'received', points: pts(cr, sr) }], 'b/s', ctx.time.bounds);
    el.dataset.state = 'ready';
  }).catch((e) => !stopped && ctx.showError(e));
  const peers = api.stat({ ...sel, group: 'host', count: 'bytes', top: 11 }).then((r) => {
    r.rows = r.rows.filter((row) => row.addr !== addr).slice(0, 10);
    return r;
  });
  const tables = [
    ['#host-peers', peers],
    ['#host-services', api.stat({ ...sel, group: 'service', count: 'bytes', top: 10 })],
    ['#host-countries', api.stat({ ...sel, group: 'country', count: 'bytes', top: 10 })],
  ];
  for (const [id, promise] of tables) {
    promise.then((r) => !stopped && topTable(ctx.root.querySelector(id), r, sub)).catch((e) => !stopped && ctx.showError(e));
  }
  return () => {
    stopped = true;
  };
}
