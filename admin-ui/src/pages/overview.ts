import { api } from '../api';
import { append, clear, h } from '../ui';
import { rangePicker, rangeQuery, usageView, type UsageData } from '../usage';

let range = '24h';

export async function overviewPage(root: HTMLElement): Promise<void> {
  const body = h('div', { class: 'page-body' }, h('div', { class: 'loading' }, 'Loading usage…'));
  const picker = h('div', {});
  const refreshBtn = h('button', { class: 'btn btn-sm', onclick: () => load() }, '↻ Refresh');
  append(root, [
    h('header', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Overview'), h('p', { class: 'muted' }, 'Traffic of every API client.')), h('div', { class: 'head-actions' }, picker, refreshBtn)),
    body,
  ]);
  async function load() {
    clear(picker);
    picker.appendChild(rangePicker(range, (k) => { range = k; load(); }));
    const u = await api<UsageData>('GET', `/api/admin/usage/${rangeQuery(range)}`);
    clear(body);
    body.appendChild(usageView(u));
  }
  await load();
}
