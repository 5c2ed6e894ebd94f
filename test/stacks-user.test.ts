// User stacks end to end: a uprobe on c() in the main -> a -> b -> c fixture, built with
// frame pointers (PIE), without them (-O2 -fomit-frame-pointer, unwound from .eh_frame), and
// with a, b, c in a shared library; symbolized while the process lives and after it exited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { ElfFile } from '../src/elf/reader.js';
import { SymbolTable } from '../src/elf/symbols.js';
import { Session } from '../src/runtime/session.js';
import { Symbolizer } from '../src/runtime/symbolize.js';
import { parseStackSample, readStackIps, unwindUserStack, withEntryCaller, type StackSample } from '../src/runtime/stacks.js';
import { buildC, buildGo } from './lib/fixtures.js';
import { readGoPclntab } from '../src/elf/gopclntab.js';
import { entryStackProgram, stackCopyProgram, startChain, type PausedChain } from './stacks-bpf.js';

const fpPie = buildC('stacks_chain', ['-O2', '-fno-omit-frame-pointer', '-fPIE', '-pie']);
const noFp = buildC('stacks_chain', ['-O2', '-fomit-frame-pointer', '-fPIE', '-pie']);
const lib = buildC('stacks_chain', ['-O2', '-fno-omit-frame-pointer', '-fPIC', '-shared', '-DSTACKS_LIB']);
const libNoFp = buildC('stacks_chain', ['-O2', '-fomit-frame-pointer', '-fPIC', '-shared', '-DSTACKS_LIB']);
const linkedTo = (so: string): string => buildC('stacks_chain', ['-O2', '-fno-omit-frame-pointer', '-DSTACKS_MAIN', '-Wl,--no-as-needed', so, `-Wl,-rpath,${dirname(so)}`]);

function entryOf(path: string, name: string): bigint {
  const tab = SymbolTable.read(ElfFile.open(path));
  const [sym] = tab.byName(name);
  assert.ok(sym, `${name} in ${path}`);
  return BigInt(tab.fileOffset(sym));
}

const names = (frames: string[]): string[] => frames.map((f) => f.replace(/\+\d+$/, ''));

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

interface EntryRecord { pid: number; ips: bigint[]; ret: bigint }

interface Target {
  start: () => Promise<PausedChain>;
  /** The file to probe, as this process reaches it, and c's offset in it. */
  probe: (pid: number) => { path: string; offset: bigint };
}

const plain = (binary: string, library = binary, fn = 'c'): Target => ({
  start: () => startChain(binary),
  probe: () => ({ path: library, offset: entryOf(library, fn) }),
});

/** Runs the chain once under a uprobe at c's entry recording the stack id and *sp. */
async function traceEntry(
  target: Target, during: (child: PausedChain) => void, symbolizeAt: 'alive' | 'exited', use: (rec: EntryRecord) => void,
): Promise<void> {
  const s = new Session();
  try {
    s.createMap({ name: 'stacks', type: 'stack_trace', keySize: 4, valueSize: 127 * 8, maxEntries: 64 });
    s.createMap({ name: 'events', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 1 << 16 });
    const prog = s.loadProgram({ name: 'ustack_entry', type: 'kprobe', insns: entryStackProgram() });
    const child = await target.start();
    const { path, offset } = target.probe(child.pid);
    s.attachProbe(prog, 'uprobe', { name: path, offset, retprobe: false, pid: child.pid });
    const recs: EntryRecord[] = [];
    s.ringbuf(s.map('events'), (d) => recs.push({
      ips: readStackIps(s.map('stacks'), d.getBigInt64(0, true)), pid: Number(d.getBigUint64(8, true)), ret: d.getBigUint64(16, true),
    }));
    during(child);
    child.go();
    await until(() => s.drainAll() > 0 || recs.length > 0, 'the uprobe record');
    if (symbolizeAt === 'exited') assert.equal(await child.finish(), 0);
    assert.equal(recs.length, 1);
    assert.equal(recs[0].pid, child.pid);
    use(recs[0]);
    if (symbolizeAt === 'alive') assert.equal(await child.finish(), 0);
  } finally {
    s.close();
  }
}

