// The signed-in user's own account: second factors (the authenticator app,
// recovery codes left) and passkeys (list, add, delete). Passkeys are made and
// used by the browser (navigator.credentials, through @gatehouse/client); the
// relying party is the dashboard's API client (its first allowed origin).
import { api, enrolled, passkeys, type Passkey } from '../api';
import { enrolDialog } from './mfa';
import { append, asyncForm, busy, clear, confirmDialog, dataTable, field, fmtDate, formError, h, toast } from '../ui';

interface Factors {
  totp: { confirmed_at: string } | null;
  recovery_codes_left: number;
  methods: string[];
}

export async function accountPage(root: HTMLElement): Promise<void> {
  const factorsBox = h('div', { class: 'card', id: 'account-factors' });
  const keysBox = h('div', { class: 'table-box', id: 'account-passkeys' });
  append(root, [
    h('header', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Your account'), h('p', { class: 'muted' }, 'Second factors for signing in to this dashboard.'))),
    h('h2', {}, 'Authenticator app'),
    factorsBox,
    h('h2', {}, 'Passkeys'),
    addForm(),
    keysBox,
  ]);

  async function loadFactors() {
    const f = await api<Factors>('GET', '/api/auth/mfa/factors/');
    clear(factorsBox);
    if (f.totp) {
      append(factorsBox, [h('p', {}, `On since ${fmtDate(f.totp.confirmed_at)}; ${f.recovery_codes_left} recovery codes left.`)]);
    } else {
      const setUp = h('button', { class: 'btn', id: 'account-totp' }, 'Set up an authenticator app');
      setUp.onclick = async () => {
        await enrolDialog();
        await loadFactors();
      };
      append(factorsBox, [h('p', { class: 'muted' }, 'Off.'), setUp]);
    }
  }

  async function loadKeys() {
    const list = await passkeys.list();
    clear(keysBox);
    if (!list.length) {
      keysBox.appendChild(h('p', { class: 'empty' }, 'No passkeys yet.'));
      return;
    }
    const row = (k: Passkey) => {
      const del = h('button', { class: 'btn btn-sm btn-danger-ghost passkey-delete' }, 'Delete');
      del.onclick = async () => {
        if (!(await confirmDialog('Delete passkey', `Delete “${k.name}”? It can no longer sign in here.`, 'Delete', true))) return;
        if ((await busy(del, () => passkeys.remove(k.id).then(() => true))) === true) {
          toast(`Passkey “${k.name}” deleted.`);
          await Promise.all([loadKeys(), loadFactors()]);
        }
      };
      return h(
        'tr',
        { 'data-passkey': k.id },
        h('td', { class: 'cell-main' }, k.name),
        h('td', { class: 'nowrap' }, fmtDate(k.created_at)),
        h('td', { class: 'nowrap' }, fmtDate(k.last_used_at)),
        h('td', { class: 'actions-cell' }, del),
      );
    };
    keysBox.appendChild(dataTable('passkeys-table', ['Name', 'Added', 'Last used', ''], list, row));
  }

  function addForm(): HTMLElement {
    const name = h('input', { name: 'passkey_name', maxlength: 64, placeholder: 'e.g. Work laptop' });
    const error = formError();
    const submit = h('button', { class: 'btn btn-primary', type: 'submit', id: 'passkey-add' }, 'Add a passkey');
    const send = async () => {
      const k = await passkeys.register(name.value.trim());
      name.value = '';
      toast(`Passkey “${k.name}” added.`);
      enrolled();
      await loadKeys();
    };
    return asyncForm('passkey-add-form', submit, error, send, [error, field('Name', name, 'Your browser asks for a fingerprint, face or PIN, or a security key.'), submit]);
  }

  await Promise.all([loadFactors(), loadKeys()]);
}
