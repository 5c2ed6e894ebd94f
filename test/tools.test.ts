// The ready-made tools (`tsbpf tools NAME`) run for real against workloads the tests start
// (test/fixtures/tools_workload.c, or a TCP connection made by this process), with the
// columns of the bpftrace tools of the same name (/usr/sbin/*.bt), ending cleanly both when
// the -c command exits and on SIGINT.
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { connect, createServer, AddressInfo, Socket } from 'node:net';
import { basename, join } from 'node:path';
import { buildC, fixtureBin } from './lib/fixtures.js';
import { collect, runCli, startCli, tsbpfBin } from './lib/cli.js';
import { runChild } from './lib/run.js';

const workload = buildC('tools_workload');
// profile walks user stacks by frame pointers, as bpftrace does.
const workloadFp = buildC('tools_workload', ['-O2', '-g', '-fno-omit-frame-pointer']);
const comm = basename(workload).slice(0, 15);

/** The pid the workload printed first, and the tool's rows split into words. */
function parse(stdout: string): { pid: number; rows: string[][] } {
  const m = /^pid (\d+)$/m.exec(stdout);
  assert.ok(m, stdout);
  // Tool rows start with a number or a time; the workload's own lines start with a word.
  return { pid: Number(m[1]), rows: stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((w) => /^[\d:]+$/.test(w[0])) };
}

