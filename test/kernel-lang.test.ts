// Static and kernel probes through the language: USDT arguments and semaphores, USDT in a
// shared library via -p, BTF-typed kernel data (curtask, casts, raw tracepoint args,
// bitfields), and precise refusals of fentry and kprobe on kernels that forbid them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { buildC } from './lib/fixtures.js';
import { runCli, startCli, tsbpfBin } from './lib/cli.js';
import { kprobeSupport, tracingSupport } from '../src/kernel/features.js';

const app = buildC('usdt_app', ['-O2', '-g']);

test('USDT: int, string and struct-pointer arguments print exactly; the semaphore is set', async () => {
  const r = await runCli(['-c', `${app} 5 hi-there`, '-e', `
struct point { int x; int y; }
usdt:${app}:app:ints { printf("ints %d %d %d\\n", arg0, arg1, arg2); }
usdt:${app}:app:text { printf("text %s\\n", str(arg0)); }
usdt:${app}:app:point { printf("point %d %d\\n", ((struct point *)arg0)->x, ((struct point *)arg0)->y); }
usdt:${app}:guarded { @guarded = count(); }`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  for (let i = 1; i <= 5; i++) {
    assert.ok(lines.includes(`ints ${i} ${-i} ${i * 1000}`), `ints ${i}: ${r.stdout}`);
    assert.ok(lines.includes(`point ${i} ${7 * i}`), `point ${i}`);
  }
  assert.equal(lines.filter((l) => l === 'text hi-there').length, 5);
  assert.ok(lines.includes('guarded 5'), 'the program saw its semaphore up');
  assert.match(r.stdout, /@guarded: 5/);
});

test('USDT: listing a binary shows its probes', async () => {
  const r = await runCli(['-l', `usdt:${app}:*`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').sort(), ['guarded', 'ints', 'point', 'text'].map((n) => `usdt:${app}:app:${n}`));
});

test('USDT in a shared library, found through -p', async () => {
  const lib = buildC('usdt_lib', ['-O2', '-shared', '-fPIC']);
  const main = buildC('usdt_libmain', ['-O2', '-ldl']);
  const proc = spawn(main, [lib], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 100));
    const { result } = await startCli(['-p', String(proc.pid), '-e', `usdt:${lib}:lib:tick { @ticks = count(); } interval:ms:300 { exit(); }`], 'Attaching');
    const r = await result;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Number(/@ticks: (\d+)/.exec(r.stdout)?.[1]) > 10, r.stdout);
  } finally {
    proc.kill('SIGKILL');
  }
});

test('rawtracepoint: BTF-typed args and a cast of arg2 read the exec filename', async () => {
  const r = await runCli(['-c', '/bin/true', '-e', `
rawtracepoint:sched_process_exec /pid == cpid/ {
  printf("typed %s\\n", str(args.bprm->filename));
  printf("cast %s\\n", str(((struct linux_binprm *)arg2)->filename));
}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^typed \/bin\/true$/m);
  assert.match(r.stdout, /^cast \/bin\/true$/m);
});

test('curtask: tgid, real_parent->tgid and a bitfield of a traced child', async () => {
  const opener = buildC('opener', ['-O2', '-static']);
  const child = spawn(process.execPath, [tsbpfBin, '-c', `${opener} /etc/hostname 10`, '-e',
    'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @[curtask->tgid == pid, curtask->real_parent->tgid, curtask->sched_reset_on_fork] = count(); }'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise((r) => child.on('close', r));
  assert.equal(code, 0, err);
  // The -c command is a child of tsbpf itself.
  assert.match(out, new RegExp(`@\\[1, ${child.pid}, 0\\]: 10`));
});

test('fentry and kprobe: one line naming the cause where the kernel refuses them', async (t) => {
  const cases: Array<[string, ReturnType<typeof kprobeSupport>]> = [
    ['fentry:vfs_read { @ = count(); }', tracingSupport()],
    ['kfunc:vfs_read { @ = count(); }', tracingSupport()],
    ['kprobe:vfs_read { @ = count(); }', kprobeSupport()],
    ['kretprobe:vfs_read { @ = count(); }', kprobeSupport()],
  ];
  for (const [prog, support] of cases) {
    if (support.ok) {
      t.diagnostic(`${prog.split(' ')[0]} is supported on this kernel; attach tested elsewhere`);
      continue;
    }
    const r = await runCli(['-e', prog]);
    assert.equal(r.code, 1, prog);
    const lines = r.stderr.trim().split('\n');
    assert.ok(lines.length <= 2, r.stderr);
    assert.match(lines[0], /lockdown|CONFIG_KPROBES/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
