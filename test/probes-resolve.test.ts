// Attach-point resolution and listing against real binaries and this kernel: C++ and Go
// names, every bad input's one-line error, kernel probe availability, and `-l` output
// compared with nm and with bpftrace where it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsbpfError } from '../src/kernel/errors.js';
import { pmuType } from '../src/kernel/perf.js';
import { Btf } from '../src/btf/index.js';
import { resolveUprobes } from '../src/probes/uprobe.js';
import { resolveUsdt } from '../src/probes/usdt.js';
import { readLdCache } from '../src/probes/target.js';
import { lockdownMode } from '../src/kernel/features.js';
import { requireKprobes, requireTracing, resolveFentry, resolveKprobes, resolveRawTracepoints } from '../src/probes/kernel.js';
import { listProbes } from '../src/probes/list.js';
import { buildC, buildGo, hasCommand } from './lib/fixtures.js';

const target = buildC('probes_target', ['-O2']);

/** Function symbols as `nm -f sysv` classifies them: the ground truth for listings. */
function nmFunctions(path: string): Array<{ name: string; address: number }> {
  const out = execFileSync('nm', ['-f', 'sysv', '--defined-only', path], { encoding: 'utf8' });
  const fns: Array<{ name: string; address: number }> = [];
  for (const line of out.split('\n')) {
    const cols = line.split('|').map((c) => c.trim());
    if (cols.length >= 4 && (cols[3] === 'FUNC' || cols[3] === 'IFUNC')) fns.push({ name: cols[0].replace(/@.*$/, ''), address: parseInt(cols[1], 16) });
  }
  return fns;
}

function oneError(fn: () => unknown, message: RegExp): TsbpfError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TsbpfError, `expected a TsbpfError, got ${String(e)}`);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    return e;
  }
  assert.fail(`expected an error matching ${message}`);
}

test('uprobe listing of the fixture is exactly its functions per nm', () => {
  const want = [...new Set(nmFunctions(target).map((f) => `uprobe:${target}:${f.name}`))].sort();
  assert.ok(want.some((l) => l.endsWith(':pt_alpha')));
  assert.deepEqual(listProbes(`uprobe:${target}:*`), want);
  assert.deepEqual(listProbes(`uprobe:${target}:pt_*`), [`uprobe:${target}:pt_alpha`, `uprobe:${target}:pt_beta`, `uprobe:${target}:pt_gamma`]);
  assert.deepEqual(listProbes(`usdt:${target}:*`), [`usdt:${target}:probes_demo:tick`]);
});

