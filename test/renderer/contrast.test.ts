// The theme's colour tokens (style.css) against WCAG 2.1 AA, in light and dark: text 4.5:1,
// the parts of controls one must see (input borders, the focus ring) and chart lines 3:1, on
// both surfaces text sits on (--panel and --bg). The browser tests run axe-core on the pages
// too; this covers what axe cannot see: canvas text and lines, borders and the focus ring.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const CSS = readFileSync(new URL('../../src/renderer/src/style.css', import.meta.url), 'utf8');

function tokens(block: string): Record<string, string> {
  return Object.fromEntries([...block.matchAll(/(--[a-z0-9-]+):\s*(#[0-9a-f]{6})\s*;/gi)].map((m) => [m[1], m[2].toLowerCase()]));
}

const darkStart = CSS.indexOf('@media (prefers-color-scheme: dark)');
const LIGHT = tokens(CSS.slice(CSS.indexOf(':root'), darkStart));
const DARK = { ...LIGHT, ...tokens(CSS.slice(darkStart, CSS.indexOf('}\n}', darkStart))) };

/** WCAG 2.1 relative luminance and contrast ratio of two #rrggbb colours. */
function luminance(hex: string): number {
  const v = Number.parseInt(hex.slice(1), 16);
  const lin = (c: number): number => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin((v >> 16) & 255) + 0.7152 * lin((v >> 8) & 255) + 0.0722 * lin(v & 255);
}
function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const TEXT = ['--fg', '--muted', '--accent', '--accent-2', '--danger', '--ok'];
const PARTS = ['--border-strong', '--focus', '--series-1', '--series-2', '--series-3', '--series-4', '--series-5', '--series-6'];

describe.each([
  ['light', LIGHT],
  ['dark', DARK],
])('%s theme colours', (_name, t) => {
  it('defines every token the checks name', () => {
    for (const k of [...TEXT, ...PARTS, '--panel', '--bg', '--on-accent']) expect(t[k], k).toMatch(/^#[0-9a-f]{6}$/);
  });

  it.each(TEXT)('%s text is at least 4.5:1 on the panel and the page', (k) => {
    expect(contrast(t[k], t['--panel']), `${k} ${t[k]} on --panel ${t['--panel']}`).toBeGreaterThanOrEqual(4.5);
    expect(contrast(t[k], t['--bg']), `${k} ${t[k]} on --bg ${t['--bg']}`).toBeGreaterThanOrEqual(4.5);
  });

  it('text on a filled accent (primary buttons, the selected tab, C3 cells) is at least 4.5:1', () => {
    expect(contrast(t['--on-accent'], t['--accent'])).toBeGreaterThanOrEqual(4.5);
  });

  it.each(PARTS)('%s (input borders, focus ring, chart lines) is at least 3:1 on the panel and the page', (k) => {
    expect(contrast(t[k], t['--panel']), `${k} ${t[k]} on --panel`).toBeGreaterThanOrEqual(3);
    expect(contrast(t[k], t['--bg']), `${k} ${t[k]} on --bg`).toBeGreaterThanOrEqual(3);
  });
});

describe('the contrast formula', () => {
  it('gives the published ratios: black on white 21:1, #777 on white 4.48:1', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
  });
});
