import { api, credentials, qs, type Page } from '../api';
import { append, asyncForm, badge, busy, clear, confirmDialog, dataTable, field, fmtDate, fmtNum, formActions, formError, h, modal, pager, searchBox, toast } from '../ui';
import { rangePicker, rangeQuery, usageView, type UsageData } from '../usage';

export interface Client {
  client_id: string;
  name: string;
  client_type: string;
  rate_limit: number;
  rate_period_secs: number;
  serves: string[];
  allowed_origins: string[];
  is_active: boolean;
  created_at: string;
  api_key?: string;
  /** The email-flow options (docs/CONTRACT.md "Per-client options"). */
  require_verified_email: boolean;
  signin_codes: boolean;
  reset_url: string | null;
  signin_url: string | null;
}


const PAGE_SIZE = 20;
const state = { search: '', page: 1 };

function period(secs: number): string {
  if (secs === 3600) return 'hour';
  if (secs === 60) return 'minute';
  if (secs === 86400) return 'day';
  return `${secs} s`;
}

export async function clientsPage(root: HTMLElement): Promise<void> {
  const tableBox = h('div', { class: 'table-box' });
  const search = searchBox('Search name or client id', 'Search clients', state.search, (q) => {
    state.search = q;
    state.page = 1;
    load();
  });
  append(root, [
    h(
      'header',
      { class: 'page-head' },
      h('div', {}, h('h1', {}, 'API clients'), h('p', { class: 'muted' }, 'Each frontend has its own key, rate limit and usage.')),
      h('div', { class: 'head-actions' }, h('button', { class: 'btn btn-primary', id: 'new-client', onclick: () => createClient(load) }, '+ New client')),
    ),
    h('div', { class: 'toolbar' }, search),
    tableBox,
  ]);

  async function load() {
    const page = await api<Page<Client>>('GET', `/api/admin/clients/${qs({ search: state.search, page: state.page, page_size: PAGE_SIZE })}`);
    clear(tableBox);
    if (!page.results.length) {
      tableBox.appendChild(h('p', { class: 'empty' }, 'No clients yet.'));
      return;
    }
    const mine = credentials()?.clientId;
    append(tableBox, [
      dataTable('clients-table', ['Client', 'Type', 'Rate limit', 'Serves', 'Status', 'Created'], page.results, (c) =>
        h(
          'tr',
          { class: 'row-link', 'data-client': c.client_id, onclick: () => (location.hash = `#/clients/${encodeURIComponent(c.client_id)}`) },
          h('td', {}, h('a', { class: 'cell-main', href: `#/clients/${encodeURIComponent(c.client_id)}` }, c.name), h('div', { class: 'cell-sub mono' }, c.client_id, c.client_id === mine ? ' · this dashboard' : '')),
          h('td', {}, badge(c.client_type, 'type')),
          h('td', { class: 'nowrap' }, `${fmtNum(c.rate_limit)} / ${period(c.rate_period_secs)}`),
          h('td', {}, c.serves.map((s) => badge(s, s))),
          h('td', {}, c.is_active ? badge('active', 'ok') : badge('inactive', 'off')),
          h('td', { class: 'nowrap' }, fmtDate(c.created_at)),
        ),
      ),
      pager(state.page, Math.ceil(page.count / PAGE_SIZE), page.count, (p) => {
        state.page = p;
        load();
      }),
    ]);
  }
  await load();
}

/** The key, once: a read-only field, a copy button and a warning. */
function keyOnce(c: Client, close: () => void): Node[] {
  const key = h('input', { class: 'mono key-field', readonly: true, value: c.api_key ?? '', id: 'new-api-key', 'aria-label': 'API key' });
  const copy = h('button', { class: 'btn', type: 'button', id: 'copy-key' }, 'Copy');
  copy.addEventListener('click', async () => {
    key.select();
    try {
      await navigator.clipboard.writeText(key.value);
    } catch {
      document.execCommand('copy');
    }
    copy.textContent = 'Copied ✓';
    setTimeout(() => (copy.textContent = 'Copy'), 2000);
  });
  return [
    h('div', { class: 'callout callout-warn' }, h('strong', {}, 'Copy this key now. '), 'It is shown once; Gatehouse keeps only its hash.'),
    field('Client ID', h('input', { class: 'mono', readonly: true, value: c.client_id, id: 'new-client-id' })),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'API key'), h('div', { class: 'copy-row' }, key, copy)),
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', onclick: close, id: 'key-done' }, 'Done')),
  ];
}

function servesBoxes(selected: string[]): { el: HTMLElement; value: () => string[] } {
  const boxes = ['creator', 'staff', 'admin'].map((t) => ({ t, el: h('input', { type: 'checkbox', value: t, checked: selected.includes(t) }) }));
  return {
    el: h('div', { class: 'checks' }, boxes.map((b) => h('label', { class: 'check' }, b.el, ` ${b.t}`))),
    value: () => boxes.filter((b) => b.el.checked).map((b) => b.t),
  };
}

