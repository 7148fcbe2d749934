// A Chart.js chart bound to a canvas for a component's lifetime. The instance is markRaw'd and
// never put in a store (STYLE.md §5); updates use update('none'): no animation for live data.
// When the OS switches between dark and light, the chart is rebuilt so its colours follow.

import {
  ArcElement,
  Chart,
  Decimation,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { markRaw, onMounted, onUnmounted, shallowRef, watch, type Ref } from 'vue';
import { chartTheme, useTheme } from './useTheme';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Decimation, ArcElement, Filler);

export function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** Text and lines a chart does not colour itself (axis titles, say) take the theme's muted ink. */
function themeDefaults(): void {
  const t = chartTheme();
  Chart.defaults.color = t.muted;
  Chart.defaults.borderColor = t.grid;
}

export function useChart(canvas: Ref<HTMLCanvasElement | null>, config: () => ChartConfiguration<'line'>) {
  const chart = shallowRef<Chart<'line'> | null>(null);
  onMounted(() => {
    themeDefaults();
    if (canvas.value) chart.value = markRaw(new Chart(canvas.value, config()));
  });
  onUnmounted(() => {
    chart.value?.destroy();
    chart.value = null;
  });
  watch(useTheme().dark, () => {
    if (!canvas.value || !chart.value) return;
    chart.value.destroy();
    themeDefaults();
    chart.value = markRaw(new Chart(canvas.value, config()));
  });
  return { chart };
}
