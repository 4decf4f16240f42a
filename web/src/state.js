// The view lives in the URL (#/page?window=...&filter=...&...): a copied link opens the same
// view. Pages read state.params and call navigate() to change it; the hashchange re-renders.

export const PRESETS = [
  // Scrutinizer's dateRange names, as flowscope windows (docs/time.md).
  { id: 'LastFiveMinutes', label: 'Last 5 minutes', window: 'last 5m', seconds: 300 },
  { id: 'LastFifteenMinutes', label: 'Last 15 minutes', window: 'last 15m', seconds: 900 },
  { id: 'LastThirtyMinutes', label: 'Last 30 minutes', window: 'last 30m', seconds: 1800 },
  { id: 'LastHour', label: 'Last hour', window: 'last 1h', seconds: 3600 },
  { id: 'Last24Hours', label: 'Last 24 hours', window: 'last 24h', seconds: 86400 },
  { id: 'LastThreeDays', label: 'Last 3 days', window: 'last 3d', seconds: 3 * 86400 },
  { id: 'LastSevenDays', label: 'Last 7 days', window: 'last 7d', seconds: 7 * 86400 },
  { id: 'LastThirtyDays', label: 'Last 30 days', window: 'last 30d', seconds: 30 * 86400 },
  { id: 'Today', label: 'Today', window: 'today', seconds: 86400 },
  { id: 'Yesterday', label: 'Yesterday', window: 'yesterday', seconds: 86400 },
  { id: 'ThisWeek', label: 'This week', window: 'this week', seconds: 7 * 86400 },
];
export const DEFAULT_RANGE = 'LastHour';

export function parseHash() {
  const h = window.location.hash.replace(/^#/, '') || '/overview';
  const q = h.indexOf('?');
  const path = (q < 0 ? h : h.slice(0, q)).split('/').filter(Boolean);
  const params = Object.fromEntries(new URLSearchParams(q < 0 ? '' : h.slice(q + 1)));
  return { page: path[0] || 'overview', arg: path.slice(1).map(decodeURIComponent).join('/'), params };
}

export function hashFor(page, params, arg) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return `#/${page}${arg ? '/' + encodeURIComponent(arg) : ''}${s ? '?' + s : ''}`;
}

export function navigate(change, page, arg) {
  const cur = parseHash();
  const params = { ...cur.params, ...change };
  window.location.hash = hashFor(page || cur.page, params, arg === undefined ? cur.arg : arg);
}

// The time selection of the view as API parameters, and its length in seconds.
export function timeParams(params) {
  if (params.from && params.to) {
    const from = Date.parse(params.from);
    const to = Date.parse(params.to);
    return { api: { from: params.from, to: params.to }, seconds: Math.max(60, (to - from) / 1000), bounds: { min: from, max: to } };
  }
  const preset = PRESETS.find((p) => p.id === (params.range || DEFAULT_RANGE)) || PRESETS[3];
  // A rolling window ("last ...") spans the chart whole, so that a quiet start shows as quiet;
  // calendar ones (today, this week) let the axis fit the data.
  const now = Date.now();
  const bounds = preset.window.startsWith('last ') ? { min: now - preset.seconds * 1000, max: now } : null;
  return { api: { window: preset.window }, seconds: preset.seconds, bounds };
}

// A series bucket giving 60 to ~150 points over the window.
export function bucketFor(seconds) {
  const steps = [
    [60, '1m'], [300, '5m'], [600, '10m'], [1800, '30m'], [3600, '1h'], [3 * 3600, '3h'],
    [6 * 3600, '6h'], [86400, '1d'],
  ];
  for (const [s, name] of steps) if (seconds / s <= 150) return { name, seconds: s };
  return { name: '1d', seconds: 86400 };
}
