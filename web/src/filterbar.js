// The filter bar: FlowTraq's language (docs/query.md) with the registry's filter keywords as
// completion (from GET /api/v1/fields; no list of fields here), and the parser's error shown
// under the text at the position the server reports (a byte offset, as the CLI's caret).
import { api, ApiError } from './api.js';
import { esc } from './format.js';

const OPERATORS = ['==', '!=', '<', '<=', '>', '>=', '&&', '||', '!'];

// The character index of a UTF-8 byte offset in `text`.
export function charIndex(text, byteOffset) {
  const enc = new TextEncoder();
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    if (bytes >= byteOffset) break;
    bytes += enc.encode(ch).length;
    i += ch.length;
  }
  return i;
}

export class FilterBar {
  constructor(el, fields, onApply) {
    this.fields = (fields || []).filter((f) => f.filter && f.scope !== 'flow');
    this.onApply = onApply;
    el.innerHTML = `
      <div class="filterbar">
        <span class="label">Filter</span>
        <div class="fwrap">
          <input id="filter-input" spellcheck="false" autocomplete="off"
                 placeholder="e.g. SRVPORT == 443 && CLNIP == 10.0.0.0/8   (Tab completes field names)">
          <ul id="filter-complete" class="complete" hidden></ul>
          <div id="filter-error" class="ferror" hidden>
            <pre id="filter-caret"></pre><span id="filter-error-text"></span>
          </div>
        </div>
        <button id="filter-apply">Apply</button>
        <button id="filter-clear" title="clear the filter">✕</button>
      </div>`;
    this.input = el.querySelector('#filter-input');
    this.list = el.querySelector('#filter-complete');
    this.errorBox = el.querySelector('#filter-error');
    this.selected = 0;
    this.input.addEventListener('keydown', (ev) => this.keydown(ev));
    this.input.addEventListener('input', () => {
      this.clearError();
      this.complete();
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.check(), 500);
    });
    this.input.addEventListener('blur', () => setTimeout(() => (this.list.hidden = true), 150));
    el.querySelector('#filter-apply').addEventListener('click', () => this.apply());
    el.querySelector('#filter-clear').addEventListener('click', () => {
      this.input.value = '';
      this.apply();
    });
  }

  set(text) {
    if (document.activeElement !== this.input || this.input.value === '') this.input.value = text;
    this.clearError();
  }

  apply() {
    this.list.hidden = true;
    this.onApply(this.input.value.trim());
  }

  // The word under the cursor and where it starts.
  word() {
    const pos = this.input.selectionStart;
    const before = this.input.value.slice(0, pos);
    const m = before.match(/[A-Za-z_][A-Za-z0-9_]*$/);
    return m ? { text: m[0], start: pos - m[0].length, end: pos } : null;
  }

  complete() {
    const w = this.word();
    if (!w) {
      this.list.hidden = true;
      return;
    }
    const prefix = w.text.toUpperCase();
    this.matches = this.fields.filter((f) => f.filter.startsWith(prefix) && f.filter !== prefix).slice(0, 12);
    if (!this.matches.length) {
      this.list.hidden = true;
      return;
    }
    this.selected = 0;
    this.list.innerHTML = this.matches
      .map((f, i) => `<li data-i="${i}" class="${i === 0 ? 'sel' : ''}"><b>${esc(f.filter)}</b> <span>${esc(f.name)} · ${esc(f.type)}</span><em>${esc(f.description)}</em></li>`)
      .join('');
    for (const li of this.list.querySelectorAll('li')) {
      li.addEventListener('mousedown', (ev) => {
        ev.preventDefault();
        this.accept(Number(li.dataset.i));
      });
    }
    this.list.hidden = false;
  }

  accept(i) {
    const w = this.word();
    const f = this.matches && this.matches[i];
    if (!w || !f) return;
    const v = this.input.value;
    const insert = f.filter + ' ';
    this.input.value = v.slice(0, w.start) + insert + v.slice(w.end);
    const pos = w.start + insert.length;
    this.input.setSelectionRange(pos, pos);
    this.list.hidden = true;
    this.hint(f);
  }

  hint(f) {
    this.input.title = `${f.filter}: ${f.description} (operators ${(f.comparators || OPERATORS).join(' ')})`;
  }

  keydown(ev) {
    const open = !this.list.hidden && this.matches && this.matches.length;
    if (open && (ev.key === 'Tab' || (ev.key === 'Enter' && this.list.querySelector('.sel')))) {
      ev.preventDefault();
      this.accept(this.selected);
      return;
    }
    if (open && (ev.key === 'ArrowDown' || ev.key === 'ArrowUp')) {
      ev.preventDefault();
      this.selected = (this.selected + (ev.key === 'ArrowDown' ? 1 : this.matches.length - 1)) % this.matches.length;
      this.list.querySelectorAll('li').forEach((li, i) => li.classList.toggle('sel', i === this.selected));
      return;
    }
    if (ev.key === 'Escape') this.list.hidden = true;
    if (ev.key === 'Enter') {
      ev.preventDefault();
      this.apply();
    }
  }

  // Asks the server's parser (a one-row query over one second: cheap) while the user types.
  async check() {
    const text = this.input.value.trim();
    if (!text) return;
    try {
      await api.sessions({ filter: text, window: 'last 1s', limit: 1, fields: 'session_id' });
    } catch (e) {
      if (this.input.value.trim() === text && e instanceof ApiError && e.status === 400) this.showError(e);
    }
  }

  clearError() {
    this.errorBox.hidden = true;
    this.input.classList.remove('bad');
  }

  showError(e) {
    const text = this.input.value;
    const lead = text.length - text.trimStart().length;
    const at = e.position === undefined ? null : lead + charIndex(text.trim(), e.position);
    this.input.classList.add('bad');
    const caret = this.errorBox.querySelector('#filter-caret');
    caret.textContent = at === null ? '' : ' '.repeat(at) + '^';
    caret.dataset.column = at === null ? '' : String(at + 1);
    this.errorBox.querySelector('#filter-error-text').textContent =
      `${at === null ? '' : `column ${at + 1}: `}${e.message}${e.hint ? ' — ' + e.hint : ''}`;
    this.errorBox.hidden = false;
  }
}
