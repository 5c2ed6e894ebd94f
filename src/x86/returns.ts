// Finds a function's RET instructions, where Go-safe return probes go: a uretprobe rewrites the
// return address on the stack, which Go's stack copying and traceback cannot survive, so tsbpf
// puts a plain uprobe on every RET instead.
//
// Limits: the walk is linear from the function's entry, so it is exact only when the range holds
// nothing but instructions. gcc/clang and the Go toolchain keep constants and jump tables in
// .rodata on x86-64, and pad between functions with NOPs or INT3, so this holds for their code;
// hand-written assembly that embeds data in .text can desynchronise the walk (it then usually
// fails on an undefined opcode or on the range end, and we throw rather than guess). Exits that
// are not RET (tail-call JMPs, calls to noreturn functions, panics) are not returns and are not
// reported.
import { TsbpfError } from '../kernel/errors.js';
import { decodeInstruction } from './length.js';

/**
 * Offsets in `code` of the near RET instructions (C3, C2 imm16, and prefixed forms such as
 * `F3 C3` "rep ret", whose offset is that of the first prefix byte) among the instructions
 * from `start` up to `end` (exclusive).
 */
export function findReturns(code: Uint8Array, start: number, end: number): number[] {
  if (start < 0 || end > code.length || start > end) {
    throw new TsbpfError(
      `RET scan: range 0x${start.toString(16)}-0x${end.toString(16)} is outside the ${code.length} bytes of code`,
      { hint: 'the function bounds do not match the section they were read from' },
    );
  }
  const returns: number[] = [];
  let at = start;
  while (at < end) {
    const insn = decodeInstruction(code, at);
    if (insn.encoding === 'legacy' && insn.map === 0 && (insn.opcode === 0xc3 || insn.opcode === 0xc2)) {
      returns.push(at);
    }
    at += insn.length;
  }
  if (at !== end) {
    throw new TsbpfError(
      `RET scan: the instruction walk from 0x${start.toString(16)} ends at 0x${at.toString(16)}, ` +
        `past the function end 0x${end.toString(16)}`,
      { hint: 'the function size is wrong or its code holds data; cannot place return probes safely' },
    );
  }
  return returns;
}
