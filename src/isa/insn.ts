// eBPF instructions as plain values, and their 8-byte encoding.
// A 64-bit immediate load (LD_IMM64) is one value here and two slots in the encoding.

export const Class = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, JMP32: 0x06, ALU64: 0x07 } as const;
export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;
export const Mode = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;
export const Src = { K: 0x00, X: 0x08 } as const;

export const AluOp = {
  add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70,
  neg: 0x80, mod: 0x90, xor: 0xa0, mov: 0xb0, arsh: 0xc0, end: 0xd0,
} as const;
export type AluOpName = keyof typeof AluOp;

export const JmpOp = {
  ja: 0x00, jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70,
  call: 0x80, exit: 0x90, jlt: 0xa0, jle: 0xb0, jslt: 0xc0, jsle: 0xd0,
} as const;
export type JmpOpName = keyof typeof JmpOp;
export type CondOpName = Exclude<JmpOpName, 'ja' | 'call' | 'exit'>;

export const Atomic = { add: 0x00, or: 0x40, and: 0x50, xor: 0xa0, fetch: 0x01, xchg: 0xe1, cmpxchg: 0xf1 } as const;

/** Source register values with special meaning in LD_IMM64 and CALL. */
export const Pseudo = { MAP_FD: 1, MAP_VALUE: 2, BTF_ID: 3, FUNC: 4, MAP_IDX: 5, MAP_IDX_VALUE: 6, CALL: 1, KFUNC_CALL: 2 } as const;

export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
export const R0: Reg = 0, R1: Reg = 1, R2: Reg = 2, R3: Reg = 3, R4: Reg = 4, R5: Reg = 5;
export const R6: Reg = 6, R7: Reg = 7, R8: Reg = 8, R9: Reg = 9, R10: Reg = 10;
export const FP = R10;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** LD_IMM64 only: the whole 64-bit immediate (the second slot holds its high half). */
  imm64?: bigint;
  /** LD_IMM64 of a map: the map's name, resolved to an fd when encoding. */
  map?: string;
}

export const LD_IMM64 = Class.LD | Size.DW | Mode.IMM;

export const isWide = (i: Insn): boolean => i.code === LD_IMM64;
export const slots = (i: Insn): number => (isWide(i) ? 2 : 1);

/** Resolves a map name to its fd; called for every LD_IMM64 that references a map. */
export type MapFdResolver = (name: string) => number;

export function encode(insns: readonly Insn[], mapFd?: MapFdResolver): Uint8Array {
  const n = insns.reduce((a, i) => a + slots(i), 0);
  const out = new Uint8Array(n * 8);
  const dv = new DataView(out.buffer);
  let p = 0;
  const put = (code: number, dst: number, src: number, off: number, imm: number): void => {
    dv.setUint8(p, code);
    dv.setUint8(p + 1, ((src & 0xf) << 4) | (dst & 0xf));
    dv.setInt16(p + 2, off, true);
    dv.setInt32(p + 4, imm | 0, true);
    p += 8;
  };
  for (const i of insns) {
    if (!isWide(i)) {
      put(i.code, i.dst, i.src, i.off, i.imm);
      continue;
    }
    let v = i.imm64 ?? BigInt(i.imm >>> 0);
    if (i.map !== undefined) {
      if (!mapFd) throw new Error(`map '${i.map}' referenced but no map fds given`);
      v = BigInt(mapFd(i.map)) | (v & 0xffffffff00000000n);
    }
    put(i.code, i.dst, i.src, 0, Number(BigInt.asIntN(32, v)));
    put(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n)));
  }
  return out;
}

export function decode(bytes: Uint8Array): Insn[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let p = 0; p + 8 <= bytes.byteLength; p += 8) {
    const regs = dv.getUint8(p + 1);
    const i: Insn = { code: dv.getUint8(p), dst: regs & 0xf, src: regs >> 4, off: dv.getInt16(p + 2, true), imm: dv.getInt32(p + 4, true) };
    if (isWide(i) && p + 16 <= bytes.byteLength) {
      const hi = dv.getInt32(p + 12, true);
      i.imm64 = (BigInt(hi) << 32n) | BigInt(i.imm >>> 0);
      p += 8;
    }
    out.push(i);
  }
  return out;
}
