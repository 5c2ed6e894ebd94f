// Turns bytes laid out by the compiler (lang/compiled.ts layoutOf) into output values,
// resolving symbols, stacks, user names and probe names on the way.
import { readFileSync } from 'node:fs';
import { layoutOf, SType, StackMode } from '../lang/compiled.js';
import { strftime } from '../output/strftime.js';
import type { Value } from '../output/values.js';
import { withEntryCaller } from './stacks.js';

/** What decoding needs from symbolization; runtime/symbolize.ts provides the real one. */
export interface Symbolizer {
  ksym(addr: bigint): string;
  usym(pid: number, addr: bigint): string;
  /** Frames of a kernel stack, innermost first, formatted for `mode`. */
  kstack(ips: readonly bigint[], mode: StackMode): string[];
  ustack(pid: number, ips: readonly bigint[], mode: StackMode): string[];
  /** Captures a process's address space the first time it is seen, so its stacks resolve after it exits. */
  remember?(pid: number): void;
}

export interface DecodeContext {
  sym: Symbolizer;
  probeNames: readonly string[];
  /** Instruction pointers of a stack id (from the stack-trace map), innermost first. */
  stackIps(id: number): bigint[];
}

let users: Map<number, string> | undefined;

function userName(uid: number): string {
  if (!users) {
    users = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2) users.set(Number(f[2]), f[0]);
      }
    } catch {
      // no passwd: print numbers
    }
  }
  return users.get(uid) ?? String(uid);
}

// CLOCK_MONOTONIC (bpf_ktime_get_ns) to wall time, fixed once per process.
let monoToWallNs: bigint | undefined;
function wallDate(monoNs: bigint): Date {
  monoToWallNs ??= BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return new Date(Number((monoNs + monoToWallNs) / 1_000_000n));
}

function cstr(b: Uint8Array): string {
  const end = b.indexOf(0);
  return Buffer.from(b.buffer, b.byteOffset, end < 0 ? b.byteLength : end).toString('utf8');
}

export function decodeValue(t: SType, dv: DataView, off: number, ctx: DecodeContext): Value {
  const u64 = (o: number): bigint => dv.getBigUint64(off + o, true);
  switch (t.kind) {
    case 'int': {
      const bits = (t.size * 8) as 8 | 16 | 32 | 64;
      let v: bigint;
      if (t.size === 8) v = t.signed ? dv.getBigInt64(off, true) : dv.getBigUint64(off, true);
      else if (t.size === 4) v = BigInt(t.signed ? dv.getInt32(off, true) : dv.getUint32(off, true));
      else if (t.size === 2) v = BigInt(t.signed ? dv.getInt16(off, true) : dv.getUint16(off, true));
      else v = BigInt(t.signed ? dv.getInt8(off) : dv.getUint8(off));
      return { kind: 'int', value: v, bits, signed: t.signed };
    }
    case 'string':
      return { kind: 'string', value: cstr(new Uint8Array(dv.buffer, dv.byteOffset + off, t.size)) };
    case 'buffer': {
      const len = Math.min(dv.getUint32(off, true), t.size);
      return { kind: 'buffer', bytes: new Uint8Array(dv.buffer.slice(dv.byteOffset + off + 4, dv.byteOffset + off + 4 + len)) };
    }
    case 'ksym':
      return { kind: 'ksym', value: ctx.sym.ksym(u64(0)) };
    case 'usym':
      return { kind: 'usym', value: ctx.sym.usym(Number(u64(8)), u64(0)) };
    case 'kstack': {
      const ips = ctx.stackIps(Number(dv.getBigInt64(off, true))).slice(0, t.limit);
      return { kind: 'stack', frames: ctx.sym.kstack(ips, t.mode), perf: t.mode === 'perf' };
    }
    case 'ustack': {
      const pid = Number(u64(8));
      // At a function entry the frame-pointer walk misses the direct caller: its return
      // address was read from the stack pointer and goes in as the second frame.
      const ips = withEntryCaller(ctx.stackIps(Number(dv.getBigInt64(off, true))), u64(16));
      return { kind: 'stack', frames: ctx.sym.ustack(pid, ips.slice(0, t.limit), t.mode), perf: t.mode === 'perf' };
    }
    case 'inet': {
      const af = Number(u64(0));
      const n = af === 10 ? 16 : 4;
      return { kind: 'inet', bytes: new Uint8Array(dv.buffer.slice(dv.byteOffset + off + 8, dv.byteOffset + off + 8 + n)) };
    }
    case 'probe':
      return { kind: 'probe', value: ctx.probeNames[Number(u64(0))] ?? '?' };
    case 'username':
      return { kind: 'username', value: userName(Number(u64(0))) };
    case 'timestamp':
      return { kind: 'string', value: strftime(t.format, wallDate(u64(0))) };
    case 'pointer':
      return { kind: 'pointer', value: u64(0) };
    case 'tuple': {
      const l = layoutOf(t);
      return { kind: 'tuple', elems: t.elems.map((e, i) => decodeValue(e, dv, off + l.offsets[i], ctx)) };
    }
    case 'none':
      return { kind: 'int', value: 0n, bits: 64, signed: true };
  }
}

/** Several values laid out as a tuple (map keys with several parts, printf arguments). */
export function decodeList(types: readonly SType[], dv: DataView, off: number, ctx: DecodeContext): Value[] {
  const l = layoutOf({ kind: 'tuple', elems: [...types] });
  return types.map((t, i) => decodeValue(t, dv, off + l.offsets[i], ctx));
}
