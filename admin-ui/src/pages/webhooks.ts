import { api, type Page } from '../api';
import { append, asyncForm, badge, busy, clear, confirmDialog, dataTable, field, fmtDate, formActions, formError, h, modal, toast } from '../ui';

// docs/WEBHOOKS.md: admins only.
interface Endpoint {
  id: string;
  url: string;
  description: string;
  event_types: string[];
  active: boolean;
  disabled: boolean;
  disabled_reason: string | null;
  failing_since: string | null;
  created_at: string;
  secret?: string;
}

interface Message {
  id: string;
  event_type: string;
  state: 'pending' | 'delivered' | 'dead';
  attempts: number;
  created_at: string;
  delivered_at: string | null;
  last_error: string | null;
}

interface Attempt {
  message_id: string;
  event_type: string;
  attempt: number;
  at: string;
  status: number | null;
  latency_ms: number;
  response_excerpt: string | null;
  error: string | null;
  outcome: string;
}

const EVENTS = ['user.created', 'user.updated', 'user.deactivated', 'user.reactivated', 'login.succeeded', 'login.failed', 'session.revoked', 'refresh.replay_detected', 'password.changed', 'password.reset', 'email.verified', 'mfa.enrolled', 'mfa.removed', 'client.created', 'client.key_rotated', 'client.deactivated'];

function status(e: Endpoint): HTMLElement {
  if (e.disabled) return badge('disabled', 'bad');
  if (!e.active) return badge('inactive', 'off');
  if (e.failing_since) return badge('failing', 'bad');
  return badge('active', 'ok');
}

/** The secret, once. */
function secretOnce(e: Endpoint, close: () => void): Node[] {
  return [
    h('div', { class: 'callout callout-warn' }, h('strong', {}, 'Copy this secret now. '), 'It is shown once; receivers verify signatures with it.'),
    field('Signing secret', h('input', { class: 'mono key-field', readonly: true, value: e.secret ?? '', id: 'new-webhook-secret' })),
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', onclick: close, id: 'secret-done' }, 'Done')),
  ];
}

