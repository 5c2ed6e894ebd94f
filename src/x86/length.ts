// x86-64 instruction lengths, for walking machine code we did not compile (the RET scan behind
// Go-safe return probes). Only boundaries matter, so the tables record what follows each opcode
// (a ModRM byte, the immediate's size) and not what the instruction does.
import { TsbpfError } from '../kernel/errors.js';

// What follows an opcode byte. Immediate sizes add up: ENTER is I16|I8 (3 bytes).
const M = 1; // ModRM, plus the SIB byte and displacement it implies
const I8 = 2; // 8-bit immediate (or rel8)
const IZ = 4; // 16- or 32-bit immediate by operand size; never 64
const I16 = 8; // 16-bit immediate whatever the prefixes say
const REL32 = 16; // branch displacement: 32 bits in 64-bit mode even with a 66 prefix (Intel)
const BAD = 32; // undefined in 64-bit mode (or not supported here: 3DNow!)
const SPECIAL = 64; // length rule handled in code: escapes, VEX/EVEX, moffs, mov imm64, groups

function table(entries: Array<[number, number, number]>): Uint8Array {
  const t = new Uint8Array(256);
  for (const [from, to, flags] of entries) t.fill(flags, from, to + 1);
  return t;
}

// The eight classic ALU rows (ADD OR ADC SBB AND SUB XOR CMP) share one shape.
function aluRows(): Array<[number, number, number]> {
  const rows: Array<[number, number, number]> = [];
  for (let base = 0x00; base < 0x40; base += 8) {
    rows.push([base, base + 3, M], [base + 4, base + 4, I8], [base + 5, base + 5, IZ]);
  }
  // 06/07/0E/16/17/1E/1F (segment push/pop) and 27/2F/37/3F (BCD) are gone in 64-bit mode;
  // 26/2E/36/3E are prefixes and never reach the table.
  rows.push([0x06, 0x07, BAD], [0x0e, 0x0e, BAD], [0x16, 0x17, BAD], [0x1e, 0x1f, BAD]);
  rows.push([0x27, 0x27, BAD], [0x2f, 0x2f, BAD], [0x37, 0x37, BAD], [0x3f, 0x3f, BAD]);
  return rows;
}

const oneByte = table([
  ...aluRows(),
  [0x0f, 0x0f, SPECIAL],
  [0x60, 0x61, BAD], // PUSHA/POPA
  [0x62, 0x62, SPECIAL], // EVEX (BOUND is gone)
  [0x63, 0x63, M], // MOVSXD
  [0x68, 0x68, IZ],
  [0x69, 0x69, M | IZ],
  [0x6a, 0x6a, I8],
  [0x6b, 0x6b, M | I8],
  [0x70, 0x7f, I8], // Jcc rel8
  [0x80, 0x80, M | I8],
  [0x81, 0x81, M | IZ],
  [0x82, 0x82, BAD],
  [0x83, 0x83, M | I8],
  [0x84, 0x8e, M],
  [0x8f, 0x8f, SPECIAL], // POP r/m only; other /r values would be XOP
  [0x9a, 0x9a, BAD], // far CALL ptr16:32
  [0xa0, 0xa3, SPECIAL], // MOV with a full-width memory offset
  [0xa8, 0xa8, I8],
  [0xa9, 0xa9, IZ],
  [0xb0, 0xb7, I8],
  [0xb8, 0xbf, SPECIAL], // MOV r, imm (imm64 with REX.W)
  [0xc0, 0xc1, M | I8],
  [0xc2, 0xc2, I16],
  [0xc4, 0xc5, SPECIAL], // VEX (LES/LDS are gone)
  [0xc6, 0xc7, SPECIAL], // MOV r/m, imm and XABORT/XBEGIN
  [0xc8, 0xc8, I16 | I8], // ENTER
  [0xca, 0xca, I16],
  [0xcd, 0xcd, I8],
  [0xce, 0xce, BAD], // INTO
  [0xd0, 0xd3, M],
  [0xd4, 0xd6, BAD], // AAM, AAD, SALC
  [0xd8, 0xdf, M], // x87
  [0xe0, 0xe7, I8], // LOOPcc, JRCXZ, IN/OUT imm8
  [0xe8, 0xe9, REL32],
  [0xea, 0xea, BAD], // far JMP ptr16:32
  [0xeb, 0xeb, I8],
  [0xf6, 0xf7, SPECIAL], // group 3: TEST has an immediate, the others do not
  [0xfe, 0xff, SPECIAL], // groups 4/5: some /r values are undefined
]);

