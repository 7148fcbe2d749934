// Which view is on screen, and cross-view requests (open this layer in the inspector).

import { defineStore } from 'pinia';
import { ref } from 'vue';

export type ViewName = 'data' | 'model' | 'train' | 'inspect' | 'evaluate' | 'compare' | 'health' | 'datalab' | 'embedding' | 'sweeps';

export interface ViewEntry {
  name: ViewName;
  label: string;
  /** The digit of its Ctrl/Cmd shortcut. */
  key: string;
  hint: string;
}

export const VIEWS: readonly ViewEntry[] = [
  { name: 'data', label: 'Data', key: '1', hint: 'The dataset by class' },
  { name: 'model', label: 'Model', key: '2', hint: 'Layers, shapes, parameters, the C3 table' },
  { name: 'train', label: 'Train', key: '3', hint: 'Hyper-parameters, live curves, runs' },
  { name: 'inspect', label: 'Inspect', key: '4', hint: 'One digit through every layer; draw your own' },
  { name: 'evaluate', label: 'Evaluate', key: '5', hint: 'Confusion matrix, mistakes, per-class scores' },
  { name: 'compare', label: 'Compare', key: '6', hint: 'Two or more runs side by side' },
  { name: 'health', label: 'Health', key: '7', hint: 'Layer health over epochs' },
  { name: 'datalab', label: 'Data lab', key: '8', hint: 'Suspicious labels, the data map, corrections' },
  { name: 'embedding', label: 'Embedding', key: '9', hint: 'The test set as the model sees it' },
  { name: 'sweeps', label: 'Sweeps', key: '0', hint: 'Grid and random search over settings; what matters' },
];

export const useNavStore = defineStore('nav', () => {
  const view = ref<ViewName>('train');
  /** A layer the inspector should scroll to (set by the Model view). */
  const focusLayer = ref<string | null>(null);

  function go(v: ViewName): void {
    view.value = v;
  }

  function inspectLayer(name: string): void {
    focusLayer.value = name;
    view.value = 'inspect';
  }

  return { view, focusLayer, go, inspectLayer };
});
