// Writes small BTF blobs by hand for tests: split BTF on top of vmlinux (no module on the
// test machine has BTF), one type of every kind, and corrupt variants of both.

export const KIND = {
  int: 1, ptr: 2, array: 3, struct: 4, union: 5, enum: 6, fwd: 7, typedef: 8, volatile: 9,
  const: 10, restrict: 11, func: 12, func_proto: 13, var: 14, datasec: 15, float: 16,
  decl_tag: 17, type_tag: 18, enum64: 19,
} as const;

export class BlobWriter {
  private readonly strings: Buffer[] = [];
  private strLen = 0;
  private readonly strOffsets = new Map<string, number>();
  private readonly records: Buffer[] = [];
  nextId: number;

  /**
   * strBase/firstId are the base BTF's string size and type count for split BTF (0 and 1
   * for base BTF, whose string section must start with the empty string).
   */
  constructor(private readonly strBase = 0, firstId = 1, private readonly bigEndian = false) {
    this.nextId = firstId;
    if (strBase === 0) this.str('');
  }

  /** The absolute offset of a string, adding it on first use. */
  str(s: string): number {
    let off = this.strOffsets.get(s);
    if (off === undefined) {
      off = this.strBase + this.strLen;
      const bytes = Buffer.from(`${s}\0`);
      this.strings.push(bytes);
      this.strLen += bytes.length;
      this.strOffsets.set(s, off);
    }
    return off;
  }

  /** Appends one type record; returns its id. `extra` is the kind's trailing u32 words. */
  add(kind: keyof typeof KIND, name: string | number, sizeOrType: number, opts: { vlen?: number; kflag?: boolean; extra?: number[] } = {}): number {
    const extra = opts.extra ?? [];
    const rec = Buffer.alloc(12 + 4 * extra.length);
    this.u32(rec, typeof name === 'number' ? name : name === '' ? 0 : this.str(name), 0);
    this.u32(rec, (opts.kflag ? 1 : 0) << 31 | KIND[kind] << 24 | (opts.vlen ?? 0), 4);
    this.u32(rec, sizeOrType, 8);
    extra.forEach((w, i) => this.u32(rec, w, 12 + 4 * i));
    this.records.push(rec);
    return this.nextId++;
  }

  bytes(): Buffer {
    const types = Buffer.concat(this.records);
    const strs = Buffer.concat(this.strings);
    const hdr = Buffer.alloc(24);
    if (this.bigEndian) hdr.writeUInt16BE(0xeb9f, 0);
    else hdr.writeUInt16LE(0xeb9f, 0);
    hdr.writeUInt8(1, 2);
    this.u32(hdr, 24, 4);
    this.u32(hdr, 0, 8);
    this.u32(hdr, types.length, 12);
    this.u32(hdr, types.length, 16);
    this.u32(hdr, strs.length, 20);
    return Buffer.concat([hdr, types, strs]);
  }

  private u32(buf: Buffer, v: number, off: number): void {
    if (this.bigEndian) buf.writeUInt32BE(v >>> 0, off);
    else buf.writeUInt32LE(v >>> 0, off);
  }
}

/** A base BTF blob with one or more types of every kind, as a small C program would have. */
export function everyKindBlob(bigEndian = false): Buffer {
  const w = new BlobWriter(0, 1, bigEndian);
  const int = w.add('int', 'int', 4, { extra: [(1 << 24) | 32] });
  const uchar = w.add('int', 'unsigned char', 1, { extra: [(2 << 24) | 8] });
  const bool = w.add('int', '_Bool', 1, { extra: [(4 << 24) | 8] });
  const cint = w.add('const', '', int);
  const vint = w.add('volatile', '', int);
  const pchar = w.add('ptr', '', uchar);
  const rpchar = w.add('restrict', '', pchar);
  const arr = w.add('array', '', 0, { extra: [uchar, int, 16] });
  const fwd = w.add('fwd', 'opaque', 0, { kflag: true });
  const pfwd = w.add('ptr', '', fwd);
  const self = w.nextId + 1; // struct node, defined after the pointer to it
  const pself = w.add('ptr', '', self);
  w.add('struct', 'node', 40, {
    vlen: 6, kflag: true, extra: [
      w.str('next'), pself, 0,
      w.str('flag'), bool, 64,
      w.str('mode'), int, (3 << 24) | 72,
      w.str('ro'), cint, 96,
      w.str('tag'), arr, 128,
      0, self + 2, 256, // an anonymous union member: the type after the typedef
    ],
  });
  w.add('typedef', 'node_t', self);
  w.add('union', '', 4, { vlen: 2, extra: [w.str('as_int'), vint, 0, w.str('as_ptr'), rpchar, 0] });
  w.add('enum', 'sign', 4, { vlen: 2, kflag: true, extra: [w.str('NEG'), -1 >>> 0, w.str('POS'), 1] });
  w.add('enum64', 'big', 8, { vlen: 1, extra: [w.str('HUGE'), 0x89abcdef, 0x01234567] });
  const proto = w.add('func_proto', '', int, { vlen: 3, extra: [w.str('n'), pself, w.str('o'), pfwd, 0, 0] });
  const fn = w.add('func', 'walk', proto, { vlen: 1 });
  const dbl = w.add('float', 'double', 8);
  const tagged = w.add('type_tag', 'user', pchar);
  const v = w.add('var', 'ratio', dbl, { extra: [1] });
  w.add('var', 'name', tagged, { extra: [0] });
  w.add('datasec', '.data', 16, { vlen: 2, extra: [v, 0, 8, v + 1, 8, 8] });
  w.add('decl_tag', 'kfunc', fn, { extra: [-1 >>> 0] });
  w.add('decl_tag', 'nonnull', fn, { extra: [0] });
  return w.bytes();
}
