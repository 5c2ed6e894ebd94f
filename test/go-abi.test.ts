// Go register-ABI mapping from DWARF types, checked against the real calling convention of
// Go 1.19 binaries: uprobes read exactly the values the fixture passed from where the
// mapping says they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoBinary, assignGoAbi, type GoPiece, type GoValueLocation } from '../src/probes/go.js';
import { Session } from '../src/runtime/session.js';
import { TsbpfError } from '../src/kernel/errors.js';
import { buildGo } from './lib/fixtures.js';
import { runChild } from './lib/run.js';
import { decodeSnapshot, pieceBytes, snapshotProgram, valueBytes, type Snapshot, type SnapshotSpec } from './lib/go-snapshot.js';

const bin = buildGo('go_abi');

/** Pieces as short strings: `ax`, `X0`, `stack+16`, with offset/size when not the whole value. */
function where(v: GoValueLocation): string[] {
  return v.pieces.map((p: GoPiece) => ('reg' in p ? p.reg : 'xmm' in p ? `X${p.xmm}` : `stack+${p.stackOffset}`) + `@${p.offset}:${p.size}`);
}

test('ebpfDemo: a1->RAX, a2->RBX, a3->X0; results RAX, RBX, (RCX,RDI)', () => {
  const g = GoBinary.open(bin);
  assert.equal(g.abi, 'register');
  assert.equal(g.goVersion, 'go1.19.8');
  const s = g.signature('main.ebpfDemo');
  assert.deepEqual(s.params.map((p) => [p.name, p.type.name, ...where(p)]), [
    ['a1', 'int', 'ax@0:8'],
    ['a2', 'bool', 'bx@0:1'],
    ['a3', 'float32', 'X0@0:4'],
  ]);
  assert.deepEqual(s.results.map((p) => [p.name, p.type.name, ...where(p)]), [
    ['~r0', 'int64', 'ax@0:8'],
    ['~r1', 'int32', 'bx@0:4'],
    ['~r2', 'string', 'cx@0:8', 'di@8:8'],
  ]);
  assert.equal(s.params[2].unreadable, 'float in X0: BPF cannot read XMM registers at a uprobe');
  assert.equal(s.params[0].unreadable, undefined);
  assert.equal(s.stackSize, 0);
});

test('prepareAnswer: name->(RAX,RBX), year->RCX, status->RDI', () => {
  const s = GoBinary.open(bin).signature('main.prepareAnswer');
  assert.deepEqual(s.params.map((p) => [p.name, ...where(p)]), [
    ['name', 'ax@0:8', 'bx@8:8'],
    ['year', 'cx@0:8'],
    ['status', 'di@0:8'],
  ]);
  assert.deepEqual(s.results.map(where), [['ax@0:8']]);
});

test('manyArgs: composites in registers until the nine run out, the rest on the stack at their alignment', () => {
  const s = GoBinary.open(bin).signature('main.manyArgs');
  assert.deepEqual(s.params.map((p) => [p.name, ...where(p)]), [
    ['s', 'ax@0:8', 'bx@8:8', 'cx@16:8'], // slice: ptr, len, cap
    ['p', 'di@0:4', 'si@4:4', 'r8@8:8', 'r9@16:8'], // struct{x,y int32; tag string}
    ['e', 'r10@0:8', 'r11@8:8'], // interface: tab, data
    ['m', 'stack+0@0:8'], // map: a pointer, but no integer register is left
    ['f', 'stack+8@0:8'],
    ['c', 'X0@0:8', 'X1@8:8'], // complex128 still finds float registers
    ['arr', 'stack+16@0:2'], // [1]uint16 would be one register: none left
    ['big', 'stack+24@0:16'], // arrays of 2+ elements always go to the stack
    ['a', 'stack+40@0:8'],
    ['b', 'stack+48@0:8'],
    ['d', 'stack+56@0:8'],
    ['g', 'stack+64@0:8'],
  ]);
  // Results restart at RAX.
  assert.deepEqual(s.results.map((p) => [p.name, ...where(p)]), [
    ['~r0', 'ax@0:4', 'bx@4:4', 'cx@8:8', 'di@16:8'],
    ['~r1', 'si@0:8', 'r8@8:8'],
  ]);
  assert.equal(s.stackSize, 72);
});

test('the stack ABI (Go < 1.17) puts everything on the stack, results after pointer alignment', () => {
  const d = GoBinary.open(bin).signature('main.ebpfDemo');
  const types = [...d.params, ...d.results].map((p) => ({ name: p.name, type: p.type }));
  const s = assignGoAbi(types.slice(0, 3), types.slice(3), 'stack');
  assert.deepEqual([...s.params, ...s.results].map(where), [
    ['stack+0@0:8'], ['stack+8@0:1'], ['stack+12@0:4'], // float32 aligned to 4
    ['stack+16@0:8'], ['stack+24@0:4'], ['stack+32@0:16'],
  ]);
  assert.equal(s.params[2].unreadable, undefined);
  assert.equal(s.stackSize, 48);
});

