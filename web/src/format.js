// Number formatting for people: 1.23 GB, 456 Mb/s, 12.3 k.
export function si(value, unit = '', base = 1000) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const prefixes = ['', 'k', 'M', 'G', 'T', 'P'];
  let v = Number(value);
  let i = 0;
  while (Math.abs(v) >= base && i < prefixes.length - 1) {
    v /= base;
    i += 1;
  }
  const digits = i === 0 ? (Number.isInteger(v) ? 0 : 1) : v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${prefixes[i]}${unit}`.trim();
}
export const bytes = (v) => si(v, 'B');
export const count = (v) => si(v, '');
export function rate(v, unit) {
  return si(v, unit);
}
export function time(ms) {
  if (!ms && ms !== 0) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
