// Exporters: per exporter its packets, records, rates, templates, sequence loss, restarts and
// drops by kind (GET /api/v1/exporters, the collector's counters since start), its sampling
// rate as the stored sessions carry it, and per interface the traffic of the view's window.
import { api } from './api.js';
import { si, count, bytes, esc } from './format.js';

export function exportersPage(ctx) {
  ctx.root.innerHTML = `
    <section class="card"><div class="card-head"><h2>Exporters</h2><span class="meta" id="ex-meta"></span></div>
      <div id="ex-table" data-state="loading"></div></section>
    <section class="card"><div class="card-head"><h2>Interfaces (this time range)</h2></div>
      <div id="if-table" data-state="loading"></div></section>`;
  let stopped = false;
  const sel = { ...ctx.time.api, filter: ctx.filter };
  Promise.all([
    api.exporters(),
    api.stat({ ...sel, group: 'exporter,sampling', count: 'sessions', top: 0 }),
    api.stat({ ...sel, group: 'exporter,iface', count: 'bytes', top: 0 }),
  ]).then(([ex, sampling, ifs]) => {
    if (stopped) return;
    const rates = {};
    for (const r of sampling.rows) (rates[r.exporter] ||= []).push(r.sampling);
    const names = {};
    for (const e of ex.exporters) for (const i of e.interfaces) names[`${e.address}:${i.index}`] = i.name || i.description;
    ctx.root.querySelector('#ex-meta').textContent =
      `up ${Math.round(ex.uptime_s)} s · collector drops: socket ${ex.drops.socket}, queue ${ex.drops.queue}, decode ${ex.drops.decode}`;
    const el = ctx.root.querySelector('#ex-table');
    el.innerHTML = `<table class="grid"><thead><tr><th>exporter</th><th class="n">packets</th><th class="n">records</th>
      <th class="n">records/s</th><th class="n">templates</th><th class="n">sequence gaps</th><th class="n">restarts</th>
      <th class="n">queue drops</th><th class="n">decode drops</th><th>decode errors</th><th>sampling</th><th class="n">interfaces</th></tr></thead>
      <tbody>${ex.exporters.map((e) => `<tr class="drill" data-exporter="${esc(e.address)}">
        <td>${esc(e.address)}</td><td class="n">${count(e.packets)}</td><td class="n">${count(e.records)}</td>
        <td class="n">${si(e.records_per_second)}</td><td class="n">${e.templates}</td>
        <td class="n ${e.sequence_gaps ? 'warn' : ''}">${e.sequence_gaps}</td><td class="n">${e.restarts}</td>
        <td class="n ${e.drops.queue ? 'warn' : ''}">${e.drops.queue}</td><td class="n ${e.drops.decode ? 'warn' : ''}">${e.drops.decode}</td>
        <td>${esc(Object.entries(e.decode_errors || {}).map(([k, v]) => `${k} ${v}`).join(', ') || '—')}</td>
        <td>${esc((rates[e.address] || []).map((s) => (s > 1 ? `1:${s}` : 'unsampled')).join(', ') || '—')}</td>
        <td class="n">${e.interfaces.length}</td></tr>`).join('')}</tbody></table>
      ${ex.exporters.length ? '' : '<p class="empty">No exporter has sent anything since the server started.</p>'}`;
    el.dataset.state = 'ready';
    el.querySelectorAll('tr.drill').forEach((tr) => tr.addEventListener('click', () => ctx.addFilter(`EXPIP == ${tr.dataset.exporter}`)));
    const it = ctx.root.querySelector('#if-table');
    it.innerHTML = `<table class="grid"><thead><tr><th>exporter</th><th>interface</th><th>name</th><th class="n">bytes</th><th class="n">avg bits/s</th><th class="n">packets</th><th class="n">sessions</th></tr></thead>
      <tbody>${ifs.rows.map((r) => `<tr><td>${esc(r.exporter)}</td><td class="n">${esc(r.iface)}</td><td>${esc(names[`${r.exporter}:${r.iface}`] || '')}</td>
        <td class="n">${bytes(r.bytes)}</td><td class="n">${si((8 * r.bytes) / ctx.time.seconds, 'b/s')}</td><td class="n">${count(r.packets)}</td><td class="n">${count(r.sessions)}</td></tr>`).join('')}</tbody></table>`;
    it.dataset.state = 'ready';
  }).catch((e) => !stopped && ctx.showError(e));
  return () => {
    stopped = true;
  };
}
