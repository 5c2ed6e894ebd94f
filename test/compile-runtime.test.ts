// Compiled programs running in the kernel: attached to syscalls:sys_enter_openat against the
// opener child (which opens a file exactly N times), and BEGIN programs run with
// BPF_PROG_TEST_RUN. Maps and ring buffer records are read directly and checked exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { compile } from '../src/lang/compile.js';
import { progTestRun } from '../src/kernel/bpf.js';
import { EVENTS_MAP, layoutOf, type CompiledScript } from '../src/lang/compiled.js';
import { decodeList, type DecodeContext } from '../src/runtime/decode.js';
import { histBucket, lhistBucket, type Value } from '../src/output/values.js';
import { buildC } from './lib/fixtures.js';
import { runChild } from './lib/run.js';
import { loadScript, mapOf, rawEntries, sumU64, type LoadedScript } from './lib/load-script.js';

const opener = buildC('opener', ['-O2', '-static']);
const TARGET = '/etc/hostname';
const N = 1000;
// The kernel keeps the first 15 bytes of the executable's name as comm.
const COMM = basename(opener).slice(0, 15);

const noSymbols: DecodeContext = {
  sym: { ksym: (a) => `0x${a.toString(16)}`, usym: (_p, a) => `0x${a.toString(16)}`, kstack: () => [], ustack: () => [] },
  probeNames: [],
  stackIps: () => [],
};

function attachAll(l: LoadedScript, script: CompiledScript): void {
  script.probes.forEach((p, i) => {
    if (p.attach.kind === 'tracepoint') l.s.attachTracepoint(l.programs[i], p.attach.category, p.attach.name);
  });
}

/** Ring buffer records as [event id, decoded arguments]. */
function collectEvents(l: LoadedScript, script: CompiledScript): Array<{ id: number; args: Value[] }> {
  const out: Array<{ id: number; args: Value[] }> = [];
  l.s.ringbuf(l.s.map(EVENTS_MAP), (d) => {
    const id = Number(d.getBigUint64(0, true));
    const ev = script.events[id];
    const types = ev.kind === 'printf' || ev.kind === 'system' || ev.kind === 'cat' ? ev.args : ev.kind === 'print_value' ? [ev.type] : [];
    out.push({ id, args: decodeList(types, d, 8, noSymbols) });
  });
  return out;
}

const text = (v: Value | undefined): string => (v && v.kind === 'string' ? v.value : `<${v?.kind}>`);
const num = (v: Value | undefined): bigint => (v && v.kind === 'int' ? v.value : -1n);

