// The BTF reader against gcc's own BTF (-gbtf) for a C file with known layout: the program
// prints sizeof/offsetof and the bytes of a struct of bitfields, and the reader must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Btf } from '../src/btf/reader.js';
import { bitfieldAccess, resolveType } from '../src/btf/types.js';
import { buildC } from './lib/fixtures.js';
import { bpftool, compareDumps } from './lib/btf-dump.js';

/** The bytes of a named section of an ELF64 little-endian file. */
function elfSection(file: Buffer, name: string): Buffer {
  const shoff = Number(file.readBigUInt64LE(0x28));
  const shentsize = file.readUInt16LE(0x3a), shnum = file.readUInt16LE(0x3c), shstrndx = file.readUInt16LE(0x3e);
  const header = (i: number) => {
    const h = shoff + i * shentsize;
    return { name: file.readUInt32LE(h), offset: Number(file.readBigUInt64LE(h + 24)), size: Number(file.readBigUInt64LE(h + 32)) };
  };
  const names = header(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const at = names.offset + h.name;
    if (file.toString('latin1', at, file.indexOf(0, at)) === name) return file.subarray(h.offset, h.offset + h.size);
  }
  throw new Error(`no ${name} section`);
}

const bin = buildC('btf_layout', ['-O0', '-gbtf']);
const out = execFileSync(bin, { encoding: 'utf8' });
const facts = new Map(out.trim().split('\n').map((l) => {
  const parts = l.split(' ');
  return [parts.slice(0, -1).join(' '), parts.at(-1)!] as const;
}));
const flagBytes = Buffer.from(/^flags bytes (.*)$/m.exec(out)![1].split(' ').map((h) => parseInt(h, 16)));
// The section is not 4-byte aligned in the file; the reader must not care.
const btf = Btf.parse(elfSection(readFileSync(bin), '.BTF'), { source: `${bin}:.BTF` });

test('gcc BTF decodes to exactly what bpftool dumps', () => {
  assert.ok(compareDumps(btf, bpftool('raw', bin)) > 30);
});

test('sizeof and offsetof agree with gcc, through anonymous members', () => {
  for (const s of ['layout', 'flags', 'inner']) {
    assert.equal(btf.sizeOf(btf.requireType('struct', s)), Number(facts.get(`sizeof ${s}`)), `sizeof ${s}`);
  }
  const paths = [...facts.keys()].filter((k) => k.startsWith('offsetof ')).map((k) => k.slice('offsetof '.length));
  assert.ok(paths.length >= 20);
  for (const path of paths) {
    const m = btf.structMember('layout', path);
    assert.equal(m.bitSize, 0);
    assert.equal(m.bitOffset, Number(facts.get(`offsetof ${path}`)) * 8, path);
  }
});

test('bitfield access reads back the values the program stored', () => {
  const want: Record<string, bigint> = { ready: 1n, mode: 5n, delta: -3n, wide: 0xabcdef1234n, tail: 99n };
  for (const [name, value] of Object.entries(want)) {
    const m = btf.structMember('flags', name);
    assert.ok(m.bitSize > 0, `${name} is a bitfield`);
    const a = bitfieldAccess(m);
    let raw = 0n;
    for (let i = a.loadSize - 1; i >= 0; i--) raw = (raw << 8n) | BigInt(flagBytes[a.byteOffset + i]);
    raw = BigInt.asUintN(a.bitSize, raw >> BigInt(a.shift));
    const t = resolveType(btf, m.type);
    const got = t.kind === 'int' && t.signed ? BigInt.asIntN(a.bitSize, raw) : raw;
    assert.equal(got, value, name);
  }
  assert.deepEqual(bitfieldAccess(btf.structMember('flags', 'wide')), { byteOffset: 1, loadSize: 8, shift: 1, bitSize: 40 });
});

test('types print as C declarations', () => {
  const member = (path: string) => btf.structMember('layout', path).type;
  const names: Record<string, string> = {
    tag: 'char[16]', name: 'const char *', argv: 'const char * const *', counter: 'volatile int',
    in: 'struct inner', fl: 'struct flags', next: 'struct layout *', handler: 'handler_t',
    callbacks: 'void (*[4])(int)', rowp: 'char (*)[16]', color: 'enum color', raw: 'u64_t',
    ratio: 'double', on: '_Bool',
  };
  for (const [path, name] of Object.entries(names)) assert.equal(btf.typeName(member(path)), name, path);
  assert.equal(btf.declaration(member('callbacks'), 'callbacks'), 'void (*callbacks[4])(int)');
  assert.equal(btf.declaration(member('rowp'), 'rowp'), 'char (*rowp)[16]');
  assert.equal(btf.declaration(member('argv'), 'argv'), 'const char * const *argv');
  assert.equal(btf.declaration(member('tag'), 'tag'), 'char tag[16]');
  assert.equal(btf.typeName(btf.resolve(member('handler'))), 'int (*)(void *, ...)');
  assert.equal(btf.funcSignature(btf.requireType('func', 'handle')), 'int handle(void *ctx, ...)');
  assert.equal(btf.funcSignature(btf.requireType('func', 'main')), 'int main(void)');
  const handle = btf.funcProto('handle');
  assert.equal(handle.variadic, true);
  assert.deepEqual(btf.funcArgs('handle').map((a) => [a.name, btf.typeName(a.type)]), [['ctx', 'void *']]);
  // The anonymous union inside struct inner prints as such.
  const inner = btf.type(btf.requireType('struct', 'inner'));
  assert.ok(inner.kind === 'struct');
  assert.equal(btf.typeName(inner.members[1].type), 'union {...}');
});

test('enum values and sizes', () => {
  const color = btf.type(btf.requireType('enum', 'color'));
  assert.ok(color.kind === 'enum');
  // gcc 12 does not mark signed enums (kind_flag), so RED reads back as its u32 pattern.
  const red = color.signed ? -2n : 0xfffffffen;
  assert.deepEqual(color.values, [{ name: 'RED', value: red }, { name: 'GREEN', value: 7n }, { name: 'BLUE', value: 0x7fffffffn }]);
  assert.equal(btf.sizeOf(color.id), 4);
  assert.equal(btf.sizeOf(btf.structMember('layout', 'callbacks').type), 32);
});
