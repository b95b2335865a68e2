import { api } from '../api';
import { append, badge, clear, dataTable, fmtDate, h } from '../ui';

interface Provider {
  id: string;
  kind: 'oidc' | 'github';
  preset: string | null;
  issuer: string;
  client_id: string;
  scopes: string;
  clients: { client_id: string; redirect_uris: string[] }[];
  callback_url: string;
  /** Milliseconds since the epoch. */
  created_at: number;
}

/** The social sign-in providers (docs/CONTRACT.md "Social sign-in"), read-only:
 *  they are added and removed with `gatehouse providers …` or the admin API
 *  (a client secret does not belong in a browser form). Admins only. */
export async function providersPage(root: HTMLElement): Promise<void> {
  const body = h('div', { class: 'page-body' }, h('div', { class: 'loading' }, 'Loading providers…'));
  append(root, [
    h('header', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Sign-in providers'), h('p', { class: 'muted' }, 'The identity providers users can sign in with, and the API clients each is enabled for.'))),
    body,
  ]);
  const list = await api<Provider[]>('GET', '/api/admin/providers/');
  clear(body);
  append(body, [
    h(
      'p',
      { class: 'muted', id: 'providers-note' },
      'Register this callback URL at each provider: ',
      h('code', { id: 'providers-callback' }, list[0]?.callback_url ?? '—'),
      '. Add or remove providers with ',
      h('code', {}, 'gatehouse providers add|remove'),
      ' or the admin API.',
    ),
    h(
      'div',
      { class: 'table-box' },
      dataTable('providers-table', ['Id', 'Kind', 'Issuer', 'Client id', 'Scopes', 'Enabled for', 'Added'], list, (p) =>
        h(
          'tr',
          { 'data-provider': p.id },
          h('td', {}, h('code', {}, p.id)),
          h('td', {}, badge(p.preset ?? p.kind, 'type')),
          h('td', {}, p.issuer),
          h('td', {}, h('code', {}, p.client_id)),
          h('td', {}, p.scopes),
          h(
            'td',
            { class: 'provider-clients' },
            ...p.clients.map((c) => h('div', { 'data-client': c.client_id }, h('a', { href: `#/clients/${encodeURIComponent(c.client_id)}` }, c.client_id), ' → ', c.redirect_uris.join(', '))),
          ),
          h('td', {}, fmtDate(new Date(p.created_at).toISOString())),
        ),
      ),
    ),
  ]);
}
