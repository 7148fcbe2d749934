// Dark or light, following the OS (prefers-color-scheme), as a ref components can watch to
// redraw canvases and charts whose colours come from the theme.

import { readonly, ref, type Ref } from 'vue';

const query = typeof window !== 'undefined' && typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
const dark = ref(query?.matches ?? false);
query?.addEventListener('change', (e) => (dark.value = e.matches));

export function useTheme(): { dark: Readonly<Ref<boolean>> } {
  return { dark: readonly(dark) };
}

/** A CSS custom property of the page, read now (after a theme change, read again). */
export function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** The colours a chart draws with, from the theme's tokens (style.css), read at draw time. */
export interface ChartTheme {
  /** Legends and other text that must read as body text. */
  text: string;
  /** Ticks and axis titles (≥ 4.5:1 on the panel). */
  muted: string;
  /** Grid lines (decorative). */
  grid: string;
  /** Raw values under a smoothed line (decorative). */
  faint: string;
  /** Vertical markers such as the best epoch, and their labels. */
  marker: string;
  /** Series colours in order (≥ 3:1 on the panel): the first for a lone series or "test". */
  series: string[];
}

const SERIES_FALLBACK = ['#0072b2', '#9a5d00', '#007a5a', '#a8508a', '#2a8bc4', '#c45500'];

export function chartTheme(): ChartTheme {
  return {
    text: themeColor('--fg', '#1d2025'),
    muted: themeColor('--muted', '#5f6672'),
    grid: themeColor('--grid', '#00000014'),
    faint: themeColor('--grid-strong', '#0000004d'),
    marker: themeColor('--accent-2', '#9a5d00'),
    series: SERIES_FALLBACK.map((fallback, i) => themeColor(`--series-${i + 1}`, fallback)),
  };
}
