// User stacks at the language level: which unwinder a probe's `ustack` needs, and the BPF
// that feeds the runtime what it needs to symbolize stacks of processes that may be gone.
//
// Frame pointers (bpf_get_stackid) are cheap and aggregate in the kernel, but walk garbage
// through code built without them. So, per uprobe/usdt target binary, the compiler looks at
// its function prologues: when the functions that save rbp do not also make it the frame
// pointer (`push %rbp; mov %rsp,%rbp`), or none saves it at all, the probe instead copies
// regs ip/sp/bp and a window of the user stack into the events ring buffer and the runtime
// unwinds it with the binary's .eh_frame rules. Probes without a target binary (profile,
// tracepoints) keep the frame-pointer walk, as bpftrace does.
//
// Two records besides the script's own events travel through the `events` ring buffer; their
// ids lie past any index into CompiledScript.events:
//   PID_SEEN_EVENT:     u64 id, u64 pid (sent wherever ustack/usym is taken, so the runtime
//                       captures the address space while the process lives: map keys are only
//                       printed at exit, maybe long after it ended)
//   STACK_SAMPLE_EVENT: u64 id, u64 sample id, then runtime/stacks.ts's StackSample record
// A copied stack's ustack value holds its sample id (>= SAMPLE_ID_BASE, below 2^53 so it
// survives Number()) where a frame-pointer one holds a stack-map id, and no entry return
// address: the unwinder finds the direct caller itself.
import { Asm } from '../isa/asm.js';
import { R0, R1, R2, R3, R4, R6, R7, R9 } from '../isa/insn.js';
import { ElfFile } from '../elf/reader.js';
import { SymbolTable } from '../elf/symbols.js';
import { isGoBinary } from '../elf/gobuildinfo.js';
import { decodeInstruction } from '../x86/length.js';
import { EVENTS_MAP } from './compiled.js';
import { PT_REGS_IP, PT_REGS_SP } from './builtins.js';
import type { ResolvedProbe } from './probes.js';

export const PID_SEEN_EVENT = 0xffff_fff0;
export const STACK_SAMPLE_EVENT = 0xffff_fff1;
export const SAMPLE_ID_BASE = 2 ** 52;
/** Bytes of user stack copied per sample: deep enough for typical C/C++ call chains. */
export const STACK_COPY_BYTES = 8192;
/** u64 event id + u64 sample id before the StackSample record. */
export const SAMPLE_RECORD_HEADER = 16;
const STACK_SAMPLE_HEADER = 40; // pid, ip, sp, bp, size (runtime/stacks.ts)
const PT_REGS_BP = 32;

export type Unwinder = 'frame-pointer' | 'eh-frame';

export const isSampleId = (id: number): boolean => id >= SAMPLE_ID_BASE;

const decisions = new Map<string, Unwinder>();

/** How `ustack` is taken in this probe (see the header comment). */
export function ustackUnwinder(probe: ResolvedProbe): Unwinder {
  const a = probe.attach;
  if (a.kind !== 'uprobe') return 'frame-pointer';
  let u = decisions.get(a.path);
  if (!u) decisions.set(a.path, (u = binaryUnwinder(a.path)));
  return u;
}

/** Looks at up to this many function prologues; enough to tell a build's flags apart. */
const MAX_FUNCTIONS = 400;
const PROLOGUE_INSNS = 6;

export function binaryUnwinder(path: string): Unwinder {
  let elf: ElfFile;
  try {
    elf = ElfFile.open(path);
  } catch {
    return 'frame-pointer';
  }
  // Go keeps frame pointers on amd64 and ships no .eh_frame; without CFI there is nothing better.
  if (isGoBinary(elf) || !elf.section('.eh_frame')) return 'frame-pointer';
  const fp = framePointerVotes(elf);
  return fp.saves > 0 && fp.frames * 2 >= fp.saves ? 'frame-pointer' : 'eh-frame';
}

