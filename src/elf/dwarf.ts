// A small DWARF 2-5 reader: compile units, functions with their parameters, and types,
// enough to place Go (and C) arguments without a debugger. DIEs are decoded on demand from
// .debug_info; only names and offsets are indexed, so a binary with tens of megabytes of
// debug info costs one walk and a couple of maps, not a tree of every DIE.
import { inflateSync } from 'node:zlib';
import { TsbpfError } from '../kernel/errors.js';
import { cString, ElfFile, SHT_NOBITS } from './reader.js';
import { lastAtOrBelow, rangeHolding } from './search.js';

const SHF_COMPRESSED = 0x800;
const ELFCOMPRESS_ZLIB = 1;
const ELFCOMPRESS_ZSTD = 2;

// Tags.
const TAG = {
  array_type: 0x01, formal_parameter: 0x05, member: 0x0d, pointer_type: 0x0f,
  structure_type: 0x13, subroutine_type: 0x15, typedef: 0x16, union_type: 0x17, subrange_type: 0x21,
  base_type: 0x24, const_type: 0x26, enumeration_type: 0x04, subprogram: 0x2e, volatile_type: 0x35,
  restrict_type: 0x37, unspecified_type: 0x3b, namespace: 0x39,
} as const;

// Attributes.
const AT = {
  sibling: 0x01, name: 0x03, byte_size: 0x0b, low_pc: 0x11, high_pc: 0x12, producer: 0x25, upper_bound: 0x2f,
  abstract_origin: 0x31, count: 0x37, data_member_location: 0x38, encoding: 0x3e, specification: 0x47,
  type: 0x49, variable_parameter: 0x4b, linkage_name: 0x6e, str_offsets_base: 0x72, addr_base: 0x73,
  goKind: 0x2900, // Go's reflect.Kind of the type
} as const;

const FORM = {
  addr: 0x01, block2: 0x03, block4: 0x04, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08, block: 0x09,
  block1: 0x0a, data1: 0x0b, flag: 0x0c, sdata: 0x0d, strp: 0x0e, udata: 0x0f, ref_addr: 0x10, ref1: 0x11,
  ref2: 0x12, ref4: 0x13, ref8: 0x14, ref_udata: 0x15, indirect: 0x16, sec_offset: 0x17, exprloc: 0x18,
  flag_present: 0x19, strx: 0x1a, addrx: 0x1b, ref_sup4: 0x1c, strp_sup: 0x1d, data16: 0x1e, line_strp: 0x1f,
  ref_sig8: 0x20, implicit_const: 0x21, loclistx: 0x22, rnglistx: 0x23, ref_sup8: 0x24, strx1: 0x25,
  strx2: 0x26, strx3: 0x27, strx4: 0x28, addrx1: 0x29, addrx2: 0x2a, addrx3: 0x2b, addrx4: 0x2c,
  GNU_addr_index: 0x1f01, GNU_str_index: 0x1f02, GNU_ref_alt: 0x1f20, GNU_strp_alt: 0x1f21,
} as const;

/** DW_ATE_* base type encodings we tell apart. */
export type BaseEncoding = 'boolean' | 'signed' | 'unsigned' | 'float' | 'complex' | 'other';
const encodings: Record<number, BaseEncoding> = { 2: 'boolean', 3: 'complex', 4: 'float', 5: 'signed', 6: 'signed', 7: 'unsigned', 8: 'unsigned', 0x10: 'unsigned' };

