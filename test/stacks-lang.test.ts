// ustack/kstack through `tsbpf -e`: the main -> a -> b -> c fixture probed at c's entry, built
// with frame pointers (kernel walk plus the entry caller), without them (copied stack unwound
// with .eh_frame), split into a library; map keys printed after the process exited; a process
// in its own mount namespace traced with -p; kstack output byte-for-byte against bpftrace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { ElfFile } from '../src/elf/reader.js';
import { binaryUnwinder, framePointerVotes } from '../src/lang/stacks.js';
import { buildC, hasCommand } from './lib/fixtures.js';
import { collect, runCli, tsbpfBin, type CliResult } from './lib/cli.js';
import { startChain, type PausedChain } from './stacks-bpf.js';

const fpPie = buildC('stacks_chain', ['-O2', '-fno-omit-frame-pointer', '-fPIE', '-pie']);
const noFp = buildC('stacks_chain', ['-O2', '-fomit-frame-pointer', '-fPIE', '-pie']);
const lib = buildC('stacks_chain', ['-O2', '-fno-omit-frame-pointer', '-fPIC', '-shared', '-DSTACKS_LIB']);
const libNoFp = buildC('stacks_chain', ['-O2', '-fomit-frame-pointer', '-fPIC', '-shared', '-DSTACKS_LIB']);
const linkedTo = (so: string): string => buildC('stacks_chain', ['-O2', '-fno-omit-frame-pointer', '-DSTACKS_MAIN', '-Wl,--no-as-needed', so, `-Wl,-rpath,${dirname(so)}`]);

interface Tracer {
  child: ChildProcess;
  /** Resolves once stdout contains `text`. */
  waitFor(text: string | RegExp): Promise<void>;
  /** SIGINT (maps print at exit), then everything it wrote. */
  stop(): Promise<CliResult>;
}

async function startTracer(args: string[]): Promise<Tracer> {
  const child = spawn(process.execPath, [tsbpfBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const result = collect(child, 60000);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const waitFor = async (text: string | RegExp): Promise<void> => {
    const has = (): boolean => (typeof text === 'string' ? out.includes(text) : text.test(out));
    for (let i = 0; i < 1000 && !has() && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10));
    if (!has()) {
      child.kill('SIGKILL');
      assert.fail(`tsbpf never printed ${text}: ${out}\n${(await result).stderr}`);
    }
  };
  await waitFor('Attaching');
  return { child, waitFor, stop: () => (child.kill('SIGINT'), result) };
}

const frameNames = (block: string): string[] => block.split('\n').map((l) => l.trim()).filter(Boolean).map((f) => f.replace(/\+\d+$/, ''));

/** The frames of the first `printf("[%s]", ustack)` in the output. */
function printed(stdout: string): string[] {
  const m = /\[([^\]]*)\]/.exec(stdout);
  assert.ok(m, stdout);
  return frameNames(m[1]);
}

/** Traces c's entry in a paused chain with `prog`; `live` runs while the chain still lives. */
async function traceChain(binary: string, probed: string, prog: string, opts: { verbose?: boolean; calls?: number; byPid?: boolean; live?: (t: Tracer) => Promise<void> } = {}): Promise<CliResult> {
  const chain: PausedChain = await startChain(binary, [String(opts.calls ?? 1)]);
  const pid = opts.byPid === false ? [] : ['-p', String(chain.pid)];
  const t = await startTracer([...(opts.verbose ? ['-v'] : []), ...pid, '-e', prog.replaceAll('BIN', probed)]);
  chain.go();
  try {
    await opts.live?.(t);
  } finally {
    assert.equal(await chain.finish(), 0);
  }
  const r = await t.stop();
  assert.equal(r.code, 0, r.stderr);
  return r;
}

test('the unwinder is chosen from the probed binary: frame pointers where prologues set them up', () => {
  assert.deepEqual(framePointerVotes(ElfFile.open(fpPie)), { saves: 3, frames: 3 });
  assert.equal(binaryUnwinder(fpPie), 'frame-pointer');
  assert.equal(binaryUnwinder(lib), 'frame-pointer');
  assert.equal(framePointerVotes(ElfFile.open(noFp)).frames, 0);
  assert.equal(binaryUnwinder(noFp), 'eh-frame');
  assert.equal(binaryUnwinder(libNoFp), 'eh-frame');
});