test('tracepoint program counts, sums and buckets every openat of the child exactly', async () => {
  const script = compile(`
    tracepoint:syscalls:sys_enter_openat /comm == "${COMM}"/ {
      @n[tid]++;
      @calls[comm] = count();
      @files[str(args->filename)] = count();
      @dirfd[comm, args->dfd] = count();
      @h = hist(@n[tid]);
      @l = lhist(@n[tid], 0, 500, 100);
      @s = sum(@n[tid]);
      @lo = min(@n[tid]);
      @hi = max(@n[tid]);
      @a = avg(@n[tid]);
      @last = @n[tid];
    }`);
  const l = loadScript(script);
  try {
    attachAll(l, script);
    const child = await runChild(opener, [TARGET, String(N)]);
    assert.equal(child.code, 0);

    const calls = rawEntries(l, mapOf(script, '@calls'));
    assert.equal(calls.length, 1);
    assert.equal(calls[0][0].toString('latin1').replace(/\0+$/, ''), COMM);
    assert.equal(sumU64(calls[0][1]), BigInt(N));

    const files = rawEntries(l, mapOf(script, '@files'));
    assert.equal(mapOf(script, '@files').keySize, 64);
    assert.deepEqual(files.map(([k, v]) => [k.toString('latin1').replace(/\0+$/, ''), sumU64(v)]), [[TARGET, BigInt(N)]]);

    // A two-part key: string[16] then an 8-byte signed int (AT_FDCWD is -100).
    const dirfd = rawEntries(l, mapOf(script, '@dirfd'));
    assert.equal(mapOf(script, '@dirfd').keySize, 24);
    assert.equal(dirfd.length, 1);
    assert.equal(dirfd[0][0].readBigInt64LE(16), -100n);

    // @n[tid] ran 1..N: hist and lhist buckets are the exact counts of those values.
    const wantHist = new Map<number, bigint>();
    const wantLhist = new Map<number, bigint>();
    for (let v = 1; v <= N; v++) {
      const hb = histBucket(BigInt(v));
      wantHist.set(hb, (wantHist.get(hb) ?? 0n) + 1n);
      const lb = lhistBucket(BigInt(v), 0, 500, 100);
      wantLhist.set(lb, (wantLhist.get(lb) ?? 0n) + 1n);
    }
    const buckets = (name: string): Map<number, bigint> => {
      const m = mapOf(script, name);
      assert.equal(m.keySize, 8, 'a keyless hist key is the bucket alone');
      return new Map(rawEntries(l, m).map(([k, v]) => [Number(k.readBigUInt64LE(0)), sumU64(v)]));
    };
    assert.deepEqual(buckets('@h'), wantHist);
    assert.equal(wantHist.get(11), 489n);
    assert.deepEqual(buckets('@l'), wantLhist);
    assert.deepEqual([...wantLhist.entries()].sort((a, b) => a[0] - b[0]), [[1, 99n], [2, 100n], [3, 100n], [4, 100n], [5, 100n], [6, 501n]]);

    const one = (name: string): Buffer[] => {
      const e = rawEntries(l, mapOf(script, name));
      assert.equal(e.length, 1, name);
      return e[0][1];
    };
    assert.equal(sumU64(one('@s')), BigInt((N * (N + 1)) / 2));
    // min/max: {value, set} per CPU; the CPUs that saw values agree on the extremes.
    const seen = (vals: Buffer[]): bigint[] => vals.filter((b) => b.readBigUInt64LE(8) === 1n).map((b) => b.readBigInt64LE(0));
    assert.equal(seen(one('@lo')).reduce((a, b) => (b < a ? b : a)), 1n);
    assert.equal(seen(one('@hi')).reduce((a, b) => (b > a ? b : a)), BigInt(N));
    const avg = one('@a');
    assert.deepEqual([sumU64(avg, 0), sumU64(avg, 8)], [BigInt(N), BigInt((N * (N + 1)) / 2)]);
    const last = rawEntries(l, mapOf(script, '@last'));
    assert.equal(last[0][1][0].readBigInt64LE(0), BigInt(N));
  } finally {
    l.s.close();
  }
});

test('printf events stream through the ring buffer with their arguments laid out by layoutOf', async () => {
  const script = compile(`
    tracepoint:syscalls:sys_enter_openat /comm == "${COMM}"/ {
      @i[tid]++;
      printf("%s %d %s %d\\n", comm, @i[tid], str(args->filename), args->dfd);
    }`);
  const l = loadScript(script);
  try {
    const events = collectEvents(l, script);
    attachAll(l, script);
    const child = await runChild(opener, [TARGET, String(N)]);
    l.s.drainAll();
    assert.equal(events.length, N);
    const ev = script.events[events[0].id];
    assert.equal(ev.kind, 'printf');
    assert.deepEqual(events.map((e) => num(e.args[1])), Array.from({ length: N }, (_, i) => BigInt(i + 1)));
    for (const e of events) {
      assert.equal(text(e.args[0]), COMM);
      assert.equal(text(e.args[2]), TARGET);
      assert.equal(num(e.args[3]), -100n);
    }
    assert.ok(child.pid > 0);
  } finally {
    l.s.close();
  }
});

