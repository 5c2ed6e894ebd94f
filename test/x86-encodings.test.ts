// Hand-picked encodings whose length rules are easy to get wrong (operand-size override on
// immediates, REX.W, moffs, group 3, ModRM/SIB/displacement forms, VEX/EVEX maps), each with the
// length the Intel SDM gives; the same bytes are also run through objdump as a second opinion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeInstruction, instructionLength } from '../src/x86/length.js';
import { TsbpfError } from '../src/kernel/errors.js';

const cases: Array<[hex: string, length: number, what: string]> = [
  ['a0 88 77 66 55 44 33 22 11', 9, 'mov al, moffs64'],
  ['67 a1 44 33 22 11', 6, 'mov eax, moffs32 (addr32)'],
  ['48 a3 88 77 66 55 44 33 22 11', 10, 'mov moffs64, rax'],
  ['48 b8 88 77 66 55 44 33 22 11', 10, 'mov rax, imm64'],
  ['49 bf 88 77 66 55 44 33 22 11', 10, 'mov r15, imm64'],
  ['b8 44 33 22 11', 5, 'mov eax, imm32'],
  ['66 b8 22 11', 4, 'mov ax, imm16'],
  ['66 48 b8 88 77 66 55 44 33 22 11', 11, 'REX.W beats 66: imm64'],
  ['66 48 c7 c0 44 33 22 11', 8, 'REX.W beats 66: imm32'],
  ['66 c7 c0 22 11', 5, 'mov ax, imm16 (C7)'],
  ['66 68 22 11', 4, 'push imm16'],
  ['68 44 33 22 11', 5, 'push imm32'],
  ['c8 10 00 01', 4, 'enter imm16, imm8'],
  ['c2 08 00', 3, 'ret imm16'],
  ['f6 c0 01', 3, 'test al, imm8 (F6 /0)'],
  ['f6 d0', 2, 'not al (F6 /2)'],
  ['f7 c0 44 33 22 11', 6, 'test eax, imm32 (F7 /0)'],
  ['66 f7 c0 22 11', 5, 'test ax, imm16'],
  ['f7 d8', 2, 'neg eax (F7 /3)'],
  ['f7 4c 24 08 44 33 22 11', 8, 'test [rsp+8], imm32 (F7 /1)'],
  ['8b 05 44 33 22 11', 6, 'RIP-relative'],
  ['8b 04 25 44 33 22 11', 7, 'SIB without base: disp32'],
  ['8b 44 24 08', 4, 'SIB + disp8'],
  ['8b 84 24 44 33 22 11', 7, 'SIB + disp32'],
  ['8b 04 24', 3, 'SIB, no displacement'],
  ['41 8b 45 00', 4, 'r13 base needs disp8'],
  ['8b 04 2d 44 33 22 11', 7, 'index only: disp32'],
  ['c7 f8 44 33 22 11', 6, 'xbegin rel32'],
  ['66 c7 f8 22 11', 5, 'xbegin rel16'],
  ['c6 f8 ff', 3, 'xabort imm8'],
  ['e8 44 33 22 11', 5, 'call rel32'],
  ['0f 84 44 33 22 11', 6, 'je rel32'],
  ['f3 c3', 2, 'rep ret'],
  ['f2 c3', 2, 'bnd ret'],
  ['f3 0f 1e fa', 4, 'endbr64'],
  ['66 2e 0f 1f 84 00 00 00 00 00', 10, 'cs nopw'],
  ['c5 f8 77', 3, 'vzeroupper (no ModRM)'],
  ['c4 e3 7d 18 c1 01', 6, 'VEX3 map 0F3A: imm8'],
  ['c5 f9 70 c1 1b', 5, 'VEX2 0F 70: imm8'],
  ['c4 e2 79 18 05 44 33 22 11', 9, 'VEX3 map 0F38, RIP-relative'],
  ['62 f1 7c 48 10 05 44 33 22 11', 10, 'EVEX map 0F, RIP-relative'],
  ['62 f3 7d 48 1e c1 01', 7, 'EVEX map 0F3A: imm8'],
  ['62 f5 7c 08 58 c1', 6, 'EVEX map 5 (AVX512-FP16)'],
  ['62 f1 7d 48 72 e0 05', 7, 'EVEX 0F 72 shift group: imm8'],
  ['0f ba e0 05', 4, 'bt eax, imm8'],
  ['66 0f 3a 0f c1 08', 6, 'palignr'],
  ['66 0f 38 00 c1', 5, 'pshufb'],
  ['f2 0f 38 f1 c1', 5, 'crc32'],
  ['f3 48 0f b8 c1', 5, 'popcnt'],
  ['f0 48 0f b1 0f', 5, 'lock cmpxchg'],
  ['48 0f c7 0e', 4, 'cmpxchg16b'],
  ['d9 7c 24 fe', 4, 'fnstcw'],
  ['df e0', 2, 'fnstsw ax'],
  ['64 48 8b 04 25 28 00 00 00', 9, 'mov rax, fs:0x28'],
  ['0f 01 d0', 3, 'xgetbv'],
  ['0f ae f0', 3, 'mfence'],
  ['f3 48 0f ae c0', 5, 'rdfsbase'],
  ['66 0f 78 c0 04 08', 6, 'extrq imm8, imm8'],
  ['66 0f 73 d8 04', 5, 'psrldq'],
  ['cd 80', 2, 'int imm8'],
  ['48 69 c0 44 33 22 11', 7, 'imul r, r/m, imm32'],
  ['66 6b c0 05', 4, 'imul r, r/m, imm8'],
  ['66 81 c0 22 11', 5, 'add ax, imm16'],
  ['66 a9 22 11', 4, 'test ax, imm16'],
  ['e3 fe', 2, 'jrcxz'],
  ['0f 0d 08', 3, 'prefetchw'],
  ['f3 0f a7 c8', 4, 'VIA xcrypt-ecb'],
];

