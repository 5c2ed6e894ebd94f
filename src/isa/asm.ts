// An assembler that is just data: methods append instruction values, labels are
// resolved to relative offsets by `assemble()`.
import {
  AluOp, AluOpName, Atomic, Class, CondOpName, Insn, JmpOp, LD_IMM64, Mode, Pseudo, Reg, Size, Src, slots,
} from './insn.js';
import { helperId } from '../kernel/helpers.js';

export type Width = 'u8' | 'u16' | 'u32' | 'u64';
const sizeOf: Record<Width, number> = { u8: Size.B, u16: Size.H, u32: Size.W, u64: Size.DW };
export const widthBytes: Record<Width, number> = { u8: 1, u16: 2, u32: 4, u64: 8 };
export const widthFor = (bytes: number): Width => (bytes === 1 ? 'u8' : bytes === 2 ? 'u16' : bytes === 4 ? 'u32' : 'u64');

interface Pending {
  insn: Insn;
  target?: string;
}

export class AsmError extends Error {}

export class Asm {
  private items: Pending[] = [];
  private labels = new Map<string, number>();
  private nextLabel = 0;

  /** A fresh unique label name (for generated control flow). */
  newLabel(hint = 'L'): string {
    return `.${hint}${this.nextLabel++}`;
  }

