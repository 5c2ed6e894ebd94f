// Go-safe return probes (uprobes on every RET, never a uretprobe) and goroutine ids, on a
// fixture whose traced function grows the goroutine stack on every call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { GoBinary } from '../src/probes/go.js';
import { ElfFile } from '../src/elf/reader.js';
import { SymbolTable } from '../src/elf/symbols.js';
import { Dwarf } from '../src/elf/dwarf.js';
import { Session } from '../src/runtime/session.js';
import { TsbpfError } from '../src/kernel/errors.js';
import { buildGo, hasCommand } from './lib/fixtures.js';
import { runChild } from './lib/run.js';
import { decodeSnapshot, snapshotProgram, type Snapshot, type SnapshotSpec } from './lib/go-snapshot.js';

const bin = buildGo('go_stack');
const stripped = buildGo('go_stack', ['-s', '-w']);

// The fixture's arithmetic: deep(m) sums byte(k) for k = 1..m.
function deep(m: number): number {
  let s = 0;
  for (let k = 1; k <= m; k++) s += k % 256;
  return s;
}
const work = (n: number): number => (n % 3 === 0 ? deep(n + 100) * 2 : deep(n + 100) + n);

test('RET sites of main.work are C3 bytes inside it, entry matches the ELF symbol', () => {
  const g = GoBinary.open(bin);
  const elf = ElfFile.open(bin);
  const sym = SymbolTable.read(elf).byName('main.work')[0];
  assert.equal(g.entryOffset('main.work'), SymbolTable.read(elf).fileOffset(sym));
  const sites = g.returnSites('main.work');
  assert.ok(sites.length >= 2, `two return paths, got ${sites.length} RETs`);
  const f = g.func('main.work');
  for (const s of sites) {
    assert.ok(s.address > f.entry && s.address < f.end);
    assert.equal(elf.read(s.fileOffset, 1)[0], 0xc3);
    assert.equal(elf.vaddrToOffset(s.address), s.fileOffset);
  }
});

test('stripped binary (-s -w): functions from pclntab, same entry and RET offsets, goid from the table', () => {
  const full = GoBinary.open(bin);
  const bare = GoBinary.open(stripped);
  const elf = ElfFile.open(stripped);
  assert.equal(elf.section('.symtab'), undefined);
  assert.equal(Dwarf.load(elf), undefined);
  for (const name of ['main.work', 'main.deep', 'main.main']) {
    assert.equal(bare.entryOffset(name), full.entryOffset(name));
    assert.deepEqual(bare.returnSites(name), full.returnSites(name));
  }
  const fromDwarf = full.goroutineId();
  const fromTable = bare.goroutineId();
  assert.equal(fromDwarf.source, 'dwarf');
  assert.equal(fromTable.source, 'table');
  assert.equal(fromTable.goidOffset, fromDwarf.goidOffset);
  assert.deepEqual(fromTable.g, { reg: 'r14', ptRegsOffset: 8 });
  assert.throws(() => bare.signature('main.work'), (e: unknown) => e instanceof TsbpfError && /no DWARF/.test(e.message));
});

test('uprobes on every RET of a stack-growing function: the program survives, one return per call with its value and goid', async () => {
  const g = GoBinary.open(bin);
  const goid = g.goroutineId();
  const sig = g.signature('main.work');
  assert.deepEqual(sig.params.map((p) => p.pieces), [
    [{ reg: 'ax', ptRegsOffset: 80, offset: 0, size: 8 }],
    [{ reg: 'bx', ptRegsOffset: 40, offset: 0, size: 8 }],
  ]);
  assert.deepEqual(sig.results.map((p) => p.pieces), [[{ reg: 'ax', ptRegsOffset: 80, offset: 0, size: 8 }]]);
  const calls = 12;
  const s = new Session();
  const events: Snapshot[] = [];
  let child: { pid: number; code: number | null; stdout: string };
  try {
    s.createMap({ name: 'events', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 1 << 20 });
    const sites = [g.entryOffset('main.work'), ...g.returnSites('main.work').map((r) => r.fileOffset)];
    const specs: SnapshotSpec[] = sites.map((_, tag) => ({ tag, stackBytes: 8, goidOffset: goid.goidOffset }));
    sites.forEach((offset, i) => {
      const prog = s.loadProgram({ name: `go_work_${i}`, type: 'kprobe', insns: snapshotProgram(specs[i]) });
      s.attachProbe(prog, 'uprobe', { name: bin, offset: BigInt(offset), retprobe: false });
    });
    s.ringbuf(s.map('events'), (d) => events.push(decodeSnapshot(specs[0], d)));
    child = await runChild(bin, [String(calls)]);
    s.drainAll();
  } finally {
    s.close();
  }
  assert.equal(child.code, 0);
  const printed = [...child.stdout.matchAll(/^call (\d+) goid (\d+) result (\d+)$/gm)].map((m) => ({ n: Number(m[1]), goid: BigInt(m[2]), result: BigInt(m[3]) }));
  assert.equal(printed.length, calls);
  const expectedSum = Array.from({ length: calls }, (_, n) => work(n)).reduce((a, b) => a + b, 0);
  assert.match(child.stdout, new RegExp(`^checksum ${expectedSum}$`, 'm'));

  const mine = events.filter((e) => e.pid === child.pid);
  const reg = (e: Snapshot, name: 'ax' | 'bx'): bigint => e.regs.readBigInt64LE(name === 'ax' ? 80 : 40);
  const entries = mine.filter((e) => e.tag === 0);
  const returns = mine.filter((e) => e.tag !== 0);
  assert.equal(entries.length, calls);
  assert.equal(returns.length, calls);
  for (const p of printed) {
    const entry = entries.filter((e) => e.goid === p.goid);
    const ret = returns.filter((e) => e.goid === p.goid);
    assert.equal(entry.length, 1, `one entry on goroutine ${p.goid}`);
    assert.equal(ret.length, 1, `one return on goroutine ${p.goid}`);
    assert.equal(reg(entry[0], 'ax'), BigInt(p.n));
    // The goid the fixture passed as its second argument equals the one read through R14.
    assert.equal(reg(entry[0], 'bx'), p.goid);
    assert.equal(reg(ret[0], 'ax'), p.result);
    assert.equal(p.result, BigInt(work(p.n)));
  }
  // Both return paths were taken (n % 3 == 0 and the others), through different RETs.
  assert.equal(new Set(returns.map((e) => e.tag)).size, 2);
});

test('a real uretprobe kills the same program (shown with bpftrace)', { skip: !hasCommand('bpftrace') && 'bpftrace is not installed' }, () => {
  const r = spawnSync('bpftrace', ['-e', `uretprobe:${bin}:main.work { @ = count() }`, '-c', `${bin} 3`], { encoding: 'utf8', timeout: 120_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.match(out, /unexpected return pc for main\.work called from 0x7fffffffe000|unknown caller pc/);
  assert.doesNotMatch(out, /^checksum /m, 'the fixture must not have finished');
});