interface TypeCommon {
  /** .debug_info offset of the DIE, unique per type. */
  offset: number;
  name: string;
  /** Bytes; 0 when DWARF gives none (e.g. void). */
  size: number;
  /** Go's reflect.Kind (DW_AT_go_kind), when the producer is the Go toolchain. */
  goKind?: number;
}
export interface BaseType extends TypeCommon { kind: 'base'; encoding: BaseEncoding }
export interface PointerType extends TypeCommon { kind: 'pointer'; target?: DwarfType }
export interface StructMember { name: string; offset: number; type: DwarfType }
export interface StructType extends TypeCommon { kind: 'struct' | 'union'; members: StructMember[] }
export interface ArrayType extends TypeCommon { kind: 'array'; element: DwarfType; count: number }
/** Typedefs and qualifiers (const, volatile, restrict): same layout as `target`. */
export interface AliasType extends TypeCommon { kind: 'typedef'; target?: DwarfType }
export interface FuncType extends TypeCommon { kind: 'func' }
export interface EnumType extends TypeCommon { kind: 'enum' }
export interface VoidType extends TypeCommon { kind: 'void' }
export type DwarfType = BaseType | PointerType | StructType | ArrayType | AliasType | FuncType | EnumType | VoidType;

export interface DwarfParam {
  name: string;
  type: DwarfType;
  /** DW_AT_variable_parameter: Go sets it on results (`~r0` or named results). */
  isResult: boolean;
}

export interface DwarfFunction {
  name: string;
  /** .debug_info offset of the subprogram DIE. */
  offset: number;
  lowPc: number;
  /** First address past the function. */
  highPc: number;
  /** Parameters then results, in declaration order. */
  params: DwarfParam[];
  unit: string;
}

export interface DwarfUnit {
  offset: number;
  version: number;
  /** Offset of the unit's root DIE. */
  dieOffset: number;
  /** First offset past the unit. */
  end: number;
  addrSize: number;
  offsetSize: 4 | 8;
  name: string;
  producer: string;
  abbrevs: Map<number, Abbrev>;
  strOffsetsBase: number;
  addrBase: number;
}

interface AttrSpec { at: number; form: number; implicit: bigint }
interface Abbrev { tag: number; hasChildren: boolean; attrs: AttrSpec[] }
type AttrValue = number | bigint | string | boolean | Buffer;

interface Die {
  offset: number;
  tag: number;
  hasChildren: boolean;
  attrs: Map<number, AttrValue>;
  /** Attribute forms, to tell a high_pc address from a length and refs from data. */
  forms: Map<number, number>;
  unit: DwarfUnit;
  /** Offset just past this DIE's own attributes. */
  next: number;
}

const typeTags = new Set<number>([
  TAG.array_type, TAG.pointer_type, TAG.structure_type, TAG.subroutine_type, TAG.typedef, TAG.union_type,
  TAG.base_type, TAG.enumeration_type, TAG.const_type, TAG.volatile_type, TAG.restrict_type, TAG.unspecified_type,
]);

/** Section bytes, decompressed when the linker compressed them (SHF_COMPRESSED or .zdebug_*). */
export function debugSection(elf: ElfFile, name: string): Buffer | undefined {
  const plain = elf.section(name);
  const zname = name.replace(/^\.debug_/, '.zdebug_');
  const s = plain ?? elf.section(zname);
  if (!s || s.type === SHT_NOBITS) return undefined;
  const data = elf.sectionData(s);
  if (s.flags & SHF_COMPRESSED) {
    const type = data.readUInt32LE(0);
    if (type === ELFCOMPRESS_ZSTD) {
      throw new TsbpfError(`${elf.path}: section ${name} is zstd-compressed, which this Node.js cannot inflate`, {
        hint: 'rebuild without zstd debug compression (e.g. -gz=zlib) or decompress it: objcopy --decompress-debug-sections',
      });
    }
    if (type !== ELFCOMPRESS_ZLIB) throw new TsbpfError(`${elf.path}: section ${name} uses unknown compression type ${type}`);
    return inflate(elf, name, data.subarray(24), Number(data.readBigUInt64LE(8)));
  }
  if (!plain && data.subarray(0, 4).toString('latin1') === 'ZLIB') {
    return inflate(elf, name, data.subarray(12), Number(data.readBigUInt64BE(4)));
  }
  return data;
}

