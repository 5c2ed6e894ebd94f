// A hand-assembled uprobe program for the Go tests: at each hit it streams the pid, a site
// tag, every pt_regs slot, bytes of the stack from sp, the goroutine id read through g
// (R14 + goid offset) and optionally a user string given by two registers, so tests can
// check where the ABI mapping says values are against what the process really passed.
import { Asm } from '../../src/isa/asm.js';
import { R0, R1, R2, R3, R6, R7 } from '../../src/isa/insn.js';
import type { GoPiece } from '../../src/probes/go.js';
import { PT_REGS } from '../../src/probes/go.js';

export const PT_REGS_SIZE = 168;
export const STR_MAX = 64;

export interface SnapshotSpec {
  tag: number;
  stackBytes: number;
  goidOffset: number;
  /** pt_regs offsets of a string's data pointer and length, read with probe_read_user. */
  string?: { ptr: number; len: number };
}

const OFF = { pid: 0, tag: 4, regs: 8, stack: 8 + PT_REGS_SIZE } as const;

function layout(spec: SnapshotSpec): { goid: number; str: number; size: number } {
  const goid = OFF.stack + spec.stackBytes;
  return { goid, str: goid + 8, size: goid + 8 + STR_MAX };
}

/** The program; it writes to a ring buffer map named `events`. */
export function snapshotProgram(spec: SnapshotSpec): Asm {
  const l = layout(spec);
  const a = new Asm();
  a.mov(R6, R1);
  a.ldMap(R1, 'events').movImm(R2, l.size).movImm(R3, 0).call('ringbuf_reserve');
  a.jmp('jeq', R0, { imm: 0 }, 'out');
  a.mov(R7, R0);
  a.call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }).store(R7, OFF.pid, R0, 'u32');
  a.storeImm(R7, OFF.tag, spec.tag, 'u32');
  for (let o = 0; o < PT_REGS_SIZE; o += 8) a.load(R0, R6, o, 'u64').store(R7, OFF.regs + o, R0, 'u64');
  a.mov(R1, R7).alu64('add', R1, { imm: OFF.stack }).movImm(R2, spec.stackBytes).load(R3, R6, PT_REGS.sp, 'u64').call('probe_read_user');
  a.mov(R1, R7).alu64('add', R1, { imm: l.goid }).movImm(R2, 8).load(R3, R6, PT_REGS.r14, 'u64');
  a.alu64('add', R3, { imm: spec.goidOffset }).call('probe_read_user');
  if (spec.string) {
    // The verifier wants the length bounded: clamp to the buffer.
    a.load(R2, R6, spec.string.len, 'u64');
    a.jmp('jle', R2, { imm: STR_MAX }, 'len_ok').movImm(R2, STR_MAX);
    a.label('len_ok').mov(R1, R7).alu64('add', R1, { imm: l.str }).load(R3, R6, spec.string.ptr, 'u64').call('probe_read_user');
  }
  a.mov(R1, R7).movImm(R2, 0).call('ringbuf_submit');
  a.label('out').movImm(R0, 0).exit();
  return a;
}

export interface Snapshot {
  pid: number;
  tag: number;
  regs: Buffer;
  stack: Buffer;
  goid: bigint;
  str: Buffer;
}

export function decodeSnapshot(spec: Pick<SnapshotSpec, 'stackBytes'>, d: DataView): Snapshot {
  const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  const l = layout({ ...spec, tag: 0, goidOffset: 0 });
  return {
    pid: b.readUInt32LE(OFF.pid),
    tag: b.readUInt32LE(OFF.tag),
    regs: Buffer.from(b.subarray(OFF.regs, OFF.regs + PT_REGS_SIZE)),
    stack: Buffer.from(b.subarray(OFF.stack, OFF.stack + spec.stackBytes)),
    goid: b.readBigInt64LE(l.goid),
    str: Buffer.from(b.subarray(l.str, l.str + STR_MAX)),
  };
}

/** A register or stack piece's bytes, as the ABI mapping locates them (sp + 8 + stackOffset). */
export function pieceBytes(s: Snapshot, p: GoPiece): Buffer {
  if ('reg' in p) return s.regs.subarray(p.ptRegsOffset, p.ptRegsOffset + p.size);
  if ('stackOffset' in p) return s.stack.subarray(8 + p.stackOffset, 8 + p.stackOffset + p.size);
  throw new Error(p.unreadable);
}

/** A whole value reassembled from its pieces into its memory layout. */
export function valueBytes(s: Snapshot, pieces: GoPiece[], size: number): Buffer {
  const out = Buffer.alloc(size);
  for (const p of pieces) pieceBytes(s, p).copy(out, p.offset);
  return out;
}
