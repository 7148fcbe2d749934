// The theme's colours for bar charts exported as PNG (lib/png.ts barsToCanvas), read at export
// time so a theme switch is honoured.

import type { BarColors } from '../lib/png';
import { themeColor } from './useTheme';

export function barColors(): BarColors {
  return {
    background: themeColor('--panel', '#ffffff'),
    text: themeColor('--fg', '#1d2025'),
    muted: themeColor('--muted', '#5f6672'),
    bar: themeColor('--accent', '#0072b2'),
    track: themeColor('--bg', '#f6f7f9'),
  };
}
