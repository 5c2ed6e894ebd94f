// Split BTF (as kernel modules have it) on top of the real vmlinux, and one hand-written
// blob with a type of every kind; both checked against bpftool's reading of the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf, VMLINUX_BTF } from '../src/btf/reader.js';
import { BlobWriter, everyKindBlob } from './lib/btf-blob.js';
import { bpftool, compareDumps } from './lib/btf-dump.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Offset of an existing string in vmlinux's string section, so split types can share it. */
function vmlinuxString(s: string): number {
  const file = readFileSync(VMLINUX_BTF);
  const hdrLen = file.readUInt32LE(4), strOff = hdrLen + file.readUInt32LE(16);
  const at = file.indexOf(Buffer.from(`\0${s}\0`), strOff);
  assert.ok(at >= strOff);
  return at + 1 - strOff;
}

function splitModule(base: Btf): { bytes: Buffer; ids: Record<string, number> } {
  // Like pahole's module BTF, but without the leading empty string, which split BTF may omit.
  const w = new BlobWriter(base.strTotal, base.typeCount);
  const task = base.requireType('struct', 'task_struct');
  const char = base.requireType('int', 'char');
  const uint = base.requireType('int', 'unsigned int');
  const ids: Record<string, number> = {};
  ids.taskPtr = w.add('ptr', '', task);
  ids.name = w.add('array', '', 0, { extra: [char, uint, 16] });
  ids.state = w.add('struct', 'tsbpf_mod_state', 32, {
    vlen: 3, extra: [
      w.str('task'), ids.taskPtr, 0,
      vmlinuxString('tgid'), base.requireType('typedef', 'pid_t'), 64,
      w.str('name'), ids.name, 96,
    ],
  });
  ids.statePtr = w.add('ptr', '', ids.state);
  ids.proto = w.add('func_proto', '', base.requireType('int', 'int'), {
    vlen: 2, extra: [w.str('state'), ids.statePtr, w.str('flags'), uint],
  });
  ids.fn = w.add('func', 'tsbpf_mod_fn', ids.proto, { vlen: 1 });
  ids.voidPtr = w.add('ptr', '', 0);
  ids.traceProto = w.add('func_proto', '', 0, { vlen: 2, extra: [0, ids.voidPtr, 0, ids.statePtr] });
  ids.tracePtr = w.add('ptr', '', ids.traceProto);
  ids.typedef = w.add('typedef', 'btf_trace_tsbpf_mod_event', ids.tracePtr);
  return { bytes: w.bytes(), ids };
}

test('split BTF resolves ids and strings across the base', () => {
  const base = Btf.vmlinux();
  const { bytes, ids } = splitModule(base);
  const file = join(dir, 'tsbpf_mod.btf');
  writeFileSync(file, bytes);
  const mod = Btf.open(file, base);

  assert.equal(mod.firstId, base.typeCount);
  assert.equal(compareDumps(mod, bpftool('raw', file, VMLINUX_BTF)), 10);
  assert.equal(mod.findType('struct', 'tsbpf_mod_state'), ids.state);
  assert.equal(mod.findType('struct', 'task_struct'), base.findType('struct', 'task_struct'));
  assert.equal(base.findType('struct', 'tsbpf_mod_state'), undefined);
  assert.equal(mod.typeName(ids.taskPtr), 'struct task_struct *');
  assert.deepEqual(mod.structMember('tsbpf_mod_state', 'tgid'), { name: 'tgid', type: base.requireType('typedef', 'pid_t'), bitOffset: 64, bitSize: 0 });
  assert.equal(mod.declaration(mod.structMember(ids.state, 'name').type, 'name'), 'char name[16]');
  assert.equal(mod.sizeOf(ids.state), 32);
  assert.equal(mod.funcSignature(ids.fn), 'int tsbpf_mod_fn(struct tsbpf_mod_state *state, unsigned int flags)');
  assert.deepEqual(mod.funcArgs('vfs_read').map((a) => a.name), ['file', 'buf', 'count', 'pos'], 'base functions are visible');
  // No __bpf_trace_ function gives names here, so the arguments are numbered.
  assert.deepEqual(mod.rawTracepointArgs('tsbpf_mod_event').map((a) => [a.name, mod.typeName(a.type)]),
    [['arg0', 'struct tsbpf_mod_state *']]);
  assert.deepEqual(mod.rawTracepointNames(), ['tsbpf_mod_event']);
  const index = mod.nameIndex('struct');
  assert.deepEqual(index.get('tsbpf_mod_state'), [ids.state]);
  assert.deepEqual(index.get('task_struct'), [base.findType('struct', 'task_struct')]);
});

test('a blob with every BTF kind decodes as bpftool reads it', () => {
  const file = join(dir, 'every.btf');
  writeFileSync(file, everyKindBlob());
  const btf = Btf.open(file);
  assert.equal(compareDumps(btf, bpftool('raw', file)), 25);
  const node = btf.requireType('struct', 'node');
  assert.equal(btf.typeName(btf.structMember(node, 'as_ptr').type), 'unsigned char * restrict');
  assert.equal(btf.declaration(btf.structMember(node, 'as_int').type, 'as_int'), 'volatile int as_int');
  assert.deepEqual(btf.structMember('node_t', 'as_int'), { name: 'as_int', type: 5, bitOffset: 256, bitSize: 0 });
  assert.deepEqual(btf.structMember(node, 'mode'), { name: 'mode', type: 1, bitOffset: 72, bitSize: 3 });
  assert.equal(btf.funcSignature(btf.requireType('func', 'walk')), 'int walk(struct node *n, union opaque *o, ...)');
  assert.equal(btf.typeName(btf.requireType('type_tag', 'user')), 'unsigned char *');
  const big = btf.type(btf.requireType('enum64', 'big'));
  assert.ok(big.kind === 'enum64');
  assert.deepEqual(big.values, [{ name: 'HUGE', value: 0x0123456789abcdefn }]);
  const sign = btf.type(btf.requireType('enum', 'sign'));
  assert.ok(sign.kind === 'enum' && sign.signed);
  assert.equal(sign.values[0].value, -1n);
  assert.throws(() => btf.sizeOf(btf.requireType('fwd', 'opaque')), /sizeof is not defined for union opaque/);
});

test('big-endian BTF (from a cross build) reads the same as little-endian', () => {
  const le = Btf.parse(everyKindBlob());
  const be = Btf.parse(everyKindBlob(true));
  assert.equal(be.typeCount, le.typeCount);
  for (let id = 1; id < le.typeCount; id++) assert.deepEqual(be.type(id), le.type(id), `type ${id}`);
  assert.equal(be.findType('func', 'walk'), le.findType('func', 'walk'));
});