const twoByte = table([
  [0x00, 0x03, M],
  [0x04, 0x04, BAD],
  [0x0a, 0x0a, BAD],
  [0x0c, 0x0c, BAD],
  [0x0d, 0x0d, M], // PREFETCHW
  [0x0f, 0x0f, BAD], // 3DNow!
  [0x10, 0x23, M], // SSE moves, hint NOPs (ENDBR64), MOV CR/DR
  [0x24, 0x27, BAD],
  [0x28, 0x2f, M],
  [0x36, 0x36, BAD],
  [0x38, 0x38, SPECIAL],
  [0x39, 0x39, BAD],
  [0x3a, 0x3a, SPECIAL],
  [0x3b, 0x3f, BAD],
  [0x40, 0x6f, M],
  [0x70, 0x73, M | I8], // PSHUF*, shift groups
  [0x74, 0x76, M],
  [0x78, 0x79, SPECIAL], // VMREAD/VMWRITE, or AMD's EXTRQ/INSERTQ with 66/F2
  [0x7a, 0x7b, BAD],
  [0x7c, 0x7f, M],
  [0x80, 0x8f, REL32], // Jcc rel32
  [0x90, 0x9f, M], // SETcc
  [0xa3, 0xa3, M],
  [0xa4, 0xa4, M | I8],
  [0xa5, 0xa5, M],
  [0xa6, 0xa7, M], // VIA PadLock (XSTORE, XCRYPT*, XSHA*): the second byte is a ModRM
  [0xab, 0xab, M],
  [0xac, 0xac, M | I8],
  [0xad, 0xb9, M], // includes POPCNT (F3 0F B8)
  [0xba, 0xba, M | I8], // BT/BTS/BTR/BTC imm8
  [0xbb, 0xc1, M],
  [0xc2, 0xc2, M | I8],
  [0xc3, 0xc3, M],
  [0xc4, 0xc6, M | I8],
  [0xc7, 0xc7, M],
  [0xd0, 0xff, M],
]);

/** Which opcode table the opcode byte indexes: 0 one-byte, 1 0F, 2 0F38, 3 0F3A, 5/6 EVEX FP16. */
export type OpcodeMap = 0 | 1 | 2 | 3 | 5 | 6;

export interface Instruction {
  /** Total length in bytes, prefixes included. */
  length: number;
  encoding: 'legacy' | 'vex' | 'evex';
  map: OpcodeMap;
  opcode: number;
  /** ModRM byte, or -1 when the instruction has none. */
  modrm: number;
}

const MAX_LENGTH = 15;

