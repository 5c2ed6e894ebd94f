// The value model of what maps and events hold once the runtime has decoded them: typed key and
// value data with symbols, stacks and addresses already resolved, so formatting needs no kernel.

export type IntBits = 8 | 16 | 32 | 64;

/** One decoded datum: a map key component, a map value, a printf argument, a tuple element. */
export type Value =
  | { kind: 'int'; value: bigint; bits: IntBits; signed: boolean }
  | { kind: 'string'; value: string }
  /** Resolved symbol text, e.g. `vfs_read` or `0xffff...` when unresolvable. */
  | { kind: 'ksym' | 'usym'; value: string }
  /** Probe name (`probe` builtin) and user name (`username`): printed as plain text. */
  | { kind: 'probe' | 'username'; value: string }
  /**
   * Already-symbolised frames, innermost first, e.g. `vfs_read+5`. In perf mode each frame
   * is the whole perf line (`ffffffff81234 vfs_read+5 ([kernel.kallsyms])`) and gets a tab.
   */
  | { kind: 'stack'; frames: string[]; perf?: boolean }
  | { kind: 'tuple'; elems: Value[] }
  | { kind: 'inet'; bytes: Uint8Array }
  | { kind: 'buffer'; bytes: Uint8Array }
  | { kind: 'pointer'; value: bigint };

export const int = (value: bigint | number, bits: IntBits = 64, signed = true): Value =>
  ({ kind: 'int', value: BigInt(value), bits, signed });
export const uint = (value: bigint | number, bits: IntBits = 64): Value => int(value, bits, false);
export const str = (value: string): Value => ({ kind: 'string', value });
export const tuple = (...elems: Value[]): Value => ({ kind: 'tuple', elems });
export const stack = (frames: string[], perf = false): Value => ({ kind: 'stack', frames, perf });
export const inet = (bytes: Uint8Array | number[]): Value => ({ kind: 'inet', bytes: Uint8Array.from(bytes) });
export const buffer = (bytes: Uint8Array | number[] | string): Value =>
  ({ kind: 'buffer', bytes: typeof bytes === 'string' ? new Uint8Array(Buffer.from(bytes, 'latin1')) : Uint8Array.from(bytes) });

/** Key and optional raw key bytes: bpftrace breaks ties in hist/avg/stats order by raw key bytes. */
export interface EntryKey {
  key: Value[];
  rawKey?: Uint8Array;
}

export type ScalarAgg = 'count' | 'sum' | 'min' | 'max';

/**
 * A map as read out at print time, one entry per key, per-CPU values already merged (see the
 * merge helpers below). Entries may come in any order (bpf_map_get_next_key order is best:
 * bpftrace keeps that order among equal values). `name` includes the `@`.
 */
export type MapSnapshot =
  | { name: string; kind: ScalarAgg; entries: Array<EntryKey & { value: bigint }> }
  | { name: string; kind: 'avg' | 'stats'; entries: Array<EntryKey & { count: bigint; total: bigint }> }
  /** buckets[i] as bpftrace indexes them: see histBucket. Trailing zero buckets may be omitted. */
  | { name: string; kind: 'hist'; entries: Array<EntryKey & { buckets: bigint[] }> }
  /** buckets[0] is below min, buckets[1 + (max-min)/step] is at or above max: see lhistBucket. */
  | { name: string; kind: 'lhist'; min: number; max: number; step: number; entries: Array<EntryKey & { buckets: bigint[] }> }
  /** Plain assignments: `@x = 5`, `@s[pid] = comm`, `@t = (1, "a")`, `@k = kstack`. */
  | { name: string; kind: 'value'; entries: Array<EntryKey & { value: Value }> };

// --- per-CPU merges (values of per-CPU maps arrive as one element per possible CPU) ---

/** count() and unsigned sum(): wrapping u64 addition, as bpftrace's reduce_value<uint64_t>. */
export function mergeCount(perCpu: readonly bigint[]): bigint {
  return BigInt.asUintN(64, perCpu.reduce((a, b) => a + b, 0n));
}

/** Signed sum(): wrapping i64 addition. */
export function mergeSum(perCpu: readonly bigint[], signed = true): bigint {
  const total = perCpu.reduce((a, b) => a + b, 0n);
  return signed ? BigInt.asIntN(64, total) : BigInt.asUintN(64, total);
}

/** min(): CPUs that never saw a value must be passed as undefined, not 0. */
export function mergeMin(perCpu: readonly (bigint | undefined)[]): bigint {
  const seen = perCpu.filter((v): v is bigint => v !== undefined);
  return seen.length ? seen.reduce((a, b) => (b < a ? b : a)) : 0n;
}

export function mergeMax(perCpu: readonly (bigint | undefined)[]): bigint {
  const seen = perCpu.filter((v): v is bigint => v !== undefined);
  return seen.length ? seen.reduce((a, b) => (b > a ? b : a)) : 0n;
}

/** avg() and stats(): counts and totals add up; the average is computed at print time. */
export function mergeAvg(perCpu: readonly { count: bigint; total: bigint }[]): { count: bigint; total: bigint } {
  let count = 0n;
  let total = 0n;
  for (const c of perCpu) {
    count += c.count;
    total += c.total;
  }
  return { count: BigInt.asIntN(64, count), total: BigInt.asIntN(64, total) };
}

/** hist()/lhist() buckets: element-wise sum. */
export function mergeBuckets(perCpu: readonly (readonly bigint[])[]): bigint[] {
  const out: bigint[] = [];
  for (const buckets of perCpu) {
    buckets.forEach((n, i) => { out[i] = (out[i] ?? 0n) + n; });
  }
  return Array.from(out, (n) => n ?? 0n);
}

/** Integer average the way bpftrace prints it: total / count truncated, 0 when empty. */
export function average(count: bigint, total: bigint): bigint {
  return count === 0n ? 0n : total / count;
}

// --- bucket indexing, the same as bpftrace's generated code ---

/** hist(): 0 for negatives, 1 for zero, 2 + floor(log2(v)) otherwise. */
export function histBucket(v: bigint): number {
  if (v < 0n) return 0;
  if (v === 0n) return 1;
  return v.toString(2).length + 1;
}

/** lhist(): 0 below min, 1 + (max-min)/step above max, else 1 + (v-min)/step. */
export function lhistBucket(v: bigint, min: number, max: number, step: number): number {
  if (v < BigInt(min)) return 0;
  if (v > BigInt(max)) return 1 + Math.trunc((max - min) / step);
  return 1 + Number((v - BigInt(min)) / BigInt(step));
}