test("tracepoint listing equals bpftrace -l 'tracepoint:syscalls:*open*'", (t) => {
  const ours = listProbes('tracepoint:syscalls:*open*');
  assert.ok(ours.includes('tracepoint:syscalls:sys_enter_openat'));
  if (!hasCommand('bpftrace')) return t.skip('bpftrace is not installed');
  const theirs = execFileSync('bpftrace', ['-l', 'tracepoint:syscalls:*open*'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assert.deepEqual(ours, theirs.trimEnd().split('\n'));
  const verbose = execFileSync('bpftrace', ['-lv', 'tracepoint:syscalls:sys_enter_openat'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assert.deepEqual(listProbes('tracepoint:syscalls:sys_enter_openat', { verbose: true }), verbose.trimEnd().split('\n'));
});

test('kernel listings: rawtracepoints and fentry from BTF with typed args, software events', () => {
  const btf = Btf.vmlinux();
  assert.equal(listProbes('rawtracepoint:*').length, btf.rawTracepointNames().length);
  assert.deepEqual(listProbes('rawtracepoint:sched_switch', { verbose: true }), [
    'rawtracepoint:vmlinux:sched_switch', '    bool preempt', '    struct task_struct * prev', '    struct task_struct * next', '    unsigned int prev_state',
  ]);
  assert.deepEqual(listProbes('fentry:vmlinux:vfs_read', { verbose: true }), [
    'fentry:vmlinux:vfs_read', '    struct file * file', '    char * buf', '    size_t count', '    loff_t * pos', '    ssize_t retval',
  ]);
  assert.deepEqual(listProbes('software:*faults'), ['software:alignment-faults:', 'software:emulation-faults:', 'software:faults:', 'software:major-faults:', 'software:minor-faults:', 'software:page-faults:']);
  assert.deepEqual(listProbes('h:cycles'), ['hardware:cycles:']);
  // Without a provider every kernel provider is searched, in name order.
  const sleep = listProbes('*nanosleep*');
  assert.ok(sleep.includes('tracepoint:syscalls:sys_enter_nanosleep'));
  assert.ok(sleep.indexOf('fentry:vmlinux:do_nanosleep') < sleep.indexOf('tracepoint:syscalls:sys_enter_nanosleep'));
});

test('C++ functions match by demangled name; Go methods by pclntab name in a stripped binary', () => {
  const cpp = buildC('probes_cpp', ['-x', 'c++', '-O2']);
  const poke = resolveUprobes(`${cpp}:"demo::Widget::poke"`);
  assert.deepEqual(poke.map((p) => p.symbol), ['_ZN4demo6Widget4pokeEi']);
  assert.deepEqual(resolveUprobes(`${cpp}:demo::*`).map((p) => p.symbol).sort(), ['_ZN4demo6Widget4pokeEi', '_ZN4demo6helperEl']);
  assert.deepEqual(resolveUprobes(`${cpp}:cpp:"demo::helper(long)"`).map((p) => p.symbol), ['_ZN4demo6helperEl']);

  const goFull = buildGo('probes_go');
  const goStripped = buildGo('probes_go', ['-s', '-w']);
  const want = nmFunctions(goFull).find((f) => f.name === 'main.(*Counter).Add');
  assert.ok(want);
  const site = resolveUprobes(`${goStripped}:main.(*Counter).Add`);
  assert.equal(site.length, 1);
  assert.equal(site[0].address, want.address);
  assert.deepEqual(resolveUprobes(`${goStripped}:main.(*Counter).*`).map((s) => s.symbol), ['main.(*Counter).Add']);
});

test('every bad input is one TsbpfError that says what is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bad-'));
  try {
    const text = join(dir, 'script.sh');
    writeFileSync(text, '#!/bin/sh\necho hi\n');
    oneError(() => resolveUprobes(`${dir}/nope:main`), /binary not found: .*nope/);
    oneError(() => resolveUprobes('no_such_program_xyz:main'), /binary not found: no_such_program_xyz/);
    const missing = oneError(() => resolveUprobes(`${target}:pt_alpah`), /no function 'pt_alpah' in /);
    assert.match(missing.hint!, /did you mean 'pt_alpha'/);
    oneError(() => resolveUprobes(`${target}:zz*`), /no function in .* matches 'zz\*'/);
    const stripped = buildC('probes_target', ['-O2', '-s']);
    oneError(() => resolveUprobes(`${stripped}:pt_alpha`), /has no symbols \(it is stripped/);
    oneError(() => resolveUprobes(`${text}:main`), /not an ELF file/);
    oneError(() => resolveUprobes(`${target}:pt_alpha`, { pid: 0x3ffffff }), /process \d+ does not exist/);
    oneError(() => resolveUsdt(`${target}:nosuch`), /no USDT probe 'nosuch'/);
    oneError(() => resolveUsdt('/bin/true:x:y'), /has no USDT probes/);
    oneError(() => resolveUprobes(`${target}:pt_alpha+1`), /not at an instruction boundary/);
    oneError(() => resolveUprobes(`${target}:0x10`), /not in an executable segment/);
    oneError(() => listProbes('bogus:*'), /unknown probe type 'bogus'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kernel probes: kprobes name CONFIG_KPROBES when missing, fentry names lockdown, BTF targets', () => {
  if (pmuType('kprobe') === undefined) {
    oneError(() => requireKprobes('kprobe'), /CONFIG_KPROBES/);
    oneError(() => resolveKprobes('vfs_read', true), /kretprobes are not available/);
    assert.ok(!listProbes('*').some((l) => l.startsWith('kprobe:')));
    oneError(() => listProbes('kprobe:vfs_*'), /CONFIG_KPROBES/);
  } else {
    assert.deepEqual(resolveKprobes('vfs_read', false), [{ func: 'vfs_read', offset: 0, retprobe: false }]);
  }
  const mode = lockdownMode();
  if (mode === 'integrity' || mode === 'confidentiality') {
    oneError(() => requireTracing('fexit'), new RegExp(`fexit probes are not available: .*lockdown=${mode}`));
  }
  const btf = Btf.vmlinux();
  const [vfsRead] = resolveFentry('vfs_read');
  assert.equal(vfsRead.btfId, btf.findType('func', 'vfs_read'));
  assert.deepEqual(vfsRead.args.map((a) => a.name), ['file', 'buf', 'count', 'pos']);
  assert.deepEqual(resolveFentry('vmlinux:vfs_read'), [vfsRead]);
  const sw = resolveRawTracepoints('sched_switch')[0];
  assert.deepEqual(sw.args.map((a) => `${a.typeName} ${a.name}`), ['bool preempt', 'struct task_struct * prev', 'struct task_struct * next', 'unsigned int prev_state']);
  const typo = oneError(() => resolveRawTracepoints('sched_swtich'), /no raw tracepoint 'sched_swtich'/);
  assert.match(typo.hint!, /did you mean 'sched_switch'/);
});

test('ld.so.cache is parsed: libc.so.6 has its x86-64 entry', () => {
  const entries = readLdCache();
  const libc = entries.find((e) => e.name === 'libc.so.6');
  assert.ok(libc, 'libc.so.6 is in the cache');
  assert.match(libc.path, /\/libc\.so\.6$/);
});