export async function webhooksPage(root: HTMLElement): Promise<void> {
  const tableBox = h('div', { class: 'table-box' });
  const logBox = h('section', { class: 'card', id: 'webhook-log' });
  append(root, [
    h(
      'header',
      { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Webhooks'), h('p', { class: 'muted' }, 'Signed events (Standard Webhooks) POSTed to your endpoints, retried for 24 hours.')),
      h('div', { class: 'head-actions' }, h('button', { class: 'btn btn-primary', id: 'new-webhook', onclick: () => create(load) }, '+ New endpoint')),
    ),
    tableBox,
    logBox,
  ]);

  async function load() {
    const list = await api<Page<Endpoint>>('GET', '/api/admin/webhooks/');
    clear(tableBox);
    if (!list.results.length) {
      tableBox.appendChild(h('p', { class: 'empty' }, 'No endpoints yet.'));
      return;
    }
    tableBox.appendChild(
      dataTable('webhooks-table', ['Endpoint', 'Events', 'Status', 'Created', ''], list.results, (e) =>
        h(
          'tr',
          { 'data-webhook': e.id },
          h('td', {}, h('div', { class: 'cell-main mono' }, e.url), h('div', { class: 'cell-sub mono' }, e.id, e.description ? ` · ${e.description}` : '')),
          h('td', {}, e.event_types.join(', ')),
          h('td', {}, status(e), e.disabled_reason ? h('div', { class: 'cell-sub' }, e.disabled_reason) : null),
          h('td', { class: 'nowrap' }, fmtDate(e.created_at)),
          h(
            'td',
            { class: 'nowrap' },
            h('button', { class: 'btn btn-sm', onclick: () => showLog(e) }, 'Deliveries'),
            ' ',
            h('button', { class: 'btn btn-sm', onclick: (ev: Event) => busy(ev.currentTarget as HTMLButtonElement, async () => {
              await api('POST', `/api/admin/webhooks/${e.id}/test/`);
              toast('Test ping queued');
              setTimeout(() => showLog(e), 1000);
            }) }, 'Ping'),
            ' ',
            e.disabled || !e.active
              ? h('button', { class: 'btn btn-sm', onclick: (ev: Event) => busy(ev.currentTarget as HTMLButtonElement, async () => {
                  await api('PATCH', `/api/admin/webhooks/${e.id}/`, { active: true });
                  load();
                }) }, 'Enable')
              : null,
            ' ',
            h('button', { class: 'btn btn-sm', onclick: async () => {
              if (!(await confirmDialog('New secret', 'The current secret stops working at once.', 'Rotate'))) return;
              const r = await api<Endpoint>('POST', `/api/admin/webhooks/${e.id}/rotate-secret/`);
              modal('New signing secret', (close) => secretOnce(r, close));
            } }, 'Rotate secret'),
            ' ',
            h('button', { class: 'btn btn-sm btn-danger', onclick: async () => {
              if (!(await confirmDialog('Remove endpoint', `${e.url} gets no more events; its log goes too.`, 'Remove', true))) return;
              await api('DELETE', `/api/admin/webhooks/${e.id}/`);
              load();
            } }, 'Remove'),
          ),
        ),
      ),
    );
  }

  async function showLog(e: Endpoint) {
    const log = await api<{ messages: Message[]; attempts: Attempt[] }>('GET', `/api/admin/webhooks/${e.id}/deliveries/`);
    clear(logBox);
    append(logBox, [
      h('h2', {}, 'Delivery log ', h('span', { class: 'muted mono' }, e.url)),
      log.messages.length
        ? dataTable('webhook-messages', ['Message', 'Event', 'State', 'Attempts', 'Queued', ''], log.messages, (m) =>
            h(
              'tr',
              { 'data-message': m.id },
              h('td', { class: 'mono' }, m.id),
              h('td', {}, m.event_type),
              h('td', {}, badge(m.state, m.state === 'delivered' ? 'ok' : m.state === 'dead' ? 'bad' : 'off'), m.last_error ? h('div', { class: 'cell-sub' }, m.last_error) : null),
              h('td', {}, String(m.attempts)),
              h('td', { class: 'nowrap' }, fmtDate(m.created_at)),
              h('td', {}, h('button', { class: 'btn btn-sm', onclick: (ev: Event) => busy(ev.currentTarget as HTMLButtonElement, async () => {
                await api('POST', `/api/admin/webhooks/${e.id}/deliveries/${m.id}/resend/`);
                toast('Queued again');
                setTimeout(() => showLog(e), 1000);
              }) }, 'Send again')),
            ),
          )
        : h('p', { class: 'empty' }, 'Nothing sent yet.'),
      log.attempts.length
        ? dataTable('webhook-attempts', ['When', 'Message', 'Attempt', 'Status', 'Latency', 'Answer / error'], log.attempts, (a) =>
            h(
              'tr',
              {},
              h('td', { class: 'nowrap' }, fmtDate(a.at)),
              h('td', { class: 'mono' }, a.message_id),
              h('td', {}, String(a.attempt)),
              h('td', {}, a.status === null ? '—' : String(a.status), ' ', badge(a.outcome, a.outcome === 'delivered' ? 'ok' : 'bad')),
              h('td', {}, `${a.latency_ms} ms`),
              h('td', { class: 'mono' }, (a.error ?? a.response_excerpt ?? '').slice(0, 200)),
            ),
          )
        : null,
    ]);
  }

  await load();
}

function create(reload: () => void) {
  const url = h('input', { name: 'url', type: 'url', required: true, placeholder: 'https://example.com/gatehouse-events' });
  const description = h('input', { name: 'description', maxlength: 500 });
  const all = h('input', { type: 'checkbox', name: 'all', checked: true });
  const boxes = EVENTS.map((t) => ({ t, el: h('input', { type: 'checkbox', value: t }) }));
  const error = formError();
  return modal('New webhook endpoint', (close) => {
    const body = h('div', {});
    const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create endpoint');
    const send = async () => {
      const types = all.checked ? ['*'] : boxes.filter((b) => b.el.checked).map((b) => b.t);
      const e = await api<Endpoint>('POST', '/api/admin/webhooks/', { url: url.value.trim(), event_types: types, description: description.value.trim() });
      reload();
      clear(body);
      append(body, secretOnce(e, close));
    };
    body.appendChild(
      asyncForm('form', submit, error, send, [
        error,
        field('URL', url),
        field('Description', description),
        field('Events', h('div', { class: 'checks' }, h('label', { class: 'check' }, all, ' every event'), ...boxes.map((b) => h('label', { class: 'check' }, b.el, ` ${b.t}`)))),
        formActions(close, submit),
      ]),
    );
    return [body];
  });
}