/** Runs the chain once under a uprobe at c's entry that copies regs and the user stack. */
async function traceCopy(binary: string, library: string, sym: Symbolizer): Promise<{ sample: StackSample; child: PausedChain }> {
  const s = new Session();
  try {
    s.createMap({ name: 'events', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 1 << 16 });
    const prog = s.loadProgram({ name: 'ustack_copy', type: 'kprobe', insns: stackCopyProgram() });
    const child = await startChain(binary);
    sym.remember(child.pid);
    s.attachProbe(prog, 'uprobe', { name: library, offset: entryOf(library, 'c'), retprobe: false, pid: child.pid });
    const samples: StackSample[] = [];
    s.ringbuf(s.map('events'), (d) => samples.push(parseStackSample(d)));
    child.go();
    await until(() => s.drainAll() > 0 || samples.length > 0, 'the stack copy');
    assert.equal(samples.length, 1);
    assert.ok(samples[0].stack.length >= 512, `copied ${samples[0].stack.length} stack bytes`);
    return { sample: samples[0], child };
  } finally {
    s.close();
  }
}

test('PIE with frame pointers: ustack at c entry is c, b, a, main once the direct caller is put back', async () => {
  const sym = new Symbolizer();
  await traceEntry(plain(fpPie), () => {}, 'alive', (rec) => {
    // The kernel's frame-pointer walk alone skips b: c has not pushed its frame yet.
    assert.deepEqual(names(sym.ustack(rec.pid, rec.ips, 'bpftrace')).slice(0, 3), ['c', 'a', 'main']);
    const frames = sym.ustack(rec.pid, withEntryCaller(rec.ips, rec.ret), 'bpftrace');
    assert.deepEqual(names(frames).slice(0, 4), ['c', 'b', 'a', 'main']);
    assert.equal(frames[0], 'c+0');
    assert.match(frames[1], /^b\+\d+$/);
    assert.equal(sym.usym(rec.pid, rec.ips[0]), 'c');
    const perf = sym.ustack(rec.pid, withEntryCaller(rec.ips, rec.ret), 'perf');
    assert.equal(perf[0], `${rec.ips[0].toString(16)} c+0 (${fpPie})`);
    assert.deepEqual(sym.ustack(rec.pid, rec.ips.slice(0, 1), 'raw'), [rec.ips[0].toString(16)]);
  });
});

test('a process that exited before symbolization still resolves from the remembered address space', async () => {
  const sym = new Symbolizer();
  let pid = 0;
  await traceEntry(plain(fpPie), (child) => {
    pid = child.pid;
    assert.equal(sym.remember(pid), true);
  }, 'exited', (rec) => {
    assert.equal(sym.remember(rec.pid), true);
    const ips = withEntryCaller(rec.ips, rec.ret);
    assert.deepEqual(names(sym.ustack(rec.pid, ips, 'bpftrace')).slice(0, 4), ['c', 'b', 'a', 'main']);
    // A symbolizer that first hears of the pid now finds nothing: what bpftrace shows.
    const late = new Symbolizer();
    assert.equal(late.remember(rec.pid), false);
    assert.deepEqual(late.ustack(rec.pid, ips.slice(0, 2), 'bpftrace'), ips.slice(0, 2).map((ip) => `0x${ip.toString(16)}`));
    assert.deepEqual(late.ustack(rec.pid, ips.slice(0, 1), 'perf'), [`${ips[0].toString(16)} 0x${ips[0].toString(16)} ([unknown])`]);
  });
  assert.ok(pid > 0);
});

