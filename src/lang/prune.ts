// Removes instructions no path reaches (code after `return`, `break`, `exit()` branches):
// the verifier refuses programs with unreachable instructions.
import { Class, JmpOp, slots, type Insn } from '../isa/insn.js';

export function pruneUnreachable(insns: readonly Insn[]): Insn[] {
  const slotOf: number[] = [];
  const bySlot = new Map<number, number>();
  let s = 0;
  insns.forEach((insn, i) => {
    slotOf.push(s);
    bySlot.set(s, i);
    s += slots(insn);
  });
  const target = (i: number): number => bySlot.get(slotOf[i] + 1 + insns[i].off)!;
  const reachable = new Uint8Array(insns.length);
  const work = [0];
  while (work.length) {
    const i = work.pop()!;
    if (i >= insns.length || reachable[i]) continue;
    reachable[i] = 1;
    const { code } = insns[i];
    const cls = code & 0x07;
    const op = code & 0xf0;
    if (cls !== Class.JMP && cls !== Class.JMP32) {
      work.push(i + 1);
    } else if (op === JmpOp.exit) {
      // ends the path
    } else if (op === JmpOp.call) {
      work.push(i + 1);
    } else if (op === JmpOp.ja) {
      work.push(target(i));
    } else {
      work.push(i + 1, target(i));
    }
  }
  const newSlot: number[] = [];
  let n = 0;
  insns.forEach((insn, i) => {
    newSlot.push(n);
    if (reachable[i]) n += slots(insn);
  });
  const out: Insn[] = [];
  insns.forEach((insn, i) => {
    if (!reachable[i]) return;
    const cls = insn.code & 0x07;
    const op = insn.code & 0xf0;
    const isJump = (cls === Class.JMP || cls === Class.JMP32) && op !== JmpOp.call && op !== JmpOp.exit;
    out.push(isJump ? { ...insn, off: newSlot[target(i)] - newSlot[i] - 1 } : insn);
  });
  return out;
}
