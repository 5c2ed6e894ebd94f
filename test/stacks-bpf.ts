// Hand-assembled BPF for the stack tests: what the compiler emits for ustack at a uprobe
// (stack id, pid, and the return address at *sp for the entry fix) and the copy of regs and
// user stack bytes the .eh_frame unwinder works on.
import { spawn } from 'node:child_process';
import { Asm } from '../src/isa/asm.js';
import { R0, R1, R2, R3, R6, R7, FP } from '../src/isa/insn.js';
import { STACK_SAMPLE_HEADER } from '../src/runtime/stacks.js';

const PT_REGS = { bp: 32, ip: 128, sp: 152 };
const BPF_F_USER_STACK = 1 << 8;

/** Record: s64 stack id (map `stacks`), u64 pid, u64 *(u64 *)regs->sp. Ring buffer `events`. */
export function entryStackProgram(user = true): Asm {
  const a = new Asm();
  a.mov(R6, R1);
  a.mov(R1, R6).ldMap(R2, 'stacks').movImm(R3, user ? BPF_F_USER_STACK : 0).call('get_stackid');
  a.store(FP, -8, R0, 'u64');
  a.ldMap(R1, 'events').movImm(R2, 24).movImm(R3, 0).call('ringbuf_reserve');
  a.jmp('jeq', R0, { imm: 0 }, 'out').mov(R7, R0);
  a.load(R1, FP, -8, 'u64').store(R7, 0, R1, 'u64');
  a.call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }).store(R7, 8, R0, 'u64');
  a.storeImm(R7, 16, 0, 'u64');
  if (user) a.mov(R1, R7).alu64('add', R1, { imm: 16 }).movImm(R2, 8).load(R3, R6, PT_REGS.sp, 'u64').call('probe_read_user');
  a.mov(R1, R7).movImm(R2, 0).call('ringbuf_submit');
  a.label('out').movImm(R0, 0).exit();
  return a;
}

/** Record laid out as stacks.ts's StackSample: pid, ip, sp, bp, size, then `size` bytes from sp. */
export function stackCopyProgram(maxBytes = 8192): Asm {
  const a = new Asm();
  a.mov(R6, R1);
  a.ldMap(R1, 'events').movImm(R2, STACK_SAMPLE_HEADER + maxBytes).movImm(R3, 0).call('ringbuf_reserve');
  a.jmp('jeq', R0, { imm: 0 }, 'out').mov(R7, R0);
  a.call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }).store(R7, 0, R0, 'u64');
  a.load(R1, R6, PT_REGS.ip, 'u64').store(R7, 8, R1, 'u64');
  a.load(R1, R6, PT_REGS.sp, 'u64').store(R7, 16, R1, 'u64');
  a.load(R1, R6, PT_REGS.bp, 'u64').store(R7, 24, R1, 'u64');
  a.storeImm(R7, 32, 0, 'u64');
  // The copy fails whole if it crosses the top of the stack: retry with halves.
  for (let size = maxBytes; size >= 512; size >>= 1) {
    a.mov(R1, R7).alu64('add', R1, { imm: STACK_SAMPLE_HEADER }).movImm(R2, size).load(R3, R6, PT_REGS.sp, 'u64');
    a.call('probe_read_user').jmp('jne', R0, { imm: 0 }, `smaller${size}`);
    a.storeImm(R7, 32, size, 'u64').ja('submit');
    a.label(`smaller${size}`);
  }
  a.label('submit').mov(R1, R7).movImm(R2, 0).call('ringbuf_submit');
  a.label('out').movImm(R0, 0).exit();
  return a;
}

export interface PausedChain {
  pid: number;
  /** Lets the child run its call chain. */
  go(): void;
  /** Closes its stdin; resolves with its exit code once it is gone. */
  finish(): Promise<number | null>;
}

/**
 * Starts the stacks_chain fixture (or a command that execs it) and resolves once it is loaded
 * (all libraries mapped) and waiting for a line on stdin before calling a().
 */
export async function startChain(path: string, args: string[] = []): Promise<PausedChain> {
  const c = spawn(path, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => c.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    c.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) resolve();
    });
    c.on('error', reject);
    c.on('close', () => reject(new Error(`${path} exited before it was ready`)));
  });
  return {
    pid: c.pid!,
    go: () => c.stdin!.write('go\n'),
    finish: () => {
      c.stdin!.end();
      return exited;
    },
  };
}