async function tool(args: string[]): Promise<string> {
  const r = await runCli(['tools', ...args]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout;
}

test('tools lists every tool; an unknown name suggests the closest one', async () => {
  const r = await runCli(['tools']);
  assert.equal(r.code, 0);
  for (const name of ['opensnoop', 'execsnoop', 'syscount', 'biolatency', 'runqlat', 'killsnoop', 'tcplife', 'gethostlatency', 'profile']) {
    assert.match(r.stdout, new RegExp(`^${name} `, 'm'));
  }
  const bad = await runCli(['tools', 'opensnop']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /no tool named 'opensnop'/);
  assert.match(bad.stderr, /opensnoop/);
});

test('opensnoop: the fd of an open that works, ERR 2 for a missing file, with the path', async () => {
  const missing = `/tmp/tsbpf-tools-missing-${process.pid}`;
  const out = await tool(['opensnoop', '-c', `${workload} open /etc/hostname ${missing}`]);
  const { pid, rows } = parse(out);
  assert.match(out, /^Attaching 6 probes\.\.\.\nTracing open syscalls\.\.\. Hit Ctrl-C to end\.\nPID +COMM +FD ERR PATH$/m);
  const mine = rows.filter((w) => w[0] === String(pid) && (w[4] === '/etc/hostname' || w[4] === missing));
  assert.deepEqual(mine, [
    [String(pid), comm, '3', '0', '/etc/hostname'],
    [String(pid), comm, '-1', '2', missing],
  ]);
});

test('execsnoop: the command with its arguments, its pid and its parent (tsbpf)', async () => {
  const cli = spawn(process.execPath, [tsbpfBin, 'tools', 'execsnoop', '-c', `${workload} syscalls 1`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r = await collect(cli, 30000);
  assert.equal(r.code, 0, r.stderr);
  const { pid, rows } = parse(r.stdout);
  assert.match(r.stdout, /^Attaching 3 probes\.\.\.\nTIME\(ms\) +PID +PPID +ARGS$/m);
  const row = rows.find((w) => w[1] === String(pid));
  assert.ok(row, r.stdout);
  assert.match(row[0], /^\d+$/);
  // tsbpf starts the command through sh, which execs it in place: its parent is tsbpf.
  assert.deepEqual(row.slice(2), [String(cli.pid), workload, 'syscalls', '1']);
});

test('killsnoop: each kill() with signal, target pid and result (0, then -ESRCH)', async () => {
  const out = await tool(['killsnoop', '-c', `${workload} kill`]);
  const { pid, rows } = parse(out);
  assert.match(out, /^Tracing kill\(\) signals\.\.\. Hit Ctrl-C to end\.\nTIME +PID +COMM +SIG +TPID +RESULT$/m);
  const child = /^child (\d+) r1 0 r2 -1$/m.exec(out)![1];
  const mine = rows.filter((w) => w[1] === String(pid));
  assert.equal(mine.length, 2, out);
  for (const w of mine) assert.match(w[0], /^\d\d:\d\d:\d\d$/);
  assert.deepEqual(mine.map((w) => w.slice(1)), [
    [String(pid), comm, '10', child, '0'],
    [String(pid), comm, '15', child, '-3'],
  ]);
});

test('syscount: counts exactly the calls of a syscall id only the workload makes', async () => {
  const out = await tool(['syscount', '-c', `${workload} syscalls 20000`]);
  assert.match(out, /^Attaching 3 probes\.\.\.\nCounting syscalls\.\.\. Hit Ctrl-C to end\.\n/);
  assert.match(out, /\nTop 10 syscalls IDs:\n(@syscall\[\d+\]: \d+\n){1,10}\nTop 10 processes:\n/);
  assert.match(out, /^@syscall\[1000\]: 20000$/m);
  const own = Number(new RegExp(`^@process\\[${comm}\\]: (\\d+)$`, 'm').exec(out)?.[1]);
  assert.ok(own >= 20000 && own < 20200, out);
  // END cleared both maps after the probes were detached, so nothing counted after it
  // shows up: like bpftrace, the exit prints each (empty) map as two blank lines.
  assert.match(out, /\nTop 10 processes:\n(@process\[.*\]: \d+\n){1,10}\n\n\n\n$/);
});

const histRows = (out: string, map: string): number[] => {
  const at = out.indexOf(`${map}: \n`);
  assert.ok(at >= 0, out);
  return out.slice(at).split('\n').slice(1).filter((l) => /^\[/.test(l)).map((l) => {
    assert.match(l, /^\[\d+K?M?, \d+K?M?\) +\d+ \|@*\s*\|$|^\[\d+\] +\d+ \|@*\s*\|$/);
    return Number(/\)?\s+(\d+) \|/.exec(l)![1]);
  });
};

test('runqlat: SIGINT prints the run-queue latency histogram and exits 0', async () => {
  const { child, result } = await startCli(['tools', 'runqlat'], 'Hit Ctrl-C');
  // Each nap is a wakeup and a switch back in: one run-queue latency sample at least.
  assert.equal((await runChild(workload, ['naps', '50'])).code, 0);
  child.kill('SIGINT');
  const r = await result;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Attaching 5 probes\.\.\.\nTracing CPU scheduler\.\.\. Hit Ctrl-C to end\.\n/);
  const counts = histRows(r.stdout, '@usecs');
  assert.ok(counts.reduce((a, b) => a + b, 0) >= 50, r.stdout);
  assert.ok(!r.stdout.includes('@qtime'), 'END cleared @qtime');
});

test('biolatency: block I/O of a direct, synchronous write lands in the histogram', async () => {
  const out = await tool(['biolatency', '-c', `${workloadFp} direct ${join(fixtureBin, `biolatency-${process.pid}.tmp`)}`]);
  assert.match(out, /^Attaching 4 probes\.\.\.\nTracing block device I\/O\.\.\. Hit Ctrl-C to end\.\n/);
  assert.ok(!out.includes('@start'), 'END cleared @start');
  // O_DIRECT is refused on some filesystems (tmpfs): then the tool only has to attach and end.
  if (!out.includes('direct ok')) return;
  const counts = histRows(out, '@usecs');
  // 16 writes of 64 KiB, each one request or more.
  assert.ok(counts.reduce((a, b) => a + b, 0) >= 16, out);
});

test('gethostlatency: a getaddrinfo("localhost") with its host name and latency', async () => {
  const out = await tool(['gethostlatency', '-c', `${workload} resolve localhost`]);
  const { pid, rows } = parse(out);
  assert.match(out, /^Tracing getaddr\/gethost calls\.\.\. Hit Ctrl-C to end\.\nTIME +PID +COMM +LATms HOST$/m);
  const mine = rows.filter((w) => w[1] === String(pid));
  assert.equal(mine.length, 1, out);
  assert.match(mine[0][0], /^\d\d:\d\d:\d\d$/);
  assert.equal(mine[0][2], comm);
  assert.match(mine[0][3], /^\d+$/);
  assert.equal(mine[0][4], 'localhost');
});

test('tcplife: a connection to a local listener, both ends, with ports and bytes', async () => {
  const { child, result } = await startCli(['tools', 'tcplife'], 'RPORT');
  const server = createServer((c) => {
    c.on('data', () => {});
    c.on('end', () => c.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const client: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((r) => client.on('connect', r));
  const local = client.localPort!;
  client.end(Buffer.alloc(5000));
  await new Promise<void>((r) => client.on('close', () => r()));
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGINT');
  const r = await result;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^PID +COMM +LADDR +LPORT +RADDR +RPORT +TX_KB +RX_KB +MS$/m);
  const rows = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((w) => w[3] === String(local) || w[5] === String(local));
  const me = String(process.pid);
  assert.deepEqual(rows.map((w) => w.slice(0, 8)).sort(), [
    [me, 'node', '127.0.0.1', String(local), '127.0.0.1', String(port), '4', '0'],
    [me, 'node', '127.0.0.1', String(port), '127.0.0.1', String(local), '0', '4'],
  ].sort());
  for (const w of rows) assert.match(w[8], /^\d+$/);
  assert.ok(!/@(birth|skpid|skcomm)/.test(r.stdout), 'END cleared the maps');
});

test('profile: sampled stacks of a busy process, symbolized, keyed with its comm', async () => {
  const out = await tool(['profile', '-c', `${workloadFp} spin 400`]);
  // @[kstack, ustack, comm]: the user stack of the spinning loop, then comm.
  const keys = [...out.matchAll(/^@\[([\s\S]*?)\]: (\d+)$/gm)];
  const mine = keys.filter((k) => k[1].endsWith(`, ${basename(workloadFp).slice(0, 15)}`) && /\n {4}spin_here\+\d+\n {4}main\+\d+\n/.test(k[1]));
  const samples = mine.reduce((a, k) => a + Number(k[2]), 0);
  // 400 ms at 99 Hz is about 40 samples; leave room for a loaded machine.
  assert.ok(samples >= 10, out);
});