function invalid(code: Uint8Array, offset: number, why: string): TsbpfError {
  const bytes = Array.from(code.subarray(offset, Math.min(code.length, offset + MAX_LENGTH)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join(' ');
  return new TsbpfError(`x86-64 decoder: ${why} at offset 0x${offset.toString(16)} (bytes: ${bytes})`, {
    hint:
      'the range probably does not start at an instruction boundary or holds data; ' +
      'check the function start/end addresses (symbol table or Go pclntab)',
  });
}

/** Decodes the instruction at `offset` far enough to know its length and opcode. */
export function decodeInstruction(code: Uint8Array, offset: number): Instruction {
  let p = offset;
  const byte = (): number => {
    if (p >= code.length) throw invalid(code, offset, 'instruction runs past the end of the code');
    if (p - offset >= MAX_LENGTH) throw invalid(code, offset, 'instruction longer than 15 bytes');
    return code[p++]!;
  };

  let opsize16 = false;
  let addr32 = false;
  let repne = false;
  let rexW = false;
  let b = byte();
  for (;;) {
    if (isLegacyPrefix(b)) {
      if (b === 0x66) opsize16 = true;
      else if (b === 0x67) addr32 = true;
      else if (b === 0xf2) repne = true;
      rexW = false; // a REX counts only right before the opcode; a legacy prefix after it voids it
    } else if ((b & 0xf0) === 0x40) {
      rexW = (b & 8) !== 0;
    } else {
      break;
    }
    b = byte();
  }

  // Bytes of immediate for IZ: REX.W wins over 66 (imm32 sign-extended to 64 bits).
  const izSize = opsize16 && !rexW ? 2 : 4;
  const immediate = (flags: number): number =>
    (flags & I8 ? 1 : 0) + (flags & I16 ? 2 : 0) + (flags & IZ ? izSize : 0) + (flags & REL32 ? 4 : 0);
  const finish = (encoding: Instruction['encoding'], map: OpcodeMap, opcode: number, modrm: number, imm: number): Instruction => {
    for (let i = 0; i < imm; i++) byte();
    return { length: p - offset, encoding, map, opcode, modrm };
  };

  if (b === 0xc4 || b === 0xc5) {
    let map: number = 1;
    if (b === 0xc4) {
      map = byte() & 0x1f;
      byte();
      if (map < 1 || map > 3) throw invalid(code, offset, `VEX opcode map ${map} is undefined`);
    } else {
      byte();
    }
    const opcode = byte();
    if (map === 1 && opcode === 0x77) return finish('vex', 1, opcode, -1, 0); // VZEROUPPER/VZEROALL
    const modrm = readModrm(byte);
    const imm = map === 3 || (map === 1 && twoByte[opcode]! & I8) ? 1 : 0;
    return finish('vex', map as OpcodeMap, opcode, modrm, imm);
  }

  if (b === 0x62) {
    const p0 = byte();
    byte();
    byte();
    const map = p0 & 7;
    if (map !== 1 && map !== 2 && map !== 3 && map !== 5 && map !== 6) {
      throw invalid(code, offset, `EVEX opcode map ${map} is not supported`);
    }
    const opcode = byte();
    const modrm = readModrm(byte);
    const imm = map === 3 || (map === 1 && twoByte[opcode]! & I8) ? 1 : 0;
    return finish('evex', map as OpcodeMap, opcode, modrm, imm);
  }

  if (b === 0x0f) {
    const op = byte();
    if (op === 0x38 || op === 0x3a) {
      // Every 0F38 opcode takes a ModRM and no immediate, every 0F3A one a ModRM and an imm8,
      // so the length is known even for opcodes newer than this table.
      const opcode = byte();
      const modrm = readModrm(byte);
      return op === 0x38 ? finish('legacy', 2, opcode, modrm, 0) : finish('legacy', 3, opcode, modrm, 1);
    }
    const flags = twoByte[op]!;
    if (flags & BAD) throw invalid(code, offset, `undefined opcode 0f ${hex(op)}`);
    if (flags & SPECIAL) {
      // 0F 78/79: EXTRQ/INSERTQ (66/F2) carry two imm8 on the 78 form; VMREAD/VMWRITE none.
      const modrm = readModrm(byte);
      return finish('legacy', 1, op, modrm, op === 0x78 && (opsize16 || repne) ? 2 : 0);
    }
    const modrm = flags & M ? readModrm(byte) : -1;
    return finish('legacy', 1, op, modrm, immediate(flags));
  }

  const flags = oneByte[b]!;
  if (flags & BAD) throw invalid(code, offset, `opcode ${hex(b)} is undefined in 64-bit mode`);
  if (!(flags & SPECIAL)) {
    const modrm = flags & M ? readModrm(byte) : -1;
    return finish('legacy', 0, b, modrm, immediate(flags));
  }
  if (b >= 0xa0 && b <= 0xa3) return finish('legacy', 0, b, -1, addr32 ? 4 : 8);
  if (b >= 0xb8 && b <= 0xbf) return finish('legacy', 0, b, -1, rexW ? 8 : izSize);

  const modrm = readModrm(byte);
  const reg = (modrm >> 3) & 7;
  switch (b) {
    case 0x8f:
      if (reg !== 0) throw invalid(code, offset, 'XOP and undefined 8f forms are not supported');
      return finish('legacy', 0, b, modrm, 0);
    case 0xc6:
    case 0xc7:
      // /0 is MOV; C6 F8 is XABORT imm8, C7 F8 is XBEGIN rel16/32.
      if (reg !== 0 && modrm !== 0xf8) throw invalid(code, offset, `undefined opcode ${hex(b)} /${reg}`);
      return finish('legacy', 0, b, modrm, b === 0xc6 ? 1 : izSize);
    case 0xf6:
      return finish('legacy', 0, b, modrm, reg < 2 ? 1 : 0);
    case 0xf7:
      return finish('legacy', 0, b, modrm, reg < 2 ? izSize : 0);
    case 0xfe:
      if (reg > 1) throw invalid(code, offset, `undefined opcode fe /${reg}`);
      return finish('legacy', 0, b, modrm, 0);
    default: // 0xff
      if (reg === 7) throw invalid(code, offset, 'undefined opcode ff /7');
      return finish('legacy', 0, b, modrm, 0);
  }
}

/** Length in bytes of the 64-bit mode instruction at `offset`; throws TsbpfError on bytes that are not one. */
export function instructionLength(code: Uint8Array, offset: number): number {
  return decodeInstruction(code, offset).length;
}

// Consumes ModRM and the SIB/displacement it implies. In 64-bit mode the 67 prefix keeps the
// same ModRM forms (there is no 16-bit addressing), so address size does not matter here.
function readModrm(byte: () => number): number {
  const modrm = byte();
  const mod = modrm >> 6;
  const rm = modrm & 7;
  if (mod === 3) return modrm;
  let disp = mod === 1 ? 1 : mod === 2 ? 4 : 0;
  if (rm === 4) {
    const sib = byte();
    if (mod === 0 && (sib & 7) === 5) disp = 4; // no base: disp32
  } else if (mod === 0 && rm === 5) {
    disp = 4; // RIP-relative
  }
  for (let i = 0; i < disp; i++) byte();
  return modrm;
}

function isLegacyPrefix(b: number): boolean {
  return b === 0x66 || b === 0x67 || b === 0xf0 || b === 0xf2 || b === 0xf3 ||
    b === 0x2e || b === 0x36 || b === 0x3e || b === 0x26 || b === 0x64 || b === 0x65;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