const bytes = (hex: string): Uint8Array => Uint8Array.from(hex.split(' '), (h) => parseInt(h, 16));

test('x86 lengths of hand-picked encodings', () => {
  for (const [hex, length, what] of cases) {
    assert.equal(instructionLength(bytes(hex), 0), length, `${what}: ${hex}`);
  }
});

test('objdump agrees on every hand-picked encoding', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-x86-'));
  try {
    const blob = join(dir, 'cases.bin');
    writeFileSync(blob, bytes(cases.map((c) => c[0]).join(' ')));
    const out = execFileSync('objdump', ['-D', '-w', '-b', 'binary', '-m', 'i386:x86-64', blob], { encoding: 'utf8' });
    const lengths = [...out.matchAll(/^\s*[0-9a-f]+:\t([0-9a-f]{2}(?: [0-9a-f]{2})*)\s/gm)].map((m) => m[1]!.split(' ').length);
    assert.deepEqual(lengths, cases.map((c) => c[1]));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('x86 prefixes: REX counts only right before the opcode; 15 bytes at most', () => {
  // 48 66 B8: the 66 after the REX voids it (objdump prints the REX as its own line, the CPU
  // decodes one 5-byte instruction with a 16-bit immediate).
  assert.equal(instructionLength(bytes('48 66 b8 22 11'), 0), 5);
  assert.equal(instructionLength(bytes('66 '.repeat(14) + '90'), 0), 15);
  assert.throws(() => instructionLength(bytes('66 '.repeat(15) + '90'), 0), (e: unknown) =>
    e instanceof TsbpfError && /longer than 15 bytes at offset 0x0/.test(e.message));
});

test('x86 decode reports encoding, map and opcode', () => {
  assert.deepEqual(decodeInstruction(bytes('f3 c3'), 0), { length: 2, encoding: 'legacy', map: 0, opcode: 0xc3, modrm: -1 });
  assert.deepEqual(decodeInstruction(bytes('66 0f 3a 0f c1 08'), 0), { length: 6, encoding: 'legacy', map: 3, opcode: 0x0f, modrm: 0xc1 });
  assert.deepEqual(decodeInstruction(bytes('c4 e2 79 18 05 44 33 22 11'), 0), { length: 9, encoding: 'vex', map: 2, opcode: 0x18, modrm: 0x05 });
  assert.deepEqual(decodeInstruction(bytes('62 f5 7c 08 58 c1'), 0), { length: 6, encoding: 'evex', map: 5, opcode: 0x58, modrm: 0xc1 });
  // The offset is honoured: the second instruction of a pair.
  assert.equal(instructionLength(bytes('90 48 b8 88 77 66 55 44 33 22 11'), 1), 10);
});

test('x86 undefined, unsupported and truncated instructions throw TsbpfError naming offset and bytes', () => {
  const rejects = (hex: string, offset: number, message: RegExp): void => {
    assert.throws(() => instructionLength(bytes(hex), offset), (e: unknown) =>
      e instanceof TsbpfError && message.test(e.message) && e.hint !== undefined, hex);
  };
  rejects('90 06', 1, /opcode 06 is undefined in 64-bit mode at offset 0x1 \(bytes: 06\)/);
  rejects('ce', 0, /opcode ce is undefined/);
  rejects('0f 0f c1 b4', 0, /undefined opcode 0f 0f at offset 0x0 \(bytes: 0f 0f c1 b4\)/); // 3DNow!
  rejects('8f e8 78 c2 c1 00', 0, /XOP/);
  rejects('ff ff', 0, /ff \/7/);
  rejects('c7 c8 00 00 00 00', 0, /c7 \/1/);
  rejects('c4 e0 79 18 c1', 0, /VEX opcode map 0/);
  rejects('62 f4 7c 08 58 c1', 0, /EVEX opcode map 4/);
  rejects('48 b8 11 22', 0, /runs past the end of the code at offset 0x0 \(bytes: 48 b8 11 22\)/);
  rejects('8b 84 24 44', 0, /runs past the end/);
});
