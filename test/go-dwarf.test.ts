// The DWARF reader on real binaries: Go 1.19 (DWARF 4, zlib-compressed sections by
// default, types shared across units by absolute references) and gcc (DWARF 4 and 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ElfFile } from '../src/elf/reader.js';
import { SymbolTable } from '../src/elf/symbols.js';
import { readGoPclntab, goFuncAt } from '../src/elf/gopclntab.js';
import { Dwarf, memberOf, resolveType, type DwarfType } from '../src/elf/dwarf.js';
import { existsSync } from 'node:fs';
import { buildC, buildGo, hasCommand } from './lib/fixtures.js';

const SHF_COMPRESSED = 0x800;
const compressed = buildGo('go_abi');
const plain = buildGo('go_abi', ['-compressdwarf=false']);

function load(path: string): Dwarf {
  const d = Dwarf.load(ElfFile.open(path));
  assert.ok(d, `${path} has DWARF`);
  return d;
}

/** A type as a short structural string, for exact comparisons. */
function shape(t: DwarfType, depth = 2): string {
  const r = resolveType(t);
  const head = `${t.name}(${r.kind}${'encoding' in r ? ` ${r.encoding}` : ''} ${r.size})`;
  if (depth === 0) return head;
  if (r.kind === 'struct') return `${head}{${r.members.map((m) => `${m.name}@${m.offset}:${shape(m.type, depth - 1)}`).join(' ')}}`;
  if (r.kind === 'pointer' && r.target) return `${head}->${shape(r.target, 0)}`;
  if (r.kind === 'array') return `${head}[${r.count}]${shape(r.element, 0)}`;
  return head;
}

test('compressed and uncompressed Go DWARF read the same', () => {
  const sec = (p: string): number => ElfFile.open(p).section('.debug_info')!.flags & SHF_COMPRESSED;
  assert.equal(sec(compressed), SHF_COMPRESSED);
  assert.equal(sec(plain), 0);
  const a = load(compressed);
  const b = load(plain);
  assert.equal(a.units().length, b.units().length);
  const sig = (d: Dwarf): string[] => d.functions().map((f) => `${f.name} ${f.params.map((p) => `${p.name}:${shape(p.type, 1)}`).join(',')}`);
  assert.deepEqual(sig(a), sig(b));
});

test('old-style .zdebug_* sections (objcopy zlib-gnu) read the same', { skip: !hasCommand('objcopy') && 'objcopy is not installed' }, () => {
  const zgnu = `${plain}.zdebug`;
  if (!existsSync(zgnu)) execFileSync('objcopy', ['--compress-debug-sections=zlib-gnu', plain, zgnu]);
  const elf = ElfFile.open(zgnu);
  assert.equal(elf.section('.debug_info'), undefined);
  assert.ok(elf.section('.zdebug_info'));
  const a = load(zgnu);
  const b = load(plain);
  assert.deepEqual(a.units().map((u) => [u.offset, u.name]), b.units().map((u) => [u.offset, u.name]));
  assert.deepEqual(a.function('main.manyArgs'), b.function('main.manyArgs'));
});