for (const [what, binary, unwinder] of [['frame pointers', fpPie, 'frame pointers'], ['-O2 without frame pointers', noFp, '.eh_frame']] as const) {
  test(`${what}: printf ustack at c's entry shows c, b, a, main and -v names the unwinder`, async () => {
    const r = await traceChain(binary, binary, 'uprobe:BIN:c { printf("[%s]\\n", ustack); print(ustack(perf, 2)); print(ustack(raw, 1)); print(ustack(2)); }', {
      verbose: true,
      live: (t) => t.waitFor(/\n\n$/),
    });
    const frames = printed(r.stdout);
    assert.deepEqual(frames.slice(0, 4), ['c', 'b', 'a', 'main'], r.stdout);
    assert.match(r.stdout, /\[\n {8}c\+0\n {8}b\+\d+\n {8}a\+\d+\n {8}main\+\d+\n/);
    const perf = [...r.stdout.matchAll(/^\t([0-9a-f]+) (\w+)\+(\d+) \((.*)\)$/gm)].map((m) => [m[2], m[4]]);
    assert.deepEqual(perf, [['c', binary], ['b', binary]]);
    const c0 = /^\t([0-9a-f]+) c\+0/m.exec(r.stdout)![1];
    assert.ok(r.stdout.includes(`\n\n        ${c0}\n\n`), 'ustack(raw, 1) prints the bare address');
    assert.match(r.stdout, /\n\n {8}c\+0\n {8}b\+\d+\n\n/);
    assert.match(r.stderr, new RegExp(`ustack of pid \\d+: \\d+ frames by ${unwinder.replace('.', '\\.')}`));
  });
}

for (const [what, so] of [['with', lib], ['without', libNoFp]] as const) {
  test(`shared library ${what} frame pointers: c, b, a from the library, main from the executable`, async () => {
    const binary = linkedTo(so);
    const r = await traceChain(binary, so, 'uprobe:BIN:c { printf("[%s]\\n", ustack(perf, 4)); }', { live: (t) => t.waitFor(']') });
    const frames = [...r.stdout.matchAll(/^\t[0-9a-f]+ (\w+)\+\d+ \((.*)\)$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(frames, [['c', so], ['b', so], ['a', so], ['main', binary]]);
  });
}

for (const [what, binary] of [['frame-pointer', fpPie], ['copied (.eh_frame)', noFp]] as const) {
  test(`${what} stacks as map keys resolve at exit after the process is gone, equal stacks counted together`, async () => {
    // No -p: the tracer first hears of the process from the probe's own records, which it
    // handles within milliseconds; the process lives that long, then exits before the printout.
    const r = await traceChain(binary, binary, 'uprobe:BIN:c { @[ustack(4)] = count(); @f[func] = count(); }', {
      calls: 3, byPid: false, live: () => new Promise((resolve) => setTimeout(resolve, 300)),
    });
    assert.match(r.stdout, /@\[\n {4}c\+0\n {4}b\+\d+\n {4}a\+\d+\n {4}main\+\d+\n\]: 3\n/);
    assert.match(r.stdout, /@f\[c\]: 3\n/);
  });
}

test('-p PID of a process in its own mount namespace: the path inside resolves and its ustack symbolizes', async () => {
  // /mnt/chain exists only on a tmpfs inside the child's private mount namespace.
  const chain = await startChain('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs none /mnt && cp ${noFp} /mnt/chain && exec /mnt/chain 2`]);
  const t = await startTracer(['-p', String(chain.pid), '-e', 'uprobe:/mnt/chain:c { printf("[%s]\\n", ustack(perf)); @[ustack(3)] = count(); }']);
  chain.go();
  try {
    await t.waitFor(/\]\n[^]*\]\n/);
  } finally {
    assert.equal(await chain.finish(), 0);
  }
  const r = await t.stop();
  assert.equal(r.code, 0, r.stderr);
  const frames = [...r.stdout.matchAll(/^\t[0-9a-f]+ (\w+)\+\d+ \((.*)\)$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(frames.slice(0, 4), [['c', '/mnt/chain'], ['b', '/mnt/chain'], ['a', '/mnt/chain'], ['main', '/mnt/chain']]);
  assert.match(r.stdout, /@\[\n {4}c\+0\n {4}b\+\d+\n {4}a\+\d+\n\]: 2\n/);
});

test('kstack, kstack(perf, N) and kstack(N) print exactly as bpftrace prints them', { skip: !hasCommand('bpftrace') && 'bpftrace is not installed' }, async () => {
  const getppid = buildC('stacks_getppid', ['-O2']);
  const prog = 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @[kstack] = count(); @p[kstack(perf, 3)] = count(); printf("%s|\\n", kstack(2)); }';
  const ours = await runCli(['-c', getppid, '-e', prog]);
  assert.equal(ours.code, 0, ours.stderr);
  assert.match(ours.stdout, /@\[\n {4}\w+\+\d+\n/);
  assert.match(ours.stdout, /@p\[\n\tffffffff[0-9a-f]{8} \w+\+\d+\n/);
  const theirs = await new Promise<string>((resolve, reject) => {
    const c = spawn('bpftrace', ['-c', getppid, '-e', prog], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('close', () => resolve(out));
  });
  assert.equal(ours.stdout, theirs);
});
