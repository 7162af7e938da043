/**
 * The ready set of Kahn's algorithm, smallest key first: a binary heap, so a wide pipeline (a
 * fan of thousands of independent nodes) is ordered in O(n log n), not by re-sorting the whole
 * ready list at each step. Keys are unique (positions), so the order is the sorted one.
 */
export class ReadyQueue<T> {
  private readonly heap: T[] = [];

  constructor(private readonly key: (item: T) => number) {}

  get size(): number {
    return this.heap.length;
  }

  push(item: T): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.key(heap[parent] as T) <= this.key(heap[i] as T)) break;
      [heap[parent], heap[i]] = [heap[i] as T, heap[parent] as T];
      i = parent;
    }
  }

  /** The item with the smallest key; undefined when empty. */
  pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.key(heap[l] as T) < this.key(heap[m] as T)) m = l;
      if (r < heap.length && this.key(heap[r] as T) < this.key(heap[m] as T)) m = r;
      if (m === i) break;
      [heap[m], heap[i]] = [heap[i] as T, heap[m] as T];
      i = m;
    }
    return top;
  }
}
