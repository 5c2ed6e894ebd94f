// Consumer of a BPF perf event array: one bpf-output perf buffer per CPU, for kernels
// without ring buffers (< 5.8) and for programs that use bpf_perf_event_output.
import { native } from '../kernel/native.js';
import { openBpfOutput } from '../kernel/perf.js';
import { TsbpfError } from '../kernel/errors.js';
import { BpfMap, possibleCpus } from './maps.js';
import type { RecordHandler } from './ringbuf.js';

const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1, PAGE = 4096;
const RECORD_LOST = 2, RECORD_SAMPLE = 9;

interface CpuBuffer {
  cpu: number;
  fd: number;
  mem: ArrayBuffer;
  meta: DataView;
  data: Uint8Array;
}

export class PerfBufReader {
  readonly map: BpfMap;
  readonly buffers: CpuBuffer[] = [];
  /** Samples the kernel dropped because a buffer was full (PERF_RECORD_LOST). */
  lost = 0;
  consumed = 0;
  private scratch = new Uint8Array(0);

  /** `pages` per CPU must be a power of two. */
  constructor(map: BpfMap, pages = 64) {
    if (map.spec.type !== 'perf_event_array') throw new TsbpfError(`map '${map.name}' is not a perf event array`);
    this.map = map;
    const key = Buffer.alloc(4), val = Buffer.alloc(4);
    try {
      for (let cpu = 0; cpu < Math.min(possibleCpus(), map.spec.maxEntries); cpu++) {
        let fd: number;
        try {
          fd = openBpfOutput(cpu);
        } catch {
          continue; // possible but offline CPU
        }
        const mem = native.mmap(fd, PAGE * (pages + 1), PROT_READ | PROT_WRITE, MAP_SHARED, 0);
        if (typeof mem === 'number') {
          native.close(fd);
          throw new TsbpfError(`mapping perf buffer for cpu ${cpu} failed (errno ${-mem})`);
        }
        this.buffers.push({ cpu, fd, mem, meta: new DataView(mem, 0, PAGE), data: new Uint8Array(mem, PAGE, PAGE * pages) });
        key.writeUInt32LE(cpu);
        val.writeUInt32LE(fd);
        map.update(key, val);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  get fds(): number[] {
    return this.buffers.map((b) => b.fd);
  }

  drain(onRecord: RecordHandler): number {
    let n = 0;
    for (const b of this.buffers) n += this.drainOne(b, onRecord);
    this.consumed += n;
    return n;
  }

  private drainOne(b: CpuBuffer, onRecord: RecordHandler): number {
    const size = b.data.byteLength;
    // data_head is written by the kernel; on x86 a plain load after which we read data is
    // ordered (TSO), and V8 does not move typed-array reads across a DataView call.
    let tail = Number(b.meta.getBigUint64(1032, true));
    const head = Number(b.meta.getBigUint64(1024, true));
    let n = 0;
    while (tail < head) {
      const at = tail % size;
      const hdr = this.bytes(b.data, at, 8);
      const hv = new DataView(hdr.buffer, hdr.byteOffset, 8);
      const type = hv.getUint32(0, true);
      const recSize = hv.getUint16(6, true);
      if (recSize === 0) break;
      const rec = this.bytes(b.data, at, recSize);
      const rv = new DataView(rec.buffer, rec.byteOffset, recSize);
      if (type === RECORD_SAMPLE) {
        const len = rv.getUint32(8, true);
        onRecord(new DataView(rec.buffer, rec.byteOffset + 12, len));
        n++;
      } else if (type === RECORD_LOST) {
        this.lost += Number(rv.getBigUint64(16, true));
      }
      tail += recSize;
    }
    b.meta.setBigUint64(1032, BigInt(tail), true);
    return n;
  }

  /** `len` bytes at ring offset `at`, copied out only when the record wraps. */
  private bytes(data: Uint8Array, at: number, len: number): Uint8Array {
    if (at + len <= data.byteLength) return data.subarray(at, at + len);
    if (this.scratch.byteLength < len) this.scratch = new Uint8Array(Math.max(len, 4096));
    const first = data.byteLength - at;
    this.scratch.set(data.subarray(at), 0);
    this.scratch.set(data.subarray(0, len - first), first);
    return this.scratch.subarray(0, len);
  }

  close(): void {
    for (const b of this.buffers) {
      native.munmap(b.mem);
      native.close(b.fd);
    }
    this.buffers.length = 0;
  }
}