function inflate(elf: ElfFile, name: string, z: Buffer, size: number): Buffer {
  let out: Buffer;
  try {
    out = inflateSync(z);
  } catch (e) {
    throw new TsbpfError(`${elf.path}: compressed section ${name} is corrupt (${(e as Error).message})`);
  }
  if (out.length !== size) throw new TsbpfError(`${elf.path}: section ${name} inflated to ${out.length} bytes, header says ${size}`);
  return out;
}

/** A cursor over a DWARF section. */
class Cursor {
  constructor(readonly b: Buffer, public o: number) {}
  u8(): number { return this.b.readUInt8(this.o++); }
  u16(): number { const v = this.b.readUInt16LE(this.o); this.o += 2; return v; }
  u24(): number { const v = this.b.readUIntLE(this.o, 3); this.o += 3; return v; }
  u32(): number { const v = this.b.readUInt32LE(this.o); this.o += 4; return v; }
  u64(): bigint { const v = this.b.readBigUInt64LE(this.o); this.o += 8; return v; }
  uleb(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.u8();
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (!(byte & 0x80)) return result;
    }
  }
  sleb(): bigint {
    let result = 0n;
    let shift = 0n;
    let byte: number;
    do {
      byte = this.u8();
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
    } while (byte & 0x80);
    return byte & 0x40 ? result - (1n << shift) : result;
  }
  /** ULEB128 that must fit a JS number (offsets, counts, codes). */
  un(): number { return Number(this.uleb()); }
  offset(size: 4 | 8): number { return size === 8 ? Number(this.u64()) : this.u32(); }
  addr(size: number): number { return size === 8 ? Number(this.u64()) : size === 4 ? this.u32() : this.u16(); }
  bytes(n: number): Buffer { const v = this.b.subarray(this.o, this.o + n); this.o += n; return v; }
  cstr(): string {
    let end = this.b.indexOf(0, this.o);
    if (end < 0) end = this.b.length;
    const v = this.b.toString('utf8', this.o, end);
    this.o = end + 1;
    return v;
  }
}

export class Dwarf {
  readonly path: string;
  private readonly info: Buffer;
  private readonly abbrev: Buffer;
  private readonly str?: Buffer;
  private readonly lineStr?: Buffer;
  private readonly strOffsets?: Buffer;
  private readonly addrs?: Buffer;
  private unitList?: DwarfUnit[];
  private funcIndex?: Map<string, number[]>;
  private typeIndex?: Map<string, number[]>;
  /** [lowPc, DIE offset] of every function with code, sorted by lowPc. */
  private pcIndex?: Array<[number, number]>;
  private readonly types = new Map<number, DwarfType>();
  private readonly abbrevCache = new Map<number, Map<number, Abbrev>>();

  private constructor(elf: ElfFile, info: Buffer, abbrev: Buffer) {
    this.path = elf.path;
    this.info = info;
    this.abbrev = abbrev;
    this.str = debugSection(elf, '.debug_str');
    this.lineStr = debugSection(elf, '.debug_line_str');
    this.strOffsets = debugSection(elf, '.debug_str_offsets');
    this.addrs = debugSection(elf, '.debug_addr');
  }

  /** The file's debug info, or undefined when it has none (stripped, or built with -w / without -g). */
  static load(elf: ElfFile): Dwarf | undefined {
    const info = debugSection(elf, '.debug_info');
    const abbrev = debugSection(elf, '.debug_abbrev');
    if (!info || !abbrev || info.length === 0) return undefined;
    return new Dwarf(elf, info, abbrev);
  }

  units(): DwarfUnit[] {
    if (!this.unitList) this.unitList = this.readUnits();
    return this.unitList;
  }

  /** Every function with code (DW_TAG_subprogram with an address range), in .debug_info order. */
  functions(): DwarfFunction[] {
    const out: DwarfFunction[] = [];
    for (const offsets of this.functionIndex().values()) for (const o of offsets) out.push(this.functionAt(o));
    return out.sort((a, b) => a.offset - b.offset);
  }

