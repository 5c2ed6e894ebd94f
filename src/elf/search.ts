// The one binary search the readers need: symbols, mappings, FDEs, DWARF units and Go
// functions are all sorted by start address, and a lookup wants the last entry that
// starts at or below an address.

/** Index of the last entry whose key is <= x, or -1; keys ascend with the index. */
export function lastAtOrBelow<T extends number | bigint>(count: number, keyAt: (i: number) => T, x: T): number {
  let lo = 0;
  let hi = count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (keyAt(mid) <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The entry of sorted, non-overlapping [start, end) ranges that holds x. */
export function rangeHolding<R>(list: readonly R[], start: (r: R) => number, end: (r: R) => number, x: number): R | undefined {
  const i = lastAtOrBelow(list.length, (k) => start(list[k]), x);
  return i >= 0 && x < end(list[i]) ? list[i] : undefined;
}
