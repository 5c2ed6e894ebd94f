// ELF reader and symbol tables, checked against readelf/nm on real binaries built by the
// test (PIE, non-PIE, -O0, stripped, shared library) and against the system libc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { ElfFile, ET_DYN, ET_EXEC, PT_LOAD, EM_X86_64 } from '../src/elf/reader.js';
import { SymbolTable, globToRegExp, versionedName } from '../src/elf/symbols.js';
import { TsbpfError } from '../src/kernel/errors.js';
import { buildC, hasCommand } from './lib/fixtures.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

const builds = {
  pie: buildC('elf_demo', ['-O2', '-g']),
  o0: buildC('elf_demo', ['-O0', '-g', '-fno-omit-frame-pointer']),
  nopie: buildC('elf_demo', ['-O2', '-g', '-no-pie']),
  lib: buildC('elf_lib', ['-O2', '-g', '-shared', '-fPIC']),
};

function stripped(path: string): string {
  const out = `${path}.stripped`;
  if (!existsSync(out)) execFileSync('strip', ['-o', out, path]);
  return out;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
}

interface RefSym { name: string; address: number; size: number; bind: string; type: string }

/** Defined FUNC/IFUNC symbols as `readelf -sW` lists them (both tables). */
function readelfFunctions(path: string): RefSym[] {
  const out: RefSym[] = [];
  for (const line of sh('readelf', ['-sW', path]).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^\d+:$/.test(f[0]) || !['FUNC', 'IFUNC'].includes(f[3]) || f[6] === 'UND' || f[6] === 'ABS') continue;
    const address = parseInt(f[1], 16);
    if (address === 0) continue;
    const size = f[2].startsWith('0x') ? parseInt(f[2], 16) : Number(f[2]);
    out.push({ name: f[7].replace(/\s*\(\d+\)$/, ''), address, size, bind: f[4].toLowerCase(), type: f[3] });
  }
  return out;
}

function readelfLoads(path: string): { offset: number; vaddr: number; filesz: number; memsz: number; flags: string }[] {
  return sh('readelf', ['-lW', path]).split('\n').filter((l) => /^\s*LOAD\s/.test(l)).map((l) => {
    const f = l.trim().split(/\s+/);
    return { offset: parseInt(f[1], 16), vaddr: parseInt(f[2], 16), filesz: parseInt(f[4], 16), memsz: parseInt(f[5], 16), flags: f.slice(6, -1).join('') };
  });
}

function readelfBuildId(path: string): string | undefined {
  return /Build ID: ([0-9a-f]+)/.exec(sh('readelf', ['-n', path]))?.[1];
}

const key = (name: string, address: number): string => `${name}@${address.toString(16)}`;

for (const [label, path] of Object.entries({ ...builds, 'pie stripped': stripped(builds.pie), 'lib stripped': stripped(builds.lib) })) {
  test(`elf ${label}: segments, symbols, offsets and build-id agree with readelf`, () => {
    const elf = ElfFile.open(path);
    assert.equal(elf.machine, EM_X86_64);
    assert.equal(elf.type, label.startsWith('nopie') ? ET_EXEC : ET_DYN);

    const loads = readelfLoads(path);
    assert.deepEqual(elf.loadSegments().map((p) => ({ offset: p.offset, vaddr: p.vaddr, filesz: p.filesz, memsz: p.memsz })),
      loads.map(({ offset, vaddr, filesz, memsz }) => ({ offset, vaddr, filesz, memsz })));

    const table = SymbolTable.read(elf);
    const ref = readelfFunctions(path);
    // readelf lists a symbol once per table; ours merges the .symtab and .dynsym copies.
    const ours = new Set(table.symbols.map((s) => key(s.name, s.address)));
    const theirs = new Set(ref.map((r) => key(r.name.split('@')[0], r.address)));
    assert.ok(ours.size > 0 || label.includes('stripped'));
    assert.deepEqual([...ours].sort(), [...theirs].sort());
    for (const r of ref) {
      const s = table.byName(r.name).find((x) => x.address === r.address);
      assert.ok(s, `${r.name} found by name`);
      assert.equal(s.size, r.size, `${r.name} size`);
      assert.equal(s.binding, r.bind, `${r.name} binding`);
      // The file offset is the address moved from its LOAD segment's vaddr to its offset.
      const seg = loads.find((p) => r.address >= p.vaddr && r.address < p.vaddr + p.filesz)!;
      assert.equal(table.fileOffset(s), r.address - seg.vaddr + seg.offset, `${r.name} file offset`);
    }
    assert.equal(elf.buildId(), readelfBuildId(path));
  });
}

