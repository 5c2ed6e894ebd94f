// bpftrace's own tools (/usr/sbin/*.bt, bpftrace 0.17) run under tsbpf and under bpftrace at
// the same time, against one workload (test/fixtures/bttools_load.c): both must attach the same
// number of probes, print the same header, and end with the same maps and the same shapes of
// output lines (numbers masked). Tools that bpftrace itself cannot run on this kernel (kprobes,
// missing kernel headers) must make tsbpf fail with one clear error, never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { buildC, hasCommand } from './lib/fixtures.js';
import { collect, runCli, tsbpfBin, CliResult } from './lib/cli.js';
import { runChild } from './lib/run.js';

const skip = !hasCommand('bpftrace') || !existsSync('/usr/sbin/opensnoop.bt') || process.getuid?.() !== 0
  ? 'needs root, bpftrace and its tools in /usr/sbin' : false;

/** Tool -> lines its BEGIN prints, counting "Attaching N probes...". */
const RUNNABLE: Record<string, number> = {
  bashreadline: 3, bitesize: 2, cpuwalk: 2, execsnoop: 2, gethostlatency: 3, killsnoop: 3, naptime: 3,
  opensnoop: 3, pidpersec: 2, setuids: 3, ssllatency: 2, sslsnoop: 3, statsnoop: 3, syncsnoop: 3,
  syscount: 2, writeback: 3,
};

/** Tools whose output names the workload (its comm, files or the program it execs). */
const REPORTS_WORKLOAD = new Set(['execsnoop', 'gethostlatency', 'killsnoop', 'opensnoop', 'setuids', 'statsnoop', 'syncsnoop']);
/** Tools that end by printing maps. */
const HAS_MAPS = new Set(['bitesize', 'cpuwalk', 'pidpersec', 'syscount']);

/** Tools bpftrace cannot run here either, and the start of tsbpf's error for each. */
const UNRUNNABLE: Record<string, RegExp> = {
  biolatency: /kprobes are not available/, biosnoop: /kprobes are not available/, biostacks: /kprobes are not available/,
  capable: /kprobes are not available/, mdflush: /kprobes are not available/, oomkill: /kprobes are not available/,
  swapin: /kprobes are not available/, tcpsynbl: /kprobes are not available/, vfscount: /kprobes are not available/,
  vfsstat: /kprobes are not available/, xfsdist: /kprobes are not available/,
  dcsnoop: /:\d+:\d+-\d+: ERROR: no kernel function matches 'lookup_fast\.constprop\.\*'/,
  loads: /:\d+:\d+-\d+: ERROR: kaddr\(\): no kernel symbol 'avenrun'/,
  runqlat: /:\d+:\d+-\d+: ERROR: Unknown identifier: 'TASK_RUNNING'/,
  runqlen: /:\d+:\d+-\d+: ERROR: Struct\/union of type 'struct cfs_rq' does not contain a field named 'nr_running'/,
  tcpaccept: /:\d+:\d+-\d+: ERROR: Unknown identifier: 'AF_INET'/,
  tcpconnect: /:\d+:\d+-\d+: ERROR: Unknown identifier: 'AF_INET'/,
  tcpretrans: /:\d+:\d+-\d+: ERROR: Unknown identifier: 'AF_INET'/,
  tcplife: /:\d+:\d+-\d+: ERROR: Unknown identifier: 'TCP_FIN_WAIT1'/,
  tcpdrop: /:\d+:\d+-\d+: ERROR: Unknown identifier: 'SKB_DROP_REASON_NOT_SPECIFIED'/,
  undump: /:\d+:\d+-\d+: ERROR: buf\(\) length must be an integer literal/,
  // bpftrace silently drops the probe (pthread_create moved to libc in glibc 2.34).
  threadsnoop: /:\d+:\d+-\d+: ERROR: no function 'pthread_create' in \S*libpthread/,
};

const workload = skip ? '' : buildC('bttools_load', ['-O2', '-g', '-pthread']);
const comm = basename(workload).slice(0, 15);

/** Starts a tracer and resolves once it has printed "Attaching" (or has exited). */
function start(cmd: string, args: string[]): { child: ChildProcess; result: Promise<CliResult>; attached: Promise<void> } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const result = collect(child, 30000);
  const attached = new Promise<void>((resolve) => {
    let seen = '';
    child.stdout!.on('data', (d) => {
      seen += d;
      if (seen.includes('Attaching')) resolve();
    });
    child.on('close', () => resolve());
  });
  return { child, result, attached };
}

