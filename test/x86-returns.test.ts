// findReturns against the `ret` lines objdump prints, function by function: every function of a
// Go binary, every exported function of libc, and gcc's `rep ret` form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findReturns } from '../src/x86/returns.js';
import { TsbpfError } from '../src/kernel/errors.js';
import { buildC, buildGo } from './lib/fixtures.js';
import { functionSymbols, objdumpText, readText, type FunctionSymbol } from './lib/x86-objdump.js';

interface Result {
  functions: number;
  returns: number;
  byName: Map<string, { ours: number[]; objdump: number[] }>;
  mismatches: string[];
}

// Near returns as objdump spells them: `ret`, `ret $0x8`, `repz ret`, `bnd ret` (not `lret`).
const retLine = /(?:^|\s)ret\b/;

function compareReturns(path: string, syms: FunctionSymbol[]): Result {
  const { code, vma } = readText(path);
  const rets = objdumpText(path)
    .filter((i) => retLine.test(i.text))
    .map((i) => i.addr);
  const result: Result = { functions: 0, returns: 0, byName: new Map(), mismatches: [] };
  for (const sym of syms) {
    if (sym.addr < vma || sym.addr + sym.size > vma + code.length) continue; // not in .text (e.g. .init)
    const objdump = rets.filter((a) => a >= sym.addr && a < sym.addr + sym.size);
    let ours: number[];
    try {
      ours = findReturns(code, sym.addr - vma, sym.addr - vma + sym.size).map((o) => o + vma);
    } catch (e) {
      result.mismatches.push(`${sym.name}: ${(e as Error).message}`);
      continue;
    }
    result.functions++;
    result.returns += ours.length;
    result.byName.set(sym.name, { ours, objdump });
    if (ours.join() !== objdump.join() && result.mismatches.length < 20) {
      const hex = (xs: number[]) => xs.map((a) => a.toString(16)).join(',');
      result.mismatches.push(`${sym.name}: ours [${hex(ours)}], objdump [${hex(objdump)}]`);
    }
  }
  return result;
}

test('findReturns equals objdump for every function of a Go binary', () => {
  const bin = buildGo('x86_demo');
  const r = compareReturns(bin, functionSymbols(bin));
  assert.deepEqual(r.mismatches, []);
  assert.ok(r.functions > 1000, `only ${r.functions} functions`);
  assert.ok(r.returns > 1500, `only ${r.returns} returns`);
  // The fixture's own functions: Classify has four return statements and keeps four RETs.
  assert.equal(r.byName.get('main.Classify')!.ours.length, 4);
  for (const name of ['main.Hypot', 'main.Mean', 'main.Deep', 'main.main']) {
    assert.ok(r.byName.get(name)!.ours.length >= 1, `${name} has a RET`);
  }
});

test('findReturns equals objdump for every exported function of libc', () => {
  const libc = '/lib/x86_64-linux-gnu/libc.so.6';
  const r = compareReturns(libc, functionSymbols(libc, true));
  assert.deepEqual(r.mismatches, []);
  assert.ok(r.functions > 1500, `only ${r.functions} functions`);
});

test('findReturns reports `rep ret` at its prefix byte', () => {
  const bin = buildC('x86_returns', ['-O2', '-mtune=k8']);
  const { code, vma } = readText(bin);
  const syms = functionSymbols(bin).filter((s) => s.name === 'early' || s.name === 'maybe_set');
  assert.equal(syms.length, 2);
  const r = compareReturns(bin, syms);
  assert.deepEqual(r.mismatches, []);
  const repRets = [...r.byName.values()].flatMap((f) => f.ours).filter((a) => code[a - vma] === 0xf3);
  assert.ok(repRets.length >= 1, 'gcc -mtune=k8 emitted no rep ret');
  for (const a of repRets) assert.equal(code[a - vma + 1], 0xc3);
});

test('findReturns on hand-assembled code: ret imm16, prefixes, and RET bytes inside operands', () => {
  const code = Uint8Array.from([
    0xb8, 0xc3, 0xc3, 0x00, 0x00, // mov eax, 0xc3c3: C3 bytes that are not RETs
    0xc2, 0x08, 0x00, // ret 8
    0xf3, 0xc3, // rep ret
    0xf2, 0xc3, // bnd ret
    0x48, 0x8b, 0x05, 0xc3, 0x00, 0x00, 0x00, // mov rax, [rip+0xc3]
    0xc3, // ret
    0xcb, // far ret: not a near return
  ]);
  assert.deepEqual(findReturns(code, 0, code.length), [5, 8, 10, 19]);
  assert.deepEqual(findReturns(code, 8, 12), [8, 10]);
  assert.deepEqual(findReturns(code, 3, 3), []);
});

test('findReturns refuses ranges that do not end on an instruction boundary', () => {
  const code = Uint8Array.from([0x31, 0xc0, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3]);
  assert.throws(() => findReturns(code, 0, 5), (e: unknown) =>
    e instanceof TsbpfError && /ends at 0x7, past the function end 0x5/.test(e.message));
  assert.throws(() => findReturns(code, 0, 9), (e: unknown) =>
    e instanceof TsbpfError && /outside the 8 bytes of code/.test(e.message));
  assert.throws(() => findReturns(Uint8Array.from([0x90, 0x06, 0xc3]), 0, 3), (e: unknown) =>
    e instanceof TsbpfError && /opcode 06 is undefined in 64-bit mode at offset 0x1/.test(e.message));
});
