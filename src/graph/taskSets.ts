/**
 * Sets of tasks as the series-parallel code passes them around: arrays of
 * task ids in increasing order.
 */
import { i32At, itemAt } from "./indices.js";

/**
 * Membership of one task set at a time, for loops that meet tasks through the
 * DAG's edges and must tell whether they belong to the set at hand. Marking a
 * set costs its size, not the DAG's: a fresh stamp forgets the previous set.
 */
export class TaskMarks {
  private readonly stampOf: Int32Array;
  private readonly positionOf: Int32Array;
  private stamp = 0;

  constructor(size: number) {
    this.stampOf = new Int32Array(size);
    this.positionOf = new Int32Array(size);
  }

  /** Marks the tasks of `set`, forgetting any earlier set, and numbers them by their place in it. */
  enter(set: readonly number[]): void {
    const stamp = ++this.stamp;
    for (let i = 0; i < set.length; i++) {
      const v = itemAt(set, i);
      this.stampOf[v] = stamp;
      this.positionOf[v] = i;
    }
  }

  has(v: number): boolean {
    return this.stampOf[v] === this.stamp;
  }

  /** Unmarks `v`; false if it was not marked. */
  take(v: number): boolean {
    if (this.stampOf[v] !== this.stamp) return false;
    this.stampOf[v] = 0;
    return true;
  }

  /** Place of a marked task in the set last entered. */
  position(v: number): number {
    return i32At(this.positionOf, v);
  }
}

/** Key of a task set for the memo: two 32-bit FNV-1a hashes and the size. */
export function setKey(depth: number, set: readonly number[]): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ depth;
  for (const v of set) {
    h1 = Math.imul(h1 ^ v, 0x01000193);
    h2 = Math.imul(h2 ^ (v + 0x9e3779b9), 0x85ebca6b);
    h2 ^= h2 >>> 13;
  }
  return `${depth}:${set.length}:${h1 >>> 0}:${h2 >>> 0}`;
}
