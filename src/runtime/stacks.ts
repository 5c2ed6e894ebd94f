// Stacks: reading BPF stack-trace map entries, repairing the user stack at a function entry,
// unwinding copied user stacks with .eh_frame rules (for code built without frame pointers),
// and turning instruction pointers into the frame strings bpftrace prints in each mode.
import type { StackMode } from '../lang/compiled.js';
import { DwarfReg, evalExpression, type RegRule, type UnwindRow } from '../elf/ehframe.js';
import type { BpfMap } from './maps.js';
import type { KernelSymbol } from './sym-kernel.js';
import type { Symbolizer, UserFrame } from './symbolize.js';

/** The instruction pointers of stack `id` in a BPF_MAP_TYPE_STACK_TRACE map, innermost first. */
export function readStackIps(map: BpfMap, id: number | bigint): bigint[] {
  const n = Number(id);
  // bpf_get_stackid returns a negative errno (-EFAULT, -EEXIST...) when it could not record.
  if (n < 0) return [];
  const key = Buffer.alloc(4);
  key.writeUInt32LE(n);
  const v = map.lookup(key);
  if (!v) return [];
  const ips: bigint[] = [];
  for (let off = 0; off + 8 <= v.length; off += 8) {
    const ip = v.readBigUInt64LE(off);
    if (ip === 0n) break;
    ips.push(ip);
  }
  return ips;
}

/**
 * At a probe on a function's first instruction the function has not pushed a frame yet, so
 * the kernel's frame-pointer walk (which starts at the caller's saved rbp) reports the
 * caller's caller next: the direct caller is missing. The BPF side reads the return address
 * at *(u64 *)regs->sp; this puts it back as frame 1. `ret` 0 means "not at an entry".
 */
export function withEntryCaller(ips: readonly bigint[], ret: bigint): bigint[] {
  const out = [...ips];
  if (ret !== 0n && out.length > 0 && out[1] !== ret) out.splice(1, 0, ret);
  return out;
}

const hex = (a: bigint): string => a.toString(16);

/** Kernel frames as bpftrace 0.17 prints them (its perf mode names no module for the kernel). */
export function formatKernelFrames(ips: readonly bigint[], lookup: (ip: bigint) => KernelSymbol | undefined, mode: StackMode): string[] {
  return ips.map((ip) => {
    if (mode === 'raw') return hex(ip);
    const s = lookup(ip);
    const sym = s ? `${s.name}+${s.offset}` : `0x${hex(ip)}`;
    return mode === 'perf' ? `${hex(ip)} ${sym}` : sym;
  });
}

/** User frames: `func+off`, or hex; perf mode adds the address and `(module)` / `([unknown])`. */
export function formatUserFrames(ips: readonly bigint[], resolve: (ip: bigint) => UserFrame, mode: StackMode): string[] {
  return ips.map((ip) => {
    if (mode === 'raw') return hex(ip);
    const f = resolve(ip);
    if (mode === 'bpftrace') return f.symbol ? `${f.symbol.name}+${f.symbol.offset}` : `0x${hex(ip)}`;
    return f.symbol ? `${hex(ip)} ${f.symbol.name}+${f.symbol.offset} (${f.module})` : `${hex(ip)} 0x${hex(ip)} ([unknown])`;
  });
}

/**
 * A copied user stack, as the BPF side writes it into a ring buffer record:
 *   u64 pid, u64 ip, u64 sp, u64 bp, u64 bytes copied, then the bytes from sp upwards.
 * (regs->ip/sp/bp of struct pt_regs; the copy is done with bpf_probe_read_user, trying
 * smaller sizes when the stack's top is nearer than the largest size.)
 */
export const STACK_SAMPLE_HEADER = 40;

export interface StackSample {
  pid: number;
  ip: bigint;
  sp: bigint;
  bp: bigint;
  /** User memory from sp upwards. */
  stack: Buffer;
}

export function parseStackSample(d: DataView): StackSample {
  const u64 = (o: number): bigint => d.getBigUint64(o, true);
  const size = Math.min(Number(u64(32)), d.byteLength - STACK_SAMPLE_HEADER);
  return {
    pid: Number(u64(0)), ip: u64(8), sp: u64(16), bp: u64(24),
    // Copied: ring buffer memory is reused once the handler returns.
    stack: Buffer.from(new Uint8Array(d.buffer, d.byteOffset + STACK_SAMPLE_HEADER, Math.max(0, size))),
  };
}

