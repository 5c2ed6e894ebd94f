// Consumer of a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) mapped into our memory.
// Layout: a consumer page (ours, writable), a producer page, then the data area mapped
// twice back to back so a record that wraps is still contiguous.
import { native } from '../kernel/native.js';
import { TsbpfError } from '../kernel/errors.js';
import { BpfMap } from './maps.js';

const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
const BUSY = 0x80000000, DISCARD = 0x40000000, HDR = 8;
const PAGE = 4096;

export type RecordHandler = (data: DataView) => void;

export class RingBufReader {
  readonly map: BpfMap;
  private consumerMem: ArrayBuffer;
  private producerMem: ArrayBuffer;
  private readonly cons: Uint32Array;
  private readonly prod: Uint32Array;
  private readonly data: DataView;
  private readonly hdr: Int32Array;
  private readonly mask: number;
  /** Records the program reserved then discarded (bpf_ringbuf_discard). */
  discarded = 0;
  consumed = 0;

  constructor(map: BpfMap) {
    if (map.spec.type !== 'ringbuf') throw new TsbpfError(`map '${map.name}' is not a ring buffer`);
    this.map = map;
    const size = map.spec.maxEntries;
    this.mask = size - 1;
    const c = native.mmap(map.fd, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
    if (typeof c === 'number') throw new TsbpfError(`mapping ring buffer '${map.name}' failed (errno ${-c})`);
    const p = native.mmap(map.fd, PAGE + 2 * size, PROT_READ, MAP_SHARED, PAGE);
    if (typeof p === 'number') {
      native.munmap(c);
      throw new TsbpfError(`mapping ring buffer '${map.name}' data failed (errno ${-p})`);
    }
    this.consumerMem = c;
    this.producerMem = p;
    this.cons = new Uint32Array(c, 0, 2);
    this.prod = new Uint32Array(p, 0, 2);
    this.hdr = new Int32Array(p, PAGE, (2 * size) / 4);
    this.data = new DataView(p, PAGE, 2 * size);
  }

  // Positions are u64 in the kernel; read both halves with a re-check so a carry between
  // them is never seen half-done. They stay below 2^53, so a Number holds them.
  private static load64(a: Uint32Array): number {
    for (;;) {
      const hi = Atomics.load(a, 1);
      const lo = Atomics.load(a, 0);
      if (Atomics.load(a, 1) === hi) return hi * 0x100000000 + lo;
    }
  }

  /** Delivers every complete record; returns how many were delivered. */
  drain(onRecord: RecordHandler): number {
    let cons = RingBufReader.load64(this.cons);
    let n = 0;
    for (;;) {
      const prod = RingBufReader.load64(this.prod);
      if (cons >= prod) break;
      while (cons < prod) {
        const at = cons & this.mask;
        const len = Atomics.load(this.hdr, at / 4);
        if (len & BUSY) return this.commit(cons, n);
        const size = len & ~(BUSY | DISCARD);
        if (len & DISCARD) this.discarded++;
        else {
          onRecord(new DataView(this.data.buffer, this.data.byteOffset + at + HDR, size));
          n++;
        }
        cons += (size + HDR + 7) & ~7;
        // Publish progress per record so the producer can reuse space while we work.
        this.store64(cons);
      }
    }
    return this.commit(cons, n);
  }

  private store64(v: number): void {
    Atomics.store(this.cons, 1, Math.floor(v / 0x100000000));
    Atomics.store(this.cons, 0, v >>> 0);
  }

  private commit(cons: number, n: number): number {
    this.store64(cons);
    this.consumed += n;
    return n;
  }

  close(): void {
    native.munmap(this.consumerMem);
    native.munmap(this.producerMem);
  }
}
