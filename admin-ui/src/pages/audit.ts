import { api, qs } from '../api';
import { append, clear, field, fmtDate, h, pager } from '../ui';

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

const SUGGESTED = ['user.*', 'client.*', 'auth.*', 'auth.login', 'auth.login_failed', 'auth.register', 'auth.refresh_replay', 'auth.logout', 'auth.password_changed', 'user.created', 'user.updated', 'user.deactivated', 'user.reactivated', 'client.created', 'client.updated', 'client.key_rotated', 'client.deactivated'];

function eventKind(e: string): string {
  if (/fail|replay|denied|throttl/.test(e)) return 'bad';
  if (e.startsWith('user.') || e.startsWith('client.')) return 'admin';
  return 'auth';
}

/** The fields that differ between before and after, as "field: a → b". */
function changes(detail: any): Node | null {
  if (!detail || typeof detail !== 'object') return null;
  const { before, after } = detail;
  if (before && after && typeof before === 'object' && typeof after === 'object') {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    if (!keys.length) return h('span', { class: 'muted' }, 'no change');
    return h(
      'ul',
      { class: 'diff' },
      keys.map((k) => h('li', {}, h('code', {}, k), ' ', h('del', {}, JSON.stringify(before[k])), ' → ', h('ins', {}, JSON.stringify(after[k])))),
    );
  }
  const rest = Object.entries(detail).filter(([, v]) => v !== null && v !== undefined);
  if (!rest.length) return null;
  return h(
    'ul',
    { class: 'diff' },
    rest.map(([k, v]) => h('li', {}, h('code', {}, k), ' ', typeof v === 'object' ? JSON.stringify(v) : String(v))),
  );
}

function toIso(local: string): string {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export async function auditPage(root: HTMLElement): Promise<void> {
  const tableBox = h('div', { class: 'table-box' });
  const list = h('datalist', { id: 'audit-events' }, SUGGESTED.map((e) => h('option', { value: e })));
  const ev = h('input', { name: 'event', list: 'audit-events', placeholder: 'e.g. user.* or auth.login', value: state.event });
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
    const page = await api<{ count: number; results: AuditEvent[] }>(
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
      h(
        'table',
        { class: 'table', id: 'audit-table' },
        h('thead', {}, h('tr', {}, ...['Time', 'Event', 'Actor', 'Target', 'IP', 'Details'].map((t) => h('th', {}, t)))),
        h(
          'tbody',
          {},
          page.results.map((e) =>
            h(
              'tr',
              { 'data-event': e.event },
              h('td', { class: 'nowrap' }, fmtDate(e.at)),
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
