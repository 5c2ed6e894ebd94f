// What the compiler hands to the runtime: typed maps, BPF programs with their attach
// points, and the table of asynchronous actions (printf, print, exit, ...) that programs
// send through the `events` ring buffer. This file is the contract between lang/ and
// runtime/: both sides derive byte layouts from `layoutOf`, never by hand.
import type { Insn } from '../isa/insn.js';

/** A value's type as it sits in a map key, map value or event record. */
export type SType =
  | { kind: 'int'; size: 1 | 2 | 4 | 8; signed: boolean }
  | { kind: 'string'; size: number } // NUL-padded bytes
  | { kind: 'buffer'; size: number } // u32 length, then `size` bytes
  | { kind: 'ksym' } // u64 kernel address
  | { kind: 'usym' } // u64 address, u64 pid
  | { kind: 'kstack'; mode: StackMode; limit: number } // s64 stack id
  | { kind: 'ustack'; mode: StackMode; limit: number } // s64 stack id, u64 pid, u64 return address at entry (0 if none)
  | { kind: 'inet' } // u64 address family, 16 address bytes
  | { kind: 'probe' } // u64 index into CompiledScript.probeNames
  | { kind: 'username' } // u64 uid
  | { kind: 'timestamp'; format: string } // u64 ns since boot (strftime)
  | { kind: 'pointer'; to: string } // u64, printed as hex
  | { kind: 'tuple'; elems: SType[] }
  | { kind: 'none' };

export type StackMode = 'bpftrace' | 'perf' | 'raw';

export interface Layout {
  size: number;
  align: number;
  /** Byte offset of each tuple element (empty for scalars). */
  offsets: number[];
}

/** The byte layout of a type; tuples lay out elements in order, each naturally aligned. */
export function layoutOf(t: SType): Layout {
  switch (t.kind) {
    case 'int': return { size: t.size, align: t.size, offsets: [] };
    case 'string': return { size: t.size, align: 1, offsets: [] };
    case 'buffer': return { size: 4 + t.size, align: 4, offsets: [] };
    case 'usym': return { size: 16, align: 8, offsets: [] };
    case 'ustack': return { size: 24, align: 8, offsets: [] };
    case 'inet': return { size: 24, align: 8, offsets: [] };
    case 'none': return { size: 0, align: 1, offsets: [] };
    case 'tuple': {
      let off = 0, align = 1;
      const offsets: number[] = [];
      for (const e of t.elems) {
        const l = layoutOf(e);
        off = alignUp(off, l.align);
        offsets.push(off);
        off += l.size;
        align = Math.max(align, l.align);
      }
      return { size: alignUp(off, align), align, offsets };
    }
    default: return { size: 8, align: 8, offsets: [] };
  }
}

export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** How a map's values are aggregated; decides the value layout and the printout. */
export type Aggregation =
  | { kind: 'count' } // per-CPU u64
  | { kind: 'sum' } // per-CPU s64
  | { kind: 'min' } | { kind: 'max' } // per-CPU { s64 value; u64 set }
  | { kind: 'avg' } | { kind: 'stats' } // per-CPU { u64 count; s64 total }
  | { kind: 'hist' } // key gets a trailing u64 bucket; per-CPU u64 count
  | { kind: 'lhist'; min: number; max: number; step: number } // likewise
  | { kind: 'value'; type: SType }; // plain hash map of `type`

export interface CompiledMap {
  /** As the user wrote it: `@`, `@x`. */
  name: string;
  /** Kernel object name (sanitised, <= 15 chars). */
  bpfName: string;
  mapType: 'hash' | 'percpu_hash' | 'lru_hash' | 'array' | 'percpu_array';
  /** User key types; empty for a scalar map like `@x = count()` (then the key is a u64 0). */
  keys: SType[];
  aggregation: Aggregation;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

/** Maps the runtime must create that the user does not see (ring buffer, stacks, scratch). */
export interface InternalMap {
  bpfName: string;
  type: 'ringbuf' | 'stack_trace' | 'percpu_array' | 'array' | 'hash' | 'perf_event_array';
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

export type Attach =
  | { kind: 'begin' } | { kind: 'end' } // raw_tracepoint programs run with BPF_PROG_TEST_RUN
  | { kind: 'tracepoint'; category: string; name: string }
  | { kind: 'rawtracepoint'; name: string }
  | { kind: 'interval'; periodNs: number } // cpu-clock on one CPU
  | { kind: 'profile'; hz: number } // cpu-clock on every CPU, freq mode
  | { kind: 'software'; config: number; period: number }
  | { kind: 'hardware'; config: number; period: number }
  | { kind: 'uprobe'; path: string; offset: bigint; retprobe: boolean; pid?: number; refCtrOffset?: bigint }
  | { kind: 'kprobe'; func: string; offset: bigint; retprobe: boolean }
  | { kind: 'fentry' | 'fexit'; func: string; btfId: number };

export interface CompiledProbe {
  /** bpftrace's probe name for `probe` and listings, e.g. `tracepoint:syscalls:sys_enter_openat`. */
  name: string;
  attach: Attach;
  progType: 'tracepoint' | 'kprobe' | 'perf_event' | 'raw_tracepoint' | 'tracing';
  expectedAttachType?: 'trace_fentry' | 'trace_fexit';
  insns: Insn[];
}

/** Actions programs request through the `events` ring buffer: u64 event id, then payload. */
export type EventSpec =
  | { kind: 'printf'; format: string; args: SType[] }
  | { kind: 'system'; format: string; args: SType[] }
  | { kind: 'cat'; format: string; args: SType[] }
  | { kind: 'time'; format: string }
  | { kind: 'join'; separator: string; count: number; strSize: number }
  | { kind: 'print_value'; type: SType }
  | { kind: 'print_map'; map: string; top: number; div: number }
  | { kind: 'clear'; map: string }
  | { kind: 'zero'; map: string }
  | { kind: 'exit' };

export interface CompiledScript {
  maps: CompiledMap[];
  internalMaps: InternalMap[];
  probes: CompiledProbe[];
  /** Indexed by the id in each event record. */
  events: EventSpec[];
  /** Indexed by `probe` values. */
  probeNames: string[];
  /** Attach points counted the way bpftrace counts them for "Attaching N probes...". */
  attachCount: number;
  warnings: string[];
}

/** Name of the ring buffer internal map every program writes events to. */
export const EVENTS_MAP = 'events';
