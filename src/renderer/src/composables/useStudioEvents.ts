// The one subscription to the backend's events, dispatched to the stores; menu actions run the
// same store actions the buttons do.

import { onMounted, onUnmounted } from 'vue';
import type { StudioEvent } from '@common/api';
import { onStudioEvent } from '../api/studio';
import { useDatasetStore } from '../stores/dataset';
import { useEmbeddingStore } from '../stores/embedding';
import { useModelStore } from '../stores/model';
import { useNoticeStore } from '../stores/notices';
import { useSweepsStore } from '../stores/sweeps';
import { useTrainerStore } from '../stores/trainer';

export function useStudioEvents(onMenuRuns: () => void = () => undefined): void {
  const trainer = useTrainerStore();
  const model = useModelStore();
  const dataset = useDatasetStore();
  const notices = useNoticeStore();
  const embedding = useEmbeddingStore();
  const sweeps = useSweepsStore();
  let off: (() => void) | null = null;

  function dispatch(e: StudioEvent): void {
    switch (e.type) {
      case 'progress':
      case 'epoch':
      case 'snapshot':
      case 'run-status':
        trainer.onEvent(e);
        return;
      case 'model-opened':
        model.set(e.model);
        return;
      case 'dataset-changed':
        dataset.changed(e.dataset);
        return;
      case 'error':
        notices.push('error', e.message);
        return;
      case 'sweep-changed':
        sweeps.onEvent(e);
        return;
      case 'projection-progress':
        embedding.onEvent(e);
        return;
      case 'run-notice':
        // Shown over the Train view; the run goes on.
        notices.push('info', `Run ${e.runId}: ${e.message}.`);
        return;
      case 'menu':
        switch (e.action) {
          case 'open-model':
            void model.open();
            return;
          case 'save-model':
            void model.save(false);
            return;
          case 'save-model-as':
            void model.save(true);
            return;
          case 'open-dataset':
            void dataset.openDialog();
            return;
          case 'open-runs':
            onMenuRuns();
            return;
          case 'export-onnx':
            void model.exportOnnx();
            return;
        }
    }
  }

  onMounted(() => {
    off = onStudioEvent(dispatch);
  });
  onUnmounted(() => off?.());
}
