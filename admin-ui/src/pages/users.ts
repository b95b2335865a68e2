import { api, claims, qs, type Page } from '../api';
import { append, asyncForm, badge, busy, clear, confirmDialog, dataTable, errorText, field, fmtDate, formActions, formError, h, modal, pager, searchBox, toast } from '../ui';

interface AdminUser {
  id: number;
  email: string;
  username: string;
  first_name: string;
  last_name: string;
  user_type: 'creator' | 'staff' | 'admin';
  is_staff: boolean;
  is_superuser: boolean;
  is_active: boolean;
  date_joined: string;
  last_login: string | null;
  email_verified: boolean;
  /** RFC 3339, or null while unverified */
  email_verified_at: string | null;
  /** Second factors: "totp", "passkey". */
  mfa?: string[];
}

const FACTOR_NAMES: Record<string, string> = { totp: 'app', passkey: 'passkey' };


const PAGE_SIZE = 20;
const state = { search: '', user_type: '', is_active: '', page: 1 };

export async function usersPage(root: HTMLElement): Promise<void> {
  const me = claims()!;
  const isAdmin = me.is_superuser;
  const tableBox = h('div', { class: 'table-box' });

  const search = searchBox('Search email, username or name', 'Search users', state.search, (q) => {
    state.search = q;
    state.page = 1;
    load();
  });
  const typeSel = h('select', { 'aria-label': 'User type' }, h('option', { value: '' }, 'All types'), ...['creator', 'staff', 'admin'].map((t) => h('option', { value: t, selected: state.user_type === t }, t)));
  typeSel.addEventListener('change', () => {
    state.user_type = typeSel.value;
    state.page = 1;
    load();
  });
  const activeSel = h('select', { 'aria-label': 'Status' }, h('option', { value: '' }, 'Any status'), h('option', { value: 'true', selected: state.is_active === 'true' }, 'Active'), h('option', { value: 'false', selected: state.is_active === 'false' }, 'Inactive'));
  activeSel.addEventListener('change', () => {
    state.is_active = activeSel.value;
    state.page = 1;
    load();
  });

  append(root, [
    h(
      'header',
      { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Users'), h('p', { class: 'muted' }, isAdmin ? 'Creators, staff and admins.' : 'Creators, staff and admins. Staff can manage creators; only admins manage staff and admins.')),
      h('div', { class: 'head-actions' }, h('button', { class: 'btn btn-primary', id: 'new-user', onclick: () => createUser(isAdmin, load) }, '+ New user')),
    ),
    h('div', { class: 'toolbar' }, search, typeSel, activeSel),
    tableBox,
  ]);

  async function load() {
    const page = await api<Page<AdminUser>>('GET', `/api/admin/users/${qs({ search: state.search, user_type: state.user_type, is_active: state.is_active, page: state.page, page_size: PAGE_SIZE, ordering: '-date_joined' })}`);
    clear(tableBox);
    if (!page.results.length) {
      tableBox.appendChild(h('p', { class: 'empty' }, state.search ? `No user matches “${state.search}”.` : 'No users.'));
      return;
    }
    const row = (u: AdminUser) => {
      const mayManage = isAdmin || u.user_type === 'creator';
      const toggle = h(
        'button',
        { class: u.is_active ? 'btn btn-sm btn-danger-ghost' : 'btn btn-sm', disabled: !mayManage || u.id === me.user_id, title: mayManage ? undefined : 'Only admins manage staff and admins.' },
        u.is_active ? 'Deactivate' : 'Reactivate',
      );
      toggle.addEventListener('click', async () => {
        if (u.is_active) {
          const ok = await confirmDialog('Deactivate user', `Deactivate ${u.email}? Every login of theirs ends at once.`, 'Deactivate', true);
          if (!ok) return;
        }
        const r = await busy(toggle, () => api<AdminUser>('POST', `/api/admin/users/${u.id}/${u.is_active ? 'deactivate' : 'reactivate'}/`));
        if (r) {
          toast(`${r.email} ${r.is_active ? 'reactivated' : 'deactivated'}.`);
          load();
        }
      });
      const sessions = h('button', { class: 'btn btn-sm sessions-btn', onclick: () => showSessions(u, mayManage) }, 'Sessions');
      // The mail actions (audited on the server). Staff may send to creators, admins to anyone.
      const noMail = mayManage ? undefined : 'Only admins manage staff and admins.';
      const sendVerify = h(
        'button',
        { class: 'link-btn send-verification-btn', disabled: !mayManage, title: noMail },
        'Send verification again',
      );
      sendVerify.addEventListener('click', async () => {
        const r = await busy(sendVerify, () => api<{ detail: string }>('POST', `/api/admin/users/${u.id}/send-verification/`));
        if (r) toast(`Verification link sent to ${u.email}.`);
      });
      const sendReset = h(
        'button',
        { class: 'link-btn send-reset-btn', disabled: !mayManage || !u.is_active, title: u.is_active ? noMail : 'The user is inactive.' },
        'Send a reset link',
      );
      sendReset.addEventListener('click', async () => {
        const ok = await confirmDialog('Send a reset link', `Mail ${u.email} a link to choose a new password? Older reset links stop working.`, 'Send');
        if (!ok) return;
        const r = await busy(sendReset, () => api<{ detail: string }>('POST', `/api/admin/users/${u.id}/send-password-reset/`));
        if (r) toast(`Reset link sent to ${u.email}.`);
      });
      // Verified: since when; else the badge and "send again".
      const emailState = h(
        'div',
        { class: 'email-state' },
        u.email_verified ? badge('verified', 'ok') : badge('unverified', 'off'),
        u.email_verified ? h('div', { class: 'cell-sub' }, fmtDate(u.email_verified_at)) : sendVerify,
        sendReset,
      );
      return h(
        'tr',
        { 'data-email': u.email },
        h('td', {}, h('div', { class: 'cell-main' }, u.username), h('div', { class: 'cell-sub' }, u.email)),
        h('td', {}, [u.first_name, u.last_name].filter(Boolean).join(' ') || h('span', { class: 'muted' }, '—')),
        h(
          'td',
          {},
          badge(u.user_type, u.user_type),
          u.mfa?.length ? h('div', { class: 'cell-sub mfa-kinds' }, `2FA: ${u.mfa.map((k) => FACTOR_NAMES[k] ?? k).join(', ')}`) : null,
        ),
        // Account status, then the email's (one column: the table stays within a laptop's width).
        h('td', {}, u.is_active ? badge('active', 'ok') : badge('inactive', 'off'), emailState),
        h('td', { class: 'nowrap' }, fmtDate(u.date_joined)),
        h('td', { class: 'nowrap' }, fmtDate(u.last_login)),
        h('td', { class: 'actions-cell' }, h('div', { class: 'row-actions' }, sessions, toggle)),
      );
    };
    append(tableBox, [
      dataTable('users-table', ['User', 'Name', 'Type', 'Status · email', 'Joined', 'Last login', ''], page.results, row),
      pager(state.page, Math.ceil(page.count / PAGE_SIZE), page.count, (p) => {
        state.page = p;
        load();
      }),
    ]);
  }
  await load();
}

function createUser(isAdmin: boolean, reload: () => void) {
  const email = h('input', { type: 'email', name: 'email', required: true });
  const username = h('input', { name: 'username', required: true });
  const first = h('input', { name: 'first_name' });
  const last = h('input', { name: 'last_name' });
  const password = h('input', { type: 'password', name: 'password', required: true, autocomplete: 'new-password' });
  const types = isAdmin ? ['staff', 'admin', 'creator'] : ['creator'];
  const type = h('select', { name: 'user_type' }, ...types.map((t) => h('option', { value: t }, t)));
  const error = formError();
  return modal('New user', (close) => {
    const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create user');
    const send = async () => {
      const u = await api<AdminUser>('POST', '/api/admin/users/', {
        email: email.value.trim(),
        username: username.value.trim(),
        first_name: first.value.trim(),
        last_name: last.value.trim(),
        password: password.value,
        user_type: type.value,
      });
      toast(`Created ${u.user_type} ${u.email}.`);
      close();
      reload();
    };
    const form = asyncForm('form', submit, error, send, [
      error,
      field('Type', type, isAdmin ? undefined : 'Only admins can create staff and admins.'),
      field('Email', email),
      field('Username', username),
      h('div', { class: 'row2' }, field('First name', first), field('Last name', last)),
      field('Password', password, 'At least 8 characters, not common, not all digits.'),
      formActions(close, submit),
    ]);
    return [form];
  });
}

interface AdminSession {
  id: string;
  client_id: string;
  client_name: string;
  created_at: string;
  last_used_at: string | null;
  ip: string | null;
  user_agent: string | null;
}

/** A user's live logins, each with an End button (admins, or staff on creators). */
function showSessions(u: AdminUser, mayManage: boolean) {
  return modal(`Sessions of ${u.username}`, (close) => {
    const box = h('div', { class: 'sessions' }, h('div', { class: 'loading' }, 'Loading…'));
    const base = `/api/admin/users/${u.id}/sessions/`;
    const load = async () => {
      let list: AdminSession[];
      try {
        list = await api<AdminSession[]>('GET', base);
      } catch (e) {
        clear(box);
        box.appendChild(h('div', { class: 'form-error' }, errorText(e)));
        return;
      }
      clear(box);
      if (!list.length) {
        box.appendChild(h('p', { class: 'empty' }, 'No live logins.'));
        return;
      }
      const endAll = h('button', { class: 'btn btn-danger btn-sm', disabled: !mayManage, id: 'end-all-sessions' }, `End all ${list.length}`);
      endAll.addEventListener('click', async () => {
        const r = await busy(endAll, () => api<{ ended: number }>('DELETE', base));
        if (r) {
          toast(`Ended ${r.ended} login${r.ended === 1 ? '' : 's'}.`);
          load();
        }
      });
      append(box, [
        h('ul', { class: 'session-list' }, list.map((s) => {
          const end = h('button', { class: 'btn btn-sm btn-danger-ghost', disabled: !mayManage }, 'End');
          end.addEventListener('click', async () => {
            const ok = await busy(end, () => api('DELETE', `${base}${encodeURIComponent(s.id)}/`).then(() => true));
            if (ok) load();
          });
          return h(
            'li',
            { class: 'session' },
            h('div', {}, h('div', { class: 'cell-main' }, s.client_name, ' ', h('span', { class: 'cell-sub mono' }, s.client_id)), h('div', { class: 'cell-sub' }, `signed in ${fmtDate(s.created_at)} · last used ${fmtDate(s.last_used_at)}${s.ip ? ` · ${s.ip}` : ''}`), s.user_agent ? h('div', { class: 'cell-sub ua' }, s.user_agent) : null),
            end,
          );
        })),
        h('div', { class: 'actions' }, h('button', { class: 'btn', onclick: close }, 'Close'), endAll),
      ]);
    };
    load();
    return [box];
  });
}
