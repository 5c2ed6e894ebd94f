// Ring buffer throughput: one 16-byte record per getppid() of a child that calls it as
// fast as it can; events/s consumed by the TypeScript reader, and records lost.
import { spawn } from 'node:child_process';
import { Asm } from '../src/isa/asm.js';
import { FP, R0, R1, R2, R3, R4 } from '../src/isa/insn.js';
import { Session } from '../src/runtime/session.js';
import { buildC } from '../test/lib/fixtures.js';

export async function ringbufThroughput(calls = 2_000_000): Promise<string> {
  const spinner = buildC('spinner', ['-O2', '-static']);
  const s = new Session();
  try {
    s.createMap({ name: 'events', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 1 << 24 });
    s.createMap({ name: 'target', type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 });
    const a = new Asm();
    a.storeImm(FP, -4, 0, 'u32').ldMap(R1, 'target').mov(R2, FP).alu64('add', R2, { imm: -4 }).call('map_lookup_elem');
    a.jmp('jeq', R0, { imm: 0 }, 'out').load(6 as never, R0, 0, 'u64');
    a.call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }).jmp('jne', R0, 6 as never, 'out');
    a.store(FP, -16, R0, 'u64').call('ktime_get_ns').store(FP, -8, R0, 'u64');
    a.ldMap(R1, 'events').mov(R2, FP).alu64('add', R2, { imm: -16 }).movImm(R3, 16).movImm(R4, 0).call('ringbuf_output');
    a.jmp('jeq', R0, { imm: 0 }, 'out');
    // Output failed: the buffer was full. Count it in slot 1.
    a.storeImm(FP, -4, 1, 'u32').ldMap(R1, 'target').mov(R2, FP).alu64('add', R2, { imm: -4 }).call('map_lookup_elem');
    a.jmp('jeq', R0, { imm: 0 }, 'out').movImm(R1, 1).atomicAdd(R0, 0, R1);
    a.label('out').movImm(R0, 0).exit();
    const prog = s.loadProgram({ name: 'bench_rb', type: 'tracepoint', insns: a });
    s.attachTracepoint(prog, 'syscalls', 'sys_enter_getppid');
    let got = 0;
    s.ringbuf(s.map('events'), () => void got++);
    const child = spawn(spinner, [String(calls)], { stdio: ['pipe', 'ignore', 'inherit'] });
    const key = Buffer.alloc(4), val = Buffer.alloc(8);
    val.writeBigUInt64LE(BigInt(child.pid!));
    s.map('target').update(key, val);
    const t0 = process.hrtime.bigint();
    child.stdin!.end('go\n');
    await new Promise((r) => child.on('exit', r));
    s.drainAll();
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    key.writeUInt32LE(1);
    const lost = s.map('target').lookup(key)!.readBigUInt64LE();
    return `ring buffer: ${got} events in ${secs.toFixed(2)} s = ${Math.round(got / secs).toLocaleString('en')} events/s consumed, ${lost} lost (of ${calls})`;
  } finally {
    s.close();
  }
}
