// Messages for the person at the screen: errors (with the file and the reason, as the backend
// words them) and short notes. Shown by ErrorBanner over the page; errors stay until the user
// dismisses them, notes go by themselves after a few seconds.

import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  message: string;
}

/** How long a note stays on screen. */
export const INFO_MS = 8000;

export const useNoticeStore = defineStore('notices', () => {
  const items = ref<Notice[]>([]);
  let next = 1;

  function push(kind: Notice['kind'], message: string): void {
    // The same message twice in a row is one notice.
    if (items.value.at(-1)?.message === message) return;
    const id = next++;
    items.value = [...items.value.slice(-4), { id, kind, message }];
    if (kind === 'info') setTimeout(() => dismiss(id), INFO_MS);
  }

  function error(e: unknown): void {
    push('error', e instanceof Error ? e.message : String(e));
  }

  function dismiss(id: number): void {
    items.value = items.value.filter((n) => n.id !== id);
  }

  return { items, push, error, dismiss };
});
