// The allocator over the wasm kernels' memory, and the arenas that own what it hands out.
//
// The memory is reserved once and never grown: growing would detach every Float32Array view the
// models hold. The heap hands out 64-byte-aligned blocks first fit and takes them back when their
// owner says so; nothing is returned behind anyone's back. An Arena records the blocks it took, so
// `dispose()` returns all of them at once (a Model owns one; BatchBuffer growth frees the old
// block and takes a bigger one within the same arena). When a block does not fit, allocation
// throws KernelMemoryError: a model that needs more than the memory holds fails loudly, it does
// not run slower on ordinary arrays.

import { EngineError } from '../../errors';
import type { Arena } from '../types';

const ALIGN = 64;

/** The wasm kernels' memory cannot hold a block (code KERNEL_MEMORY_FULL). */
export class KernelMemoryError extends EngineError {
  override readonly name = 'KernelMemoryError';
  constructor(bytes: number, free: number, largest: number) {
    super(
      'KERNEL_MEMORY_FULL',
      `the wasm kernels' memory is full: ${bytes} bytes wanted, ${free} bytes free (largest free block ${largest} bytes); dispose() models no longer in use`,
    );
  }
}

/** First-fit allocator over [start, end) with a coalescing free list. */
export class Heap {
  private readonly free: { at: number; size: number }[];

  constructor(start: number, end: number) {
    this.free = [{ at: start, size: end - start }];
  }

  static blockSize(bytes: number): number {
    return Math.ceil(bytes / ALIGN) * ALIGN || ALIGN;
  }

  /** The byte offset of a block of at least `bytes`; throws KernelMemoryError when none is free. */
  take(bytes: number): number {
    const size = Heap.blockSize(bytes);
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      if (f.size < size) continue;
      const at = f.at;
      f.at += size;
      f.size -= size;
      if (f.size === 0) this.free.splice(i, 1);
      return at;
    }
    throw new KernelMemoryError(
      size,
      this.freeBytes,
      this.free.reduce((m, f) => Math.max(m, f.size), 0),
    );
  }

  give(at: number, bytes: number): void {
    const size = Heap.blockSize(bytes);
    let i = 0;
    while (i < this.free.length && this.free[i].at < at) i++;
    this.free.splice(i, 0, { at, size });
    // merge with neighbours
    if (i + 1 < this.free.length && this.free[i].at + this.free[i].size === this.free[i + 1].at) {
      this.free[i].size += this.free[i + 1].size;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].at + this.free[i - 1].size === this.free[i].at) {
      this.free[i - 1].size += this.free[i].size;
      this.free.splice(i, 1);
    }
  }

  get freeBytes(): number {
    return this.free.reduce((a, f) => a + f.size, 0);
  }
}

/** An owner of heap blocks: views of `buffer`, each returned by `free` or, all at once, by `dispose`. */
export function heapArena(heap: Heap, buffer: ArrayBuffer): Arena {
  /** byte offset → bytes, of every block this arena holds */
  const blocks = new Map<number, number>();
  let disposed = false;

  function take(bytes: number): number {
    if (disposed) throw new Error('internal error: allocation from a disposed arena');
    const at = heap.take(bytes);
    blocks.set(at, bytes);
    return at;
  }

  return {
    alloc(length) {
      const view = new Float32Array(buffer, take(length * 4), length);
      view.fill(0);
      return view;
    },
    allocI32(length) {
      const view = new Int32Array(buffer, take(length * 4), length);
      view.fill(0);
      return view;
    },
    free(a) {
      const bytes = blocks.get(a.byteOffset);
      if (a.buffer !== buffer || bytes === undefined) throw new Error('internal error: free() of an array this arena did not allocate');
      blocks.delete(a.byteOffset);
      heap.give(a.byteOffset, bytes);
    },
    dispose() {
      for (const [at, bytes] of blocks) heap.give(at, bytes);
      blocks.clear();
      disposed = true;
    },
  };
}