function lines(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The email-flow options as form fields, and their values for the API
 *  (an empty reset URL is null: Gatehouse's own reset page; an empty
 *  sign-in URL is null: the code mail has no link). */
function emailOptions(c?: Client): {
  el: HTMLElement[];
  value: () => Pick<Client, 'require_verified_email' | 'signin_codes' | 'reset_url' | 'signin_url'>;
} {
  const verified = h('input', { type: 'checkbox', name: 'require_verified_email', checked: !!c?.require_verified_email });
  const codes = h('input', { type: 'checkbox', name: 'signin_codes', checked: !!c?.signin_codes });
  const reset = h('input', { name: 'reset_url', type: 'url', placeholder: 'https://app.example.com/reset', value: c?.reset_url ?? '' });
  const signin = h('input', { name: 'signin_url', type: 'url', placeholder: 'https://app.example.com/code', value: c?.signin_url ?? '' });
  return {
    el: [
      field(
        'Email',
        h(
          'div',
          { class: 'checks' },
          h('label', { class: 'check' }, verified, ' require a verified email to log in'),
          h('label', { class: 'check' }, codes, ' allow sign-in with an emailed code'),
        ),
      ),
      field('Reset page URL', reset, 'Password reset links open this page with ?token=…; empty: Gatehouse’s own page.'),
      field('Sign-in page URL', signin, 'Sign-in code mails link to this page with ?email=…&code=…; empty: the code only.'),
    ],
    value: () => ({
      require_verified_email: verified.checked,
      signin_codes: codes.checked,
      reset_url: reset.value.trim() || null,
      signin_url: signin.value.trim() || null,
    }),
  };
}

function createClient(reload: () => void) {
  const name = h('input', { name: 'name', required: true, maxlength: 200, placeholder: 'Creator Web App' });
  const type = h('select', { name: 'client_type' }, ...['web', 'mobile', 'server', 'admin'].map((t) => h('option', { value: t }, t)));
  const limit = h('input', { name: 'rate_limit', type: 'number', min: 1, value: 1000, required: true });
  const serves = servesBoxes(['creator']);
  type.addEventListener('change', () => {
    const def = type.value === 'admin' ? ['staff', 'admin'] : ['creator'];
    serves.el.querySelectorAll('input').forEach((i) => (i.checked = def.includes(i.value)));
  });
  const origins = h('textarea', { name: 'allowed_origins', rows: 2, placeholder: 'https://app.example.com' });
  const mail = emailOptions();
  const error = formError();
  return modal('New API client', (close) => {
    const body = h('div', {});
    const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create client');
    const send = async () => {
      const c = await api<Client>('POST', '/api/admin/clients/', {
        name: name.value.trim(),
        client_type: type.value,
        rate_limit: Number(limit.value),
        serves: serves.value(),
        allowed_origins: lines(origins.value),
        ...mail.value(),
      });
      reload();
      clear(body);
      append(body, keyOnce(c, close));
    };
    const form = asyncForm('form', submit, error, send, [
      error,
      field('Name', name),
      h('div', { class: 'row2' }, field('Type', type), field('Requests per hour', limit)),
      field('Serves', serves.el, 'Which user types may sign in through this client.'),
      field('Allowed origins', origins, 'Browser origins that may call with this key, one per line. Empty: no browser origin (servers, apps).'),
      ...mail.el,
      formActions(close, submit),
    ]);
    body.appendChild(form);
    return [body];
  });
}

let range = '24h';

export async function clientDetailPage(root: HTMLElement, params: string[]): Promise<void> {
  const id = params[0];
  const head = h('header', { class: 'page-head' });
  const info = h('section', { class: 'card info-card' });
  const usageBox = h('div', {}, h('div', { class: 'loading' }, 'Loading usage…'));
  const picker = h('div', {});
  append(root, [
    h('a', { href: '#/clients', class: 'back' }, '← API clients'),
    head,
    info,
    h('div', { class: 'section-head' }, h('h2', {}, 'Usage'), h('div', { class: 'head-actions' }, picker, h('button', { class: 'btn btn-sm', id: 'refresh-usage', onclick: () => loadUsage() }, '↻ Refresh'))),
    usageBox,
  ]);

  async function loadClient() {
    const c = await api<Client>('GET', `/api/admin/clients/${encodeURIComponent(id)}/`);
    clear(head);
    clear(info);
    const isMine = credentials()?.clientId === c.client_id;
    const rotate = h('button', { class: 'btn', id: 'rotate-key' }, 'Rotate key');
    rotate.addEventListener('click', async () => {
      const ok = await confirmDialog('Rotate key', `Issue a new key for ${c.name}? The current key stops working at once.`, 'Rotate', true);
      if (!ok) return;
      const r = await busy(rotate, () => api<Client>('POST', `/api/admin/clients/${encodeURIComponent(c.client_id)}/rotate-key/`));
      if (r) modal('New key', (close) => keyOnce(r, close));
    });
    const toggle = h('button', { class: c.is_active ? 'btn btn-danger' : 'btn btn-primary', id: 'toggle-client', disabled: isMine && c.is_active, title: isMine ? 'The dashboard cannot deactivate its own client.' : undefined }, c.is_active ? 'Deactivate' : 'Activate');
    toggle.addEventListener('click', async () => {
      if (c.is_active) {
        const ok = await confirmDialog('Deactivate client', `Deactivate ${c.name}? Its key stops working and every login it issued ends.`, 'Deactivate', true);
        if (!ok) return;
      }
      const r = await busy(toggle, () => api<Client>('POST', `/api/admin/clients/${encodeURIComponent(c.client_id)}/${c.is_active ? 'deactivate' : 'activate'}/`));
      if (r) {
        toast(`${r.name} ${r.is_active ? 'activated' : 'deactivated'}.`);
        loadClient();
      }
    });
    const edit = h('button', { class: 'btn', id: 'edit-client', onclick: () => editClient(c, loadClient) }, 'Edit');
    append(head, [
      h('div', {}, h('h1', {}, c.name, ' ', c.is_active ? badge('active', 'ok') : badge('inactive', 'off')), h('p', { class: 'muted mono' }, c.client_id, isMine ? ' · this dashboard’s client' : '')),
      h('div', { class: 'head-actions' }, edit, rotate, toggle),
    ]);
    const dl = (k: string, v: Node | string) => [h('dt', {}, k), h('dd', {}, v)];
    append(info, [
      h(
        'dl',
        { class: 'facts' },
        dl('Type', badge(c.client_type, 'type')),
        dl('Rate limit', h('span', { id: 'client-limit' }, `${fmtNum(c.rate_limit)} requests / ${period(c.rate_period_secs)}`)),
        dl('Serves', h('span', {}, c.serves.map((s) => badge(s, s)))),
        dl('Allowed origins', c.allowed_origins.length ? h('span', { class: 'mono' }, c.allowed_origins.join(', ')) : h('span', { class: 'muted' }, 'none (no browser origin)')),
        dl('Verified email', h('span', { id: 'client-require-verified' }, c.require_verified_email ? 'required to log in' : 'not required')),
        dl('Sign-in codes', h('span', { id: 'client-signin-codes' }, c.signin_codes ? 'on' : 'off')),
        dl('Reset page', c.reset_url ? h('span', { class: 'mono', id: 'client-reset-url' }, c.reset_url) : h('span', { class: 'muted', id: 'client-reset-url' }, 'Gatehouse’s own page')),
        dl('Sign-in page', c.signin_url ? h('span', { class: 'mono', id: 'client-signin-url' }, c.signin_url) : h('span', { class: 'muted', id: 'client-signin-url' }, 'none (code only)')),
        dl('Created', fmtDate(c.created_at)),
      ),
    ]);
  }

  async function loadUsage() {
    clear(picker);
    picker.appendChild(rangePicker(range, (k) => { range = k; loadUsage(); }));
    const u = await api<UsageData>('GET', `/api/admin/clients/${encodeURIComponent(id)}/usage/${rangeQuery(range)}`);
    clear(usageBox);
    usageBox.appendChild(usageView(u));
  }
  await Promise.all([loadClient(), loadUsage()]);
}

function editClient(c: Client, reload: () => void) {
  const name = h('input', { name: 'name', required: true, maxlength: 200, value: c.name });
  const limit = h('input', { name: 'rate_limit', type: 'number', min: 1, value: c.rate_limit, required: true, id: 'edit-limit' });
  const serves = servesBoxes(c.serves);
  const origins = h('textarea', { name: 'allowed_origins', rows: 2 });
  origins.value = c.allowed_origins.join('\n');
  const mail = emailOptions(c);
  const error = formError();
  return modal(`Edit ${c.name}`, (close) => {
    const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, 'Save');
    const send = async () => {
      await api<Client>('PATCH', `/api/admin/clients/${encodeURIComponent(c.client_id)}/`, {
        name: name.value.trim(),
        rate_limit: Number(limit.value),
        serves: serves.value(),
        allowed_origins: lines(origins.value),
        ...mail.value(),
      });
      toast('Saved.');
      close();
      reload();
    };
    return [
      asyncForm('form', submit, error, send, [
        error,
        field('Name', name),
        field(`Requests per ${period(c.rate_period_secs)}`, limit),
        field('Serves', serves.el),
        field('Allowed origins', origins, 'One per line.'),
        ...mail.el,
        formActions(close, submit),
      ]),
    ];
  });
}