test('elf: the demo functions and their bindings, with and without symtab', () => {
  const t = SymbolTable.read(ElfFile.open(builds.pie));
  assert.equal(t.byName('elf_add')[0].binding, 'global');
  assert.equal(t.byName('elf_local_square')[0].binding, 'local');
  assert.equal(t.byName('elf_weak_hook')[0].binding, 'weak');
  assert.deepEqual(t.match('elf_*').map((s) => s.name).sort(), ['elf_add', 'elf_greeting', 'elf_local_square', 'elf_weak_hook']);
  assert.deepEqual(t.match('elf_???').map((s) => s.name), ['elf_add']);
  // A stripped executable keeps only dynamic symbols, and none of ours is exported.
  const s = SymbolTable.read(ElfFile.open(stripped(builds.pie)));
  assert.equal(s.byName('elf_add').length, 0);
  assert.equal(ElfFile.open(stripped(builds.pie)).buildId(), ElfFile.open(builds.pie).buildId());
  // A stripped library still exports its API through .dynsym; the hidden function is gone.
  const lib = SymbolTable.read(ElfFile.open(stripped(builds.lib)));
  assert.equal(lib.byName('elflib_exported').length, 1);
  assert.equal(lib.byName('elflib_hidden').length, 0);
  assert.equal(SymbolTable.read(ElfFile.open(builds.lib)).byName('elflib_hidden')[0].binding, 'local');
});

test('elf: address -> symbol+offset lookups agree with nm for every function', () => {
  for (const path of [builds.pie, builds.o0, builds.nopie]) {
    const t = SymbolTable.read(ElfFile.open(path));
    // Text symbols (t, T and weak W) that lie in the executable segment.
    const text = readelfLoads(path).filter((p) => p.flags.includes('E'));
    const nm = sh('nm', ['--defined-only', path]).split('\n').map((l) => l.split(' ')).filter((f) => /^[tTwW]$/.test(f[1] ?? ''));
    for (const [addrHex, , name] of nm) {
      const a = parseInt(addrHex, 16);
      if (!text.some((p) => a >= p.vaddr && a < p.vaddr + p.filesz)) continue;
      const hit = t.lookup(a);
      assert.ok(hit, `${name} at ${addrHex}`);
      assert.equal(hit.offset, 0);
      assert.equal(hit.symbol.address, a);
      const s = t.byName(name)[0];
      if (s.size > 1) {
        const mid = t.lookup(a + s.size - 1)!;
        assert.equal(mid.symbol.address, a);
        assert.equal(mid.offset, s.size - 1);
      }
    }
    assert.equal(t.lookup(0x10), undefined);
  }
});

test('elf: libc malloc and getaddrinfo match nm -D, versioned names resolve', { skip: !existsSync(LIBC) && 'no libc.so.6' }, () => {
  const elf = ElfFile.open(LIBC);
  const t = SymbolTable.read(elf);
  const nm = new Map(sh('nm', ['-D', '--defined-only', LIBC]).split('\n').map((l) => l.split(' ')).filter((f) => f.length === 3).map((f) => [f[2], parseInt(f[0], 16)]));
  for (const name of ['malloc', 'getaddrinfo', 'free', 'open']) {
    const versioned = [...nm.keys()].find((k) => k.startsWith(`${name}@@`))!;
    const s = t.byName(name).find((x) => x.defaultVersion)!;
    assert.equal(s.address, nm.get(versioned), name);
    assert.equal(versionedName(s), versioned);
    assert.deepEqual(t.byName(versioned), [s]);
  }
  assert.equal(t.byName('malloc@@GLIBC_9.9').length, 0);
  const loads = readelfLoads(LIBC);
  const m = t.byName('malloc')[0];
  const seg = loads.find((p) => m.address >= p.vaddr && m.address < p.vaddr + p.filesz)!;
  assert.equal(t.fileOffset(m), m.address - seg.vaddr + seg.offset);
  assert.equal(t.lookup(m.address + 3)!.symbol.name, 'malloc');
  assert.equal(elf.buildId(), readelfBuildId(LIBC));
});