  /** Functions named `name` (Go: `main.f`, `(*T).M` as `main.(*T).M`); several when C has static twins. */
  functionsNamed(name: string): DwarfFunction[] {
    return (this.functionIndex().get(name) ?? []).map((o) => this.functionAt(o));
  }

  function(name: string): DwarfFunction | undefined {
    return this.functionsNamed(name)[0];
  }

  /** The function whose code contains `pc` (link-time address). */
  functionContaining(pc: number): DwarfFunction | undefined {
    if (!this.pcIndex) this.buildIndexes();
    const list = this.pcIndex!;
    const found = lastAtOrBelow(list.length, (i) => list[i][0], pc);
    if (found < 0) return undefined;
    const f = this.functionAt(list[found][1]);
    return pc < f.highPc ? f : undefined;
  }

  /**
   * The named type (first definition in .debug_info order). Go names types by their full
   * path (`runtime.g`, `[]string`); a typedef and the struct it names often share a name,
   * and either is returned; use `resolve` to get to the layout.
   */
  type(name: string): DwarfType | undefined {
    const offsets = this.typeIndexMap().get(name);
    return offsets ? this.typeAt(offsets[0]) : undefined;
  }

  /** The type whose DIE is at `offset` in .debug_info. */
  typeAt(offset: number): DwarfType {
    const hit = this.types.get(offset);
    if (hit) return hit;
    return this.decodeType(this.dieAt(offset));
  }

  // ---- units and DIEs ----

  private readUnits(): DwarfUnit[] {
    const out: DwarfUnit[] = [];
    const c = new Cursor(this.info, 0);
    while (c.o + 11 <= this.info.length) {
      const offset = c.o;
      let len = c.u32();
      let offsetSize: 4 | 8 = 4;
      if (len === 0xffffffff) {
        len = Number(c.u64());
        offsetSize = 8;
      }
      const end = c.o + len;
      if (end > this.info.length) throw this.corrupt(`unit at 0x${offset.toString(16)} runs past the end of .debug_info`);
      const version = c.u16();
      let addrSize: number;
      let abbrevOff: number;
      if (version >= 5) {
        const unitType = c.u8();
        addrSize = c.u8();
        abbrevOff = c.offset(offsetSize);
        // skeleton/split units carry a dwo id; type units a signature and a type offset.
        if (unitType === 4 || unitType === 5) c.o += 8;
        else if (unitType === 2 || unitType === 6) c.o += 8 + offsetSize;
      } else if (version >= 2) {
        abbrevOff = c.offset(offsetSize);
        addrSize = c.u8();
      } else {
        throw this.corrupt(`unit at 0x${offset.toString(16)} has DWARF version ${version}`);
      }
      const unit: DwarfUnit = {
        offset, version, dieOffset: c.o, end, addrSize, offsetSize, name: '', producer: '',
        abbrevs: this.abbrevsAt(abbrevOff), strOffsetsBase: 8, addrBase: 8,
      };
      out.push(unit);
      const root = this.readDie(unit, unit.dieOffset);
      if (root) {
        // The bases must be known before strx/addrx values of the root itself are resolved.
        const sob = root.attrs.get(AT.str_offsets_base);
        if (typeof sob === 'number') unit.strOffsetsBase = sob;
        const ab = root.attrs.get(AT.addr_base);
        if (typeof ab === 'number') unit.addrBase = ab;
        unit.name = this.text(root, AT.name) ?? '';
        unit.producer = this.text(root, AT.producer) ?? '';
      }
      c.o = end;
    }
    return out;
  }

  private unitOf(offset: number): DwarfUnit {
    const unit = rangeHolding(this.units(), (u) => u.offset, (u) => u.end, offset);
    if (unit) return unit;
    throw this.corrupt(`reference 0x${offset.toString(16)} is outside every unit`);
  }

  private dieAt(offset: number): Die {
    const die = this.readDie(this.unitOf(offset), offset);
    if (!die) throw this.corrupt(`reference 0x${offset.toString(16)} points at a null entry`);
    return die;
  }

