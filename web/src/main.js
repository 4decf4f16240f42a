// flowscope's dashboard: the shell (login, navigation, time range, filter bar) and the router.
// Every page is a function (ctx) => cleanup that renders into ctx.root from the URL's view.
import './style.css';
import { api, ApiError, setUnauthorizedHandler } from './api.js';
import { parseHash, navigate, PRESETS, DEFAULT_RANGE, timeParams } from './state.js';
import { esc } from './format.js';
import { FilterBar } from './filterbar.js';
import { overviewPage } from './overview.js';
import { topPage } from './top.js';
import { sessionsPage } from './sessions.js';
import { exportersPage } from './exporters.js';
import { hostPage } from './host.js';
import { adminPage } from './admin.js';

const PAGES = [
  { id: 'overview', label: 'Overview', render: overviewPage },
  { id: 'top', label: 'Top N', render: topPage },
  { id: 'sessions', label: 'Sessions', render: sessionsPage },
  { id: 'exporters', label: 'Exporters', render: exportersPage },
  { id: 'host', label: 'Host', render: hostPage, hidden: true },
  { id: 'admin', label: 'Admin', render: adminPage, admin: true },
];

const app = document.getElementById('app');
let me = null;
let fields = null;
let cleanup = null;
let filterBar = null;

setUnauthorizedHandler(() => {
  if (me) {
    me = null;
    showLogin('Your session ended (expired, logged out or revoked); log in again.');
  }
});

function showLogin(message = '') {
  if (cleanup) cleanup();
  cleanup = null;
  app.innerHTML = `
    <form class="login" id="login-form" autocomplete="on">
      <h1><span class="logo">flowscope</span></h1>
      <p class="sub">network flow analytics</p>
      <label>User <input name="user" id="login-user" autocomplete="username" required autofocus></label>
      <label>Password <input name="password" id="login-password" type="password" autocomplete="current-password" required></label>
      <button type="submit" id="login-submit">Log in</button>
      <p class="error" id="login-error" role="alert">${esc(message)}</p>
    </form>`;
  const form = document.getElementById('login-form');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const err = document.getElementById('login-error');
    err.textContent = '';
    try {
      await api.login(form.user.value, form.password.value);
      await start();
    } catch (e) {
      err.textContent = e instanceof ApiError ? `${e.message}${e.hint ? ' — ' + e.hint : ''}` : String(e);
    }
  });
}

function shell() {
  const { page, params } = parseHash();
  app.innerHTML = `
    <header class="top">
      <a class="logo" href="#/overview">flowscope</a>
      <nav id="nav">${PAGES.filter((p) => !p.hidden && (!p.admin || me.admin))
        .map((p) => `<a href="#/${p.id}" data-page="${p.id}">${p.label}</a>`).join('')}</nav>
      <div class="range" id="range">
        <select id="range-preset" title="time range">
          ${PRESETS.map((p) => `<option value="${p.id}">${p.label}</option>`).join('')}
          <option value="custom">Custom…</option>
        </select>
        <span id="range-abs" class="abs">
          <input type="datetime-local" id="range-from" step="60"> –
          <input type="datetime-local" id="range-to" step="60"> UTC
          <button id="range-apply">Apply</button>
        </span>
      </div>
      <div class="who" id="who">
        <span id="who-user">${esc(me.user)}</span>
        <span class="role">${esc(me.role)}</span>
        <span id="who-groups" class="groups">${esc(me.all_data ? 'all data' : (me.groups || []).join(', ') || 'no group')}</span>
        <button id="logout">Log out</button>
      </div>
    </header>
    <div class="filter-row" id="filter-row"></div>
    <main id="page"></main>`;
  document.getElementById('logout').addEventListener('click', async () => {
    try {
      await api.logout();
    } finally {
      me = null;
      showLogin('Logged out.');
    }
  });
  const preset = document.getElementById('range-preset');
  const abs = document.getElementById('range-abs');
  preset.addEventListener('change', () => {
    if (preset.value === 'custom') {
      abs.style.display = 'inline';
      return;
    }
    navigate({ range: preset.value, from: '', to: '' });
  });
  document.getElementById('range-apply').addEventListener('click', () => {
    const f = document.getElementById('range-from').value;
    const t = document.getElementById('range-to').value;
    if (f && t) navigate({ range: '', from: new Date(f + 'Z').toISOString(), to: new Date(t + 'Z').toISOString() });
  });
  filterBar = new FilterBar(document.getElementById('filter-row'), fields, (text) => navigate({ filter: text }));
  void page;
  void params;
}

function syncShell() {
  const { page, params } = parseHash();
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  const preset = document.getElementById('range-preset');
  const abs = document.getElementById('range-abs');
  if (params.from && params.to) {
    preset.value = 'custom';
    abs.style.display = 'inline';
    document.getElementById('range-from').value = params.from.slice(0, 16);
    document.getElementById('range-to').value = params.to.slice(0, 16);
  } else {
    preset.value = params.range || DEFAULT_RANGE;
    abs.style.display = 'none';
  }
  filterBar.set(params.filter || '');
}

function route() {
  if (!me) return;
  if (!document.getElementById('page')) shell();
  syncShell();
  const { page, arg, params } = parseHash();
  const def = PAGES.find((p) => p.id === page && (!p.admin || me.admin)) || PAGES[0];
  if (cleanup) cleanup();
  const root = document.getElementById('page');
  root.innerHTML = '';
  root.dataset.page = def.id;
  const ctx = {
    root,
    arg,
    params,
    me,
    fields,
    time: timeParams(params),
    filter: params.filter || '',
    // A query error of the filter goes to the filter bar, at its position.
    showError(e) {
      if (e instanceof ApiError && e.position !== undefined && params.filter) {
        filterBar.showError(e);
        return;
      }
      const box = document.createElement('div');
      box.className = 'error-box';
      box.textContent = e instanceof ApiError ? `${e.message}${e.hint ? ' — ' + e.hint : ''}` : String(e);
      root.prepend(box);
    },
    addFilter(clause) {
      const cur = params.filter ? `(${params.filter}) && ` : '';
      navigate({ filter: cur + clause });
    },
  };
  cleanup = def.render(ctx) || null;
}

async function start() {
  me = await api.me();
  const f = await api.fields();
  fields = Array.isArray(f) ? f : f.fields;
  document.getElementById('app').innerHTML = '';
  route();
}

window.addEventListener('hashchange', route);
start().catch((e) => {
  if (e instanceof ApiError && e.status === 401) showLogin();
  else showLogin(String(e.message || e));
});
