// BPF maps with a typed API: keys and values as Buffers, or through codecs.
import { readFileSync } from 'node:fs';
import { closeFd, mapCreate, MapElemOps, mapLookupBatch, MapTypeName, UpdateFlags } from '../kernel/bpf.js';
import { TsbpfError } from '../kernel/errors.js';

let cpuCount: number | undefined;

/** Possible CPUs (not online ones): per-CPU map values have one slot for each. */
export function possibleCpus(): number {
  if (cpuCount === undefined) {
    const spec = readFileSync('/sys/devices/system/cpu/possible', 'latin1').trim();
    cpuCount = Math.max(...spec.split(',').map((r) => Number(r.split('-').pop()))) + 1;
  }
  return cpuCount;
}

export interface MapSpec {
  name: string;
  type: MapTypeName;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
}

const perCpuTypes = new Set<MapTypeName>(['percpu_hash', 'percpu_array', 'lru_percpu_hash']);
const noKeyTypes = new Set<MapTypeName>(['ringbuf', 'queue', 'stack', 'bloom_filter', 'user_ringbuf']);

export class BpfMap {
  readonly fd: number;
  readonly spec: MapSpec;
  readonly perCpu: boolean;
  /** Bytes of one lookup result: per-CPU maps return every CPU's value, each padded to 8. */
  readonly valueBytes: number;
  private readonly ops: MapElemOps;
  private closed = false;

  constructor(spec: MapSpec) {
    this.spec = spec;
    this.fd = mapCreate({
      type: spec.type, keySize: noKeyTypes.has(spec.type) ? 0 : spec.keySize,
      valueSize: spec.type === 'ringbuf' ? 0 : spec.valueSize, maxEntries: spec.maxEntries,
      flags: spec.flags, name: spec.name,
    });
    this.ops = new MapElemOps(this.fd);
    this.perCpu = perCpuTypes.has(spec.type);
    this.valueBytes = this.perCpu ? Math.ceil(spec.valueSize / 8) * 8 * possibleCpus() : spec.valueSize;
  }

  get name(): string {
    return this.spec.name;
  }

  private checkKey(key: Uint8Array): void {
    if (key.byteLength !== this.spec.keySize) {
      throw new TsbpfError(`map '${this.name}': key is ${key.byteLength} bytes, expected ${this.spec.keySize}`);
    }
  }

  /** The value (all CPUs' values back to back for per-CPU maps), or undefined. */
  lookup(key: Uint8Array): Buffer | undefined {
    this.checkKey(key);
    const value = Buffer.alloc(this.valueBytes);
    return this.ops.lookup(key, value) ? value : undefined;
  }

  /** Per-CPU maps: one Buffer per possible CPU. */
  lookupPerCpu(key: Uint8Array): Buffer[] | undefined {
    const v = this.lookup(key);
    return v && splitPerCpu(v, this.spec.valueSize);
  }

  update(key: Uint8Array, value: Uint8Array, flags = UpdateFlags.ANY): void {
    this.checkKey(key);
    if (value.byteLength !== this.valueBytes) {
      throw new TsbpfError(`map '${this.name}': value is ${value.byteLength} bytes, expected ${this.valueBytes}`);
    }
    this.ops.update(key, value, flags);
  }

  delete(key: Uint8Array): boolean {
    this.checkKey(key);
    return this.ops.delete(key);
  }

  *keys(): Generator<Buffer> {
    let prev: Buffer | null = null;
    for (;;) {
      const next = Buffer.alloc(this.spec.keySize);
      if (!this.ops.nextKey(prev, next)) return;
      yield next;
      prev = next;
    }
  }

  /**
   * Every entry. Uses one BPF_MAP_LOOKUP_BATCH where the kernel supports it for this map
   * type, else get_next_key + lookup (entries deleted in between are skipped).
   */
  entries(): Array<[Buffer, Buffer]> {
    const batched = this.batchEntries();
    if (batched) return batched;
    const out: Array<[Buffer, Buffer]> = [];
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v) out.push([k, v]);
    }
    return out;
  }

  private batchUnsupported = false;

  private batchEntries(): Array<[Buffer, Buffer]> | undefined {
    if (this.batchUnsupported || this.spec.type === 'stack_trace' || noKeyTypes.has(this.spec.type)) return undefined;
    const n = Math.min(this.spec.maxEntries, 4096);
    const keys = Buffer.alloc(n * this.spec.keySize);
    const values = Buffer.alloc(n * this.valueBytes);
    const cursor = [Buffer.alloc(Math.max(this.spec.keySize, 8)), Buffer.alloc(Math.max(this.spec.keySize, 8))];
    const out: Array<[Buffer, Buffer]> = [];
    let first = true;
    for (let round = 0; ; round++) {
      let res;
      try {
        res = mapLookupBatch(this.fd, first ? null : cursor[round % 2], cursor[(round + 1) % 2], keys, values, n);
      } catch (e) {
        if (first && (e as { errno?: number }).errno !== undefined) {
          this.batchUnsupported = true;
          return undefined;
        }
        throw e;
      }
      first = false;
      for (let i = 0; i < res.count; i++) {
        out.push([
          Buffer.from(keys.subarray(i * this.spec.keySize, (i + 1) * this.spec.keySize)),
          Buffer.from(values.subarray(i * this.valueBytes, (i + 1) * this.valueBytes)),
        ]);
      }
      if (res.done) return out;
    }
  }

  /** Deletes every entry (arrays are zeroed instead: their entries cannot be deleted). */
  clear(): void {
    if (this.spec.type.includes('array')) {
      const zero = Buffer.alloc(this.valueBytes);
      for (const k of this.keys()) this.ops.update(k, zero);
      return;
    }
    for (const k of [...this.keys()]) this.ops.delete(k);
  }

  /** Sets every value to zero, keeping the keys (bpftrace's zero()). */
  zero(): void {
    const zero = Buffer.alloc(this.valueBytes);
    for (const k of [...this.keys()]) this.ops.update(k, zero);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeFd(this.fd);
  }
}

