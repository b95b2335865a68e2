// DOM helpers. Everything is built with createElement and textContent, never
// innerHTML, so data from the API cannot become markup (and the page's CSP can
// forbid inline scripts and styles).

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v as EventListener);
    } else if (k === 'class') {
      el.className = String(v);
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const SVGNS = 'http://www.w3.org/2000/svg';

export function s(tag: string, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElement {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

let toastBox: HTMLElement | null = null;

export function toast(text: string, kind: 'ok' | 'error' = 'ok'): void {
  if (!toastBox) {
    toastBox = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(toastBox);
  }
  const t = h('div', { class: `toast toast-${kind}` }, text);
  toastBox.appendChild(t);
  setTimeout(() => t.remove(), kind === 'error' ? 6000 : 3500);
}

/** A modal dialog; resolves when closed. `build` gets a close function. */
export function modal(title: string, build: (close: () => void) => Node[]): Promise<void> {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'modal', 'aria-label': title });
    const close = () => {
      dlg.close();
      dlg.remove();
      resolve();
    };
    append(dlg, [
      h('header', { class: 'modal-head' }, h('h2', {}, title), h('button', { class: 'icon-btn', 'aria-label': 'Close', onclick: close }, '×')),
      h('div', { class: 'modal-body' }, ...build(close)),
    ]);
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      close();
    });
    document.body.appendChild(dlg);
    dlg.showModal();
  });
}

export function confirmDialog(title: string, text: string, action: string, danger = false): Promise<boolean> {
  let ok = false;
  return modal(title, (close) => [
    h('p', {}, text),
    h(
      'div',
      { class: 'actions' },
      h('button', { class: 'btn', onclick: close }, 'Cancel'),
      h(
        'button',
        {
          class: danger ? 'btn btn-danger' : 'btn btn-primary',
          onclick: () => {
            ok = true;
            close();
          },
        },
        action,
      ),
    ),
  ]).then(() => ok);
}

export function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), input, hint ? h('small', { class: 'hint' }, hint) : null);
}

export function badge(text: string, kind: string): HTMLElement {
  return h('span', { class: `badge badge-${kind}` }, text);
}

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const thisYear = d.getFullYear() === new Date().getFullYear();
  return d.toLocaleString(undefined, { year: thisYear ? undefined : 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function fmtNum(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return n.toLocaleString();
}

export function fmtMs(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n)} ms`;
}

/** What to show of a thrown value. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The alert box a form shows its failure in, hidden until then. */
export function formError(): HTMLElement {
  return h('div', { class: 'form-error', role: 'alert', hidden: true });
}

/**
 * A form whose submit runs `send` with `submit` disabled; a failure shows in
 * `error` (a `formError()`), as `message` words it.
 */
export function asyncForm(
  cls: string,
  submit: HTMLButtonElement,
  error: HTMLElement,
  send: () => Promise<void>,
  children: (Child | Child[])[],
  message: (e: unknown) => string = errorText,
): HTMLFormElement {
  const onsubmit = async (e: Event) => {
    e.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      await send();
    } catch (err) {
      error.textContent = message(err);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  };
  return h('form', { class: cls, onsubmit }, ...children);
}

/** A dialog form's last row: Cancel (closes) and its submit button. */
export function formActions(close: () => void, submit: HTMLButtonElement): HTMLElement {
  return h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'button', onclick: close }, 'Cancel'), submit);
}

/** Runs an action with the button disabled; shows errors as toasts. */
export async function busy<T>(btn: HTMLButtonElement | null, f: () => Promise<T>): Promise<T | undefined> {
  if (btn) btn.disabled = true;
  try {
    return await f();
  } catch (e) {
    toast(errorText(e), 'error');
    return undefined;
  } finally {
    if (btn) btn.disabled = false;
  }
}

/** A table with a header row of `heads` and one body row per item. */
export function dataTable<T>(id: string, heads: string[], items: T[], row: (item: T) => HTMLElement): HTMLElement {
  return h('table', { class: 'table', id }, h('thead', {}, h('tr', {}, ...heads.map((t) => h('th', {}, t)))), h('tbody', {}, items.map(row)));
}

/** A search box that calls `onSearch` with its trimmed text once typing pauses (250 ms). */
export function searchBox(placeholder: string, label: string, value: string, onSearch: (q: string) => void): HTMLInputElement {
  const search = h('input', { type: 'search', placeholder, 'aria-label': label, value, class: 'search' });
  let timer: number | undefined;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => onSearch(search.value.trim()), 250);
  });
  return search;
}

export function pager(page: number, pages: number, total: number, go: (p: number) => void): HTMLElement {
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    h('span', { class: 'muted' }, `${fmtNum(total)} total · page ${page} of ${Math.max(pages, 1)}`),
    h('button', { class: 'btn btn-sm', disabled: page <= 1, onclick: () => go(page - 1) }, '‹ Prev'),
    h('button', { class: 'btn btn-sm', disabled: page >= pages, onclick: () => go(page + 1) }, 'Next ›'),
  );
}

const ICONS: Record<string, string[]> = {
  shield: ['M12 3l8 3v6c0 5-3.5 8.5-8 9.5C7.5 20.5 4 17 4 12V6z', 'M9 12l2 2 4-4'],
  overview: ['M3 12h4l3 8 4-16 3 8h4'],
  users: ['M9 11a4 4 0 100-8 4 4 0 000 8z', 'M2 21c0-4 3-6.5 7-6.5s7 2.5 7 6.5', 'M16 3.5a4 4 0 010 7.5', 'M22 21c0-3-1.8-5.2-4.5-6'],
  key: ['M8 19a4 4 0 100-8 4 4 0 000 8z', 'M11 12l9-9', 'M16.5 6.5l3 3', 'M14 9l2 2'],
  audit: ['M9 6h12', 'M9 12h12', 'M9 18h12', 'M4 6h.01', 'M4 12h.01', 'M4 18h.01'],
  docs: ['M14 3h7v7', 'M10 14L21 3', 'M21 14v7H3V3h7'],
};

/** A 24×24 stroke icon. */
export function icon(name: string, size = 18): SVGElement {
  const svg = s('svg', { viewBox: '0 0 24 24', width: size, height: size, fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true', class: 'icon' });
  for (const d of ICONS[name] ?? []) svg.appendChild(s('path', { d }));
  return svg;
}
