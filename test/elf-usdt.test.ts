// USDT notes against `readelf -n`, on the sdt.h fixture (-O2 register args, -O0 memory
// args, a semaphore-guarded probe) and on the system's python3.11 when it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ElfFile } from '../src/elf/reader.js';
import { parseUsdtArg, ptRegsOffset, readUsdtProbes } from '../src/elf/usdt.js';
import { buildC } from './lib/fixtures.js';

const PYTHON = '/usr/bin/python3.11';

interface RefNote { provider: string; name: string; pc: number; base: number; semaphore: number; args: string }

function readelfStapsdt(path: string): RefNote[] {
  const out = execFileSync('readelf', ['-n', path], { encoding: 'utf8' });
  const notes: RefNote[] = [];
  const re = /Provider: (\S+)\s+Name: (\S+)\s+Location: (0x[0-9a-f]+), Base: (0x[0-9a-f]+), Semaphore: (0x[0-9a-f]+)\s+Arguments: ?([^\n]*)/g;
  for (const m of out.matchAll(re)) {
    notes.push({ provider: m[1], name: m[2], pc: parseInt(m[3], 16), base: parseInt(m[4], 16), semaphore: parseInt(m[5], 16), args: m[6].trim() });
  }
  return notes;
}

/** File offset of a vaddr using readelf's section table (section offset + distance into it). */
function sectionOffset(path: string, vaddr: number): number {
  const out = execFileSync('readelf', ['-SW', path], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /\]\s+\S+\s+(PROGBITS)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(line);
    if (!m) continue;
    const addr = parseInt(m[2], 16);
    const size = parseInt(m[4], 16);
    if (addr !== 0 && vaddr >= addr && vaddr < addr + size) return vaddr - addr + parseInt(m[3], 16);
  }
  throw new Error(`0x${vaddr.toString(16)} in no section`);
}

function checkAgainstReadelf(path: string): ReturnType<typeof readUsdtProbes> {
  const probes = readUsdtProbes(ElfFile.open(path));
  const ref = readelfStapsdt(path);
  assert.ok(ref.length > 0);
  assert.deepEqual(probes.map((p) => ({ provider: p.provider, name: p.name, pc: p.pc, base: p.base, semaphore: p.semaphore, args: p.argsText })), ref);
  for (const p of probes) {
    assert.equal(p.pcOffset, sectionOffset(path, p.pc), `${p.name} pc offset`);
    assert.equal(p.semaphoreOffset, p.semaphore ? sectionOffset(path, p.semaphore) : 0, `${p.name} semaphore offset`);
    assert.equal(p.args.length, p.argsText ? p.argsText.split(' ').length : 0);
    for (const a of p.args) assert.notEqual(a.kind, 'unsupported', a.text);
  }
  return probes;
}

test('usdt: fixture notes match readelf -n, semaphore only on the guarded probe', () => {
  const probes = checkAgainstReadelf(buildC('elf_usdt', ['-O2', '-g']));
  assert.deepEqual(probes.map((p) => `${p.provider}:${p.name}/${p.args.length}`), ['elfdemo:int_arg/1', 'elfdemo:str_arg/2', 'elfdemo:ptr_arg/3', 'elfdemo:guarded/1']);
  assert.deepEqual(probes.map((p) => p.semaphore !== 0), [false, false, false, true]);
  const [intArg, strArg, ptrArg] = probes;
  assert.deepEqual([intArg.args[0].size, intArg.args[0].signed], [4, true]);
  assert.deepEqual([strArg.args[0].size, strArg.args[0].signed], [8, false]);
  assert.deepEqual([ptrArg.args[0].size, ptrArg.args[2].size, ptrArg.args[2].signed], [8, 8, true]);
});

test('usdt: -O0 fixture puts arguments in stack memory, still parsed', () => {
  const probes = checkAgainstReadelf(buildC('elf_usdt', ['-O0', '-g']));
  assert.ok(probes.some((p) => p.args.some((a) => a.kind === 'memory' && a.reg === 'rbp' && a.offset < 0)), 'an rbp-relative argument');
});

test('usdt: python3.11 probes parse', { skip: !existsSync(PYTHON) && `${PYTHON} not installed` }, () => {
  const probes = checkAgainstReadelf(PYTHON);
  assert.ok(probes.some((p) => p.provider === 'python' && p.name === 'function__entry'));
  for (const p of probes) assert.notEqual(p.semaphore, 0, `${p.name} is semaphore-guarded`);
});

test('usdt: argument specs decode to typed operands', () => {
  const cases: [string, object][] = [
    ['-4@%edi', { kind: 'register', reg: 'rdi', regOffset: 112, size: 4, signed: true }],
    ['8@%rax', { kind: 'register', reg: 'rax', regOffset: 80, size: 8, signed: false }],
    ['2@%ax', { kind: 'register', reg: 'rax', size: 2 }],
    ['1@%r8b', { kind: 'register', reg: 'r8', regOffset: 72, size: 1 }],
    ['-4@%r12d', { kind: 'register', reg: 'r12', regOffset: 24 }],
    ['8@-16(%rbp)', { kind: 'memory', reg: 'rbp', regOffset: 32, offset: -16 }],
    ['-4@(%rbx)', { kind: 'memory', reg: 'rbx', offset: 0, signed: true }],
    ['-8@8(%rsp,%rax,8)', { kind: 'memory', reg: 'rsp', regOffset: 152, offset: 8, index: { reg: 'rax', regOffset: 80, scale: 8 } }],
    ['4@$5', { kind: 'constant', value: 5n, size: 4 }],
    ['-4@$-1', { kind: 'constant', value: -1n, signed: true }],
    ['8@elf_counter(%rip)', { kind: 'rip', symbol: 'elf_counter', offset: 0 }],
    ['4@elf_counter+4(%rip)', { kind: 'rip', symbol: 'elf_counter', offset: 4 }],
    ['8@%xmm0', { kind: 'unsupported' }],
    ['3@%rax', { kind: 'unsupported' }],
  ];
  for (const [text, want] of cases) {
    const got = parseUsdtArg(text) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `${text}: ${k}`);
  }
  assert.equal(ptRegsOffset('rip'), 128);
});