  label(name: string): this {
    if (this.labels.has(name)) throw new AsmError(`label '${name}' defined twice`);
    this.labels.set(name, this.items.length);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  raw(insn: Insn, target?: string): this {
    this.items.push({ insn, target });
    return this;
  }

  private op(code: number, dst: number, src: number, off: number, imm: number, target?: string): this {
    return this.raw({ code, dst, src, off, imm }, target);
  }

  // ALU, 64-bit and 32-bit. `src` is a register when given as { reg }, else an immediate.
  alu64(op: AluOpName, dst: Reg, src: Reg | { imm: number }): this {
    return typeof src === 'number'
      ? this.op(Class.ALU64 | AluOp[op] | Src.X, dst, src, 0, 0)
      : this.op(Class.ALU64 | AluOp[op] | Src.K, dst, 0, 0, src.imm);
  }
  alu32(op: AluOpName, dst: Reg, src: Reg | { imm: number }): this {
    return typeof src === 'number'
      ? this.op(Class.ALU | AluOp[op] | Src.X, dst, src, 0, 0)
      : this.op(Class.ALU | AluOp[op] | Src.K, dst, 0, 0, src.imm);
  }
  mov(dst: Reg, src: Reg): this {
    return this.alu64('mov', dst, src);
  }
  movImm(dst: Reg, imm: number): this {
    return this.alu64('mov', dst, { imm });
  }
  mov32(dst: Reg, src: Reg): this {
    return this.alu32('mov', dst, src);
  }
  neg(dst: Reg): this {
    return this.op(Class.ALU64 | AluOp.neg, dst, 0, 0, 0);
  }
  /** Byte swap: to big endian (`be`) or little endian (`le`) of 16, 32 or 64 bits. */
  endian(dst: Reg, order: 'be' | 'le', bits: 16 | 32 | 64): this {
    return this.op(Class.ALU | AluOp.end | (order === 'be' ? Src.X : Src.K), dst, 0, 0, bits);
  }

  /** Any 64-bit constant; uses a 2-slot LD_IMM64 only when it does not fit in imm32. */
  loadImm(dst: Reg, value: bigint | number): this {
    const v = BigInt.asIntN(64, BigInt(value));
    if (v >= -0x80000000n && v <= 0x7fffffffn) return this.movImm(dst, Number(v));
    return this.raw({ code: LD_IMM64, dst, src: 0, off: 0, imm: Number(BigInt.asIntN(32, v)), imm64: v });
  }
  ldImm64(dst: Reg, value: bigint): this {
    const v = BigInt.asIntN(64, value);
    return this.raw({ code: LD_IMM64, dst, src: 0, off: 0, imm: Number(BigInt.asIntN(32, v)), imm64: v });
  }
  /** dst = pointer to map `name` (fd patched in at load time). */
  ldMap(dst: Reg, name: string): this {
    return this.raw({ code: LD_IMM64, dst, src: Pseudo.MAP_FD, off: 0, imm: 0, imm64: 0n, map: name });
  }
  /** dst = address of the value at `offset` in array map `name` (global data). */
  ldMapValue(dst: Reg, name: string, offset = 0): this {
    return this.raw({ code: LD_IMM64, dst, src: Pseudo.MAP_VALUE, off: 0, imm: 0, imm64: BigInt(offset) << 32n, map: name });
  }

  // Memory.
  load(dst: Reg, src: Reg, off: number, w: Width): this {
    return this.op(Class.LDX | Mode.MEM | sizeOf[w], dst, src, off, 0);
  }
  store(dst: Reg, off: number, src: Reg, w: Width): this {
    return this.op(Class.STX | Mode.MEM | sizeOf[w], dst, src, off, 0);
  }
  storeImm(dst: Reg, off: number, imm: number, w: Width): this {
    return this.op(Class.ST | Mode.MEM | sizeOf[w], dst, 0, off, imm);
  }
  /** Atomic read-modify-write of *(dst + off) with src (u32 or u64). */
  atomic(op: keyof typeof Atomic, dst: Reg, off: number, src: Reg, w: 'u32' | 'u64' = 'u64'): this {
    return this.op(Class.STX | Mode.ATOMIC | sizeOf[w], dst, src, off, Atomic[op]);
  }
  atomicAdd(dst: Reg, off: number, src: Reg, w: 'u32' | 'u64' = 'u64'): this {
    return this.atomic('add', dst, off, src, w);
  }

  // Control flow. Targets are label names.
  ja(target: string): this {
    return this.op(Class.JMP | JmpOp.ja, 0, 0, 0, 0, target);
  }
  jmp(op: CondOpName, dst: Reg, src: Reg | { imm: number }, target: string): this {
    return typeof src === 'number'
      ? this.op(Class.JMP | JmpOp[op] | Src.X, dst, src, 0, 0, target)
      : this.op(Class.JMP | JmpOp[op] | Src.K, dst, 0, 0, src.imm, target);
  }
  jmp32(op: CondOpName, dst: Reg, src: Reg | { imm: number }, target: string): this {
    return typeof src === 'number'
      ? this.op(Class.JMP32 | JmpOp[op] | Src.X, dst, src, 0, 0, target)
      : this.op(Class.JMP32 | JmpOp[op] | Src.K, dst, 0, 0, src.imm, target);
  }
  /** Calls a helper by name (`probe_read_user_str` or `bpf_probe_read_user_str`) or id. */
  call(helper: string | number): this {
    const id = typeof helper === 'number' ? helper : helperId(helper);
    if (id === undefined) throw new AsmError(`unknown BPF helper '${helper}'`);
    return this.op(Class.JMP | JmpOp.call, 0, 0, 0, id);
  }
  exit(): this {
    return this.op(Class.JMP | JmpOp.exit, 0, 0, 0, 0);
  }

  /** Appends another assembler's instructions (labels must not collide). */
  append(other: Asm): this {
    const base = this.items.length;
    for (const [name, at] of other.labels) {
      if (this.labels.has(name)) throw new AsmError(`label '${name}' defined twice`);
      this.labels.set(name, base + at);
    }
    this.items.push(...other.items);
    return this;
  }

  /** Resolves jump labels; offsets count slots, so a LD_IMM64 in between counts twice. */
  assemble(): Insn[] {
    const slotAt: number[] = [];
    let s = 0;
    for (const it of this.items) {
      slotAt.push(s);
      s += slots(it.insn);
    }
    slotAt.push(s);
    return this.items.map((it, idx) => {
      if (it.target === undefined) return it.insn;
      const at = this.labels.get(it.target);
      if (at === undefined) throw new AsmError(`jump to undefined label '${it.target}'`);
      const off = slotAt[at] - slotAt[idx] - 1;
      if (off < -32768 || off > 32767) throw new AsmError(`jump to '${it.target}' is too far (${off})`);
      return { ...it.insn, off };
    });
  }
}
