/**
 * Index ranges, and reads at indices the series-parallel code computes itself
 * (task ids, places in a set, sample offsets). Under noUncheckedIndexedAccess
 * each read may be undefined; a miss here is a bug, never bad input, so these
 * accessors stop on it with one internal error instead of letting a NaN skew a
 * structure. One accessor per array type keeps each monomorphic and small
 * enough for V8 to inline in the hot loops.
 */

/** 0, 1, ..., n - 1. */
export function range(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** A list with at least one item, whose first item needs no check. */
export type NonEmpty<T> = [T, ...T[]];

export function isNonEmpty<T>(list: T[]): list is NonEmpty<T> {
  return list.length > 0;
}

export function itemAt<T>(list: readonly T[], index: number): T {
  const item = list[index];
  return item !== undefined ? item : outOfRange(index, list.length);
}

export function f64At(values: Float64Array, index: number): number {
  return values[index] ?? outOfRange(index, values.length);
}

export function i32At(values: Int32Array, index: number): number {
  return values[index] ?? outOfRange(index, values.length);
}

export function u32At(values: Uint32Array, index: number): number {
  return values[index] ?? outOfRange(index, values.length);
}

function outOfRange(index: number, length: number): never {
  throw new Error(`internal: index ${index} outside 0..${length - 1} in the series-parallel search`);
}
