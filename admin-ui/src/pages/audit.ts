import { api, qs, type Page } from '../api';
import { append, clear, dataTable, field, h, pager } from '../ui';

interface AuditEvent {
  id: number;
  at: string;
  event: string;
  actor_user_id: number | null;
  actor_client_id: string | null;
  ip: string | null;
  target_user_id: number | null;
  target_client_id: string | null;
  detail: any;
}

const PAGE_SIZE = 25;
const state = { event: '', actor: '', target_user: '', client: '', from: '', to: '', page: 1 };

// docs/AUDIT.md
const SUGGESTED = ['login.*', 'login.succeeded', 'login.failed', 'user.*', 'user.registered', 'user.created', 'user.updated', 'user.deactivated', 'user.reactivated', 'user.sessions_revoked', 'client.*', 'client.created', 'client.updated', 'client.key_rotated', 'client.deactivated', 'client.activated', 'token.replay_detected', 'token.refresh_reissued', 'password.changed', 'logout', 'logout_all', 'session.ended'];

function eventKind(e: string): string {
  if (e === 'login.failed' || e === 'token.replay_detected') return 'bad';
  if (e.startsWith('client.') || (e.startsWith('user.') && e !== 'user.registered')) return 'admin';
  return 'auth';
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

// Shown behind "more": useful when digging, noise in the list.
const QUIET = new Set(['user_agent', 'session_id', 'created_at', 'client_id', 'rate_period_secs', 'is_active', 'first_name', 'last_name']);

function fields(o: Record<string, unknown>): HTMLElement {
  const entries = Object.entries(o).filter(([, v]) => v !== null && v !== undefined && v !== '');
  const loud = entries.filter(([k]) => !QUIET.has(k));
  const quiet = entries.filter(([k]) => QUIET.has(k));
  const shown = loud.slice(0, 4);
  const rest = [...loud.slice(4), ...quiet];
  const li = ([k, v]: [string, unknown]) => h('li', {}, h('code', {}, k), ' ', show(v));
  return h(
    'div',
    {},
    h('ul', { class: 'diff' }, shown.map(li)),
    rest.length ? h('details', { class: 'more' }, h('summary', {}, `${rest.length} more`), h('ul', { class: 'diff' }, rest.map(li))) : null,
  );
}

/** The fields that differ between before and after, as "field: a → b";
 * otherwise the detail's fields (a created object's `after` unwrapped). */
function changes(detail: any): Node | null {
  if (!detail || typeof detail !== 'object') return null;
  const { before, after } = detail;
  if (before && after && typeof before === 'object' && typeof after === 'object') {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    if (!keys.length) return h('span', { class: 'muted' }, 'no change');
    return h(
      'ul',
      { class: 'diff' },
      keys.map((k) => h('li', {}, h('code', {}, k), ' ', h('del', {}, show(before[k])), ' → ', h('ins', {}, show(after[k])))),
    );
  }
  if (after && typeof after === 'object' && Object.keys(detail).length === 1) return fields(after);
  if (!Object.keys(detail).length) return null;
  return fields(detail);
}

function fmtTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function toIso(local: string): string {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export async function auditPage(root: HTMLElement): Promise<void> {
  const tableBox = h('div', { class: 'table-box' });
  const list = h('datalist', { id: 'audit-events' }, SUGGESTED.map((e) => h('option', { value: e })));
  const ev = h('input', { name: 'event', list: 'audit-events', placeholder: 'e.g. user.* or login.failed', value: state.event });
  const actor = h('input', { name: 'actor', inputmode: 'numeric', placeholder: 'user id', value: state.actor });
  const target = h('input', { name: 'target_user', inputmode: 'numeric', placeholder: 'user id', value: state.target_user });
  const client = h('input', { name: 'client', placeholder: 'cl_…', value: state.client });
  const from = h('input', { name: 'from', type: 'datetime-local', value: state.from });
  const to = h('input', { name: 'to', type: 'datetime-local', value: state.to });
  const apply = () => {
    Object.assign(state, { event: ev.value.trim(), actor: actor.value.trim(), target_user: target.value.trim(), client: client.value.trim(), from: from.value, to: to.value, page: 1 });
    load();
  };
  const reset = () => {
    for (const i of [ev, actor, target, client, from, to]) i.value = '';
    apply();
  };
  const filters = h(
    'form',
    {
      class: 'filters',
      id: 'audit-filters',
      onsubmit: (e: Event) => {
        e.preventDefault();
        apply();
      },
    },
    field('Event', ev),
    field('Actor', actor),
    field('Target user', target),
    field('Client', client),
    field('From', from),
    field('To', to),
    h('div', { class: 'filter-actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, 'Filter'), h('button', { class: 'btn btn-ghost', type: 'button', onclick: reset }, 'Reset')),
  );
  append(root, [
    h('header', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Audit log'), h('p', { class: 'muted' }, 'Security events and every admin action, newest first. Append-only.'))),
    list,
    filters,
    tableBox,
  ]);

  async function load() {
    const page = await api<Page<AuditEvent>>(
      'GET',
      `/api/admin/audit/${qs({ event: state.event, actor: state.actor, target_user: state.target_user, client: state.client, from: toIso(state.from), to: toIso(state.to), page: state.page, page_size: PAGE_SIZE })}`,
    );
    clear(tableBox);
    if (!page.results.length) {
      tableBox.appendChild(h('p', { class: 'empty' }, 'No events match.'));
      return;
    }
    const link = (text: string, f: () => void) => h('a', { href: '#', class: 'filter-link', onclick: (e: Event) => { e.preventDefault(); f(); } }, text);
    append(tableBox, [
      dataTable('audit-table', ['Time', 'Event', 'Actor', 'Target', 'IP', 'Details'], page.results, (e) =>
        h(
          'tr',
          { 'data-event': e.event },
          h('td', { class: 'nowrap', title: e.at }, fmtTime(e.at)),
          h('td', {}, h('span', { class: `badge badge-ev-${eventKind(e.event)}` }, e.event)),
          h(
            'td',
            {},
            e.actor_user_id !== null ? link(`user #${e.actor_user_id}`, () => { actor.value = String(e.actor_user_id); apply(); }) : h('span', { class: 'muted' }, '—'),
            e.actor_client_id ? h('div', { class: 'cell-sub mono' }, e.actor_client_id) : null,
          ),
          h(
            'td',
            {},
            e.target_user_id !== null ? link(`user #${e.target_user_id}`, () => { target.value = String(e.target_user_id); apply(); }) : null,
            e.target_client_id ? h('div', { class: 'mono cell-sub' }, link(e.target_client_id, () => { client.value = e.target_client_id!; apply(); })) : null,
            e.target_user_id === null && !e.target_client_id ? h('span', { class: 'muted' }, '—') : null,
          ),
          h('td', { class: 'mono nowrap' }, e.ip ?? '—'),
          h('td', { class: 'detail-cell' }, changes(e.detail)),
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
