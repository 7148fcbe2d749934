// Simple line charts as standalone SVG text: axes with ticks, axis labels, a title and a
// legend. Enough for the experiment reports (error or loss per epoch for a handful of runs),
// readable in a browser, on GitHub and in the app, with no chart library.

export interface Series {
  name: string;
  /** [x, y] pairs in increasing x; non-finite y (or ≤ 0 on a log axis) leaves a gap. */
  points: [number, number][];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Logarithmic y axis (decades with 1-2-5 ticks). */
  logY?: boolean;
  /** Tick label for a y value (default: up to 4 significant digits). */
  yFormat?: (y: number) => string;
  /** Horizontal reference lines, e.g. the paper's error rate. */
  guides?: { y: number; label: string }[];
  width?: number;
  height?: number;
}

/** Ten colours that stay apart for common colour-vision deficiencies (Tableau 10). */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** Round-looking ticks (1, 2, 5 × 10^k steps) covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** 1-2-5 ticks per decade within [lo, hi] (lo > 0); only decades when the range is wide. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const decades = Math.log10(hi / lo);
  const mantissas = decades > 4 ? [1] : decades > 2 ? [1, 3] : [1, 2, 5];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of mantissas) {
      const t = Number((m * Math.pow(10, e)).toPrecision(12));
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(t);
    }
  }
  return ticks;
}

const STEPS = [1, 2, 5, 10];

/** The largest 1-2-5 × 10^k value ≤ v (v > 0). */
function stepBelow(v: number): number {
  const e = Math.floor(Math.log10(v));
  const m = v / Math.pow(10, e);
  const k = [...STEPS].reverse().find((s) => s <= m * (1 + 1e-9)) ?? 1;
  return Number((k * Math.pow(10, e)).toPrecision(12));
}

/** The smallest 1-2-5 × 10^k value ≥ v (v > 0). */
function stepAbove(v: number): number {
  const e = Math.floor(Math.log10(v));
  const m = v / Math.pow(10, e);
  const k = STEPS.find((s) => s >= m * (1 - 1e-9)) ?? 10;
  return Number((k * Math.pow(10, e)).toPrecision(12));
}

function defaultFormat(y: number): string {
  return Number(y.toPrecision(4)).toString();
}

export function renderLineChart(c: LineChart): string {
  // The legend gets the room its longest name needs (about 6.6 px per character at 12 px).
  const longest = Math.max(0, ...c.series.map((s) => s.name.length));
  const legendWidth = Math.max(120, 40 + Math.ceil(longest * 6.6));
  const width = c.width ?? 570 + legendWidth;
  const height = c.height ?? 440;
  const m = { left: 70, right: legendWidth + 20, top: 40, bottom: 52 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const fmt = c.yFormat ?? defaultFormat;
  const usable = (y: number): boolean => Number.isFinite(y) && (!c.logY || y > 0);

  const xs = c.series.flatMap((s) => s.points.map((p) => p[0])).filter(Number.isFinite);
  const ys = [...c.series.flatMap((s) => s.points.map((p) => p[1])), ...(c.guides ?? []).map((g) => g.y)].filter(usable);
  let x0 = xs.length ? Math.min(...xs) : 0;
  let x1 = xs.length ? Math.max(...xs) : 1;
  if (x1 === x0) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  let y0 = ys.length ? Math.min(...ys) : c.logY ? 0.1 : 0;
  let y1 = ys.length ? Math.max(...ys) : 1;
  let yTicks: number[];
  if (c.logY) {
    // Ends on 1-2-5 values, so both ends carry a tick.
    y0 = stepBelow(y0);
    y1 = stepAbove(y1);
    if (y1 <= y0) y1 = y0 * 10;
    yTicks = logTicks(y0, y1);
  } else {
    if (y1 === y0) y1 = y0 + 1;
    yTicks = niceTicks(Math.min(0, y0), y1);
    y0 = yTicks[0];
    y1 = Math.max(y1, yTicks[yTicks.length - 1]);
  }
  const sx = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = c.logY
    ? (y: number): number => m.top + ph - ((Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))) * ph
    : (y: number): number => m.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const f = (v: number): string => v.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(c.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${m.left + pw / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(c.title)}</text>`,
  );
  // Grid and y ticks.
  for (const t of yTicks) {
    const y = f(sy(t));
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(fmt(t))}</text>`);
  }
  // x ticks: whole numbers (epochs) when the range allows.
  const xTicks = niceTicks(x0, x1, Math.min(10, Math.max(1, Math.round(x1 - x0)))).filter((t) => t >= x0 && t <= x1);
  for (const t of xTicks) {
    const x = f(sx(t));
    out.push(`<line x1="${x}" x2="${x}" y1="${m.top + ph}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 18}" text-anchor="middle">${escapeXml(defaultFormat(t))}</text>`);
  }
  // Axes.
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(c.xLabel)}</text>`);
  out.push(
    `<text x="16" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.top + ph / 2})">${escapeXml(c.yLabel + (c.logY ? ' (log scale)' : ''))}</text>`,
  );
  let lastGuide = -Infinity;
  for (const g of c.guides ?? []) {
    if (!usable(g.y) || g.y < y0 || g.y > y1) continue;
    const gy = sy(g.y);
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${f(gy)}" y2="${f(gy)}" stroke="#555" stroke-dasharray="5 4"/>`);
    // A guide just below the previous one gets its label under the line, so the two stay apart.
    const below = Math.abs(gy - lastGuide) < 16;
    out.push(`<text x="${m.left + pw - 4}" y="${f(below ? gy + 14 : gy - 5)}" text-anchor="end" fill="#555">${escapeXml(g.label)}</text>`);
    lastGuide = gy;
  }
  // Lines, broken where a value is missing; a dot marks a lone point.
  c.series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const runs: [number, number][][] = [[]];
    for (const p of s.points) {
      if (usable(p[1]) && Number.isFinite(p[0])) runs[runs.length - 1].push(p);
      else if (runs[runs.length - 1].length) runs.push([]);
    }
    for (const r of runs) {
      if (r.length === 1) out.push(`<circle cx="${f(sx(r[0][0]))}" cy="${f(sy(r[0][1]))}" r="3" fill="${colour}"/>`);
      else if (r.length > 1) {
        const d = r.map((p, k) => `${k ? 'L' : 'M'}${f(sx(p[0]))},${f(sy(p[1]))}`).join(' ');
        out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2" stroke-linejoin="round"/>`);
      }
    }
  });
  // Legend.
  const lx = m.left + pw + 16;
  c.series.forEach((s, i) => {
    const y = m.top + 8 + i * 20;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${y}" y2="${y}" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 28}" y="${y}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
