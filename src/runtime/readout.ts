// Reads a compiled map out of the kernel as an output MapSnapshot: merges per-CPU values
// the way bpftrace does and folds hist/lhist bucket keys back into one entry per user key.
import { CompiledMap, layoutOf } from '../lang/compiled.js';
import {
  MapSnapshot, mergeAvg, mergeBuckets, mergeCount, mergeMax, mergeMin, mergeSum,
} from '../output/values.js';
import { BpfMap, splitPerCpu } from './maps.js';
import { decodeList, decodeValue, DecodeContext } from './decode.js';

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

export function snapshot(cm: CompiledMap, map: BpfMap, ctx: DecodeContext): MapSnapshot {
  const raw = map.entries();
  const perCpu = (v: Buffer): Buffer[] => (map.perCpu ? splitPerCpu(v, cm.valueSize) : [v]);
  const keyOf = (k: Buffer) => ({ key: cm.keys.length ? decodeList(cm.keys, view(k), 0, ctx) : [], rawKey: k });
  const agg = cm.aggregation;
  switch (agg.kind) {
    case 'count': {
      const entries = raw.map(([k, v]) => ({ ...keyOf(k), value: mergeCount(perCpu(v).map((b) => b.readBigUInt64LE(0))) }));
      // bpftrace 0.17 keeps a keyless count() in a per-CPU array: it always exists, so it
      // prints as 0 when never hit or after clear()/delete() (pidpersec.bt's last line).
      if (!cm.keys.length && !entries.length) entries.push({ key: [], rawKey: Buffer.alloc(cm.keySize), value: 0n });
      return { name: cm.name, kind: 'count', entries };
    }
    case 'sum':
      return { name: cm.name, kind: 'sum', entries: raw.map(([k, v]) => ({ ...keyOf(k), value: mergeSum(perCpu(v).map((b) => b.readBigInt64LE(0))) })) };
    case 'min':
    case 'max': {
      const merge = agg.kind === 'min' ? mergeMin : mergeMax;
      return {
        name: cm.name, kind: agg.kind,
        entries: raw.map(([k, v]) => ({
          ...keyOf(k),
          value: merge(perCpu(v).map((b) => (b.readBigUInt64LE(8) ? b.readBigInt64LE(0) : undefined))),
        })),
      };
    }
    case 'avg':
    case 'stats':
      return {
        name: cm.name, kind: agg.kind,
        entries: raw.map(([k, v]) => ({
          ...keyOf(k),
          ...mergeAvg(perCpu(v).map((b) => ({ count: b.readBigUInt64LE(0), total: b.readBigInt64LE(8) }))),
        })),
      };
    case 'hist':
    case 'lhist': {
      // Keys are (user key..., u64 bucket): group by the user-key bytes.
      const userKeySize = cm.keys.length ? layoutOf({ kind: 'tuple', elems: cm.keys }).size : 0;
      const bucketAt = cm.keySize - 8;
      const groups = new Map<string, { k: Buffer; buckets: bigint[] }>();
      for (const [k, v] of raw) {
        const uk = k.subarray(0, userKeySize);
        const id = uk.toString('hex');
        let g = groups.get(id);
        if (!g) groups.set(id, (g = { k: Buffer.from(uk), buckets: [] }));
        const idx = Number(k.readBigUInt64LE(bucketAt));
        g.buckets[idx] = (g.buckets[idx] ?? 0n) + mergeCount(perCpu(v).map((b) => b.readBigUInt64LE(0)));
      }
      const entries = [...groups.values()].map((g) => ({ ...keyOf(g.k), buckets: mergeBuckets([Array.from(g.buckets, (n) => n ?? 0n)]) }));
      return agg.kind === 'hist'
        ? { name: cm.name, kind: 'hist', entries }
        : { name: cm.name, kind: 'lhist', min: agg.min, max: agg.max, step: agg.step, entries };
    }
    case 'value':
      return { name: cm.name, kind: 'value', entries: raw.map(([k, v]) => ({ ...keyOf(k), value: decodeValue(agg.type, view(v), 0, ctx) })) };
  }
}
