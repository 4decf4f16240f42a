// Sessions: raw sessions of the view, paged by the API's cursor, with a column chooser (the
// registry's session fields) and a CSV download of exactly what the filter selects (the same
// request with format=csv and no limit, served by flowscope as it scans).
import { api } from './api.js';
import { navigate } from './state.js';
import { bytes, time, esc } from './format.js';

export function sessionsPage(ctx) {
  const p = ctx.params;
  const sessionFields = ctx.fields.filter((f) => f.scope !== 'flow' && f.kind !== 'either' && f.name !== 'sessions');
  const pageSize = Math.min(1000, Number(p.limit) || 50);
  const base = { ...ctx.time.api, filter: ctx.filter, fields: p.cols || undefined };
  ctx.root.innerHTML = `
    <section class="card">
      <div class="card-head"><h2>Sessions</h2>
        <details class="cols" id="cols"><summary>Columns</summary><div class="colgrid" id="colgrid"></div>
          <button id="cols-apply">Show these columns</button> <button id="cols-default">Default</button></details>
        <label class="topn">per page <input id="s-limit" type="number" min="10" max="1000" value="${pageSize}"></label>
        <a id="csv" class="button" download="flowscope-sessions.csv">Download CSV</a>
      </div>
      <div id="s-table" data-state="loading"></div>
      <div class="pager"><button id="s-prev" disabled>← Previous</button><span id="s-page"></span><button id="s-next" disabled>Next →</button></div>
    </section>`;
  const csvParams = { ...base, format: 'csv' };
  ctx.root.querySelector('#csv').href = api.sessionsUrl(csvParams);
  ctx.root.querySelector('#s-limit').addEventListener('change', (ev) => navigate({ limit: ev.target.value }));
  const cursors = [''];
  let index = 0;
  let stopped = false;
  let shown = null;

  function renderCols(current) {
    const grid = ctx.root.querySelector('#colgrid');
    grid.innerHTML = sessionFields.map((f) => `<label title="${esc(f.description)}"><input type="checkbox" value="${esc(f.name)}" ${current.includes(f.name) ? 'checked' : ''}> ${esc(f.name)}</label>`).join('');
  }
  ctx.root.querySelector('#cols-apply').addEventListener('click', () => {
    const chosen = [...ctx.root.querySelectorAll('#colgrid input:checked')].map((i) => i.value);
    navigate({ cols: chosen.join(',') });
  });
  ctx.root.querySelector('#cols-default').addEventListener('click', () => navigate({ cols: '' }));

  async function load() {
    const el = ctx.root.querySelector('#s-table');
    el.dataset.state = 'loading';
    try {
      const r = await api.sessions({ ...base, limit: pageSize, cursor: cursors[index] || undefined });
      if (stopped) return;
      if (!shown) renderCols(r.fields);
      shown = r.fields;
      const unitOf = Object.fromEntries(ctx.fields.map((f) => [f.name, f]));
      el.innerHTML = `<table class="grid sessions-table"><thead><tr>${r.fields.map((f) => `<th>${esc(f)}</th>`).join('')}</tr></thead>
        <tbody>${r.rows.map((row) => `<tr>${r.fields.map((f) => `<td class="${typeof row[f] === 'number' ? 'n' : ''}">${show(unitOf[f], row[f])}</td>`).join('')}</tr>`).join('')}</tbody></table>
        ${r.rows.length ? '' : '<p class="empty">No session matches the filter in this time range.</p>'}`;
      el.dataset.state = 'ready';
      el.dataset.rows = String(r.rows.length);
      if (r.next_cursor && cursors.length === index + 1) cursors.push(r.next_cursor);
      ctx.root.querySelector('#s-prev').disabled = index === 0;
      ctx.root.querySelector('#s-next').disabled = !r.next_cursor;
      ctx.root.querySelector('#s-page').textContent = `page ${index + 1} · rows ${index * pageSize + 1}–${index * pageSize + r.rows.length}`;
    } catch (e) {
      if (!stopped) ctx.showError(e);
    }
  }
  ctx.root.querySelector('#s-prev').addEventListener('click', () => { index -= 1; load(); });
  ctx.root.querySelector('#s-next').addEventListener('click', () => { index += 1; load(); });
  load();
  return () => {
    stopped = true;
  };
}

function show(field, v) {
  if (v === null || v === undefined) return '';
  if (field && field.type === 'time' && typeof v === 'number') return esc(time(v));
  if (field && field.unit === 'bytes' && typeof v === 'number') return `<span title="${v}">${esc(bytes(v))}</span>`;
  if (field && field.type === 'ip') return `<a href="#/host/${encodeURIComponent(v)}" class="hostlink">${esc(v)}</a>`;
  return esc(v);
}