/**
 * Unwinds a copied user stack like `perf --call-graph dwarf`: at each frame, the .eh_frame
 * rules of the binary mapped there say where the caller's frame starts and where the return
 * address and rbp were saved. Frames without rules fall back to the frame-pointer chain.
 * Returns instruction pointers, innermost first, for Symbolizer.ustack.
 */
export function unwindUserStack(sym: Symbolizer, sample: StackSample, maxFrames = 127): bigint[] {
  const { stack, sp: sp0 } = sample;
  const mem = (addr: bigint): bigint | undefined => {
    const off = Number(addr - sp0);
    return off >= 0 && off + 8 <= stack.length ? stack.readBigUInt64LE(off) : undefined;
  };
  let regs = new Map<number, bigint>([[DwarfReg.rsp, sample.sp], [DwarfReg.rbp, sample.bp]]);
  let pc = sample.ip;
  const out = [pc];
  // Return addresses point after the call, possibly at the next function: look up pc-1.
  let isReturnAddress = false;
  while (out.length < maxFrames) {
    const sp = regs.get(DwarfReg.rsp)!;
    const hit = sym.moduleAt(sample.pid, pc);
    const row: UnwindRow | undefined = hit?.module.ehFrame()?.rowAt(hit.vaddr - (isReturnAddress ? 1 : 0));
    let next: Map<number, bigint> | undefined;
    let ra: bigint | undefined;
    if (row) {
      const cfa = row.cfa.kind === 'reg'
        ? addOff(regs.get(row.cfa.reg), row.cfa.offset)
        : evalExpression(row.cfa.expr, (r) => (r === DwarfReg.ra ? pc : regs.get(r)), mem);
      if (cfa === undefined) break;
      next = new Map(regs);
      next.set(DwarfReg.rsp, cfa);
      const raRule = row.regs.get(row.raReg);
      if (!raRule || raRule.kind === 'undefined') break; // the outermost frame (_start, clone)
      for (const [r, rule] of row.regs) {
        if (rule.kind === 'same') continue;
        const v = applyRule(rule, cfa, regs, mem);
        if (v === undefined) next.delete(r);
        else next.set(r, v);
      }
      ra = next.get(row.raReg);
      next.delete(row.raReg);
    } else {
      // No unwind rules (JIT code, binaries without .eh_frame): trust the frame pointer.
      const bp = regs.get(DwarfReg.rbp);
      if (bp === undefined) break;
      ra = mem(bp + 8n);
      const savedBp = mem(bp);
      next = new Map(regs);
      next.set(DwarfReg.rsp, bp + 16n);
      if (savedBp === undefined) next.delete(DwarfReg.rbp);
      else next.set(DwarfReg.rbp, savedBp);
    }
    // Each caller's frame lies above the callee's; anything else is a corrupt chain.
    if (ra === undefined || ra === 0n || next.get(DwarfReg.rsp)! <= sp) break;
    out.push(ra);
    regs = next;
    pc = ra;
    isReturnAddress = !row?.signalFrame;
  }
  return out;
}

function addOff(v: bigint | undefined, off: number): bigint | undefined {
  return v === undefined ? undefined : v + BigInt(off);
}

function applyRule(rule: RegRule, cfa: bigint, regs: Map<number, bigint>, mem: (a: bigint) => bigint | undefined): bigint | undefined {
  const reg = (r: number): bigint | undefined => regs.get(r);
  switch (rule.kind) {
    case 'undefined': case 'same': return undefined;
    case 'offset': return mem(cfa + BigInt(rule.offset));
    case 'val_offset': return cfa + BigInt(rule.offset);
    case 'register': return regs.get(rule.reg);
    case 'expr': {
      const at = evalExpression(rule.expr, reg, mem, [cfa]);
      return at === undefined ? undefined : mem(at);
    }
    case 'val_expr': return evalExpression(rule.expr, reg, mem, [cfa]);
  }
}
