// Usage charts shared by the overview (all clients) and a client's page.

import { barChart, lineChart, type Series } from './charts';
import { fmtMs, fmtNum, h } from './ui';

export interface UsageCounts {
  requests: number;
  status_2xx: number;
  status_4xx: number;
  status_5xx: number;
  throttled: number;
  logins: number;
  failed_logins: number;
  registrations: number;
  refreshes: number;
  latency_avg_ms: number | null;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
}

export interface UsageData {
  from: string;
  to: string;
  bucket: 'hour' | 'day';
  totals: UsageCounts;
  series: (UsageCounts & { start: string })[];
  top_clients?: (UsageCounts & { client_id: string; name: string; client_type: string })[];
}

export const RANGES: Record<string, { label: string; hours: number }> = {
  '6h': { label: '6 hours', hours: 6 },
  '24h': { label: '24 hours', hours: 24 },
  '7d': { label: '7 days', hours: 24 * 7 },
  '30d': { label: '30 days', hours: 24 * 30 },
};

export function rangeQuery(key: string): string {
  const hours = RANGES[key]?.hours ?? 24;
  const to = new Date();
  const from = new Date(to.getTime() - hours * 3600_000);
  const p = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  return `?${p}`;
}

export function rangePicker(current: string, pick: (key: string) => void): HTMLElement {
  return h(
    'div',
    { class: 'segmented', role: 'group', 'aria-label': 'Time range' },
    Object.entries(RANGES).map(([k, r]) =>
      h('button', { class: k === current ? 'seg active' : 'seg', 'aria-pressed': k === current ? 'true' : 'false', onclick: () => pick(k) }, r.label),
    ),
  );
}

function stat(label: string, value: string, sub?: string, kind = ''): HTMLElement {
  return h('div', { class: `stat ${kind}` }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value), sub ? h('div', { class: 'stat-sub' }, sub) : null);
}

export function usageView(u: UsageData): HTMLElement {
  const t = u.totals;
  const errors = t.status_4xx + t.status_5xx;
  const errRate = t.requests ? `${((errors / t.requests) * 100).toFixed(1)}% of requests` : 'no requests';
  const times = u.series.map((b) => b.start);
  const daily = u.bucket === 'day';

  const cards = h(
    'div',
    { class: 'stats' },
    stat('Requests', fmtNum(t.requests), `${fmtNum(t.status_2xx)} succeeded`),
    stat('Errors', fmtNum(errors), errRate, errors ? 'stat-warn' : ''),
    stat('Throttled (429)', fmtNum(t.throttled), undefined, t.throttled ? 'stat-warn' : ''),
    stat('Logins', fmtNum(t.logins), `${fmtNum(t.failed_logins)} failed`),
    stat('Registrations', fmtNum(t.registrations), `${fmtNum(t.refreshes)} refreshes`),
    stat('Latency p50 / p99, ms', t.latency_p50_ms === null ? '—' : `${fmtNum(t.latency_p50_ms)} / ${fmtNum(t.latency_p99_ms)}`, t.latency_avg_ms === null ? 'no requests' : `avg ${fmtMs(t.latency_avg_ms)}`),
  );

  // A chart's lines from [name, color, field]: counts with the first line
  // filled as an area; latencies only where a bucket had requests.
  type Line = [string, string, keyof UsageCounts];
  const counts = (lines: Line[]): Series[] => lines.map(([name, color, key], i) => ({ name, color, values: u.series.map((b) => b[key]), area: i === 0 }));
  const latencies = (lines: Line[]): Series[] => lines.map(([name, color, key]) => ({ name, color, values: u.series.map((b) => (b.requests ? b[key] : null)) }));

  const traffic = lineChart(times, counts([['Requests', 'blue', 'requests'], ['4xx', 'amber', 'status_4xx'], ['5xx', 'red', 'status_5xx'], ['429', 'purple', 'throttled']]), { label: 'Requests and errors over time', daily, wide: true });
  traffic.id = 'chart-requests';
  const auth = lineChart(times, counts([['Logins', 'green', 'logins'], ['Failed logins', 'red', 'failed_logins'], ['Registrations', 'blue', 'registrations'], ['Refreshes', 'slate', 'refreshes']]), { label: 'Sign-ins over time', daily });
  const latency = lineChart(times, latencies([['p50', 'green', 'latency_p50_ms'], ['p99', 'amber', 'latency_p99_ms'], ['avg', 'slate', 'latency_avg_ms']]), { label: 'Latency', unit: 'ms', daily });

  const panels: HTMLElement[] = [
    h('section', { class: 'card card-wide' }, h('h3', {}, 'Requests and errors'), traffic),
    h('section', { class: 'card' }, h('h3', {}, 'Latency (ms)'), latency, h('small', { class: 'hint' }, 'Percentiles are histogram bucket bounds.')),
    h('section', { class: 'card' }, h('h3', {}, 'Sign-ins'), auth),
  ];
  if (u.top_clients) {
    panels.push(
      h(
        'section',
        { class: 'card card-wide', id: 'top-clients' },
        h('h3', {}, 'Top clients'),
        u.top_clients.length
          ? barChart(
              u.top_clients.map((c) => ({
                label: c.name,
                value: c.requests,
                sub: c.requests ? `· ${(((c.status_4xx + c.status_5xx) / c.requests) * 100).toFixed(0)}% errors` : '',
              })),
              'Top clients by requests',
            )
          : h('p', { class: 'empty' }, 'No traffic in this range.'),
      ),
    );
  }
  return h('div', { class: 'usage' }, cards, h('div', { class: 'grid' }, panels));
}
