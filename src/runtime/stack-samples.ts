// Copied user stacks (lang/stacks.ts) on the runtime side: each sample is unwound with
// .eh_frame rules as it arrives, while the process still lives, and kept under its sample id
// for the ustack values that name it. Identical stacks share one canonical id, so map keys
// that differ only in the sample that produced them can be folded into one entry.
import { layoutOf, type CompiledMap } from '../lang/compiled.js';
import { SAMPLE_RECORD_HEADER, isSampleId } from '../lang/stacks.js';
import { parseStackSample, unwindUserStack } from './stacks.js';
import type { Symbolizer } from './symbolize.js';

/** Sample ids kept; a printf'd stack needs its sample only until the printf right after it. */
const MAX_SAMPLES = 1 << 20;

export class StackSamples {
  private readonly canonicalOf = new Map<number, number>();
  private readonly byStack = new Map<string, number>();
  private readonly ipsOf = new Map<number, bigint[]>();

  constructor(private readonly sym: Symbolizer | undefined) {}

  /** A STACK_SAMPLE_EVENT record: u64 event id, u64 sample id, then the StackSample. */
  add(d: DataView): void {
    const id = Number(d.getBigUint64(8, true));
    const sample = parseStackSample(new DataView(d.buffer, d.byteOffset + SAMPLE_RECORD_HEADER, d.byteLength - SAMPLE_RECORD_HEADER));
    const ips = this.sym ? (this.sym.remember(sample.pid), unwindUserStack(this.sym, sample)) : [sample.ip];
    const sig = `${sample.pid}:${ips.join(',')}`;
    let canonical = this.byStack.get(sig);
    if (canonical === undefined) {
      this.byStack.set(sig, (canonical = id));
      this.ipsOf.set(id, ips);
    }
    if (this.canonicalOf.size >= MAX_SAMPLES) this.canonicalOf.delete(this.canonicalOf.keys().next().value!);
    this.canonicalOf.set(id, canonical);
  }

  /** Instruction pointers of a sample, innermost first; undefined when the id is not a sample. */
  ips(id: number): bigint[] | undefined {
    if (!isSampleId(id)) return undefined;
    const c = this.canonicalOf.get(id);
    return c === undefined ? [] : this.ipsOf.get(c) ?? [];
  }

  /**
   * A map's raw entries with sample ids in ustack keys replaced by canonical ones, entries
   * with equal keys merged as the aggregation merges (per-CPU slot by slot).
   */
  fold(cm: CompiledMap, raw: Array<[Buffer, Buffer]>): Array<[Buffer, Buffer]> {
    const l = layoutOf({ kind: 'tuple', elems: cm.keys });
    const at = cm.keys.flatMap((t, i) => (t.kind === 'ustack' ? [l.offsets[i]] : []));
    if (!at.length) return raw;
    const out = new Map<string, [Buffer, Buffer]>();
    for (const [k0, v] of raw) {
      const k = Buffer.from(k0);
      for (const off of at) {
        const c = this.canonicalOf.get(Number(k.readBigInt64LE(off)));
        if (c !== undefined) k.writeBigInt64LE(BigInt(c), off);
      }
      const id = k.toString('hex');
      const prior = out.get(id);
      out.set(id, [k, prior ? mergeValues(cm, prior[1], v) : v]);
    }
    return [...out.values()];
  }
}

function mergeValues(cm: CompiledMap, a: Buffer, b: Buffer): Buffer {
  const agg = cm.aggregation.kind;
  if (agg === 'value') return b;
  const out = Buffer.from(a);
  const pairs = agg === 'min' || agg === 'max' || agg === 'avg' || agg === 'stats';
  const stride = pairs ? 16 : 8;
  for (let o = 0; o + stride <= out.length; o += stride) {
    if (agg === 'min' || agg === 'max') {
      // { s64 value; u64 set }
      if (!b.readBigUInt64LE(o + 8)) continue;
      const bv = b.readBigInt64LE(o);
      const take = !out.readBigUInt64LE(o + 8) || (agg === 'min' ? bv < out.readBigInt64LE(o) : bv > out.readBigInt64LE(o));
      if (take) b.copy(out, o, o, o + 16);
      continue;
    }
    // Counts, sums, and avg/stats' { count; total }: add (two's complement covers s64).
    for (let w = o; w < o + stride; w += 8) out.writeBigUInt64LE(BigInt.asUintN(64, out.readBigUInt64LE(w) + b.readBigUInt64LE(w)), w);
  }
  return out;
}
