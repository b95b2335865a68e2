// Hand-drawn SVG charts: a time-series line/area chart and a horizontal bar
// chart. No dependency; sized by viewBox so they scale with their card.

import { h, s } from './ui';

export interface Series {
  name: string;
  color: string; // a CSS class suffix: series-<color>
  values: (number | null)[];
  area?: boolean;
}

const PAD = { l: 48, r: 14, t: 12, b: 28 };

/** A round tick step so that four steps cover `v`. Counts step by at least 1. */
function niceStep(v: number, integer: boolean): number {
  const raw = Math.max(v / 4, integer ? 1 : 0.5);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (integer && m * p < 1) continue;
    if (integer && m === 2.5 && p < 10) continue;
    if (m * p >= raw) return m * p;
  }
  return 10 * p;
}

function fmtTick(v: number, unit: string): string {
  if (unit === 'ms' && v >= 1000) return `${+(v / 1000).toFixed(2)}s`;
  const t = v >= 1000 ? `${+(v / 1000).toFixed(1)}k` : `${+v.toFixed(v < 10 ? 1 : 0)}`;
  return unit ? `${t}${unit}` : t;
}

/** Line chart over `times` (ISO strings, one per bucket). */
export function lineChart(times: string[], series: Series[], opts: { unit?: string; label: string; daily?: boolean; wide?: boolean }): HTMLElement {
  const unit = opts.unit ?? '';
  const n = times.length;
  // The viewBox roughly matches the card's pixel size, so text stays ~11px.
  const W = opts.wide ? 1080 : 540;
  const H = opts.wide ? 260 : 230;
  const step0 = niceStep(Math.max(0, ...series.flatMap((x) => x.values.filter((v): v is number => v !== null))), !unit);
  const max = step0 * 4;
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const x = (i: number) => PAD.l + (n <= 1 ? iw / 2 : (i * iw) / (n - 1));
  const y = (v: number) => PAD.t + ih - (v / max) * ih;

  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': opts.label });
  // Grid and y ticks.
  for (let k = 0; k <= 4; k++) {
    const v = step0 * k;
    svg.appendChild(s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), class: 'gridline' }));
    svg.appendChild(s('text', { x: PAD.l - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, fmtTick(v, unit)));
  }
  // X ticks: about six (wide: ten) labels.
  const step = Math.max(1, Math.ceil(n / (opts.wide ? 10 : 6)));
  for (let i = 0; i < n; i += step) {
    const d = new Date(times[i]);
    const label = opts.daily
      ? d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })
      : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    const anchor = x(i) > W - PAD.r - 30 ? 'end' : 'middle';
    svg.appendChild(s('text', { x: x(i), y: H - 8, class: 'tick', 'text-anchor': anchor }, label));
  }
  for (const se of series) {
    const pts: string[] = [];
    se.values.forEach((v, i) => {
      if (v !== null) pts.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    });
    if (!pts.length) continue;
    if (se.area && pts.length > 1) {
      const first = se.values.findIndex((v) => v !== null);
      const last = se.values.length - 1 - [...se.values].reverse().findIndex((v) => v !== null);
      svg.appendChild(
        s('path', {
          d: `M${x(first)},${y(0)} L${pts.join(' L')} L${x(last)},${y(0)} Z`,
          class: `area series-${se.color}`,
        }),
      );
    }
    svg.appendChild(s('polyline', { points: pts.join(' '), class: `line series-${se.color}` }));
    se.values.forEach((v, i) => {
      if (v === null) return;
      const dot = s('circle', { cx: x(i), cy: y(v), r: n > 48 ? 1.5 : 3, class: `dot series-${se.color}` });
      dot.appendChild(s('title', {}, `${se.name}: ${fmtTick(v, unit)} · ${new Date(times[i]).toLocaleString()}`));
      svg.appendChild(dot);
    });
  }
  const legend = h(
    'div',
    { class: 'legend' },
    series.map((se) => h('span', { class: 'legend-item' }, h('i', { class: `swatch series-${se.color}` }), se.name)),
  );
  return h('figure', { class: 'chart-wrap', 'data-points': String(n), 'data-total': String(series[0]?.values.reduce<number>((a, v) => a + (v ?? 0), 0) ?? 0) }, svg, legend);
}

/** Horizontal bars, biggest first. */
export function barChart(rows: { label: string; value: number; sub?: string }[], label: string): HTMLElement {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return h(
    'div',
    { class: 'bars', role: 'list', 'aria-label': label },
    rows.map((r) => {
      const bar = h('div', { class: 'bar-fill' });
      // CSSOM, not a style attribute: allowed by the page's CSP.
      bar.style.width = `${Math.max(1, (r.value / max) * 100)}%`;
      return h(
        'div',
        { class: 'bar-row', role: 'listitem' },
        h('span', { class: 'bar-label', title: r.label }, r.label),
        h('div', { class: 'bar-track' }, bar),
        h('span', { class: 'bar-value' }, r.value.toLocaleString(), r.sub ? h('small', {}, ` ${r.sub}`) : null),
      );
    }),
  );
}
