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
