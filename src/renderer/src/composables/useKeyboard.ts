// Window-level keyboard shortcuts for the component's lifetime. Keys typed into a text field
// are left alone unless the shortcut uses Ctrl/Cmd or Alt.

import { onMounted, onUnmounted } from 'vue';

export interface Shortcut {
  /** KeyboardEvent.key, e.g. 'ArrowLeft', '1', 'd'. */
  key: string;
  /** Ctrl on Linux/Windows, Cmd on macOS. */
  mod?: boolean;
  alt?: boolean;
  shift?: boolean;
  run(e: KeyboardEvent): void;
}

function typing(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return (
    t.isContentEditable ||
    t instanceof HTMLTextAreaElement ||
    t instanceof HTMLSelectElement ||
    (t instanceof HTMLInputElement && t.type !== 'checkbox' && t.type !== 'radio' && t.type !== 'button')
  );
}

export function matches(s: Shortcut, e: KeyboardEvent): boolean {
  const mod = e.ctrlKey || e.metaKey;
  return e.key.toLowerCase() === s.key.toLowerCase() && mod === !!s.mod && e.altKey === !!s.alt && (s.shift === undefined || e.shiftKey === s.shift);
}

export function useKeyboard(shortcuts: () => Shortcut[]): void {
  function onKey(e: KeyboardEvent): void {
    if (e.defaultPrevented) return;
    for (const s of shortcuts()) {
      if (!matches(s, e)) continue;
      if (!s.mod && !s.alt && typing(e.target)) return;
      e.preventDefault();
      s.run(e);
      return;
    }
  }
  onMounted(() => window.addEventListener('keydown', onKey));
  onUnmounted(() => window.removeEventListener('keydown', onKey));
}
