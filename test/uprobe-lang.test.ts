// User-space tracing through the language: uprobes and uretprobes on a C fixture, exact
// counts, arguments, return values and latency samples; libc by short name with -p; listing;
// bad input. Output is read as JSON (-f json) so values are checked exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { buildC } from './lib/fixtures.js';
import { runCli, startCli } from './lib/cli.js';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fix = buildC('utrace', ['-O2', '-g']);
const N = 200;

/** The maps of a -f json run, by name. */
function jsonMaps(stdout: string): Record<string, unknown> {
  const maps: Record<string, unknown> = {};
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line) as { type: string; data: Record<string, unknown> };
    if (m.type === 'map' || m.type === 'hist' || m.type === 'stats') Object.assign(maps, m.data);
  }
  return maps;
}

async function traceFixture(prog: string, args = `${N}`): Promise<Record<string, unknown>> {
  const r = await runCli(['-f', 'json', '-c', `${fix} ${args}`, '-e', prog]);
  assert.equal(r.code, 0, r.stderr);
  return jsonMaps(r.stdout);
}

test('uprobe counts calls exactly and reads arguments', async () => {
  const m = await traceFixture(`uprobe:${fix}:add { @calls = count(); @sum0 = sum(arg0); @sum1 = sum(arg1); }`);
  const expect0 = (N * (N - 1)) / 2;
  assert.deepEqual([m['@calls'], m['@sum0'], m['@sum1']], [N, expect0, 2 * expect0]);
});

test('uretprobe reads return values', async () => {
  const m = await traceFixture(`uretprobe:${fix}:add { @ret = sum(retval); } uretprobe:${fix}:greet { @len[retval] = count(); }`, `${N} hello`);
  assert.equal(m['@ret'], 3 * (N * (N - 1)) / 2);
  assert.deepEqual(m['@len'], { '5': N / 10 });
});

test('string arguments print as text', async () => {
  const r = await runCli(['-c', `${fix} 20 tsbpf-rocks`, '-e', `uprobe:${fix}:greet { printf("hi %s\\n", str(arg0)); }`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter((l) => l === 'hi tsbpf-rocks').length, 2);
});

test('uprobe + uretprobe latency histogram has one sample per outermost call', async () => {
  // fact recurses: count only the outermost calls by keying on depth.
  const m = await traceFixture(
    `uprobe:${fix}:add { @s[tid] = nsecs; } uretprobe:${fix}:add /@s[tid]/ { @lat = hist(nsecs - @s[tid]); delete(@s[tid]); }`,
  );
  const lat = m['@lat'] as Array<{ count: number }>;
  assert.equal(lat.reduce((a, b) => a + b.count, 0), N);
});

test('wildcards, offsets and addresses', async () => {
  const syms = execFileSync('nm', [fix], { encoding: 'utf8' });
  const addr = /^([0-9a-f]+) T add$/m.exec(syms)![1];
  const m = await traceFixture(
    `uprobe:${fix}:gre* { @glob = count(); } uprobe:${fix}:0x${addr} { @addr = count(); } uprobe:${fix}:add+0 { @off = count(); }`,
  );
  assert.deepEqual([m['@glob'], m['@addr'], m['@off']], [N / 10, N, N]);
});

test('libc by short name in a running process with -p', async () => {
  // A shell loop that keeps calling getenv-free libc functions: sh calls malloc constantly.
  const sh = spawn('/bin/sh', ['-c', 'while :; do echo x > /dev/null; done'], { stdio: 'ignore' });
  try {
    const { child, result } = await startCli(['-f', 'json', '-p', String(sh.pid), '-e', 'uprobe:libc:malloc /pid == $1/ { @m = count(); } interval:ms:300 { exit(); }', String(sh.pid)], 'attached_probes');
    void child;
    const r = await result;
    assert.equal(r.code, 0, r.stderr);
    assert.ok((jsonMaps(r.stdout)['@m'] as number) > 0);
  } finally {
    sh.kill('SIGKILL');
  }
});

test('listing uprobe:FIXTURE:* shows exactly its functions', async () => {
  const r = await runCli(['-l', `uprobe:${fix}:*`]);
  assert.equal(r.code, 0, r.stderr);
  const ours = r.stdout.trim().split('\n').map((l) => l.slice(l.lastIndexOf(':') + 1));
  for (const f of ['add', 'fact', 'greet', 'main']) assert.ok(ours.includes(f), `${f} listed`);
  const nmFuncs = execFileSync('nm', ['--defined-only', fix], { encoding: 'utf8' }).split('\n')
    .filter((l) => / [Tt] /.test(l)).map((l) => l.split(' ')[2]);
  assert.deepEqual(new Set(ours), new Set(nmFuncs));
});

test('bad input: one clear error line each, exit 1, nothing attached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bad-'));
  const stripped = join(dir, 'stripped');
  copyFileSync(fix, stripped);
  execFileSync('strip', ['-s', stripped]);
  const cases: Array<[string, RegExp]> = [
    ['uprobe:/no/such/binary:f { }', /binary|not found|no such/i],
    [`uprobe:${fix}:no_such_function { }`, /no_such_function/],
    [`uprobe:${stripped}:add { }`, /symbol/i],
    ['uprobe:/etc/hostname:f { }', /ELF/],
  ];
  for (const [prog, re] of cases) {
    const r = await runCli(['-e', prog]);
    assert.equal(r.code, 1, `${prog}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(r.stderr.trim().split('\n').length <= 4, `short error for ${prog}: ${r.stderr}`);
  }
  const r = await runCli(['-p', '999999999', '-e', `uprobe:${fix}:add { }`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /999999999/);
});

test('--ret-scan: uprobes on every RET of a native function give what a uretprobe gives', async () => {
  const prog = `uretprobe:${fix}:add { @ret = sum(retval); @n = count(); } uretprobe:${fix}:fact { @f = count(); }`;
  const scanned = await runCli(['-f', 'json', '--ret-scan', '-c', `${fix} ${N}`, '-e', prog]);
  assert.equal(scanned.code, 0, scanned.stderr);
  const plain = await traceFixture(prog);
  const m = jsonMaps(scanned.stdout);
  assert.deepEqual([m['@ret'], m['@n'], m['@f']], [plain['@ret'], plain['@n'], plain['@f']]);
  assert.equal(m['@n'], N);
  // One uprobe per RET instruction of the two functions, as objdump counts them.
  const rets = (fn: string) => execFileSync('objdump', ['-d', `--disassemble=${fn}`, fix], { encoding: 'utf8' })
    .split('\n').filter((l) => /\tret\b|\trepz? ret/.test(l)).length;
  const attached = JSON.parse(scanned.stdout.split('\n').find((l) => l.includes('attached_probes'))!).data.probes;
  assert.equal(attached, rets('add') + rets('fact'));
});
