// Kernel stacks: bpf_get_stackid (flags 0) from a tracepoint, symbolized through /proc/kallsyms,
// and compared frame for frame with bpftrace's kstack where bpftrace is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Session } from '../src/runtime/session.js';
import { Symbolizer } from '../src/runtime/symbolize.js';
import { KernelSymbols } from '../src/runtime/sym-kernel.js';
import { readStackIps } from '../src/runtime/stacks.js';
import { buildC, hasCommand } from './lib/fixtures.js';
import { runChild } from './lib/run.js';
import { entryStackProgram } from './stacks-bpf.js';

const getppid = buildC('stacks_getppid', ['-O2']);

async function kernelStackOfChild(): Promise<{ pid: number; ips: bigint[] }> {
  const s = new Session();
  try {
    s.createMap({ name: 'stacks', type: 'stack_trace', keySize: 4, valueSize: 127 * 8, maxEntries: 1024 });
    s.createMap({ name: 'events', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 1 << 18 });
    const prog = s.loadProgram({ name: 'kstack_tp', type: 'tracepoint', insns: entryStackProgram(false) });
    s.attachTracepoint(prog, 'syscalls', 'sys_enter_getppid');
    const recs: Array<{ pid: number; id: bigint }> = [];
    s.ringbuf(s.map('events'), (d) => recs.push({ id: d.getBigInt64(0, true), pid: Number(d.getBigUint64(8, true)) }));
    const child = await runChild(getppid, []);
    assert.equal(child.code, 0);
    s.drainAll();
    const mine = recs.filter((r) => r.pid === child.pid);
    assert.ok(mine.length >= 1, 'the child made a getppid call');
    assert.ok(mine[0].id >= 0n, `bpf_get_stackid failed: ${mine[0].id}`);
    return { pid: child.pid, ips: readStackIps(s.map('stacks'), mine[0].id) };
  } finally {
    s.close();
  }
}

test('kallsyms lookups: names to addresses and back, offsets inside a function', () => {
  const k = new KernelSymbols();
  assert.ok(k.size > 10000);
  const sym = new Symbolizer();
  const addr = sym.kaddr('do_syscall_64');
  assert.ok(addr !== undefined && addr > 0xffff800000000000n);
  assert.equal(sym.ksym(addr), 'do_syscall_64');
  assert.deepEqual(k.lookup(addr + 5n), { name: 'do_syscall_64', offset: 5, module: undefined });
  assert.equal(sym.kaddr('no_such_kernel_function_x'), undefined);
  // User-space addresses are not kernel symbols.
  assert.equal(sym.ksym(0x401000n), '0x401000');
  assert.equal(sym.ksym(0n), '0');
  assert.deepEqual(sym.kstack([0x401000n], 'perf'), ['401000 0x401000']);
});

test('kstack from a tracepoint resolves to the syscall path', async () => {
  const { ips } = await kernelStackOfChild();
  const sym = new Symbolizer();
  const frames = sym.kstack(ips, 'bpftrace');
  assert.ok(frames.length >= 3, frames.join('\n'));
  for (const f of frames) assert.match(f, /^[\w.]+\+\d+$/);
  const names = frames.map((f) => f.replace(/\+\d+$/, ''));
  assert.ok(names.includes('do_syscall_64'), frames.join('\n'));
  assert.equal(names[names.length - 1], 'entry_SYSCALL_64_after_hwframe');
  const perf = sym.kstack(ips, 'perf');
  assert.deepEqual(perf, ips.map((ip, i) => `${ip.toString(16)} ${frames[i]}`));
  assert.deepEqual(sym.kstack(ips, 'raw'), ips.map((ip) => ip.toString(16)));
});

test('kstack frames match bpftrace kstack for the same tracepoint', { skip: !hasCommand('bpftrace') && 'bpftrace is not installed' }, async () => {
  const theirs = await new Promise<string>((resolve, reject) => {
    execFile('bpftrace', ['-e', 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("%s", kstack); exit(); }',
      '-c', getppid], { timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  const theirFrames = theirs.split('\n').filter((l) => /^ {8}\S/.test(l)).map((l) => l.trim());
  const { ips } = await kernelStackOfChild();
  assert.deepEqual(new Symbolizer().kstack(ips, 'bpftrace'), theirFrames);
});