/** A line with the workload's comm, binary and file names and every number masked. */
function shape(line: string): string {
  return line.split(workload).join('LOAD').split(comm).join('COMM').replace(/\d+/g, 'N').replace(/\|[@ ]*\|/, '|BAR|').replace(/\s+/g, ' ').trim();
}

/** Each printed map: its name and whether it has keys and histogram buckets. */
function mapKinds(lines: string[]): string[] {
  const kinds = new Set<string>();
  lines.forEach((l, i) => {
    const m = /^(@\w*)(\[.*\])?: ?(.*)$/.exec(l);
    if (!m) return;
    const hist = m[3] === '' && /^\[/.test(lines[i + 1] ?? '');
    kinds.add(`${m[1]}${m[2] ? '[K]' : ''} ${hist ? 'hist' : m[3] === '' ? 'empty' : 'value'}`);
  });
  return [...kinds].sort();
}

/** Output lines the workload caused (its comm, binary, files or the program it execs). */
function workloadLines(lines: string[]): string[] {
  return [...new Set(lines.map(shape).filter((s) => /COMM|LOAD|bttools_load|\btrue$/.test(s) && !s.startsWith('@')))].sort();
}

async function runBoth(tool: string): Promise<{ bt: CliResult; ts: CliResult }> {
  const file = `/usr/sbin/${tool}.bt`;
  const bt = start('bpftrace', [file]);
  const ts = start(process.execPath, [tsbpfBin, file]);
  await Promise.all([bt.attached, ts.attached]);
  await new Promise((r) => setTimeout(r, 300));
  await runChild(workload, ['600']);
  await new Promise((r) => setTimeout(r, 300));
  for (const t of [bt, ts]) if (t.child.exitCode === null) process.kill(t.child.pid!, 'SIGINT');
  return { bt: await bt.result, ts: await ts.result };
}

for (const [tool, headerLines] of Object.entries(RUNNABLE)) {
  test(`${tool}.bt: tsbpf and bpftrace attach, print and end alike`, { skip }, async () => {
    const { bt, ts } = await runBoth(tool);
    assert.equal(ts.code, 0, ts.stderr);
    assert.doesNotMatch(ts.stderr, /ERROR/);
    const btLines = bt.stdout.split('\n');
    const tsLines = ts.stdout.split('\n');
    assert.match(tsLines[0], /^Attaching \d+ probes?\.\.\.$/);
    assert.deepEqual(tsLines.slice(0, headerLines), btLines.slice(0, headerLines), 'header');
    assert.deepEqual(mapKinds(tsLines), mapKinds(btLines), 'maps at exit');
    assert.deepEqual(workloadLines(tsLines), workloadLines(btLines), 'lines about the workload');
    if (REPORTS_WORKLOAD.has(tool)) assert.notEqual(workloadLines(tsLines).length, 0, ts.stdout);
    if (HAS_MAPS.has(tool)) assert.notEqual(mapKinds(tsLines).length, 0, ts.stdout);
  });
}

test('bt tools bpftrace cannot run here: tsbpf fails with one clear error each', { skip }, async () => {
  const results = await Promise.all(Object.keys(UNRUNNABLE).map((tool) => runCli([`/usr/sbin/${tool}.bt`])));
  Object.entries(UNRUNNABLE).forEach(([tool, expected], i) => {
    const r = results[i];
    assert.equal(r.code, 1, `${tool}: ${r.stderr}`);
    assert.equal(r.stdout, '', tool);
    assert.match(r.stderr, expected, tool);
    assert.doesNotMatch(r.stderr, /^\s+at /m, `${tool} printed a stack trace`);
  });
});

test('keyless count() prints 0 when never hit or cleared, as in bpftrace 0.17', { skip }, async () => {
  const r = await runCli(['-e', 'BEGIN { @c = count(); print(@c); clear(@c); print(@c); @k[1] = count(); clear(@k); exit(); } interval:s:100 { @never = count(); }']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Attaching 2 probes...\n@c: 1\n@c: 0\n\n\n@c: 0\n\n@never: 0\n');
});
