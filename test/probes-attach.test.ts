// uprobe and USDT resolution end to end: resolve with src/probes, attach hand-assembled
// counters with Session.attachProbe to a real fixture process, and check exact hit counts,
// the USDT semaphore the kernel maintains, libraries found through /proc/PID/maps and a
// binary that only exists inside another mount namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, readSync, closeSync, realpathSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Asm } from '../src/isa/asm.js';
import { R0, R1, R2, FP } from '../src/isa/insn.js';
import { Session } from '../src/runtime/session.js';
import { resolveUprobes, type UprobeSite } from '../src/probes/uprobe.js';
import { resolveUsdt } from '../src/probes/usdt.js';
import { resolveBinary } from '../src/probes/target.js';
import { addressOf, readMaps } from '../src/probes/procmaps.js';
import { buildC } from './lib/fixtures.js';
import { objdumpText } from './lib/x86-objdump.js';

const target = buildC('probes_target', ['-O2']);
const lib = buildC('probes_lib', ['-O2', '-shared', '-fPIC']);

/** The fixture, paused until `go()`; `finish()` lets it exit. */
class Fixture {
  readonly child: ChildProcessWithoutNullStreams;
  private out = '';
  private waiters: Array<() => void> = [];

  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => {
      this.out += d;
      for (const w of this.waiters.splice(0)) w();
    });
    let err = '';
    this.child.stderr.on('data', (d) => (err += d));
    this.child.on('exit', (code) => {
      if (code) this.out += `\nexited ${code}: ${err}`;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitFor(line: string): Promise<void> {
    const deadline = Date.now() + 20000;
    while (!this.out.split('\n').includes(line)) {
      if (/exited \d+/.test(this.out)) throw new Error(`fixture failed: ${this.out}`);
      if (Date.now() > deadline) throw new Error(`fixture never printed '${line}' (got ${JSON.stringify(this.out)})`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  /** Lets the fixture run its loops and waits until they are done. */
  async go(): Promise<void> {
    this.child.stdin.write('\n');
    await this.waitFor('done');
  }

  async finish(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end('\n');
    await exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

function counter(key: number): Asm {
  const a = new Asm();
  a.storeImm(FP, -4, key, 'u32');
  a.ldMap(R1, 'hits').mov(R2, FP).alu64('add', R2, { imm: -4 }).call('map_lookup_elem');
  a.jmp('jeq', R0, { imm: 0 }, 'out');
  a.movImm(R1, 1).atomicAdd(R0, 0, R1);
  a.label('out').movImm(R0, 0).exit();
  return a;
}

/** Attaches one counter per site (key = index in `groups`), runs the fixture, returns counts. */
async function countHits(f: Fixture, groups: UprobeSite[][], extra?: (s: Session) => void): Promise<number[]> {
  const s = new Session();
  try {
    s.createMap({ name: 'hits', type: 'array', keySize: 4, valueSize: 8, maxEntries: 8 });
    groups.forEach((sites, key) => {
      const prog = s.loadProgram({ name: `count${key}`, type: 'kprobe', insns: counter(key) });
      for (const site of sites) {
        s.attachProbe(prog, 'uprobe', { name: site.path, offset: BigInt(site.fileOffset), retprobe: false, pid: f.pid });
      }
    });
    extra?.(s);
    await f.waitFor('ready');
    await f.go();
    return groups.map((_, key) => {
      const k = Buffer.alloc(4);
      k.writeUInt32LE(key);
      return Number(s.map('hits').lookup(k)!.readBigUInt64LE());
    });
  } finally {
    s.close();
  }
}

test('exact call counts for SYMBOL, SYMBOL+OFF, 0xADDR and a wildcard', async () => {
  const alpha = resolveUprobes(`${target}:pt_alpha`);
  assert.equal(alpha.length, 1);
  // The second instruction of pt_beta, as objdump decodes it.
  const beta = resolveUprobes(`${target}:pt_beta`)[0];
  const insns = objdumpText(target).filter((i) => i.addr >= beta.address);
  const second = insns[1].addr - beta.address;
  const betaOff = resolveUprobes(`${target}:pt_beta+${second}`);
  assert.equal(betaOff[0].offset, second);
  assert.equal(betaOff[0].fileOffset, beta.fileOffset + second);
  const gamma = resolveUprobes(`${target}:pt_gamma`)[0];
  const byAddr = resolveUprobes(`${target}:0x${gamma.address.toString(16)}`);
  assert.deepEqual(byAddr, [gamma]);
  const wild = resolveUprobes(`${target}:pt_*`);
  assert.deepEqual(wild.map((w) => w.symbol).sort(), ['pt_alpha', 'pt_beta', 'pt_gamma']);

  const f = new Fixture(target, []);
  try {
    const counts = await countHits(f, [alpha, betaOff, byAddr, wild]);
    assert.deepEqual(counts, [100, 50, 25, 175]);
  } finally {
    f.kill();
  }
});

test('a dlopened library function traced with -p, the library found in /proc/PID/maps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-probes-'));
  const libPath = join(dir, 'libprobesdemo.so.1');
  copyFileSync(lib, libPath);
  const f = new Fixture(target, [libPath]);
  try {
    await f.waitFor('ready');
    // Not in ld.so.cache nor any library directory: only the process's maps know it.
    assert.throws(() => resolveBinary('libprobesdemo'), /binary not found: libprobesdemo/);
    const sites = resolveUprobes('libprobesdemo:plib_work', { pid: f.pid });
    assert.equal(sites.length, 1);
    assert.equal(sites[0].path, libPath);
    assert.deepEqual(resolveUprobes('*:plib_work', { pid: f.pid }), sites);
    assert.deepEqual(await countHits(f, [sites]), [30]);
  } finally {
    f.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('libc by short name is the libc the process maps', async () => {
  const f = new Fixture(target, []);
  try {
    await f.waitFor('ready');
    const mapped = readMaps(f.pid).map((m) => m.path).find((p) => /\/libc[.-][^/]*so/.test(p));
    assert.ok(mapped, 'fixture maps a libc');
    assert.equal(realpathSync(resolveBinary('libc')), realpathSync(mapped));
    assert.equal(realpathSync(resolveBinary('c')), realpathSync(mapped));
    assert.equal(resolveBinary('libc', { pid: f.pid }), mapped);
    assert.equal(resolveUprobes('libc:malloc', { pid: f.pid })[0].path, mapped);
  } finally {
    f.kill();
  }
});

function readSemaphore(pid: number, address: number): number {
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  try {
    const b = Buffer.alloc(2);
    assert.equal(readSync(fd, b, 0, 2, address), 2);
    return b.readUInt16LE();
  } finally {
    closeSync(fd);
  }
}

test('USDT: the kernel raises the semaphore while attached and lowers it after', async () => {
  const sites = resolveUsdt(`${target}:probes_demo:tick`);
  assert.equal(sites.length, 1);
  const site = sites[0];
  assert.ok(site.refCtrOffset > 0, 'tick has a semaphore');
  assert.deepEqual(site.args.map((a) => a.size), [4]);
  assert.deepEqual(resolveUsdt(`${target}:tick`), sites);
  assert.deepEqual(resolveUsdt(`${target}:probes_*:t*`), sites);

  const f = new Fixture(target, []);
  const s = new Session();
  try {
    await f.waitFor('ready');
    const sema = addressOf(f.pid, target, site.refCtrOffset);
    assert.ok(sema !== undefined, 'semaphore is mapped');
    assert.equal(readSemaphore(f.pid, sema), 0);
    s.createMap({ name: 'hits', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    const prog = s.loadProgram({ name: 'tick', type: 'kprobe', insns: counter(0) });
    s.attachProbe(prog, 'uprobe', {
      name: site.path, offset: BigInt(site.fileOffset), retprobe: false, pid: f.pid, refCtrOffset: BigInt(site.refCtrOffset),
    });
    assert.equal(readSemaphore(f.pid, sema), 1);
    await f.go();
    // The fixture fires tick only while the semaphore is up: 10 hits prove the kernel set it.
    assert.equal(Number(s.map('hits').lookup(Buffer.alloc(4))!.readBigUInt64LE()), 10);
    s.close();
    assert.equal(readSemaphore(f.pid, sema), 0);
    // With -p the probe is found among everything the process maps.
    assert.deepEqual(resolveUsdt('probes_demo:tick', { pid: f.pid }).map((x) => x.fileOffset), [site.fileOffset]);
    assert.deepEqual(resolveUsdt('tick', { pid: f.pid }).map((x) => x.path), [target]);
    await f.finish();
  } finally {
    s.close();
    f.kill();
  }
});

test('a process in its own mount namespace is resolved and traced through /proc/PID/root', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-ns-'));
  // Inside the namespace a tmpfs hides the host directory; the copy exists only there.
  const script = `mount -t tmpfs tsbpf ${dir} && cp ${target} ${dir}/nsprog && exec ${dir}/nsprog`;
  const f = new Fixture('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script]);
  try {
    await f.waitFor('ready');
    assert.throws(() => readFileSync(`${dir}/nsprog`), /ENOENT/);
    const viaRoot = `/proc/${f.pid}/root${dir}/nsprog`;
    assert.equal(resolveBinary(`${dir}/nsprog`, { pid: f.pid }), viaRoot);
    assert.equal(resolveBinary('nsprog', { pid: f.pid }), viaRoot);
    const sites = resolveUprobes(`${dir}/nsprog:pt_alpha`, { pid: f.pid });
    assert.equal(sites[0].path, viaRoot);
    assert.throws(() => resolveUprobes(`${dir}/nsprog:pt_alpha`), /binary not found/);
    assert.deepEqual(await countHits(f, [sites]), [100]);
  } finally {
    f.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