test('Go compile units match readelf, and carry the Go producer', () => {
  const d = load(plain);
  const dump = execFileSync('readelf', ['--debug-dump=info', plain], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const offsets = [...dump.matchAll(/Compilation Unit @ offset (0x[0-9a-f]+|\d+):/g)].map((m) => Number(m[1]));
  assert.deepEqual(d.units().map((u) => u.offset), offsets);
  assert.ok(d.units().every((u) => u.version === 4 && u.addrSize === 8));
  const main = d.units().find((u) => u.name === 'main');
  assert.ok(main);
  assert.equal(main.producer, 'Go cmd/compile go1.19.8; regabi');
});

test('Go functions: addresses agree with pclntab, parameters and results in order', () => {
  const elf = ElfFile.open(compressed);
  const tab = readGoPclntab(elf)!;
  const d = load(compressed);
  const fns = d.functions();
  assert.ok(fns.length > 1000);
  // Every DWARF function with code starts at a pclntab function's entry and ends inside it.
  for (const f of fns) {
    const g = goFuncAt(tab, f.lowPc);
    assert.ok(g && g.entry === f.lowPc && f.highPc <= g.end, `${f.name} at 0x${f.lowPc.toString(16)}`);
  }
  const demo = d.function('main.ebpfDemo')!;
  assert.deepEqual(demo.params.map((p) => [p.name, p.type.name, p.isResult]), [
    ['a1', 'int', false], ['a2', 'bool', false], ['a3', 'float32', false],
    ['~r0', 'int64', true], ['~r1', 'int32', true], ['~r2', 'string', true],
  ]);
  assert.equal(demo.unit, 'main');
});

test('Go types: base, string, slice, interface, map, func, arrays, named structs', () => {
  const d = load(compressed);
  const p = (fn: string, name: string): DwarfType => d.function(fn)!.params.find((x) => x.name === name)!.type;
  assert.equal(shape(p('main.ebpfDemo', 'a1')), 'int(base signed 8)');
  assert.equal(shape(p('main.ebpfDemo', 'a2')), 'bool(base boolean 1)');
  assert.equal(shape(p('main.ebpfDemo', 'a3')), 'float32(base float 4)');
  assert.equal(shape(p('main.manyArgs', 'c')), 'complex128(base complex 16)');
  assert.equal(shape(p('main.prepareAnswer', 'name')), 'string(struct 16){str@0:*uint8(pointer 8)->uint8(base unsigned 1) len@8:int(base signed 8)}');
  assert.equal(p('main.prepareAnswer', 'name').goKind, 24);
  assert.equal(shape(p('main.manyArgs', 's'), 1), '[]uint8(struct 24){array@0:*uint8(pointer 8) len@8:int(base signed 8) cap@16:int(base signed 8)}');
  assert.equal(shape(p('main.manyArgs', 'e'), 1), 'error(struct 16){tab@0:*runtime.itab(pointer 8) data@8:unsafe.Pointer(pointer 8)}');
  assert.equal(shape(p('main.manyArgs', 'm'), 0), 'map[string]int(pointer 8)');
  assert.equal(p('main.manyArgs', 'm').goKind, 21);
  assert.equal(shape(p('main.manyArgs', 'f'), 0), 'func() int(func 8)');
  assert.equal(shape(p('main.manyArgs', 'arr')), '[1]uint16(array 2)[1]uint16(base unsigned 2)');
  assert.equal(shape(p('main.manyArgs', 'big')), '[2]int(array 16)[2]int(base signed 8)');
  assert.equal(shape(p('main.manyArgs', 'p'), 1), 'main.point(struct 24){x@0:int32(base signed 4) y@4:int32(base signed 4) tag@8:string(struct 16)}');
  // runtime.g is self-referential through pointers (g.m.curg); decoding terminates.
  const g = d.type('runtime.g')!;
  assert.deepEqual(memberOf(g, 'goid') && { offset: memberOf(g, 'goid')!.offset, type: memberOf(g, 'goid')!.type.name }, { offset: 152, type: 'int64' });
  const m = resolveType(memberOf(g, 'm')!.type);
  assert.equal(m.kind, 'pointer');
  const curg = memberOf((m as { target?: DwarfType }).target!, 'curg')!;
  assert.equal(resolveType(curg.type).kind === 'pointer' && resolveType((resolveType(curg.type) as { target?: DwarfType }).target!), resolveType(g));
});

for (const version of [4, 5]) {
  test(`gcc DWARF ${version}: functions, their ranges and parameter types agree with the symbol table`, () => {
    const bin = buildC('elf_demo', ['-O2', `-gdwarf-${version}`]);
    const elf = ElfFile.open(bin);
    const syms = SymbolTable.read(elf);
    const d = load(bin);
    assert.deepEqual(d.units().map((u) => [u.version, u.name.split('/').pop()]), [[version, 'elf_demo.c']]);
    assert.match(d.units()[0].producer, /^GNU C/);
    const fns = d.functions();
    assert.deepEqual(fns.map((f) => f.name).sort(), ['elf_add', 'elf_greeting', 'elf_local_square', 'elf_weak_hook', 'main']);
    for (const f of fns) {
      const s = syms.byName(f.name)[0];
      assert.equal(f.lowPc, s.address, f.name);
      assert.equal(f.highPc - f.lowPc, s.size, f.name);
    }
    const sig = (name: string): string => d.function(name)!.params.map((p) => `${p.name}:${shape(p.type, 0)}`).join(',');
    assert.equal(sig('elf_add'), 'a:int(base signed 4),b:int(base signed 4)');
    assert.equal(sig('elf_weak_hook'), 'v:long int(base signed 8)');
    assert.equal(sig('main'), 'argc:int(base signed 4),argv:(pointer 8)');
    const argv = resolveType(d.function('main')!.params[1].type);
    assert.ok(argv.kind === 'pointer' && argv.target);
    assert.equal(shape(argv.target, 1), '(pointer 8)->char(base signed 1)');
  });
}
