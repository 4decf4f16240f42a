// Overview: live ingest (flows/s, sessions/s, drops) and a stacked time series of a group
// (service by default) in bits, packets or sessions per second, inbound (what clients sent) or
// outbound (what servers sent), with the totals of the same answer in a table under it.
import { api } from './api.js';
import { navigate, bucketFor } from './state.js';
import { stackedChart, PALETTE } from './chart.js';
import { si, bytes, count, esc } from './format.js';
import { groupLabel, drillClause, GROUPS } from './top.js';

const METRICS = {
  bps: { count: 'bytes', unit: 'b/s', scale: 8, label: 'bits/s' },
  pps: { count: 'packets', unit: 'p/s', scale: 1, label: 'packets/s' },
  flows: { count: 'sessions', unit: 'sessions/s', scale: 1, label: 'sessions/s' },
};

export function overviewPage(ctx) {
  const p = ctx.params;
  const group = p.group || 'service';
  const metric = METRICS[p.metric] ? p.metric : 'bps';
  const dir = p.dir === 'out' ? 'out' : 'in';
  ctx.root.innerHTML = `
    <section class="kpis" id="kpis">
      <div class="kpi"><span class="v" id="kpi-flows">–</span><span class="k">flows/s received</span></div>
      <div class="kpi"><span class="v" id="kpi-sessions">–</span><span class="k">sessions/s stored</span></div>
      <div class="kpi"><span class="v" id="kpi-drops">–</span><span class="k">drops/s</span></div>
      <div class="kpi"><span class="v" id="kpi-stored">–</span><span class="k">sessions stored</span></div>
      <div class="kpi"><span class="v" id="kpi-exporters">–</span><span class="k">exporters</span></div>
    </section>
    <section class="card">
      <div class="card-head">
        <h2>Traffic by <select id="ov-group">${GROUPS.map((g) => `<option value="${g.id}">${g.label}</option>`).join('')}</select></h2>
        <div class="seg" id="ov-metric">${Object.entries(METRICS).map(([k, m]) => `<button data-v="${k}" class="${k === metric ? 'on' : ''}">${m.label}</button>`).join('')}</div>
        <div class="seg" id="ov-dir">
          <button data-v="in" class="${dir === 'in' ? 'on' : ''}" title="what clients sent">inbound</button>
          <button data-v="out" class="${dir === 'out' ? 'on' : ''}" title="what servers sent">outbound</button>
        </div>
        <label class="topn">top <input id="ov-top" type="number" min="1" max="50" value="${Number(p.top) || 10}"></label>
      </div>
      <div id="ov-chart" class="chart" data-state="loading"></div>
      <table class="grid" id="ov-table"><thead></thead><tbody></tbody></table>
      <p class="meta" id="ov-meta"></p>
    </section>`;
  const sel = ctx.root.querySelector('#ov-group');
  sel.value = group;
  sel.addEventListener('change', () => navigate({ group: sel.value }));
  ctx.root.querySelectorAll('#ov-metric button').forEach((b) => b.addEventListener('click', () => navigate({ metric: b.dataset.v })));
  ctx.root.querySelectorAll('#ov-dir button').forEach((b) => b.addEventListener('click', () => navigate({ dir: b.dataset.v })));
  ctx.root.querySelector('#ov-top').addEventListener('change', (ev) => navigate({ top: ev.target.value }));

  let stopped = false;
  const m = METRICS[metric];
  const bucket = bucketFor(ctx.time.seconds);
  const params = {
    ...ctx.time.api,
    filter: ctx.filter,
    group: GROUPS.find((g) => g.id === group)?.grp || group,
    count: m.count,
    dir: dir === 'in' ? 'snd' : 'rcv',
    top: Math.min(50, Number(p.top) || 10),
    series: bucket.name,
  };
  const started = performance.now();
  api.stat(params).then((r) => {
    if (stopped) return;
    const el = ctx.root.querySelector('#ov-chart');
    const valueKey = Object.keys(r.total || {}).find((k) => k.endsWith('_sent') || k.endsWith('_received')) || m.count;
    const rows = [...r.rows, ...(r.others && r.others.groups ? [{ ...r.others, others: true }] : [])];
    const series = rows.map((row) => ({
      name: row.others ? 'others' : groupLabel(r.group_by, row),
      points: (row.series || []).map((pt) => [pt.time, (pt.value * m.scale) / bucket.seconds]),
    }));
    stackedChart(el, series, m.unit, ctx.time.bounds);
    el.dataset.state = 'ready';
    el.dataset.series = String(series.length);
    const head = ctx.root.querySelector('#ov-table thead');
    head.innerHTML = `<tr><th></th><th>${esc(r.group_by.join(' / '))}</th><th class="n">${esc(valueKey)}</th><th class="n">avg ${m.unit}</th><th class="n">share</th></tr>`;
    const total = r.total ? r.total[valueKey] : 0;
    const body = ctx.root.querySelector('#ov-table tbody');
    body.innerHTML = rows.map((row, i) => {
      const v = row[valueKey] ?? 0;
      const label = row.others ? `others (${row.groups} groups)` : groupLabel(r.group_by, row);
      return `<tr class="${row.others ? 'others' : 'drill'}" data-i="${i}">
        <td><i class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></i></td>
        <td>${esc(label)}</td>
        <td class="n" data-value="${v}">${m.count === 'bytes' ? bytes(v) : count(v)}</td>
        <td class="n">${si((v * m.scale) / ctx.time.seconds, m.unit)}</td>
        <td class="n">${total ? ((100 * v) / total).toFixed(1) + ' %' : ''}</td></tr>`;
    }).join('');
    body.querySelectorAll('tr.drill').forEach((tr) => tr.addEventListener('click', () => {
      ctx.addFilter(drillClause(r.group_by, r.rows[Number(tr.dataset.i)], ctx.fields));
    }));
    ctx.root.querySelector('#ov-meta').textContent =
      `${r.rows_read} sessions read from ${r.source}; bucket ${bucket.name}; total ${m.count === 'bytes' ? bytes(total) : count(total)}; answered in ${Math.round(performance.now() - started)} ms`;
    ctx.root.querySelector('#ov-meta').dataset.total = String(total);
  }).catch((e) => {
    if (stopped) return;
    const el = ctx.root.querySelector('#ov-chart');
    el.dataset.state = 'error';
    el.innerHTML = `<p class="empty">No chart: ${esc(e.message)}</p>`;
    ctx.showError(e);
  });

  // Live ingest, every 5 s: flows/s and drops/s from the change of the exporters' record and
  // drop counters (GET /api/v1/exporters), sessions/s from the stored count (/health).
  let last = null;
  async function poll() {
    try {
      const [h, ex] = await Promise.all([api.health(), api.exporters()]);
      if (stopped) return;
      const records = ex.exporters.reduce((a, e) => a + Number(e.records || 0), 0);
      const drops = Object.values(ex.drops || {}).reduce((a, b) => a + Number(b || 0), 0);
      const now = performance.now();
      const q = (id) => ctx.root.querySelector(id);
      q('#kpi-stored').textContent = count(h.sessions_stored);
      q('#kpi-exporters').textContent = String(ex.exporters.length);
      if (last) {
        const dt = (now - last.t) / 1000;
        q('#kpi-flows').textContent = si(Math.max(0, (records - last.records) / dt));
        q('#kpi-sessions').textContent = si(Math.max(0, (h.sessions_stored - last.stored) / dt));
        q('#kpi-drops').textContent = si(Math.max(0, (drops - last.drops) / dt));
      } else {
        q('#kpi-flows').textContent = si(ex.exporters.reduce((a, e) => a + Number(e.records_per_second || 0), 0));
        q('#kpi-drops').title = `since start: ${drops}`;
      }
      last = { t: now, stored: h.sessions_stored, drops, records };
    } catch {
      /* the chart shows the error; the figures keep their last values */
    }
  }
  poll();
  const timer = setInterval(poll, 5000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