test('shared library with frame pointers: c, b, a from the library, main from the executable', async () => {
  const binary = linkedTo(lib);
  const sym = new Symbolizer();
  await traceEntry(plain(binary, lib), (child) => sym.remember(child.pid), 'alive', (rec) => {
    const ips = withEntryCaller(rec.ips, rec.ret);
    assert.deepEqual(names(sym.ustack(rec.pid, ips, 'bpftrace')).slice(0, 4), ['c', 'b', 'a', 'main']);
    const modules = sym.ustack(rec.pid, ips, 'perf').slice(0, 4).map((f) => /\((.*)\)$/.exec(f)?.[1]);
    assert.deepEqual(modules, [lib, lib, lib, binary]);
  });
});

test('-O2 without frame pointers: .eh_frame unwinding gives c, b, a, main and reaches _start', async () => {
  const sym = new Symbolizer();
  const { sample, child } = await traceCopy(noFp, noFp, sym);
  try {
    const frames = sym.ustack(sample.pid, unwindUserStack(sym, sample), 'bpftrace');
    assert.deepEqual(names(frames).slice(0, 4), ['c', 'b', 'a', 'main']);
    assert.equal(frames[0], 'c+0');
    // Through libc's own unwind rules (it has no frame pointers) to the outermost frame.
    assert.match(frames[frames.length - 1], /^_start\+\d+$/);
    assert.ok(frames.some((f) => f.startsWith('__libc_start_main+')), frames.join('\n'));
  } finally {
    assert.equal(await child.finish(), 0);
  }
});

test('shared library without frame pointers: .eh_frame unwinding across the library boundary', async () => {
  const binary = linkedTo(libNoFp);
  const sym = new Symbolizer();
  const { sample, child } = await traceCopy(binary, libNoFp, sym);
  assert.equal(await child.finish(), 0);
  const ips = unwindUserStack(sym, sample);
  const perf = sym.ustack(sample.pid, ips, 'perf');
  assert.deepEqual(names(sym.ustack(sample.pid, ips, 'bpftrace')).slice(0, 4), ['c', 'b', 'a', 'main']);
  assert.deepEqual(perf.slice(0, 4).map((f) => /\((.*)\)$/.exec(f)?.[1]), [libNoFp, libNoFp, libNoFp, binary]);
});

test('stripped Go binary: pclntab names the frames, with the direct caller put back', async () => {
  const binary = buildGo('stacks_chain', ['-s', '-w']);
  const elf = ElfFile.open(binary);
  assert.equal(elf.section('.symtab'), undefined);
  const fn = readGoPclntab(elf)!.funcs.find((f) => f.name === 'main.c')!;
  const target: Target = { start: () => startChain(binary), probe: () => ({ path: binary, offset: BigInt(elf.vaddrToOffset(fn.entry)!) }) };
  const sym = new Symbolizer();
  await traceEntry(target, (child) => sym.remember(child.pid), 'exited', (rec) => {
    const frames = sym.ustack(rec.pid, withEntryCaller(rec.ips, rec.ret), 'bpftrace');
    assert.deepEqual(names(frames).slice(0, 5), ['main.c', 'main.b', 'main.a', 'main.main', 'runtime.main'], frames.join('\n'));
    assert.equal(frames[0], 'main.c+0');
  });
});

test('a process in another mount namespace: its binary is read through /proc/PID/root, also after it exits', async () => {
  // The binary exists only on a tmpfs mounted inside the child's private mount namespace.
  const script = `mount -t tmpfs none /mnt && cp ${fpPie} /mnt/chain && exec /mnt/chain`;
  const target: Target = {
    start: () => startChain('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script]),
    probe: (pid) => ({ path: `/proc/${pid}/root/mnt/chain`, offset: entryOf(fpPie, 'c') }),
  };
  const sym = new Symbolizer();
  await traceEntry(target, (child) => assert.equal(sym.remember(child.pid), true), 'exited', (rec) => {
    const ips = withEntryCaller(rec.ips, rec.ret);
    assert.deepEqual(names(sym.ustack(rec.pid, ips, 'bpftrace')).slice(0, 4), ['c', 'b', 'a', 'main']);
    assert.match(sym.ustack(rec.pid, ips, 'perf')[0], / c\+0 \(\/mnt\/chain\)$/);
  });
});
