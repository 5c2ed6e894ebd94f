// The decoder's instruction boundaries against objdump's, over whole .text sections of real
// binaries: gcc code (/bin/ls, libc, libm), AVX-512-heavy libdav1d, and a Go binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { instructionLength } from '../src/x86/length.js';
import { buildGo } from './lib/fixtures.js';
import { objdumpText, readText } from './lib/x86-objdump.js';

interface Comparison {
  compared: number;
  bad: number;
  mismatches: string[];
}

// objdump's instructions tile .text, so agreeing on the length at each of its boundaries is
// the same as our linear walk producing exactly its boundaries. Regions objdump itself calls
// (bad) have no ground truth and are skipped. objdump prints FWAIT (9B) and the x87 instruction
// after it as one line (fstcw = 9B D9 /7); they are two instructions to the CPU, and to us.
function compareWithObjdump(path: string): Comparison {
  const { code, vma } = readText(path);
  const result: Comparison = { compared: 0, bad: 0, mismatches: [] };
  let expectedNext = vma;
  const check = (addr: number, length: number, text: string): void => {
    result.compared++;
    let ours: number | string;
    try {
      ours = instructionLength(code, addr - vma);
    } catch (e) {
      ours = (e as Error).message;
    }
    if (ours !== length && result.mismatches.length < 20) {
      const bytes = Array.from(code.subarray(addr - vma, addr - vma + 15), (b) => b.toString(16).padStart(2, '0'));
      result.mismatches.push(`0x${addr.toString(16)} ${text}: objdump ${length}, ours ${ours} [${bytes.join(' ')}]`);
    }
  };
  for (const insn of objdumpText(path)) {
    assert.equal(insn.addr, expectedNext, `objdump output is not contiguous at 0x${insn.addr.toString(16)}`);
    expectedNext = insn.addr + insn.length;
    if (insn.text.startsWith('(bad)')) {
      result.bad++;
    } else if (code[insn.addr - vma] === 0x9b && insn.length > 1) {
      check(insn.addr, 1, 'fwait');
      check(insn.addr + 1, insn.length - 1, insn.text);
    } else {
      check(insn.addr, insn.length, insn.text);
    }
  }
  assert.equal(expectedNext, vma + code.length, 'objdump did not cover all of .text');
  return result;
}

test('x86 lengths equal objdump over all of /bin/ls .text', () => {
  const r = compareWithObjdump('/bin/ls');
  assert.deepEqual(r.mismatches, []);
  assert.ok(r.compared > 20_000, `only ${r.compared} instructions`);
  assert.equal(r.bad, 0);
});

test('x86 lengths equal objdump over all of libc.so.6 .text (SSE, AVX2, AVX-512)', () => {
  const r = compareWithObjdump('/lib/x86_64-linux-gnu/libc.so.6');
  assert.deepEqual(r.mismatches, []);
  assert.ok(r.compared > 200_000, `only ${r.compared} instructions`);
  assert.equal(r.bad, 0);
});

test('x86 lengths equal objdump over all of libm.so.6 .text (x87, FMA, AVX2)', () => {
  const r = compareWithObjdump('/lib/x86_64-linux-gnu/libm.so.6');
  assert.deepEqual(r.mismatches, []);
  assert.ok(r.compared > 50_000, `only ${r.compared} instructions`);
  assert.equal(r.bad, 0);
});

const dav1d = '/usr/lib/x86_64-linux-gnu/libdav1d.so.6';
test('x86 lengths equal objdump over all of libdav1d .text (tens of thousands of EVEX)', {
  skip: existsSync(dav1d) ? false : `${dav1d} is not installed`,
}, () => {
  const r = compareWithObjdump(dav1d);
  assert.deepEqual(r.mismatches, []);
  assert.ok(r.compared > 100_000, `only ${r.compared} instructions`);
  assert.equal(r.bad, 0);
});

test('x86 lengths equal objdump over all of a Go binary .text', () => {
  const r = compareWithObjdump(buildGo('x86_demo'));
  assert.deepEqual(r.mismatches, []);
  assert.ok(r.compared > 100_000, `only ${r.compared} instructions`);
  assert.equal(r.bad, 0);
});