/** Of the functions that push rbp in their prologue, how many then point it at their frame. */
export function framePointerVotes(elf: ElfFile): { saves: number; frames: number } {
  const text = elf.section('.text');
  if (!text) return { saves: 0, frames: 0 };
  const code = elf.sectionData(text);
  let saves = 0, frames = 0, seen = 0;
  for (const s of SymbolTable.read(elf).symbols) {
    if (seen >= MAX_FUNCTIONS) break;
    const start = s.address - text.addr;
    if (s.size < 4 || start < 0 || start + s.size > code.length) continue;
    seen++;
    const end = start + Math.min(s.size, 64);
    let pushed = false;
    // The scheduler may move unrelated instructions between the push and the mov.
    for (let p = start, i = 0; i < PROLOGUE_INSNS && p < end; i++) {
      if (!pushed && code[p] === 0x55) {
        pushed = true;
        saves++;
      } else if (pushed && isMovRspRbp(code, p)) {
        frames++;
        break;
      }
      try {
        p += decodeInstruction(code, p).length;
      } catch {
        break;
      }
    }
  }
  return { saves, frames };
}

/** mov %rsp,%rbp in either encoding: 48 89 e5 / 48 8b ec. */
function isMovRspRbp(code: Buffer, p: number): boolean {
  return code[p] === 0x48 && ((code[p + 1] === 0x89 && code[p + 2] === 0xe5) || (code[p + 1] === 0x8b && code[p + 2] === 0xec));
}

/** Tells the runtime the current pid (from scratch [off], 16 bytes, clobbers R0-R5). */
export function emitPidSeen(a: Asm, off: number): void {
  a.loadImm(R1, PID_SEEN_EVENT).store(R9, off, R1, 'u64');
  a.call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }).store(R9, off + 8, R0, 'u64');
  a.ldMap(R1, EVENTS_MAP).mov(R2, R9).alu64('add', R2, { imm: off }).movImm(R3, 16).movImm(R4, 0).call('ringbuf_output');
}

/**
 * Sends a stack sample and leaves the ustack value {sample id, pid, 0} at scratch [off]
 * (24 bytes). R6 is the probe's pt_regs; clobbers R0-R5 and R7.
 */
export function emitStackSample(a: Asm, off: number): void {
  // A unique id without a counter map: boot-time ns (wraps after ~4.9 hours) and the CPU.
  a.call('ktime_get_ns').ldImm64(R1, (1n << 44n) - 1n).alu64('and', R0, R1).alu64('lsh', R0, { imm: 8 });
  a.store(R9, off, R0, 'u64').call('get_smp_processor_id').load(R1, R9, off, 'u64').alu64('or', R1, R0);
  a.ldImm64(R2, BigInt(SAMPLE_ID_BASE)).alu64('or', R1, R2).store(R9, off, R1, 'u64');
  a.call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }).store(R9, off + 8, R0, 'u64');
  a.storeImm(R9, off + 16, 0, 'u64');
  const skip = a.newLabel('nosample'), submit = a.newLabel('submit');
  const size = SAMPLE_RECORD_HEADER + STACK_SAMPLE_HEADER + STACK_COPY_BYTES;
  a.ldMap(R1, EVENTS_MAP).movImm(R2, size).movImm(R3, 0).call('ringbuf_reserve');
  a.jmp('jeq', R0, { imm: 0 }, skip).mov(R7, R0);
  a.loadImm(R1, STACK_SAMPLE_EVENT).store(R7, 0, R1, 'u64');
  a.load(R1, R9, off, 'u64').store(R7, 8, R1, 'u64');
  const h = SAMPLE_RECORD_HEADER;
  a.load(R1, R9, off + 8, 'u64').store(R7, h, R1, 'u64');
  a.load(R1, R6, PT_REGS_IP, 'u64').store(R7, h + 8, R1, 'u64');
  a.load(R1, R6, PT_REGS_SP, 'u64').store(R7, h + 16, R1, 'u64');
  a.load(R1, R6, PT_REGS_BP, 'u64').store(R7, h + 24, R1, 'u64');
  a.storeImm(R7, h + 32, 0, 'u64');
  // The copy fails whole when it would cross the top of the stack: retry with halves.
  for (let n = STACK_COPY_BYTES; n >= 512; n >>= 1) {
    const smaller = a.newLabel('smaller');
    a.mov(R1, R7).alu64('add', R1, { imm: h + STACK_SAMPLE_HEADER }).movImm(R2, n).load(R3, R6, PT_REGS_SP, 'u64');
    a.call('probe_read_user').jmp('jne', R0, { imm: 0 }, smaller);
    a.storeImm(R7, h + 32, n, 'u64').ja(submit);
    a.label(smaller);
  }
  a.label(submit).mov(R1, R7).movImm(R2, 0).call('ringbuf_submit');
  a.label(skip);
}
