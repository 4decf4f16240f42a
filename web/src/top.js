// Top N tables: hosts, pairs, services, applications, countries, AS, interfaces, IP groups.
// The group names are `flowscope stat -grp`'s; the columns of an answer are registry fields
// (group_by), and a click on a row adds "FIELD == value" for each of them to the filter.
import { api } from './api.js';
import { navigate } from './state.js';
import { bytes, count, esc } from './format.js';

export const GROUPS = [
  { id: 'host', grp: 'host', label: 'Hosts' },
  { id: 'pair', grp: 'pair', label: 'Host pairs' },
  { id: 'service', grp: 'service', label: 'Services' },
  { id: 'srvport', grp: 'srvport', label: 'Server ports' },
  { id: 'app', grp: 'app', label: 'Applications' },
  { id: 'country', grp: 'country', label: 'Countries' },
  { id: 'as', grp: 'as', label: 'AS' },
  { id: 'iface', grp: 'exporter,iface', label: 'Interfaces' },
  { id: 'group', grp: 'group', label: 'IP groups' },
  { id: 'proto', grp: 'proto', label: 'Protocols' },
];

const COUNTS = ['bytes', 'packets', 'sessions'];

export function groupLabel(groupBy, row) {
  return groupBy.map((f) => String(row[f] ?? '')).join(' → ');
}

// "FIELD == value" for a row's group columns, by the registry's filter keyword and type.
export function drillClause(groupBy, row, fields) {
  return groupBy.map((name) => {
    const f = fields.find((x) => x.name === name && x.scope !== 'flow') || fields.find((x) => x.name === name);
    const v = row[name];
    const numeric = /^(u8|u16|u32|u64|proto|time|duration)$/.test(f?.type || '');
    const ip = f?.type === 'ip';
    const value = numeric || ip ? String(v) : JSON.stringify(String(v));
    return `${f ? f.filter : name.toUpperCase()} == ${value}`;
  }).join(' && ');
}

export function topTable(el, r, ctx, { clickable = true } = {}) {
  const valueKey = Object.keys(r.total || {}).find((k) => k.endsWith('_sent') || k.endsWith('_received'));
  const cols = ['bytes', 'packets', 'sessions'];
  const total = r.total || {};
  const rankKey = valueKey || r.count;
  el.innerHTML = `<table class="grid topn-table">
    <thead><tr><th class="n">#</th>${r.group_by.map((g) => `<th>${esc(g)}</th>`).join('')}
      ${valueKey ? `<th class="n">${esc(valueKey)}</th>` : ''}${cols.map((c) => `<th class="n">${c}</th>`).join('')}<th>share</th></tr></thead>
    <tbody>${r.rows.map((row, i) => {
      const share = total[rankKey] ? (100 * (row[rankKey] || 0)) / total[rankKey] : 0;
      return `<tr class="${clickable ? 'drill' : ''}" data-i="${i}" title="${clickable ? 'add to the filter' : ''}">
        <td class="n">${row.rank}</td>
        ${r.group_by.map((g) => `<td>${cell(g, row[g])}</td>`).join('')}
        ${valueKey ? `<td class="n" data-value="${row[valueKey]}">${r.count === 'bytes' ? bytes(row[valueKey]) : count(row[valueKey])}</td>` : ''}
        ${cols.map((c) => `<td class="n" data-value="${row[c] ?? ''}">${c === 'bytes' ? bytes(row[c]) : count(row[c])}</td>`).join('')}
        <td class="bar"><i style="width:${share.toFixed(1)}%"></i><span>${share.toFixed(1)} %</span></td></tr>`;
    }).join('')}
    ${r.others && r.others.groups ? `<tr class="others"><td></td><td colspan="${r.group_by.length}">others (${r.others.groups} groups)</td>
      ${valueKey ? `<td class="n">${r.count === 'bytes' ? bytes(r.others[valueKey]) : count(r.others[valueKey])}</td>` : ''}
      ${cols.map((c) => `<td class="n">${c === 'bytes' ? bytes(r.others[c]) : count(r.others[c])}</td>`).join('')}<td></td></tr>` : ''}
    </tbody></table>`;
  if (!clickable) return;
  el.querySelectorAll('tr.drill').forEach((tr) => tr.addEventListener('click', (ev) => {
    if (ev.target.closest('a')) return;
    ctx.addFilter(drillClause(r.group_by, r.rows[Number(tr.dataset.i)], ctx.fields));
  }));
}

function cell(field, value) {
  const text = esc(value ?? '');
  if (/addr$/.test(field) && value) return `<a href="#/host/${encodeURIComponent(value)}" class="hostlink">${text}</a>`;
  return text;
}

export function topPage(ctx) {
  const p = ctx.params;
  const g = GROUPS.find((x) => x.id === p.by) || GROUPS[0];
  const cnt = COUNTS.includes(p.count) ? p.count : 'bytes';
  ctx.root.innerHTML = `
    <div class="tabs" id="top-tabs">${GROUPS.map((x) => `<a href="#" data-by="${x.id}" class="${x.id === g.id ? 'on' : ''}">${x.label}</a>`).join('')}</div>
    <section class="card">
      <div class="card-head"><h2>Top ${esc(g.label.toLowerCase())}</h2>
        <div class="seg" id="top-count">${COUNTS.map((c) => `<button data-v="${c}" class="${c === cnt ? 'on' : ''}">${c}</button>`).join('')}</div>
        <div class="seg" id="top-dir"><button data-v="" class="${!p.tdir ? 'on' : ''}">both ways</button><button data-v="snd" class="${p.tdir === 'snd' ? 'on' : ''}">sent</button><button data-v="rcv" class="${p.tdir === 'rcv' ? 'on' : ''}">received</button></div>
        <label class="topn">rows <input id="top-n" type="number" min="1" max="1000" value="${Number(p.n) || 25}"></label>
      </div>
      <div id="top-table" data-state="loading"></div>
      <p class="meta" id="top-meta"></p>
    </section>`;
  ctx.root.querySelectorAll('#top-tabs a').forEach((a) => a.addEventListener('click', (ev) => {
    ev.preventDefault();
    navigate({ by: a.dataset.by });
  }));
  ctx.root.querySelectorAll('#top-count button').forEach((b) => b.addEventListener('click', () => navigate({ count: b.dataset.v })));
  ctx.root.querySelectorAll('#top-dir button').forEach((b) => b.addEventListener('click', () => navigate({ tdir: b.dataset.v })));
  ctx.root.querySelector('#top-n').addEventListener('change', (ev) => navigate({ n: ev.target.value }));
  let stopped = false;
  api.stat({ ...ctx.time.api, filter: ctx.filter, group: g.grp, count: cnt, dir: p.tdir, top: Number(p.n) || 25 })
    .then((r) => {
      if (stopped) return;
      const el = ctx.root.querySelector('#top-table');
      topTable(el, r, ctx);
      el.dataset.state = 'ready';
      ctx.root.querySelector('#top-meta').textContent = `${r.rows.length} of ${(r.total && r.total.groups) || r.rows.length} groups; ${r.rows_read} sessions read from ${r.source}. Click a row to add it to the filter.`;
    })
    .catch((e) => !stopped && ctx.showError(e));
  return () => {
    stopped = true;
  };
}
