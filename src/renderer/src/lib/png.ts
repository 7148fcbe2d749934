// "Save as PNG" for any chart: the canvas composited over the page background (charts draw on
// a transparent canvas) and downloaded; Electron shows its save dialog for the download.

export function pngName(title: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `${slug || 'chart'}.png`;
}

/** A copy of `canvas` over `background`, optionally with extra drawing on top (e.g. a title). */
export function flatten(canvas: HTMLCanvasElement, background: string): HTMLCanvasElement {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context');
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  return out;
}

export async function downloadCanvas(canvas: HTMLCanvasElement, fileName: string, background: string): Promise<void> {
  const flat = flatten(canvas, background);
  const blob = await new Promise<Blob | null>((resolve) => flat.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the chart could not be encoded as PNG');
  const url = URL.createObjectURL(blob);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

export interface BarRow {
  label: string;
  /** 0..1 of the bar's full length. */
  fraction: number;
  text: string;
  color?: string;
}

export interface BarColors {
  background: string;
  text: string;
  muted: string;
  bar: string;
  track: string;
}

/** Horizontal bars (labels, bars, values) drawn on a canvas: the PNG of a bar chart made in HTML. */
export function barsToCanvas(title: string, rows: BarRow[], colors: BarColors): HTMLCanvasElement {
  const scale = 2; // crisp on high-DPI screens and in documents
  const rowH = 22;
  const labelW = 150;
  const barW = 320;
  const valueW = 90;
  const c = document.createElement('canvas');
  c.width = (labelW + barW + valueW + 24) * scale;
  c.height = (36 + rows.length * rowH + 8) * scale;
  const ctx = c.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context');
  ctx.scale(scale, scale);
  ctx.fillStyle = colors.background;
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.textBaseline = 'middle';
  ctx.font = '600 13px system-ui, sans-serif';
  ctx.fillStyle = colors.text;
  ctx.fillText(title, 12, 18);
  ctx.font = '12px system-ui, sans-serif';
  rows.forEach((r, i) => {
    const y = 36 + i * rowH;
    ctx.fillStyle = colors.text;
    ctx.textAlign = 'right';
    ctx.fillText(r.label, labelW, y + rowH / 2, labelW - 12);
    ctx.fillStyle = colors.track;
    ctx.fillRect(labelW + 8, y + 5, barW, rowH - 10);
    ctx.fillStyle = r.color ?? colors.bar;
    ctx.fillRect(labelW + 8, y + 5, Math.max(0, Math.min(1, r.fraction)) * barW, rowH - 10);
    ctx.fillStyle = colors.muted;
    ctx.textAlign = 'left';
    ctx.fillText(r.text, labelW + barW + 16, y + rowH / 2);
  });
  return c;
}