test('elf: glob patterns are anchored and treat other characters literally', () => {
  assert.ok(globToRegExp('mall*').test('malloc'));
  assert.ok(!globToRegExp('mall*').test('xmalloc'));
  assert.ok(globToRegExp('a.b?').test('a.bc'));
  assert.ok(!globToRegExp('a.b?').test('axbc'));
  assert.ok(globToRegExp('operator()*').test('operator()<int>'));
});

test('elf: vaddr <-> file offset round trips inside segments and is undefined for .bss', () => {
  const elf = ElfFile.open(builds.nopie);
  for (const p of elf.loadSegments()) {
    assert.equal(elf.vaddrToOffset(p.vaddr), p.offset);
    assert.equal(elf.offsetToVaddr(p.offset + p.filesz - 1), p.vaddr + p.filesz - 1);
    if (p.memsz > p.filesz) assert.equal(elf.vaddrToOffset(p.vaddr + p.memsz - 1), undefined);
  }
  const seg = elf.segments.find((p) => p.type === PT_LOAD)!;
  assert.equal(elf.vaddrToOffset(seg.vaddr - 1), undefined);
});

test('elf: separate debug files are found by build-id and by debuglink (CRC checked)', { skip: !hasCommand('objcopy') && 'no objcopy' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-elf-'));
  try {
    const bin = join(dir, 'demo');
    const dbg = join(dir, 'demo.debug');
    execFileSync('objcopy', ['--only-keep-debug', builds.pie, dbg]);
    execFileSync('objcopy', ['--strip-debug', '--strip-unneeded', `--add-gnu-debuglink=${dbg}`, builds.pie, bin]);
    const elf = ElfFile.open(bin);
    assert.deepEqual(elf.debugLink(), { file: 'demo.debug', crc: crc32(readFileSync(dbg)) });
    assert.equal(elf.findDebugFile(join(dir, 'nowhere')), dbg);
    // A stale debug file (different contents) is refused.
    writeFileSync(dbg, 'stale');
    assert.equal(elf.findDebugFile(join(dir, 'nowhere')), undefined);
    // By build-id under a debug root.
    const id = elf.buildId()!;
    mkdirSync(join(dir, 'root/.build-id', id.slice(0, 2)), { recursive: true });
    const byId = join(dir, 'root/.build-id', id.slice(0, 2), `${id.slice(2)}.debug`);
    copyFileSync(builds.pie, byId);
    assert.equal(elf.findDebugFile(join(dir, 'root')), byId);
    // The debug file has the full symbol table the stripped binary lacks.
    assert.equal(SymbolTable.read(ElfFile.open(byId)).byName('elf_local_square').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('elf: clear errors for missing, non-ELF, 32-bit, foreign and truncated files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-elf-'));
  try {
    const expectError = (path: string, re: RegExp): void => {
      assert.throws(() => ElfFile.open(path), (e: unknown) => e instanceof TsbpfError && re.test(e.message));
    };
    expectError(join(dir, 'missing'), /no such file/);
    writeFileSync(join(dir, 'script'), '#!/bin/sh\necho hi\n');
    expectError(join(dir, 'script'), /not an ELF file/);
    expectError(dir, /directory/);
    const head = Buffer.from(readFileSync(builds.pie).subarray(0, 64));
    const b32 = Buffer.from(head);
    b32[4] = 1;
    writeFileSync(join(dir, 'elf32'), b32);
    expectError(join(dir, 'elf32'), /32-bit ELF/);
    const arm = Buffer.from(head);
    arm.writeUInt16LE(183, 18);
    writeFileSync(join(dir, 'arm'), arm);
    expectError(join(dir, 'arm'), /built for AArch64, expected x86-64/);
    writeFileSync(join(dir, 'short'), head.subarray(0, 40));
    expectError(join(dir, 'short'), /truncated/);
    // Headers intact but the section header table is past the end of the file.
    writeFileSync(join(dir, 'cut'), readFileSync(builds.pie).subarray(0, 8192));
    expectError(join(dir, 'cut'), /truncated ELF file \(section headers/);
    // Callers that read other machines' files (BPF objects) say so.
    const whole = Buffer.from(readFileSync(builds.pie));
    whole.writeUInt16LE(183, 18);
    writeFileSync(join(dir, 'arm-whole'), whole);
    assert.equal(ElfFile.open(join(dir, 'arm-whole'), { machines: [183] }).machine, 183);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