export function splitPerCpu(v: Buffer, valueSize: number): Buffer[] {
  const stride = Math.ceil(valueSize / 8) * 8;
  const out: Buffer[] = [];
  for (let off = 0; off + stride <= v.length; off += stride) out.push(v.subarray(off, off + valueSize));
  return out;
}

/** Converts between JS values and map key/value bytes. */
export interface Codec<T> {
  size: number;
  encode(v: T): Buffer;
  decode(b: Uint8Array): T;
}

const intCodec = (size: 1 | 2 | 4 | 8, signed: boolean): Codec<bigint> => ({
  size,
  encode(v) {
    const b = Buffer.alloc(size);
    if (size === 8) signed ? b.writeBigInt64LE(v) : b.writeBigUInt64LE(BigInt.asUintN(64, v));
    else signed ? b.writeIntLE(Number(v), 0, size) : b.writeUIntLE(Number(BigInt.asUintN(size * 8, v)), 0, size);
    return b;
  },
  decode(b) {
    const buf = Buffer.from(b.buffer, b.byteOffset, size);
    if (size === 8) return signed ? buf.readBigInt64LE() : buf.readBigUInt64LE();
    return BigInt(signed ? buf.readIntLE(0, size) : buf.readUIntLE(0, size));
  },
});

export const codec = {
  u8: intCodec(1, false), u16: intCodec(2, false), u32: intCodec(4, false), u64: intCodec(8, false),
  s32: intCodec(4, true), s64: intCodec(8, true),
  /** A NUL-padded string of fixed size. */
  string(size: number): Codec<string> {
    return {
      size,
      encode(v) {
        const b = Buffer.alloc(size);
        b.write(v, 'utf8');
        return b;
      },
      decode(b) {
        const end = b.indexOf(0);
        return Buffer.from(b.buffer, b.byteOffset, end < 0 ? size : end).toString('utf8');
      },
    };
  },
} as const;

/** A map seen through key and value codecs; per-CPU values are summed with `merge`. */
export class TypedMap<K, V> {
  constructor(
    readonly map: BpfMap,
    private readonly k: Codec<K>,
    private readonly v: Codec<V>,
    private readonly merge?: (perCpu: V[]) => V,
  ) {}

  get(key: K): V | undefined {
    if (!this.map.perCpu) {
      const raw = this.map.lookup(this.k.encode(key));
      return raw && this.v.decode(raw);
    }
    const parts = this.map.lookupPerCpu(this.k.encode(key));
    if (!parts) return undefined;
    const vals = parts.map((p) => this.v.decode(p));
    if (!this.merge) throw new TsbpfError(`map '${this.map.name}' is per-CPU: give a merge function`);
    return this.merge(vals);
  }

  set(key: K, value: V): void {
    if (this.map.perCpu) {
      const one = this.v.encode(value);
      const stride = Math.ceil(this.v.size / 8) * 8;
      const all = Buffer.alloc(this.map.valueBytes);
      for (let off = 0; off < all.length; off += stride) one.copy(all, off);
      this.map.update(this.k.encode(key), all);
    } else {
      this.map.update(this.k.encode(key), this.v.encode(value));
    }
  }

  delete(key: K): boolean {
    return this.map.delete(this.k.encode(key));
  }

  entries(): Array<[K, V]> {
    return this.map.entries().map(([kb, vb]) => {
      const key = this.k.decode(kb);
      if (!this.map.perCpu) return [key, this.v.decode(vb)];
      const vals = splitPerCpu(vb, this.v.size).map((p) => this.v.decode(p));
      if (!this.merge) throw new TsbpfError(`map '${this.map.name}' is per-CPU: give a merge function`);
      return [key, this.merge(vals)];
    });
  }
}

export const sumBigints = (xs: bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);
