// A lazy BTF reader. Opening a blob makes one pass over the type section that records,
// per type id, where its record starts, its kind and its name offset (typed arrays, about
// 9 bytes a type); a type is decoded only when asked for. A single name lookup needs no
// index: BTF strings are deduplicated, so we find the name's offset in the string section
// with one memmem-style search and then scan the name-offset array for it. Bulk users
// (listings, wildcards) ask for nameIndex(kind), a map built once per kind.
import { readFileSync } from 'node:fs';
import { TsbpfError } from '../kernel/errors.js';
import {
  KIND_NAMES, declaration, funcSignature, protoOf, resolve, sizeOf, structMember, typeName,
  type BtfType, type FuncProtoType, type Kind, type Linkage, type Member, type Param, type TypeTable,
} from './types.js';

const MAGIC = 0xeb9f;
const HEADER_MIN = 24;
const TYPE_HEADER = 12;
const KIND_INT = 1, KIND_ARRAY = 3, KIND_STRUCT = 4, KIND_UNION = 5, KIND_ENUM = 6,
  KIND_FUNC_PROTO = 13, KIND_VAR = 14, KIND_DATASEC = 15, KIND_DECL_TAG = 17, KIND_ENUM64 = 19,
  KIND_MAX = 19;
const INT_SIGNED = 1, INT_CHAR = 2, INT_BOOL = 4;
const LINKAGES: readonly Linkage[] = ['static', 'global', 'extern'];
const KIND_NUMBERS = new Map<Kind, number>(KIND_NAMES.map((k, i) => [k, i]));

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

export interface ParseOptions {
  /** For split BTF (kernel modules): the BTF whose types and strings this one extends. */
  base?: Btf;
  /** Where the bytes came from, for error messages. */
  source?: string;
}

/** A raw tracepoint or function argument: its name (`argN` when BTF has none) and type id. */
export interface Arg extends Param { index: number }

/** Bytes of kind-specific data after a type's 12-byte header. */
function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case KIND_INT: case KIND_VAR: case KIND_DECL_TAG: return 4;
    case KIND_ARRAY: return 12;
    case KIND_STRUCT: case KIND_UNION: case KIND_DATASEC: case KIND_ENUM64: return 12 * vlen;
    case KIND_ENUM: case KIND_FUNC_PROTO: return 8 * vlen;
    default: return 0;
  }
}

function grow<T extends Uint32Array | Uint8Array>(a: T, cap: number): T {
  const bigger = new (a.constructor as new (n: number) => T)(cap);
  bigger.set(a);
  return bigger;
}

let vmlinuxCache: Btf | undefined;

export class Btf implements TypeTable {
  readonly base: Btf | undefined;
  readonly source: string;
  /** The lowest type id defined here: 1 for base BTF, the base's typeCount for split BTF. */
  readonly firstId: number;
  /** One more than the highest type id defined here (or in the base). */
  readonly typeCount: number;

  private readonly buf: Buffer;
  private readonly view: DataView;
  private readonly le: boolean;
  private readonly strStart: number;
  private readonly strLen: number;
  /** Absolute string offset of this blob's first string (base.strTotal for split BTF). */
  private readonly strBase: number;
  private readonly offsets: Uint32Array;
  private readonly kinds: Uint8Array;
  private readonly nameOffs: Uint32Array;
  private readonly decoded = new Map<number, BtfType>();
  private readonly lookups = new Map<string, number[]>();
  private readonly nameIndexes = new Map<Kind, Map<string, number[]>>();

