// The HTTP JSON API (docs/http.md) as the dashboard uses it. The session key lives in the
// HttpOnly cookie the login sets; this module never sees it. Requests other than GET carry the
// CSRF token of GET /api/v1/me (or of the login answer).

let csrf = '';

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || String(status);
    this.hint = e.hint || '';
    this.position = e.position;
  }
}

async function request(method, path, { params, body, raw } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (raw && res.ok) return res;
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { error: { message: text.slice(0, 200) } };
  }
  if (!res.ok) {
    const err = new ApiError(res.status, json);
    if (res.status === 401 && onUnauthorized) onUnauthorized(err);
    throw err;
  }
  return json;
}

let onUnauthorized = null;
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export const api = {
  async login(user, password) {
    const r = await request('POST', '/api/v1/login', { body: { user, password, cookie: true } });
    csrf = r.csrf;
    return r;
  },
  async me() {
    const r = await request('GET', '/api/v1/me');
    csrf = r.csrf || '';
    return r;
  },
  logout: () => request('POST', '/api/v1/logout', { body: {} }),
  fields: () => request('GET', '/api/v1/fields'),
  stat: (params) => request('GET', '/api/v1/stat', { params }),
  sessions: (params) => request('GET', '/api/v1/sessions', { params }),
  sessionsUrl(params) {
    const url = new URL('/api/v1/sessions', window.location.origin);
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
    return url.pathname + url.search;
  },
  health: () => request('GET', '/api/v1/health'),
  exporters: () => request('GET', '/api/v1/exporters'),
  ipinfo: (addr) => request('GET', `/api/v1/ipinfo/${encodeURIComponent(addr)}`),
  admin: {
    users: () => request('GET', '/api/v1/admin/users'),
    addUser: (u) => request('POST', '/api/v1/admin/users', { body: u }),
    removeUser: (name) => request('DELETE', `/api/v1/admin/users/${encodeURIComponent(name)}`),
    groups: () => request('GET', '/api/v1/admin/groups'),
    addGroup: (g) => request('POST', '/api/v1/admin/groups', { body: g }),
    grant: (name, g) => request('POST', `/api/v1/admin/groups/${encodeURIComponent(name)}/grant`, { body: g }),
    revoke: (name, g) => request('POST', `/api/v1/admin/groups/${encodeURIComponent(name)}/revoke`, { body: g }),
    tokens: () => request('GET', '/api/v1/admin/tokens'),
    addToken: (t) => request('POST', '/api/v1/admin/tokens', { body: t }),
    revokeToken: (id) => request('DELETE', `/api/v1/admin/tokens/${encodeURIComponent(id)}`),
  },
};