  private abbrevsAt(off: number): Map<number, Abbrev> {
    const hit = this.abbrevCache.get(off);
    if (hit) return hit;
    const table = new Map<number, Abbrev>();
    const c = new Cursor(this.abbrev, off);
    for (;;) {
      const code = c.un();
      if (code === 0) break;
      const tag = c.un();
      const hasChildren = c.u8() === 1;
      const attrs: AttrSpec[] = [];
      for (;;) {
        const at = c.un();
        const form = c.un();
        if (at === 0 && form === 0) break;
        attrs.push({ at, form, implicit: form === FORM.implicit_const ? c.sleb() : 0n });
      }
      table.set(code, { tag, hasChildren, attrs });
    }
    this.abbrevCache.set(off, table);
    return table;
  }

  /** Decodes the DIE at `offset`; undefined for a null entry (end of a sibling list). */
  private readDie(unit: DwarfUnit, offset: number): Die | undefined {
    const c = new Cursor(this.info, offset);
    const code = c.un();
    if (code === 0) return undefined;
    const ab = unit.abbrevs.get(code);
    if (!ab) throw this.corrupt(`DIE at 0x${offset.toString(16)} uses undefined abbreviation ${code}`);
    const attrs = new Map<number, AttrValue>();
    const forms = new Map<number, number>();
    for (const spec of ab.attrs) {
      let form = spec.form;
      while (form === FORM.indirect) form = c.un();
      const v = this.readForm(c, unit, form, spec.implicit);
      if (!attrs.has(spec.at)) {
        attrs.set(spec.at, v);
        forms.set(spec.at, form);
      }
    }
    return { offset, tag: ab.tag, hasChildren: ab.hasChildren, attrs, forms, unit, next: c.o };
  }

  private readForm(c: Cursor, u: DwarfUnit, form: number, implicit: bigint): AttrValue {
    switch (form) {
      case FORM.addr: return c.addr(u.addrSize);
      case FORM.data1: case FORM.flag: case FORM.strx1: case FORM.addrx1: return c.u8();
      case FORM.data2: case FORM.strx2: case FORM.addrx2: return c.u16();
      case FORM.strx3: case FORM.addrx3: return c.u24();
      case FORM.data4: case FORM.strx4: case FORM.addrx4: case FORM.ref_sup4: return c.u32();
      case FORM.data8: case FORM.ref_sig8: case FORM.ref_sup8: return c.u64();
      case FORM.data16: return c.bytes(16);
      case FORM.sdata: return c.sleb();
      case FORM.udata: case FORM.strx: case FORM.addrx: case FORM.loclistx: case FORM.rnglistx:
      case FORM.GNU_addr_index: case FORM.GNU_str_index: return c.uleb();
      case FORM.string: return c.cstr();
      case FORM.strp: case FORM.line_strp: case FORM.sec_offset: case FORM.strp_sup: case FORM.GNU_strp_alt:
      case FORM.GNU_ref_alt:
        return c.offset(u.offsetSize);
      case FORM.ref_addr: return u.version <= 2 ? c.addr(u.addrSize) : c.offset(u.offsetSize);
      // Unit-relative references become .debug_info offsets here, once.
      case FORM.ref1: return u.offset + c.u8();
      case FORM.ref2: return u.offset + c.u16();
      case FORM.ref4: return u.offset + c.u32();
      case FORM.ref8: return u.offset + Number(c.u64());
      case FORM.ref_udata: return u.offset + c.un();
      case FORM.block1: return c.bytes(c.u8());
      case FORM.block2: return c.bytes(c.u16());
      case FORM.block4: return c.bytes(c.u32());
      case FORM.block: case FORM.exprloc: return c.bytes(c.un());
      case FORM.flag_present: return true;
      case FORM.implicit_const: return implicit;
      default:
        throw this.corrupt(`unknown attribute form 0x${form.toString(16)} at 0x${c.o.toString(16)}`);
    }
  }