  private constructor(bytes: Uint8Array, opts: ParseOptions) {
    this.base = opts.base;
    this.source = opts.source ?? (opts.base ? 'split BTF' : 'BTF');
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const len = bytes.byteLength;
    if (len < HEADER_MIN) this.fail(`is ${len} bytes, too short for a BTF header (${HEADER_MIN})`);
    if (this.view.getUint16(0, true) === MAGIC) this.le = true;
    else if (this.view.getUint16(0, false) === MAGIC) this.le = false;
    else this.fail(`does not start with the BTF magic 0xeb9f (found 0x${this.view.getUint16(0, true).toString(16)})`);
    const version = this.view.getUint8(2);
    if (version !== 1) this.fail(`has BTF version ${version}; only version 1 exists`);
    const hdrLen = this.u32(4);
    if (hdrLen < HEADER_MIN || hdrLen > len) this.fail(`has a header length of ${hdrLen} bytes but is ${len} bytes long`);
    const typeStart = hdrLen + this.u32(8), typeLen = this.u32(12);
    this.strStart = hdrLen + this.u32(16);
    this.strLen = this.u32(20);
    if (typeStart + typeLen > len) this.fail(`is truncated: its type section ends at byte ${typeStart + typeLen} of ${len}`);
    if (this.strStart + this.strLen > len) this.fail(`is truncated: its string section ends at byte ${this.strStart + this.strLen} of ${len}`);
    if (!this.base && (this.strLen === 0 || this.buf[this.strStart] !== 0)) this.fail('has a string section that does not start with an empty string');
    this.strBase = this.base ? this.base.strTotal : 0;
    this.firstId = this.base ? this.base.typeCount : 1;

    // Kernel type records average about 24 bytes; start a little above that count and grow.
    let cap = Math.max(16, Math.ceil(typeLen / 16));
    let offsets = new Uint32Array(cap), kinds = new Uint8Array(cap), nameOffs = new Uint32Array(cap);
    let n = 0;
    const end = typeStart + typeLen;
    for (let off = typeStart; off < end; n++) {
      if (off + TYPE_HEADER > end) this.fail(`is truncated inside type ${this.firstId + n}`);
      if (n === cap) {
        cap *= 2;
        offsets = grow(offsets, cap);
        kinds = grow(kinds, cap);
        nameOffs = grow(nameOffs, cap);
      }
      const info = this.u32(off + 4);
      const kind = (info >>> 24) & 0x1f;
      if (kind === 0 || kind > KIND_MAX) {
        this.fail(`has unknown kind ${kind} at type ${this.firstId + n}`, 'the BTF may come from a newer kernel than tsbpf knows; please report it');
      }
      offsets[n] = off;
      kinds[n] = kind;
      nameOffs[n] = this.u32(off);
      off += TYPE_HEADER + extraBytes(kind, info & 0xffff);
      if (off > end) this.fail(`is truncated inside type ${this.firstId + n} (${KIND_NAMES[kind]})`);
    }
    this.offsets = offsets.slice(0, n);
    this.kinds = kinds.slice(0, n);
    this.nameOffs = nameOffs.slice(0, n);
    this.typeCount = this.firstId + n;
  }

  /** Parse a BTF blob (a .BTF section or a /sys/kernel/btf file). The bytes are kept, not copied. */
  static parse(bytes: Uint8Array, opts: ParseOptions = {}): Btf {
    return new Btf(bytes, opts);
  }

