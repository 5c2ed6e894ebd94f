// Damaged BTF must give a TsbpfError that says what is wrong, never a crash or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Btf, VMLINUX_BTF } from '../src/btf/reader.js';
import { bitfieldAccess, memberNames, resolve, sizeOf } from '../src/btf/types.js';
import { TsbpfError } from '../src/kernel/errors.js';
import { BlobWriter, everyKindBlob } from './lib/btf-blob.js';

function rejects(bytes: Uint8Array, message: RegExp, base?: Btf): void {
  assert.throws(() => Btf.parse(bytes, { source: 'test.btf', base }), (e: unknown) => {
    assert.ok(e instanceof TsbpfError, `expected a TsbpfError, got ${String(e)}`);
    assert.match(e.message, message);
    assert.match(e.message, /^test\.btf /);
    return true;
  });
}

/** Uses every decoding path on every type: all that a caller could ask of the blob. */
function exercise(btf: Btf): void {
  for (let id = btf.firstId; id < btf.typeCount; id++) {
    const t = btf.type(id);
    btf.kindOf(id);
    btf.nameOf(id);
    btf.typeName(id);
    btf.findTypes(btf.kindOf(id), btf.nameOf(id));
    resolve(btf, id);
    try {
      sizeOf(btf, id);
    } catch (e) {
      if (!(e instanceof TsbpfError)) throw e;
    }
    if (t.kind === 'struct' || t.kind === 'union') {
      for (const name of memberNames(btf, id)) {
        const m = btf.structMember(id, name);
        if (m.bitSize) bitfieldAccess(m);
      }
    }
    if (t.kind === 'func') btf.funcSignature(id);
  }
  btf.nameIndex('struct');
  btf.rawTracepointNames();
}

const vmlinux = readFileSync(VMLINUX_BTF);

test('bad magic, version and header sizes', () => {
  rejects(new Uint8Array(0), /is 0 bytes, too short for a BTF header/);
  rejects(vmlinux.subarray(0, 10), /is 10 bytes, too short/);
  rejects(readFileSync(process.execPath).subarray(0, 4096), /does not start with the BTF magic 0xeb9f \(found 0x457f\)/);
  const v2 = Buffer.from(vmlinux.subarray(0, 4096));
  v2[2] = 2;
  rejects(v2, /has BTF version 2/);
  const hdr = Buffer.from(everyKindBlob());
  hdr.writeUInt32LE(1 << 20, 4);
  rejects(hdr, /header length of 1048576 bytes/);
});

test('truncated files name the section and type where the data ends', () => {
  rejects(vmlinux.subarray(0, 24), /is truncated: its type section ends at byte \d+ of 24/);
  rejects(vmlinux.subarray(0, vmlinux.length - 1), /is truncated: its string section ends at byte \d+ of \d+/);
  const blob = everyKindBlob();
  const typeEnd = 24 + blob.readUInt32LE(12);
  // Claim the type section ends mid-record.
  const cut = Buffer.from(blob);
  cut.writeUInt32LE(blob.readUInt32LE(12) - 4, 12);
  rejects(cut, /is truncated inside type 25 \(decl_tag\)/);
  for (let len = 0; len < blob.length; len++) {
    assert.throws(() => Btf.parse(blob.subarray(0, len)), TsbpfError, `cut at ${len} of ${blob.length} (types end at ${typeEnd})`);
  }
});

test('unknown kinds, bad string offsets and dangling type ids', () => {
  const blob = everyKindBlob();
  const kind31 = Buffer.from(blob);
  kind31.writeUInt32LE((31 << 24) >>> 0, 24 + 4);
  rejects(kind31, /has unknown kind 31 at type 1/);

  // Damage found lazily, when the type is decoded.
  const w = new BlobWriter();
  const int = w.add('int', 'int', 4, { extra: [(1 << 24) | 32] });
  const badName = w.add('typedef', 1 << 20, int);
  const dangling = w.add('ptr', '', 999);
  const btf = Btf.parse(w.bytes(), { source: 'test.btf' });
  assert.equal(btf.typeName(int), 'int');
  assert.throws(() => btf.type(badName), /test\.btf refers to string offset 1048576 outside its string section/);
  assert.throws(() => btf.type(dangling), (e: unknown) => e instanceof TsbpfError && /refers to type 999, beyond its last type 3/.test(e.message));
  assert.throws(() => btf.type(4), (e: unknown) => e instanceof TsbpfError && /has no type 4 \(its ids are 1\.\.3\)/.test(e.message));
  assert.throws(() => btf.type(-1), TsbpfError);

  const unterminated = Buffer.from(w.bytes());
  unterminated[unterminated.length - 1] = 0x41;
  assert.throws(() => Btf.parse(unterminated, { source: 'test.btf' }).nameOf(1), /unterminated string/);
});

test('type cycles are reported, not followed forever', () => {
  const w = new BlobWriter();
  const a = w.add('typedef', 'a_t', 2);
  w.add('const', '', a);
  const p = w.add('ptr', '', 3);
  const btf = Btf.parse(w.bytes(), { source: 'test.btf' });
  // A typedef prints by its name, so only following it can loop.
  assert.equal(btf.typeName(a), 'a_t');
  for (const f of [() => resolve(btf, a), () => sizeOf(btf, a), () => btf.typeName(p), () => btf.structMember(a, 'x')]) {
    assert.throws(f, (e: unknown) => e instanceof TsbpfError && /refers to itself/.test(e.message));
  }
});

test('unreadable files are TsbpfErrors', () => {
  assert.throws(() => Btf.open('/nonexistent/vmlinux'), (e: unknown) =>
    e instanceof TsbpfError && e.message === 'cannot read BTF from /nonexistent/vmlinux: ENOENT');
  assert.throws(() => Btf.open('/sys/kernel/btf'), (e: unknown) => e instanceof TsbpfError && /EISDIR/.test(e.message));
});

test('random corruption of a valid blob gives a TsbpfError or a readable blob, never anything else', () => {
  const blob = everyKindBlob();
  exercise(Btf.parse(blob));
  // A fixed-seed generator, so a failure reproduces.
  let seed = 0x2545f491;
  const rand = () => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  let ok = 0, refused = 0;
  for (let i = 0; i < 3000; i++) {
    const bad = Buffer.from(blob);
    for (let flips = 1 + Math.floor(rand() * 4); flips > 0; flips--) {
      bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
    }
    try {
      exercise(Btf.parse(bad));
      ok++;
    } catch (e) {
      if (!(e instanceof TsbpfError)) throw new Error(`iteration ${i}: ${String(e)}`, { cause: e });
      refused++;
    }
  }
  assert.ok(ok > 100 && refused > 100, `${ok} still readable, ${refused} refused`);
});