  /** Children of a DIE, each decoded (subtrees skipped, not decoded). */
  private children(die: Die): Die[] {
    const out: Die[] = [];
    if (!die.hasChildren) return out;
    let at = die.next;
    for (;;) {
      const child = this.readDie(die.unit, at);
      if (!child) return out;
      out.push(child);
      at = this.skipSubtree(child);
    }
  }

  /** Offset past `die` and all its descendants. */
  private skipSubtree(die: Die): number {
    if (!die.hasChildren) return die.next;
    const sibling = die.attrs.get(AT.sibling);
    if (typeof sibling === 'number' && die.forms.get(AT.sibling) !== FORM.ref_addr) return sibling;
    let at = die.next;
    for (;;) {
      const child = this.readDie(die.unit, at);
      if (!child) return at + 1;
      at = this.skipSubtree(child);
    }
  }

  // ---- attribute accessors ----

  private text(die: Die, at: number): string | undefined {
    const v = die.attrs.get(at);
    if (v === undefined) return undefined;
    const form = die.forms.get(at)!;
    if (typeof v === 'string') return v;
    if (typeof v !== 'number' && typeof v !== 'bigint') return undefined;
    const n = Number(v);
    switch (form) {
      case FORM.strp: return this.str ? cString(this.str, n) : undefined;
      case FORM.line_strp: return this.lineStr ? cString(this.lineStr, n) : undefined;
      case FORM.strx: case FORM.strx1: case FORM.strx2: case FORM.strx3: case FORM.strx4: case FORM.GNU_str_index: {
        if (!this.strOffsets || !this.str) return undefined;
        const o = die.unit.strOffsetsBase + n * die.unit.offsetSize;
        if (o + die.unit.offsetSize > this.strOffsets.length) return undefined;
        const so = die.unit.offsetSize === 8 ? Number(this.strOffsets.readBigUInt64LE(o)) : this.strOffsets.readUInt32LE(o);
        return cString(this.str, so);
      }
      default: return undefined;
    }
  }

  private num(die: Die, at: number): number | undefined {
    const v = die.attrs.get(at);
    const form = die.forms.get(at);
    if (typeof v === 'number' || typeof v === 'bigint') {
      if (form !== undefined && isAddrx(form)) return this.addrx(die.unit, Number(v));
      return Number(v);
    }
    if (typeof v === 'boolean') return v ? 1 : 0;
    return undefined;
  }

  private addrx(u: DwarfUnit, index: number): number | undefined {
    if (!this.addrs) return undefined;
    const o = u.addrBase + index * u.addrSize;
    if (o + u.addrSize > this.addrs.length) return undefined;
    return u.addrSize === 8 ? Number(this.addrs.readBigUInt64LE(o)) : this.addrs.readUInt32LE(o);
  }

  private ref(die: Die, at: number): number | undefined {
    const v = die.attrs.get(at);
    const form = die.forms.get(at);
    if (typeof v !== 'number') return undefined;
    if (form === FORM.ref_sig8 || form === FORM.GNU_ref_alt || form === FORM.ref_sup4) return undefined;
    return v;
  }

  /** An attribute of the DIE, or of the DIE it is an instance/declaration of. */
  private origin(die: Die): Die | undefined {
    const o = this.ref(die, AT.abstract_origin) ?? this.ref(die, AT.specification);
    return o === undefined ? undefined : this.dieAt(o);
  }

  // ---- functions ----

  private functionIndex(): Map<string, number[]> {
    if (!this.funcIndex) this.buildIndexes();
    return this.funcIndex!;
  }

  private typeIndexMap(): Map<string, number[]> {
    if (!this.typeIndex) this.buildIndexes();
    return this.typeIndex!;
  }