test('a missing function names close matches', () => {
  const g = GoBinary.open(bin);
  assert.throws(() => g.func('prepareAnswer'), (e: unknown) => e instanceof TsbpfError && /no Go function named prepareAnswer/.test(e.message) && /main\.prepareAnswer/.test(e.hint ?? ''));
});

async function traceWith(sites: Array<{ offset: number; spec: SnapshotSpec }>, args: string[]): Promise<{ events: Snapshot[]; stdout: string; code: number | null }> {
  const s = new Session();
  try {
    s.createMap({ name: 'events', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 1 << 20 });
    const events: Snapshot[] = [];
    for (const { offset, spec } of sites) {
      const prog = s.loadProgram({ name: `go_site_${spec.tag}`, type: 'kprobe', insns: snapshotProgram(spec) });
      s.attachProbe(prog, 'uprobe', { name: bin, offset: BigInt(offset), retprobe: false });
    }
    s.ringbuf(s.map('events'), (d) => {
      const tag = d.getUint32(4, true);
      events.push(decodeSnapshot(sites.find((x) => x.spec.tag === tag)!.spec, d));
    });
    const child = await runChild(bin, args);
    s.drainAll();
    return { events: events.filter((e) => e.pid === child.pid), stdout: child.stdout, code: child.code };
  } finally {
    s.close();
  }
}

test('uprobe at prepareAnswer reads the string, year and status from the mapped registers', async () => {
  const g = GoBinary.open(bin);
  const sig = g.signature('main.prepareAnswer');
  const [name, year, status] = sig.params;
  const regOf = (p: GoPiece): number => {
    assert.ok('reg' in p);
    return p.ptRegsOffset;
  };
  const spec: SnapshotSpec = {
    tag: 1, stackBytes: 8, goidOffset: g.goroutineId().goidOffset,
    string: { ptr: regOf(name.pieces[0]), len: regOf(name.pieces[1]) },
  };
  const who = 'tsbpf-gopher';
  const { events, stdout, code } = await traceWith([{ offset: g.entryOffset('main.prepareAnswer'), spec }], [who, '2024', '7', '5']);
  assert.equal(code, 0);
  assert.match(stdout, new RegExp(`^sum ${5 * (who.length + 2024 + 7)} `));
  assert.equal(events.length, 5);
  for (const e of events) {
    const len = Number(pieceBytes(e, name.pieces[1]).readBigInt64LE());
    assert.equal(len, who.length);
    assert.equal(e.str.subarray(0, len).toString(), who);
    assert.equal(pieceBytes(e, year.pieces[0]).readBigInt64LE(), 2024n);
    assert.equal(pieceBytes(e, status.pieces[0]).readBigInt64LE(), 7n);
  }
});

test('uprobe at manyArgs finds register and stack arguments where the mapping puts them', async () => {
  const g = GoBinary.open(bin);
  const sig = g.signature('main.manyArgs');
  const spec: SnapshotSpec = { tag: 2, stackBytes: 8 + sig.stackSize, goidOffset: g.goroutineId().goidOffset };
  const { events, code } = await traceWith([{ offset: g.entryOffset('main.manyArgs'), spec }], ['abcdefghij', '1', '2', '1']);
  assert.equal(code, 0);
  assert.equal(events.length, 1);
  const e = events[0];
  const v = (name: string): Buffer => {
    const p = sig.params.find((x) => x.name === name)!;
    return valueBytes(e, p.pieces, p.type.size);
  };
  assert.equal(v('s').readBigInt64LE(8), 10n); // len([]byte("abcdefghij"))
  assert.ok(v('s').readBigInt64LE(16) >= 10n); // cap: the allocation's size class
  const p = v('p');
  assert.deepEqual([p.readInt32LE(0), p.readInt32LE(4), p.readBigInt64LE(16)], [1, 2, 1n]);
  assert.equal(v('e').readBigUInt64LE(0), 0n); // nil error
  assert.equal(v('m').readBigUInt64LE(0), 0n); // nil map
  assert.equal(v('f').readBigUInt64LE(0), 0n); // nil func
  assert.equal(v('arr').readUInt16LE(0), 3);
  assert.deepEqual([v('big').readBigInt64LE(0), v('big').readBigInt64LE(8)], [4n, 5n]);
  assert.deepEqual(['a', 'b', 'd', 'g'].map((n) => v(n).readBigInt64LE(0)), [6n, 7n, 8n, 9n]);
  assert.throws(() => valueBytes(e, sig.params.find((x) => x.name === 'c')!.pieces, 16), /X0: BPF cannot read XMM/);
});