test('BEGIN runs under BPF_PROG_TEST_RUN: loops, strings, tuples, maps and events', () => {
  const script = compile(`
    BEGIN {
      $i = 0; $s = 0;
      while ($i < 10) { $i++; if ($i % 2) { continue; } $s += $i; if ($i >= 8) { break; } }
      @w = $s;
      unroll(3) { @u++; }
      $a = "abc";
      @eq = $a == "abc" ? 1 : 0;
      @ne = $a != "abd";
      @sn = strncmp("hello", "help", 3);
      @sn4 = strncmp("hello", "help", 4);
      @t[1, "k"] = (7, "seven", -3);
      @neg = -5 / 1 + 2 * 3;
      @sh = (1 << 10) | 3;
      $x = 100; $x -= 1; $x *= 2; $x >>= 1; $x ^= 1;
      @cx = $x;
      @tern = $i > 5 ? "big" : "small";
      printf("%s-%d-%s\\n", "hi", 42, @tern);
      print(@t[1, "k"]);
      exit();
    }`);
  const l = loadScript(script);
  try {
    const events = collectEvents(l, script);
    progTestRun(l.programs[0].fd);
    l.s.drainAll();
    const val = (name: string): bigint => {
      const e = rawEntries(l, mapOf(script, name));
      assert.equal(e.length, 1, name);
      return e[0][1][0].readBigInt64LE(0);
    };
    assert.equal(val('@w'), 2n + 4n + 6n + 8n);
    assert.equal(val('@u'), 3n);
    assert.equal(val('@eq'), 1n);
    assert.equal(val('@ne'), 1n);
    assert.equal(val('@sn'), 0n);
    assert.equal(val('@sn4'), 1n);
    assert.equal(val('@sh'), 1027n);
    assert.equal(val('@cx'), 98n);
    const tern = rawEntries(l, mapOf(script, '@tern'));
    assert.equal(tern[0][1][0].toString('latin1').replace(/\0+$/, ''), 'big');

    const t = mapOf(script, '@t');
    assert.deepEqual(t.keys, [{ kind: 'int', size: 8, signed: true }, { kind: 'string', size: 2 }]);
    const [[k, [v]]] = rawEntries(l, t);
    assert.equal(k.readBigInt64LE(0), 1n);
    assert.equal(k.toString('latin1', 8, 9), 'k');
    const vt = t.aggregation.kind === 'value' ? t.aggregation.type : undefined;
    assert.ok(vt);
    const decoded = decodeList([vt], new DataView(v.buffer, v.byteOffset, v.byteLength), 0, noSymbols)[0];
    assert.deepEqual(decoded, {
      kind: 'tuple',
      elems: [
        { kind: 'int', value: 7n, bits: 64, signed: true },
        { kind: 'string', value: 'seven' },
        { kind: 'int', value: -3n, bits: 64, signed: true },
      ],
    });

    assert.deepEqual(events.map((e) => script.events[e.id].kind), ['printf', 'print_value', 'exit']);
    assert.deepEqual(events[0].args.map((a) => (a.kind === 'int' ? a.value : text(a))), ['hi', 42n, 'big']);
    assert.deepEqual(events[1].args[0], decoded);
    assert.equal(layoutOf({ kind: 'tuple', elems: [vt] }).size, 24);
  } finally {
    l.s.close();
  }
});

test('signed arithmetic and comparisons follow the operand types', () => {
  const script = compile('BEGIN { $m = -7; @lt = $m < 0; @div = -8 / 2; @sh = -16 >> 2; @cmpu = pid < 0; @mod = 17 % 5; }');
  const l = loadScript(script);
  try {
    progTestRun(l.programs[0].fd);
    const val = (name: string): bigint => rawEntries(l, mapOf(script, name))[0][1][0].readBigInt64LE(0);
    assert.equal(val('@lt'), 1n);
    assert.equal(val('@sh'), -4n);
    assert.equal(val('@cmpu'), 0n);
    assert.equal(val('@mod'), 2n);
    // bpftrace 0.17 divides unsigned, as BPF's div does.
    assert.equal(val('@div'), BigInt.asIntN(64, BigInt.asUintN(64, -8n) / 2n));
  } finally {
    l.s.close();
  }
});
