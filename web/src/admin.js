// Admin (admins only; the server refuses the routes to others): users, groups and their data
// permissions, API tokens. Every change is one request; the answer's error is shown as is.
import { api } from './api.js';
import { esc } from './format.js';

export function adminPage(ctx) {
  ctx.root.innerHTML = `
    <div class="cols2">
      <section class="card"><h2>Users</h2><div id="adm-users"></div>
        <form id="adm-user-form" class="inline">
          <input name="name" placeholder="name" required><input name="password" type="password" placeholder="password" required>
          <select name="role"><option>analyst</option><option>read-only</option><option>admin</option></select>
          <input name="groups" placeholder="groups, comma-separated"><button>Add user</button></form></section>
      <section class="card"><h2>Groups and data permissions</h2><div id="adm-groups"></div>
        <form id="adm-group-form" class="inline"><input name="name" placeholder="group name" required><button>Add group</button></form>
        <form id="adm-grant-form" class="inline"><input name="group" placeholder="group" required>
          <select name="kind"><option value="ip_group">IP group or CIDR</option><option value="exporter">exporter</option><option value="interface">interface (EXPORTER:IFINDEX)</option></select>
          <input name="value" placeholder="value" required><button name="op" value="grant">Grant</button><button name="op" value="revoke">Revoke</button></form></section>
    </div>
    <section class="card"><h2>API tokens</h2><div id="adm-tokens"></div>
      <form id="adm-token-form" class="inline"><input name="user" placeholder="user" required><input name="label" placeholder="label"><button>Create token</button></form>
      <p id="adm-new-token" class="newtoken" hidden></p></section>
    <p class="error" id="adm-error" role="alert"></p>`;
  const err = ctx.root.querySelector('#adm-error');
  let stopped = false;
  const fail = (e) => {
    err.textContent = `${e.message}${e.hint ? ' — ' + e.hint : ''}`;
  };
  async function load() {
    try {
      const [u, g, t] = await Promise.all([api.admin.users(), api.admin.groups(), api.admin.tokens()]);
      if (stopped) return;
      ctx.root.querySelector('#adm-users').innerHTML = `<table class="grid" id="adm-users-table"><thead><tr><th>user</th><th>role</th><th>groups</th><th></th></tr></thead><tbody>
        ${u.users.map((x) => `<tr><td>${esc(x.name)}</td><td>${esc(x.role)}</td><td>${esc((x.groups || []).join(', '))}</td>
        <td><button class="small" data-del-user="${esc(x.name)}" ${x.name === ctx.me.user ? 'disabled title="that is you"' : ''}>remove</button></td></tr>`).join('')}</tbody></table>`;
      ctx.root.querySelector('#adm-groups').innerHTML = `<table class="grid"><thead><tr><th>group</th><th>IP groups / CIDRs</th><th>exporters</th><th>interfaces</th></tr></thead><tbody>
        ${g.groups.map((x) => `<tr><td>${esc(x.name)}${x.restricted ? ' <em>(sees nothing until granted)</em>' : ''}</td><td>${esc((x.ip_groups || []).join(', ') || (x.restricted ? '' : 'all'))}</td>
        <td>${esc((x.exporters || []).join(', ') || 'all')}</td><td>${esc((x.interfaces || []).join(', ') || 'all')}</td></tr>`).join('')}</tbody></table>`;
      ctx.root.querySelector('#adm-tokens').innerHTML = `<table class="grid"><thead><tr><th>id</th><th>user</th><th>label</th><th>created</th><th></th></tr></thead><tbody>
        ${t.tokens.map((x) => `<tr><td>${esc(x.id)}</td><td>${esc(x.user)}</td><td>${esc(x.label)}</td><td>${esc(x.created)}</td><td><button class="small" data-revoke="${esc(x.id)}">revoke</button></td></tr>`).join('')}</tbody></table>`;
      ctx.root.querySelectorAll('[data-del-user]').forEach((b) => b.addEventListener('click', () => change(() => api.admin.removeUser(b.dataset.delUser))));
      ctx.root.querySelectorAll('[data-revoke]').forEach((b) => b.addEventListener('click', () => change(() => api.admin.revokeToken(b.dataset.revoke))));
    } catch (e) {
      if (!stopped) fail(e);
    }
  }
  async function change(fn) {
    err.textContent = '';
    try {
      const r = await fn();
      await load();
      return r;
    } catch (e) {
      fail(e);
      return null;
    }
  }
  ctx.root.querySelector('#adm-user-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const groups = f.groups.value.split(',').map((s) => s.trim()).filter(Boolean);
    change(() => api.admin.addUser({ name: f.name.value, password: f.password.value, role: f.role.value, groups })).then((r) => r && f.reset());
  });
  ctx.root.querySelector('#adm-group-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    change(() => api.admin.addGroup({ name: ev.target.name.value })).then((r) => r && ev.target.reset());
  });
  ctx.root.querySelector('#adm-grant-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const op = ev.submitter && ev.submitter.value === 'revoke' ? api.admin.revoke : api.admin.grant;
    change(() => op(f.group.value, { [f.kind.value]: f.value.value }));
  });
  ctx.root.querySelector('#adm-token-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await change(() => api.admin.addToken({ user: ev.target.user.value, label: ev.target.label.value }));
    if (r && r.token) {
      const p = ctx.root.querySelector('#adm-new-token');
      p.hidden = false;
      p.textContent = `New token (shown once; copy it now): ${r.token}`;
    }
  });
  load();
  return () => {
    stopped = true;
  };
}
