// The foundation end to end: hand-assembled programs on syscalls:sys_enter_openat,
// counting into a hash map and streaming through a ring buffer, against a real child.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Asm } from '../src/isa/asm.js';
import { R0, R1, R2, R3, R4, R6, R7, FP } from '../src/isa/insn.js';
import { Session } from '../src/runtime/session.js';
import { codec, TypedMap } from '../src/runtime/maps.js';
import { tracepointFormat } from '../src/kernel/tracefs.js';
import { VerifierError } from '../src/kernel/errors.js';
import { buildC } from './lib/fixtures.js';
import { runChild } from './lib/run.js';

const opener = buildC('opener', ['-O2', '-static']);
const TARGET = '/etc/hostname';

function countOpensPerPid(): Asm {
  const a = new Asm();
  a.call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }).store(FP, -4, R0, 'u32');
  a.ldMap(R1, 'counts').mov(R2, FP).alu64('add', R2, { imm: -4 }).call('map_lookup_elem');
  a.jmp('jeq', R0, { imm: 0 }, 'insert');
  a.label('add').movImm(R1, 1).atomicAdd(R0, 0, R1).ja('out');
  a.label('insert');
  a.storeImm(FP, -16, 1, 'u64');
  a.ldMap(R1, 'counts').mov(R2, FP).alu64('add', R2, { imm: -4 }).mov(R3, FP).alu64('add', R3, { imm: -16 });
  a.movImm(R4, 1 /* BPF_NOEXIST */).call('map_update_elem');
  a.jmp('jeq', R0, { imm: 0 }, 'out');
  // Lost a race with another CPU that inserted first: add to its entry.
  a.ldMap(R1, 'counts').mov(R2, FP).alu64('add', R2, { imm: -4 }).call('map_lookup_elem');
  a.jmp('jne', R0, { imm: 0 }, 'add');
  a.label('out').movImm(R0, 0).exit();
  return a;
}

test('hash map counts exactly 1000 openat calls of a child', async () => {
  const s = new Session();
  try {
    s.createMap({ name: 'counts', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 10240 });
    const prog = s.loadProgram({ name: 'count_opens', type: 'tracepoint', insns: countOpensPerPid() });
    s.attachTracepoint(prog, 'syscalls', 'sys_enter_openat');
    const child = await runChild(opener, [TARGET, '1000']);
    assert.equal(child.code, 0);
    const counts = new TypedMap(s.map('counts'), codec.u32, codec.u64);
    assert.equal(counts.get(BigInt(child.pid)), 1000n);
  } finally {
    s.close();
  }
});

test('ring buffer streams 1000 events with pid and filename, none lost', async () => {
  const fmt = tracepointFormat('syscalls', 'sys_enter_openat');
  const filenameOff = fmt.fields.find((f) => f.name === 'filename')!.offset;
  const s = new Session();
  try {
    s.createMap({ name: 'events', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 1 << 22 });
    s.createMap({ name: 'drops', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    const a = new Asm();
    a.mov(R6, R1);
    a.ldMap(R1, 'events').movImm(R2, 264).movImm(R3, 0).call('ringbuf_reserve');
    a.jmp('jne', R0, { imm: 0 }, 'have');
    // Count reservation failures so the test can tell loss from a bug.
    a.storeImm(FP, -4, 0, 'u32').ldMap(R1, 'drops').mov(R2, FP).alu64('add', R2, { imm: -4 }).call('map_lookup_elem');
    a.jmp('jeq', R0, { imm: 0 }, 'out').movImm(R1, 1).atomicAdd(R0, 0, R1).ja('out');
    a.label('have').mov(R7, R0);
    a.call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }).store(R7, 0, R0, 'u32');
    a.mov(R1, R7).alu64('add', R1, { imm: 8 }).movImm(R2, 256).load(R3, R6, filenameOff, 'u64').call('probe_read_user_str');
    a.mov(R1, R7).movImm(R2, 0).call('ringbuf_submit');
    a.label('out').movImm(R0, 0).exit();
    const prog = s.loadProgram({ name: 'open_events', type: 'tracepoint', insns: a });
    s.attachTracepoint(prog, 'syscalls', 'sys_enter_openat');
    const seen: Array<{ pid: number; file: string }> = [];
    s.ringbuf(s.map('events'), (d) => {
      const bytes = new Uint8Array(d.buffer, d.byteOffset + 8, 256);
      const end = bytes.indexOf(0);
      seen.push({ pid: d.getUint32(0, true), file: Buffer.from(bytes.subarray(0, end)).toString() });
    });
    const child = await runChild(opener, [TARGET, '1000']);
    s.drainAll();
    const mine = seen.filter((e) => e.pid === child.pid);
    assert.equal(mine.length, 1000);
    assert.ok(mine.every((e) => e.file === TARGET));
    const drops = s.map('drops').lookup(Buffer.alloc(4))!.readBigUInt64LE();
    assert.equal(drops, 0n);
  } finally {
    s.close();
  }
});