  /** One walk over .debug_info recording where named functions with code and named types are. */
  private buildIndexes(): void {
    const funcs = new Map<string, number[]>();
    const types = new Map<string, number[]>();
    const pcs: Array<[number, number]> = [];
    const add = (m: Map<string, number[]>, k: string, v: number): void => {
      const l = m.get(k);
      if (l) l.push(v);
      else m.set(k, [v]);
    };
    for (const unit of this.units()) {
      let at = unit.dieOffset;
      let depth = 0;
      while (at < unit.end) {
        const die = this.readDie(unit, at);
        if (!die) {
          at++;
          if (--depth <= 0) break;
          continue;
        }
        if (die.tag === TAG.subprogram && die.attrs.has(AT.low_pc)) {
          const name = this.functionName(die);
          if (name) add(funcs, name, die.offset);
          const lowPc = this.num(die, AT.low_pc);
          if (lowPc) pcs.push([lowPc, die.offset]);
        } else if (typeTags.has(die.tag) && die.attrs.has(AT.name)) {
          const name = this.text(die, AT.name);
          if (name) add(types, name, die.offset);
        }
        // Functions and types worth naming live at the top of a unit (or in C++ namespaces);
        // skipping every other subtree keeps the walk cheap.
        if (die.hasChildren && (depth === 0 || die.tag === TAG.namespace)) {
          depth++;
          at = die.next;
        } else {
          at = this.skipSubtree(die);
        }
      }
    }
    this.funcIndex = funcs;
    this.typeIndex = types;
    this.pcIndex = pcs.sort((a, b) => a[0] - b[0]);
  }

  private functionName(die: Die): string | undefined {
    for (let d: Die | undefined = die, hops = 0; d && hops < 4; d = this.origin(d), hops++) {
      const name = this.text(d, AT.name) ?? this.text(d, AT.linkage_name);
      if (name) return name;
    }
    return undefined;
  }

  private functionAt(offset: number): DwarfFunction {
    const die = this.dieAt(offset);
    const lowPc = this.num(die, AT.low_pc) ?? 0;
    const hp = this.num(die, AT.high_pc) ?? lowPc;
    const highForm = die.forms.get(AT.high_pc);
    // DWARF 4+: a constant-class high_pc is a length, an address-class one an address.
    const highPc = highForm === FORM.addr || (highForm !== undefined && isAddrx(highForm)) ? hp : lowPc + hp;
    // An out-of-line copy of an inlined function lists its parameters through abstract_origin;
    // the abstract DIE has them all, with names and types, in declaration order.
    let paramsDie = die;
    const own = this.children(die).filter((c) => c.tag === TAG.formal_parameter);
    const abstract = this.origin(die);
    if (abstract && (own.length === 0 || own.every((p) => !p.attrs.has(AT.name)))) paramsDie = abstract;
    const params: DwarfParam[] = [];
    for (const p of this.children(paramsDie)) {
      if (p.tag !== TAG.formal_parameter) continue;
      const src = p.attrs.has(AT.name) || p.attrs.has(AT.type) ? p : this.origin(p) ?? p;
      const typeOff = this.ref(src, AT.type);
      params.push({
        name: this.text(src, AT.name) ?? '',
        type: typeOff === undefined ? voidType(src.offset) : this.typeAt(typeOff),
        isResult: (this.num(src, AT.variable_parameter) ?? 0) !== 0,
      });
    }
    return { name: this.functionName(die) ?? '', offset, lowPc, highPc, params, unit: die.unit.name };
  }

  // ---- types ----

