import { api } from '../api';
import { append, badge, busy, clear, confirmDialog, dataTable, fmtDate, h, toast } from '../ui';

interface KeyInfo {
  kid: string;
  alg: string;
  state: 'next' | 'current' | 'previous' | 'retired';
  created_at: string;
  activated_at: string | null;
  retire_after: string | null;
}

interface Keys {
  keys: KeyInfo[];
  managed: boolean;
  rotation_days: number | null;
  retire_delay_secs: number;
  cache_secs: number;
}

// Badge colours: the signing key stands out, retired ones fade.
const STATE_KIND: Record<KeyInfo['state'], string> = { next: 'type', current: 'ok', previous: 'staff', retired: 'off' };

function duration(secs: number): string {
  if (secs >= 86400) return `${Math.round((secs / 86400) * 10) / 10} days`;
  if (secs >= 3600) return `${Math.round((secs / 3600) * 10) / 10} hours`;
  return `${secs} s`;
}

/** The signing keys (docs/KEYS.md): kid, algorithm, state, dates; and a rotate button. Admins only. */
export async function keysPage(root: HTMLElement): Promise<void> {
  const body = h('div', { class: 'page-body' }, h('div', { class: 'loading' }, 'Loading keys…'));
  const rotate = h('button', { class: 'btn btn-danger', id: 'rotate-signing-key' }, 'Rotate signing key');
  append(root, [
    h('header', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Signing keys'), h('p', { class: 'muted' }, 'The keys that sign and verify tokens. A rotation logs no one out.')), h('div', { class: 'head-actions' }, rotate)),
    body,
  ]);
  async function load() {
    const k = await api<Keys>('GET', '/api/admin/keys/');
    clear(body);
    const schedule = k.rotation_days ? `every ${k.rotation_days} days` : 'manual only';
    const note = k.managed
      ? `Rotation: ${schedule}. A previous key is accepted for ${duration(k.retire_delay_secs)} after it stops signing; every host sees a change within ${k.cache_secs} s.`
      : 'This host signs with a configured key (--jwt-private-key or --jwt-secret), which Gatehouse does not rotate.';
    rotate.toggleAttribute('disabled', !k.managed);
    append(body, [
      h('p', { class: 'muted', id: 'keys-note' }, note),
      h(
        'div',
        { class: 'table-box' },
        dataTable('keys-table', ['Key id', 'Algorithm', 'State', 'Created', 'Signing since', 'Retires'], k.keys, (key) =>
          h(
            'tr',
            { 'data-kid': key.kid, 'data-state': key.state },
            h('td', {}, h('code', {}, key.kid)),
            h('td', {}, key.alg),
            h('td', {}, badge(key.state, STATE_KIND[key.state] ?? 'type')),
            h('td', {}, fmtDate(key.created_at)),
            h('td', {}, fmtDate(key.activated_at)),
            h('td', {}, fmtDate(key.retire_after)),
          ),
        ),
      ),
    ]);
  }
  rotate.addEventListener('click', async () => {
    const ok = await confirmDialog(
      'Rotate signing key',
      'The next key starts signing now; the current key keeps verifying until its retirement time, so no one is logged out.',
      'Rotate',
      true,
    );
    if (!ok) return;
    // busy() shows a refusal (409: pinned, or another host rotated) as a toast.
    if (await busy(rotate, () => api<Keys>('POST', '/api/admin/keys/rotate/'))) toast('Signing key rotated');
    await load();
  });
  await load();
}
