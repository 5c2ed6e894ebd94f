// The .eh_frame parser against readelf's interpretation of the same tables (`readelf -wF`
// prints every FDE's address range and its full row table): every FDE found where readelf
// puts it, and at every row address the same CFA rule and the same rule for every register.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ElfFile } from '../src/elf/reader.js';
import { EhFrame, evalExpression, type RegRule, type UnwindRow } from '../src/elf/ehframe.js';
import { buildC } from './lib/fixtures.js';

const regNames = ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'ra'];

interface ReadelfFde { start: number; end: number; columns: string[]; rows: Array<{ loc: number; cells: string[] }> }

function readelfFrames(path: string): ReadelfFde[] {
  // readelf exits 1 over a separate debug file it cannot find, with the tables printed all the same.
  const { stdout: text, error } = spawnSync('readelf', ['-wF', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (error) throw error;
  const out: ReadelfFde[] = [];
  let cur: ReadelfFde | undefined;
  for (const line of text.split('\n')) {
    const fde = / FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(line);
    if (fde) {
      cur = { start: parseInt(fde[1], 16), end: parseInt(fde[2], 16), columns: [], rows: [] };
      out.push(cur);
      continue;
    }
    if (/ CIE /.test(line)) cur = undefined;
    if (!cur) continue;
    if (/^\s+LOC\s+CFA/.test(line)) cur.columns = line.trim().split(/\s+/).slice(2);
    const row = /^([0-9a-f]{16}) (.*)$/.exec(line);
    // A register rule prints as "r9 (r9)": one cell, not two.
    if (row) cur.rows.push({ loc: parseInt(row[1], 16), cells: row[2].match(/r\d+ \(\w+\)|\S+/g)!.map((c) => c.replace(/ \(\w+\)$/, '')) });
  }
  return out;
}

function cfaText(row: UnwindRow): string {
  return row.cfa.kind === 'expr' ? 'exp' : `${regNames[row.cfa.reg]}${row.cfa.offset >= 0 ? '+' : ''}${row.cfa.offset}`;
}

function ruleText(rule: RegRule | undefined): string {
  const signed = (n: number): string => (n >= 0 ? `+${n}` : `${n}`);
  switch (rule?.kind) {
    case undefined: case 'undefined': return 'u';
    case 'same': return 's';
    case 'offset': return `c${signed(rule.offset)}`;
    case 'val_offset': return `v${signed(rule.offset)}`;
    case 'register': return `r${rule.reg}`;
    case 'expr': return 'exp';
    case 'val_expr': return 'vexp';
  }
}

function compareWithReadelf(path: string): number {
  const eh = EhFrame.read(ElfFile.open(path));
  assert.ok(eh, `${path} has .eh_frame`);
  let rows = 0;
  for (const f of readelfFrames(path)) {
    if (f.end === f.start) continue;
    const fde = eh.fdeFor(f.start);
    assert.deepEqual(fde && [fde.start, fde.end], [f.start, f.end], `FDE at 0x${f.start.toString(16)}`);
    assert.equal(eh.fdeFor(f.end - 1)?.start, f.start);
    for (const r of f.rows) {
      const ours: UnwindRow = eh.rowAt(r.loc)!;
      const where = `${path} at 0x${r.loc.toString(16)}`;
      assert.equal(cfaText(ours), r.cells[0], `CFA ${where}`);
      f.columns.forEach((name, i) => {
        assert.equal(ruleText(ours.regs.get(regNames.indexOf(name))), r.cells[i + 1], `${name} ${where}`);
      });
      rows++;
    }
  }
  return rows;
}

test('fixture built -O2 without frame pointers: every FDE and row as readelf reads them', () => {
  const rows = compareWithReadelf(buildC('stacks_chain', ['-O2', '-fomit-frame-pointer', '-fPIE', '-pie']));
  assert.ok(rows > 10);
});

test('libc and libstdc++: thousands of FDEs, register rules and expressions agree with readelf', () => {
  const libc = compareWithReadelf('/usr/lib/x86_64-linux-gnu/libc.so.6');
  const libstdcxx = compareWithReadelf('/usr/lib/x86_64-linux-gnu/libstdc++.so.6');
  assert.ok(libc > 5000 && libstdcxx > 5000, `${libc} and ${libstdcxx} rows`);
});

test('without .eh_frame_hdr the full FDE scan finds the same entries', () => {
  const path = '/usr/lib/x86_64-linux-gnu/libc.so.6';
  const elf = ElfFile.open(path);
  const sec = elf.section('.eh_frame')!;
  const scan = new EhFrame(elf.sectionData(sec), sec.addr);
  const withHdr = EhFrame.read(elf)!;
  const fdes = scan.fdes();
  assert.ok(fdes.length > 1000);
  for (const f of fdes) {
    for (const pc of [f.start, f.end - 1]) assert.equal(withHdr.fdeFor(pc)?.start, scan.fdeFor(pc)?.start);
  }
  assert.equal(scan.fdeFor(0), undefined);
});

test('the PLT CFA expression: rsp+8, plus 8 once past the push (gcc\'s .plt FDE)', () => {
  // DW_OP_breg7 8; DW_OP_breg16 0; DW_OP_lit15; DW_OP_and; DW_OP_lit11 (10 on older
  // binutils); DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus
  const expr = Uint8Array.from([0x77, 8, 0x80, 0, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22]);
  const at = (rip: bigint): bigint | undefined => evalExpression(expr, (r) => (r === 7 ? 0x7ffc0000n : r === 16 ? rip : undefined), () => undefined);
  assert.equal(at(0x1020n), 0x7ffc0008n);
  assert.equal(at(0x102bn), 0x7ffc0010n);
  assert.equal(evalExpression(expr, () => undefined, () => undefined), undefined);
});
