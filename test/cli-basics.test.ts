// The built CLI as users run it: `tsbpf feature` as root (text and JSON) and as nobody,
// where it must stop before probing with one clear line and no stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './lib/fixtures.js';

const cli = join(repoRoot, 'bin/tsbpf.js');

function tsbpf(args: string[], asNobody = false): { code: number | null; stdout: string; stderr: string } {
  const [cmd, argv] = asNobody
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cli, ...args]]
    : [process.execPath, [cli, ...args]];
  const r = spawnSync(cmd, argv, { cwd: '/', encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hasStackTrace = (s: string): boolean => /^\s+at /m.test(s) || s.includes('internal error');

test('tsbpf feature --json prints one JSON object with the kernel facts', () => {
  const r = tsbpf(['feature', '--json']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trimEnd().split('\n').length, 1, 'one line');
  const report = JSON.parse(r.stdout);
  assert.equal(report.system.kernel, release());
  assert.equal(report.system.btf, existsSync('/sys/kernel/btf/vmlinux'));
  for (const t of ['tracepoint', 'kprobe', 'perf_event', 'raw_tracepoint']) assert.equal(report.programTypes[t], true, t);
  for (const t of ['hash', 'array', 'ringbuf', 'stack_trace']) assert.equal(report.mapTypes[t], true, t);
  assert.ok(report.helpers.tracepoint.includes('bpf_probe_read_user_str'));
  const kprobe = existsSync('/sys/bus/event_source/devices/kprobe');
  assert.equal(report.attach.kprobe.ok, kprobe);
  if (!kprobe) assert.equal(typeof report.attach.kprobe.reason, 'string');
  assert.equal(report.attach.uprobe.ok, existsSync('/sys/bus/event_source/devices/uprobe'));
});

test('tsbpf feature prints a text report grouped by section', () => {
  const r = tsbpf(['feature']);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  const sections = r.stdout.split('\n').filter((l) => l.startsWith('Scanning '));
  assert.deepEqual(sections, [
    'Scanning system configuration...', 'Scanning eBPF program types...', 'Scanning eBPF map types...',
    'Scanning eBPF helper functions...', 'Scanning tsbpf attach methods...',
  ]);
  assert.match(r.stdout, /^eBPF program_type tracepoint is available$/m);
  assert.match(r.stdout, /^eBPF map_type ringbuf is available$/m);
  assert.match(r.stdout, /^eBPF helpers supported for program type tracepoint:\n(\t- \w+\n)*\t- bpf_probe_read_user_str\n/m);
  assert.match(r.stdout, /^uprobe is available$/m);
  if (!existsSync('/sys/bus/event_source/devices/kprobe')) {
    assert.match(r.stdout, /^kprobe is NOT available\n\treason: .+\n\thint: .+$/m);
  }
});

test('the built CLI is readable by an unprivileged user', () => {
  // Otherwise the next test would fail on a permission error instead of the root check.
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', join(repoRoot, 'dist/src/cli/feature.js')]);
  assert.equal(r.status, 0);
  accessSync(cli, constants.R_OK);
});

test('as nobody: one clear error line (and a hint), no stack trace, exit 1', () => {
  const r = tsbpf(['feature'], true);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.ok(!hasStackTrace(r.stderr), r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.ok(lines.length === 1 || (lines.length === 2 && lines[1].startsWith('hint: ')), r.stderr);
  assert.match(lines[0], /^ERROR: .*needs root/);
});

test('an unknown option is one error line with a hint, exit 1', () => {
  const r = tsbpf(['feature', '--bogus']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.deepEqual(r.stderr.trimEnd().split('\n'), [
    "ERROR: tsbpf feature: unknown option '--bogus'",
    'hint: usage: tsbpf feature [--json] [--full]',
  ]);
});

test('tsbpf feature --help prints usage and exits 0', () => {
  const r = tsbpf(['feature', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^usage: tsbpf feature/);
});
