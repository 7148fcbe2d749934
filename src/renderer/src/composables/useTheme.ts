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
