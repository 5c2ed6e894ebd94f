// The assembler, encoder, decoder and disassembler agree on every instruction form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Asm, Width } from '../src/isa/asm.js';
import { AluOp, AluOpName, Atomic, CondOpName, decode, encode, Insn, JmpOp, R0, R1, R2, R3, Reg } from '../src/isa/insn.js';
import { disassemble, formatInsn } from '../src/isa/disasm.js';

function everyForm(): Asm {
  const a = new Asm();
  const alu = (Object.keys(AluOp) as AluOpName[]).filter((o) => o !== 'neg' && o !== 'end');
  for (const op of alu) {
    a.alu64(op, R1, R2).alu64(op, R1, { imm: -7 }).alu32(op, R3, R0).alu32(op, R3, { imm: 0x7fffffff });
  }
  a.neg(R1).mov(R0, R1).movImm(R2, -1).mov32(R1, R2);
  for (const bits of [16, 32, 64] as const) a.endian(R1, 'be', bits).endian(R1, 'le', bits);
  a.loadImm(R1, 5).loadImm(R1, 0x123456789an).ldImm64(R2, -2n).ldImm64(R3, 0xffffffff00000001n);
  a.ldMap(R1, 'm').ldMapValue(R2, 'm', 16);
  for (const w of ['u8', 'u16', 'u32', 'u64'] as Width[]) a.load(R0, R1, -8, w).store(R1, 24, R2, w).storeImm(R1, -512, -3, w);
  for (const op of Object.keys(Atomic) as Array<keyof typeof Atomic>) {
    if (op !== 'fetch') a.atomic(op, R1, 8, R2, 'u64').atomic(op, R1, -4, R2, 'u32');
  }
  a.label('top');
  const conds = (Object.keys(JmpOp) as Array<keyof typeof JmpOp>).filter((o) => !['ja', 'call', 'exit'].includes(o)) as CondOpName[];
  for (const op of conds) {
    a.jmp(op, R1, R2, 'top').jmp(op, R1, { imm: -1 }, 'end').jmp32(op, R3 as Reg, { imm: 9 }, 'top').jmp32(op, R1, R0, 'end');
  }
  a.ja('top').call('map_lookup_elem').call('bpf_ringbuf_output').call(14);
  a.label('end').exit();
  return a;
}

test('encode/decode round-trips every instruction the assembler emits', () => {
  const insns = everyForm().assemble();
  const fd = 7;
  const bytes = encode(insns, () => fd);
  const back = decode(bytes);
  assert.equal(back.length, insns.length);
  insns.forEach((orig, i) => {
    const got = back[i];
    const want: Insn = orig.map !== undefined ? { ...orig, map: undefined, imm: fd, imm64: (orig.imm64 ?? 0n) | BigInt(fd) } : orig;
    assert.equal(got.code, want.code, `insn ${i} code`);
    assert.equal(got.dst, want.dst, `insn ${i} dst`);
    assert.equal(got.src, want.src, `insn ${i} src`);
    assert.equal(got.off, want.off, `insn ${i} off`);
    if (want.imm64 !== undefined) assert.equal(BigInt.asIntN(64, got.imm64!), BigInt.asIntN(64, want.imm64), `insn ${i} imm64`);
    else assert.equal(got.imm, want.imm, `insn ${i} imm`);
    if (orig.map === undefined) assert.equal(formatInsn(got), formatInsn(orig), `insn ${i} text`);
  });
  // Re-encoding the decoded program gives identical bytes.
  assert.deepEqual(encode(back), bytes);
});

test('disassembly reads like bpftool', () => {
  const a = new Asm()
    .mov(6 as Reg, R1).call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 })
    .store(10 as Reg, -4, R0, 'u32').ldMap(R1, 'counts').alu64('add', R2, { imm: -4 })
    .jmp('jeq', R0, { imm: 0 }, 'out').atomicAdd(R0, 0, R1).alu32('mov', R1, { imm: 0 })
    .label('out').exit();
  assert.equal(disassemble(a.assemble()), [
    '   0: (bf) r6 = r1',
    '   1: (85) call bpf_get_current_pid_tgid#14',
    '   2: (77) r0 >>= 32',
    '   3: (63) *(u32 *)(r10 -4) = r0',
    '   4: (18) r1 = map[counts]',
    '   6: (07) r2 += -4',
    '   7: (15) if r0 == 0x0 goto pc+2',
    '   8: (db) lock *(u64 *)(r0 +0) += r1',
    '   9: (b4) w1 = 0',
    '  10: (95) exit',
  ].join('\n'));
});

test('labels: undefined and duplicate labels are errors, far jumps count wide slots', () => {
  assert.throws(() => new Asm().ja('nowhere').assemble(), /undefined label 'nowhere'/);
  assert.throws(() => new Asm().label('x').label('x'), /defined twice/);
  const insns = new Asm().ja('t').ldImm64(R1, 1n << 40n).label('t').exit().assemble();
  assert.equal(insns[0].off, 2);
});