test('a program the verifier rejects carries the verifier log', () => {
  const s = new Session();
  try {
    const a = new Asm().load(R0, R2, 0, 'u64').exit(); // r2 is not initialised
    assert.throws(
      () => s.loadProgram({ name: 'bad', type: 'tracepoint', insns: a }),
      (e: unknown) => e instanceof VerifierError && /R2 !read_ok/.test(e.log) && /R2 !read_ok/.test(e.message),
    );
  } finally {
    s.close();
  }
});

test('perf buffer delivers 1000 events with pid and filename', async () => {
  const fmt = tracepointFormat('syscalls', 'sys_enter_openat');
  const filenameOff = fmt.fields.find((f) => f.name === 'filename')!.offset;
  const s = new Session();
  try {
    s.createMap({ name: 'pevents', type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 128 });
    s.createMap({ name: 'scratch', type: 'percpu_array', keySize: 4, valueSize: 264, maxEntries: 1 });
    const a = new Asm();
    a.mov(R6, R1).storeImm(FP, -4, 0, 'u32');
    a.ldMap(R1, 'scratch').mov(R2, FP).alu64('add', R2, { imm: -4 }).call('map_lookup_elem');
    a.jmp('jeq', R0, { imm: 0 }, 'out').mov(R7, R0);
    a.call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }).store(R7, 0, R0, 'u32');
    a.mov(R1, R7).alu64('add', R1, { imm: 8 }).movImm(R2, 256).load(R3, R6, filenameOff, 'u64').call('probe_read_user_str');
    a.mov(R1, R6).ldMap(R2, 'pevents').ldImm64(R3, 0xffffffffn /* BPF_F_CURRENT_CPU */).mov(R4, R7).movImm(5 as never, 264);
    a.call('perf_event_output');
    a.label('out').movImm(R0, 0).exit();
    const prog = s.loadProgram({ name: 'open_perf', type: 'tracepoint', insns: a });
    const seen: Array<{ pid: number; file: string }> = [];
    // 2 MiB per CPU holds all 1000 records even if the reader falls behind the child.
    const reader = s.perfbuf(s.map('pevents'), (d) => {
      const bytes = new Uint8Array(d.buffer, d.byteOffset + 8, 256);
      seen.push({ pid: d.getUint32(0, true), file: Buffer.from(bytes.subarray(0, bytes.indexOf(0))).toString() });
    }, 512);
    s.attachTracepoint(prog, 'syscalls', 'sys_enter_openat');
    const child = await runChild(opener, [TARGET, '1000']);
    s.drainAll();
    const mine = seen.filter((e) => e.pid === child.pid);
    assert.equal(reader.lost, 0);
    assert.equal(mine.length, 1000);
    assert.ok(mine.every((e) => e.file === TARGET));
  } finally {
    s.close();
  }
});
