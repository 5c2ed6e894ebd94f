// Prints instructions as bpftool's `prog dump xlated` does: `   3: (63) *(u32 *)(r10 -4) = r1`.
import { AluOp, Atomic, Class, Insn, JmpOp, LD_IMM64, Mode, Pseudo, Size, Src, slots } from './insn.js';
import { helperName, helperNames } from '../kernel/helpers.js';

const aluSym: Record<number, string> = {
  [AluOp.add]: '+=', [AluOp.sub]: '-=', [AluOp.mul]: '*=', [AluOp.div]: '/=', [AluOp.or]: '|=',
  [AluOp.and]: '&=', [AluOp.lsh]: '<<=', [AluOp.rsh]: '>>=', [AluOp.mod]: '%=', [AluOp.xor]: '^=',
  [AluOp.mov]: '=', [AluOp.arsh]: 's>>=',
};
const jmpSym: Record<number, string> = {
  [JmpOp.jeq]: '==', [JmpOp.jgt]: '>', [JmpOp.jge]: '>=', [JmpOp.jset]: '&', [JmpOp.jne]: '!=',
  [JmpOp.jsgt]: 's>', [JmpOp.jsge]: 's>=', [JmpOp.jlt]: '<', [JmpOp.jle]: '<=', [JmpOp.jslt]: 's<',
  [JmpOp.jsle]: 's<=',
};
const sizeName: Record<number, string> = { [Size.B]: 'u8', [Size.H]: 'u16', [Size.W]: 'u32', [Size.DW]: 'u64' };

const hex = (v: number | bigint): string => (BigInt(v) < 0n ? '-0x' + (-BigInt(v)).toString(16) : '0x' + BigInt(v).toString(16));
const offStr = (off: number): string => (off < 0 ? `${off}` : `+${off}`);

/** One instruction as text (without the index and opcode prefix). */
export function formatInsn(i: Insn): string {
  const cls = i.code & 0x07;
  const op = i.code & 0xf0;
  const isX = (i.code & 0x08) === Src.X;
  if (i.code === LD_IMM64) {
    if (i.map !== undefined) return i.src === Pseudo.MAP_VALUE ? `r${i.dst} = map[${i.map}]+${Number((i.imm64 ?? 0n) >> 32n)}` : `r${i.dst} = map[${i.map}]`;
    if (i.src === Pseudo.MAP_FD) return `r${i.dst} = map[fd:${i.imm}]`;
    if (i.src === Pseudo.MAP_VALUE) return `r${i.dst} = map[fd:${i.imm}][0]+${Number((i.imm64 ?? 0n) >> 32n)}`;
    return `r${i.dst} = ${hex(i.imm64 ?? BigInt(i.imm))}`;
  }
  switch (cls) {
    case Class.ALU64:
    case Class.ALU: {
      const r = cls === Class.ALU64 ? 'r' : 'w';
      if (op === AluOp.neg) return `${r}${i.dst} = -${r}${i.dst}`;
      if (op === AluOp.end) return `r${i.dst} = ${isX ? 'be' : 'le'}${i.imm} r${i.dst}`;
      const sym = aluSym[op] ?? `alu?${op}`;
      return `${r}${i.dst} ${sym} ${isX ? `${r}${i.src}` : i.imm}`;
    }
    case Class.LDX:
      return `r${i.dst} = *(${sizeName[i.code & 0x18]} *)(r${i.src} ${offStr(i.off)})`;
    case Class.ST:
      return `*(${sizeName[i.code & 0x18]} *)(r${i.dst} ${offStr(i.off)}) = ${i.imm}`;
    case Class.STX: {
      const sz = sizeName[i.code & 0x18];
      if ((i.code & 0xe0) === Mode.ATOMIC) {
        const fetch = i.imm & Atomic.fetch;
        if (i.imm === Atomic.xchg) return `r${i.src} = atomic${sz === 'u64' ? '64' : ''}_xchg((${sz} *)(r${i.dst} ${offStr(i.off)}), r${i.src})`;
        if (i.imm === Atomic.cmpxchg) return `r0 = atomic${sz === 'u64' ? '64' : ''}_cmpxchg((${sz} *)(r${i.dst} ${offStr(i.off)}), r0, r${i.src})`;
        const name = { [Atomic.add]: 'add', [Atomic.or]: 'or', [Atomic.and]: 'and', [Atomic.xor]: 'xor' }[i.imm & ~Atomic.fetch] ?? '?';
        if (fetch) return `r${i.src} = atomic${sz === 'u64' ? '64' : ''}_fetch_${name}((${sz} *)(r${i.dst} ${offStr(i.off)}), r${i.src})`;
        return `lock *(${sz} *)(r${i.dst} ${offStr(i.off)}) ${aluSym[i.imm] ?? '?='} r${i.src}`;
      }
      return `*(${sz} *)(r${i.dst} ${offStr(i.off)}) = r${i.src}`;
    }
    case Class.JMP:
    case Class.JMP32: {
      const r = cls === Class.JMP ? 'r' : 'w';
      if (op === JmpOp.call) {
        if (i.src === Pseudo.CALL) return `call pc${offStr(i.imm)}`;
        // The kernel rewrites some helper calls into direct calls (xlated code): no name then.
        return helperNames[i.imm] && i.imm > 0 ? `call ${helperName(i.imm)}#${i.imm}` : `call kernel_func#${i.imm}`;
      }
      if (op === JmpOp.exit) return 'exit';
      if (op === JmpOp.ja) return `goto pc${offStr(i.off)}`;
      return `if ${r}${i.dst} ${jmpSym[op] ?? '?'} ${isX ? `${r}${i.src}` : hex(i.imm)} goto pc${offStr(i.off)}`;
    }
    default:
      return `unknown opcode ${hex(i.code)}`;
  }
}

/** The whole program, one line per instruction, numbered by slot like bpftool. */
export function disassemble(insns: readonly Insn[]): string {
  const lines: string[] = [];
  let slot = 0;
  const width = String(insns.reduce((a, i) => a + slots(i), 0)).length;
  for (const i of insns) {
    lines.push(`${String(slot).padStart(Math.max(width, 4))}: (${i.code.toString(16).padStart(2, '0')}) ${formatInsn(i)}`);
    slot += slots(i);
  }
  return lines.join('\n');
}