  private decodeType(die: Die): DwarfType {
    const name = this.text(die, AT.name) ?? '';
    const goKind = this.num(die, AT.goKind);
    const common = { offset: die.offset, name, size: this.num(die, AT.byte_size) ?? 0, ...(goKind !== undefined ? { goKind } : {}) };
    const target = (): DwarfType | undefined => {
      const t = this.ref(die, AT.type);
      return t === undefined ? undefined : this.typeAt(t);
    };
    // Each type is cached before its parts are decoded, so self-referential types terminate.
    switch (die.tag) {
      case TAG.base_type: {
        const t: BaseType = { kind: 'base', ...common, encoding: encodings[this.num(die, AT.encoding) ?? 0] ?? 'other' };
        this.types.set(die.offset, t);
        return t;
      }
      case TAG.pointer_type: {
        const t: PointerType = { kind: 'pointer', ...common, size: common.size || die.unit.addrSize };
        this.types.set(die.offset, t);
        t.target = target();
        return t;
      }
      case TAG.structure_type:
      case TAG.union_type: {
        const t: StructType = { kind: die.tag === TAG.union_type ? 'union' : 'struct', ...common, members: [] };
        this.types.set(die.offset, t);
        for (const m of this.children(die)) {
          if (m.tag !== TAG.member) continue;
          const mt = this.ref(m, AT.type);
          t.members.push({
            name: this.text(m, AT.name) ?? '',
            offset: this.memberOffset(m),
            type: mt === undefined ? voidType(m.offset) : this.typeAt(mt),
          });
        }
        return t;
      }
      case TAG.array_type: {
        const t = { kind: 'array', ...common, count: 0 } as ArrayType;
        this.types.set(die.offset, t);
        t.element = target() ?? voidType(die.offset);
        const dims = this.children(die).filter((c) => c.tag === TAG.subrange_type);
        // Multi-dimensional C arrays multiply out; Go arrays have one subrange.
        let count = dims.length ? 1 : 0;
        for (const d of dims) {
          const n = this.num(d, AT.count) ?? ((this.num(d, AT.upper_bound) ?? -1) + 1);
          count *= n;
        }
        t.count = count;
        if (!t.size) t.size = count * sizeOf(t.element);
        return t;
      }
      case TAG.typedef:
      case TAG.const_type:
      case TAG.volatile_type:
      case TAG.restrict_type: {
        const t: AliasType = { kind: 'typedef', ...common };
        this.types.set(die.offset, t);
        t.target = target();
        if (!t.size && t.target) t.size = sizeOf(t.target);
        return t;
      }
      case TAG.subroutine_type: {
        const t: FuncType = { kind: 'func', ...common, size: common.size || die.unit.addrSize };
        this.types.set(die.offset, t);
        return t;
      }
      case TAG.enumeration_type: {
        const t: EnumType = { kind: 'enum', ...common };
        this.types.set(die.offset, t);
        return t;
      }
      default: {
        const t: VoidType = { kind: 'void', ...common };
        this.types.set(die.offset, t);
        return t;
      }
    }
  }

  private memberOffset(m: Die): number {
    const v = m.attrs.get(AT.data_member_location);
    if (Buffer.isBuffer(v)) {
      // DWARF 2 style: a location expression, in practice DW_OP_plus_uconst N.
      if (v[0] === 0x23) return Number(new Cursor(v, 1).uleb());
      return 0;
    }
    return this.num(m, AT.data_member_location) ?? 0;
  }

  private corrupt(what: string): TsbpfError {
    return new TsbpfError(`${this.path}: malformed DWARF: ${what}`, { hint: 'the debug info may be truncated; rebuild the binary or trace without argument types' });
  }
}

function isAddrx(form: number): boolean {
  return form === FORM.addrx || form === FORM.GNU_addr_index || (form >= FORM.addrx1 && form <= FORM.addrx4);
}

function voidType(offset: number): VoidType {
  return { kind: 'void', offset, name: 'void', size: 0 };
}

/** Follows typedefs and qualifiers to the type that has the layout. */
export function resolveType(t: DwarfType): DwarfType {
  let cur: DwarfType = t;
  for (let hops = 0; cur.kind === 'typedef' && cur.target && hops < 64; hops++) cur = cur.target;
  return cur;
}

export function sizeOf(t: DwarfType): number {
  if (t.size) return t.size;
  const r = resolveType(t);
  return r === t ? 0 : r.size;
}

/** A struct member by name, through typedefs. */
export function memberOf(t: DwarfType, name: string): StructMember | undefined {
  const r = resolveType(t);
  return r.kind === 'struct' || r.kind === 'union' ? r.members.find((m) => m.name === name) : undefined;
}