  static open(path: string, base?: Btf): Btf {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new TsbpfError(`cannot read BTF from ${path}: ${code ?? String(err)}`, {
        cause: err,
        hint: code === 'EACCES' || code === 'EPERM' ? 'run as root' : undefined,
      });
    }
    return new Btf(bytes, { base, source: path });
  }

  /** The running kernel's BTF, read once per process. */
  static vmlinux(): Btf {
    if (!vmlinuxCache) {
      try {
        vmlinuxCache = Btf.open(VMLINUX_BTF);
      } catch (err) {
        if ((err as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw err;
        throw new TsbpfError(`this kernel exposes no BTF (${VMLINUX_BTF} is missing)`, {
          hint: 'struct access and typed raw tracepoint arguments need a kernel built with CONFIG_DEBUG_INFO_BTF=y',
        });
      }
    }
    return vmlinuxCache;
  }

  /**
   * Drops the cached vmlinux BTF (~7 MB) once compilation no longer needs it, so a long
   * trace does not carry it; a later vmlinux() reads it again.
   */
  static release(): boolean {
    const had = vmlinuxCache !== undefined;
    vmlinuxCache = undefined;
    return had;
  }

  /** A loaded module's BTF, split on top of vmlinux. */
  static module(name: string): Btf {
    const path = `/sys/kernel/btf/${name}`;
    try {
      return Btf.open(path, Btf.vmlinux());
    } catch (err) {
      if ((err as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw err;
      throw new TsbpfError(`module '${name}' has no BTF (${path} is missing)`, {
        hint: 'the module is not loaded, or was built without BTF; `ls /sys/kernel/btf` lists those that have it',
      });
    }
  }

  // --- raw access ------------------------------------------------------------------

  /** Total string-section size including the base's, i.e. where a split BTF's strings start. */
  get strTotal(): number {
    return this.strBase + this.strLen;
  }

  kindOf(id: number): Kind {
    if (id === 0) return 'void';
    if (id < this.firstId && this.base) return this.base.kindOf(id);
    return KIND_NAMES[this.kinds[this.index(id)]];
  }

  /** A type's name without decoding the rest of it ('' for anonymous types). */
  nameOf(id: number): string {
    if (id === 0) return 'void';
    if (id < this.firstId && this.base) return this.base.nameOf(id);
    return this.str(this.nameOffs[this.index(id)]);
  }

  /** Ids of every type of one kind defined in this blob (not its base), ascending. */
  idsOfKind(kind: Kind): number[] {
    const k = KIND_NUMBERS.get(kind)!;
    const out: number[] = [];
    for (let i = 0; i < this.kinds.length; i++) if (this.kinds[i] === k) out.push(this.firstId + i);
    return out;
  }

  type(id: number): BtfType {
    if (id === 0) return { kind: 'void', id: 0, name: 'void' };
    if (id < this.firstId && this.base) return this.base.type(id);
    let t = this.decoded.get(id);
    if (!t) {
      t = this.decode(id);
      this.decoded.set(id, t);
    }
    return t;
  }

  /** The string at an absolute string offset (offsets below strBase live in the base). */
  str(off: number): string {
    if (off < this.strBase && this.base) return this.base.str(off);
    const rel = off - this.strBase;
    if (rel < 0 || rel >= this.strLen) this.fail(`refers to string offset ${off} outside its string section`);
    const start = this.strStart + rel;
    const end = this.buf.indexOf(0, start);
    if (end < 0 || end >= this.strStart + this.strLen) this.fail(`has an unterminated string at offset ${off}`);
    return this.buf.toString('utf8', start, end);
  }

  // --- lookups ---------------------------------------------------------------------

  /** Every type of `kind` named `name`, base types first. */
  findTypes(kind: Kind, name: string): readonly number[] {
    const index = this.nameIndexes.get(kind);
    if (index) return index.get(name) ?? [];
    const key = `${kind}\0${name}`;
    let ids = this.lookups.get(key);
    if (!ids) {
      ids = this.base ? [...this.base.findTypes(kind, name)] : [];
      const k = KIND_NUMBERS.get(kind)!;
      const strOffs = name === '' ? [] : this.stringOffsets(name);
      for (const target of strOffs) {
        for (let i = 0; i < this.nameOffs.length; i++) {
          if (this.nameOffs[i] === target && this.kinds[i] === k) ids.push(this.firstId + i);
        }
      }
      if (strOffs.length > 1) ids.sort((a, b) => a - b);
      this.lookups.set(key, ids);
    }
    return ids;
  }

  /**
   * Name -> ids for every named type of one kind (base types included), built on first
   * use. Single lookups do not need it; listings and bulk lookups do, and it makes later
   * findType calls for that kind a map lookup.
   */
  nameIndex(kind: Kind): ReadonlyMap<string, readonly number[]> {
    let index = this.nameIndexes.get(kind);
    if (!index) {
      index = new Map();
      if (this.base) for (const [name, ids] of this.base.nameIndex(kind)) index.set(name, [...ids]);
      for (const id of this.idsOfKind(kind)) {
        const name = this.nameOf(id);
        if (name === '') continue;
        const ids = index.get(name);
        if (ids) ids.push(id);
        else index.set(name, [id]);
      }
      this.nameIndexes.set(kind, index);
    }
    return index;
  }

  findType(kind: Kind, name: string): number | undefined {
    return this.findTypes(kind, name)[0];
  }

  /** Like findType, but throws a TsbpfError that says what was missing. */
  requireType(kind: Kind, name: string): number {
    const id = this.findType(kind, name);
    if (id === undefined) {
      const what = kind === 'struct' || kind === 'union' || kind === 'enum' ? `${kind} ${name}` : `${kind} '${name}'`;
      throw new TsbpfError(`${what} is not in ${this.source}`, {
        hint: kind === 'struct' && this.findType('union', name) !== undefined ? `it is a union: write 'union ${name}'` : undefined,
      });
    }
    return id;
  }

  // Offsets (absolute) at which `name` is stored in this blob's own string section.
  private stringOffsets(name: string): number[] {
    const out: number[] = [];
    const needle = Buffer.from(`\0${name}\0`, 'utf8');
    const strEnd = this.strStart + this.strLen;
    // A split blob's first string has no NUL before it inside its own section.
    if (this.strLen >= needle.length - 1 && this.buf.compare(needle, 1, needle.length, this.strStart, this.strStart + needle.length - 1) === 0) {
      out.push(this.strBase);
    }
    let from = this.strStart;
    for (;;) {
      const pos = this.buf.indexOf(needle, from);
      if (pos < 0 || pos + needle.length > strEnd) break;
      out.push(this.strBase + pos + 1 - this.strStart);
      from = pos + needle.length - 1;
    }
    return out;
  }

  resolve(id: number): number { return resolve(this, id); }
  sizeOf(id: number): number { return sizeOf(this, id); }
  typeName(id: number): string { return typeName(this, id); }
  declaration(id: number, name: string): string { return declaration(this, id, name); }
  funcSignature(funcId: number): string { return funcSignature(this, funcId); }

  /**
   * A member of a struct/union by dotted path ('f_path.dentry'), through anonymous members,
   * with its bit offset from the start of the outer type. `struct` is an id or a name
   * (looked up as a struct, then a union, then a typedef).
   */
  structMember(struct: number | string, path: string): Member {
    const id = typeof struct === 'number' ? struct
      : this.findType('struct', struct) ?? this.findType('union', struct) ?? this.requireType('typedef', struct);
    return structMember(this, id, path);
  }

  /** Names of all raw tracepoints this BTF types (from its btf_trace_* typedefs). */
  rawTracepointNames(): string[] {
    const out: string[] = [];
    for (const id of this.idsOfKind('typedef')) {
      const name = this.nameOf(id);
      if (name.startsWith('btf_trace_')) out.push(name.slice('btf_trace_'.length));
    }
    return out;
  }

  /**
   * A raw tracepoint's arguments, without the leading `void *__data`. Types come from the
   * typedef btf_trace_NAME; names from the __bpf_trace_NAME (or __probestub_NAME) function,
   * which has the same parameters with names; `argN` when neither is there.
   */
  rawTracepointArgs(name: string): Arg[] {
    const typedef = this.findType('typedef', `btf_trace_${name}`);
    if (typedef === undefined) {
      throw new TsbpfError(`no raw tracepoint '${name}' in ${this.source} (no typedef btf_trace_${name})`, {
        hint: 'list raw tracepoints with `tsbpf -l "rawtracepoint:*"`; module tracepoints need that module loaded',
      });
    }
    const params = protoOf(this, typedef).params.slice(1);
    const named = this.namedTraceParams(name, params.length + 1);
    return params.map((p, i) => ({ index: i, type: p.type, name: named?.[i + 1].name || `arg${i}` }));
  }

  private namedTraceParams(name: string, count: number): Param[] | undefined {
    for (const fn of [`__bpf_trace_${name}`, `__probestub_${name}`]) {
      const id = this.findType('func', fn);
      if (id === undefined) continue;
      const params = protoOf(this, id).params;
      if (params.length === count) return params;
    }
    return undefined;
  }

  /** A kernel function's prototype (FUNC -> FUNC_PROTO), for fentry/fexit and listings. */
  funcProto(name: string): FuncProtoType & { func: number } {
    const func = this.findType('func', name);
    if (func === undefined) {
      throw new TsbpfError(`function '${name}' is not in ${this.source}`, {
        hint: 'it may be inlined or static without BTF; list functions with `tsbpf -l "fentry:*"`',
      });
    }
    return { ...protoOf(this, func), func };
  }

  funcArgs(name: string): Arg[] {
    return this.funcProto(name).params.map((p, index) => ({ index, name: p.name || `arg${index}`, type: p.type }));
  }

  // --- decoding --------------------------------------------------------------------

  private index(id: number): number {
    const i = id - this.firstId;
    if (!Number.isInteger(id) || i < 0 || i >= this.offsets.length) {
      this.fail(`has no type ${id} (its ids are ${this.firstId}..${this.typeCount - 1})`);
    }
    return i;
  }

  private decode(id: number): BtfType {
    const off = this.offsets[this.index(id)];
    const name = this.str(this.u32(off));
    const info = this.u32(off + 4);
    const kind = KIND_NAMES[(info >>> 24) & 0x1f];
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const sizeOrType = this.u32(off + 8);
    const p = off + TYPE_HEADER;
    switch (kind) {
      case 'int': {
        const enc = this.u32(p);
        const e = (enc >>> 24) & 0x0f;
        return {
          kind, id, name, size: sizeOrType, bits: enc & 0xff, bitOffset: (enc >>> 16) & 0xff,
          signed: (e & INT_SIGNED) !== 0, char: (e & INT_CHAR) !== 0, bool: (e & INT_BOOL) !== 0,
        };
      }
      case 'ptr':
        return { kind, id, name, target: this.ref(sizeOrType) };
      case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag':
        return { kind, id, name, target: this.ref(sizeOrType) };
      case 'array':
        return { kind, id, name, elem: this.ref(this.u32(p)), index: this.ref(this.u32(p + 4)), len: this.u32(p + 8) };
      case 'struct': case 'union': {
        const members = [];
        for (let i = 0, q = p; i < vlen; i++, q += 12) {
          const moff = this.u32(q + 8);
          members.push({
            name: this.str(this.u32(q)),
            type: this.ref(this.u32(q + 4)),
            bitOffset: kflag ? moff & 0xffffff : moff,
            bitSize: kflag ? moff >>> 24 : 0,
          });
        }
        return { kind, id, name, size: sizeOrType, members };
      }
      case 'enum': {
        const values = [];
        for (let i = 0, q = p; i < vlen; i++, q += 8) {
          const v = kflag ? this.view.getInt32(q + 4, this.le) : this.u32(q + 4);
          values.push({ name: this.str(this.u32(q)), value: BigInt(v) });
        }
        return { kind, id, name, size: sizeOrType, signed: kflag, values };
      }
      case 'enum64': {
        const values = [];
        for (let i = 0, q = p; i < vlen; i++, q += 12) {
          const raw = (BigInt(this.u32(q + 8)) << 32n) | BigInt(this.u32(q + 4));
          values.push({ name: this.str(this.u32(q)), value: kflag ? BigInt.asIntN(64, raw) : raw });
        }
        return { kind, id, name, size: sizeOrType, signed: kflag, values };
      }
      case 'fwd':
        return { kind, id, name, fwdKind: kflag ? 'union' : 'struct' };
      case 'func':
        return { kind, id, name, proto: this.ref(sizeOrType), linkage: this.linkage(vlen, id) };
      case 'func_proto': {
        const params: Param[] = [];
        let variadic = false;
        for (let i = 0, q = p; i < vlen; i++, q += 8) {
          const nameOff = this.u32(q), type = this.u32(q + 4);
          // C's `...` is encoded as a final parameter with neither name nor type.
          if (i === vlen - 1 && nameOff === 0 && type === 0) variadic = true;
          else params.push({ name: this.str(nameOff), type: this.ref(type) });
        }
        return { kind, id, name, ret: this.ref(sizeOrType), params, variadic };
      }
      case 'var':
        return { kind, id, name, type: this.ref(sizeOrType), linkage: this.linkage(this.u32(p), id) };
      case 'datasec': {
        const vars = [];
        for (let i = 0, q = p; i < vlen; i++, q += 12) {
          vars.push({ type: this.ref(this.u32(q)), offset: this.u32(q + 4), size: this.u32(q + 8) });
        }
        return { kind, id, name, size: sizeOrType, vars };
      }
      case 'float':
        return { kind, id, name, size: sizeOrType };
      case 'decl_tag':
        return { kind, id, name, target: this.ref(sizeOrType), componentIdx: this.view.getInt32(p, this.le) };
      default:
        // The index pass rejected every other kind number.
        throw new Error(`unreachable BTF kind ${kind}`);
    }
  }

  private ref(id: number): number {
    if (id >= this.typeCount) this.fail(`refers to type ${id}, beyond its last type ${this.typeCount - 1}`);
    return id;
  }

  private linkage(n: number, id: number): Linkage {
    const l = LINKAGES[n];
    if (!l) this.fail(`has unknown linkage ${n} on type ${id}`);
    return l;
  }

  private u32(off: number): number {
    return this.view.getUint32(off, this.le);
  }

  private fail(what: string, hint?: string): never {
    throw new TsbpfError(`${this.source} ${what}`, {
      hint: hint ?? (this.source === VMLINUX_BTF ? undefined : 'the file is not valid BTF, or is damaged'),
    });
  }
}
