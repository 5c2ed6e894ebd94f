// Structs and unions defined in a script (`struct point { int x; int y; }`), laid out with the
// x86-64 System V rules gcc and clang follow, so a cast of a user-space pointer reads the bytes
// the traced program wrote. Script definitions shadow kernel (BTF) types of the same name, as
// in bpftrace. Also the one place that answers member questions for both kinds of struct.
import type { CDefinition, CField } from './ast.js';
import { didYouMean, type Diagnostics, type Span } from './diagnostics.js';
import { findMember, memberNames, resolveType } from '../btf/index.js';
import { ctypeSize, namedCType, vmlinux, type CType } from './types.js';

export interface ScriptMember {
  readonly name: string;
  readonly type: CType;
  /** From the start of the struct; bitfields start mid-byte. */
  readonly bitOffset: number;
  /** 0 for an ordinary member. */
  readonly bitSize: number;
  /** Whether a bitfield's value sign-extends (its declared type is signed). */
  readonly signed: boolean;
}

export class ScriptStruct {
  size = 0;
  align = 1;
  members: ScriptMember[] = [];
  /** Until laid out, only pointers may refer to it (`struct node *next` inside `struct node`). */
  complete = false;

  constructor(readonly keyword: 'struct' | 'union', readonly name: string) {}

  get cName(): string {
    return `${this.keyword} ${this.name}`;
  }

  /** Types are compared by their JSON; a self-referencing struct must not recurse. */
  toJSON(): string {
    return this.cName;
  }
}

/** How codegen reaches a member: a byte offset, and for bitfields which bits of which load. */
export interface MemberAccess {
  readonly offset: number;
  readonly bitfield?: { readonly loadSize: 1 | 2 | 4 | 8; readonly shift: number; readonly bits: number; readonly signed: boolean };
  /** Structs, unions and arrays are not read: the member's address is the value. */
  readonly inMemory: boolean;
}

/** A C type with the layout facts C needs and CType does not keep. */
interface Laid {
  type: CType;
  size: number;
  align: number;
  /** Integers only: bitfields of them are allowed. */
  signed?: boolean;
}

/** The script's struct and union definitions, by `struct NAME` / `union NAME`. */
export class ScriptTypes {
  private readonly defs = new Map<string, ScriptStruct>();
  /** Definitions whose members the parser could not read: an error only if the type is used. */
  private readonly unreadable = new Set<string>();

  static from(definitions: readonly CDefinition[], diags: Diagnostics): ScriptTypes {
    const types = new ScriptTypes();
    const spans = new Map<string, Span>();
    for (const def of definitions) {
      if (def.keyword === 'enum' || def.name === '') continue;
      const key = `${def.keyword} ${def.name}`;
      const first = spans.get(key);
      if (first) {
        diags.error(def.span, `redefinition of '${key}'`, `it was first defined at line ${first.line}:${first.col}`);
        continue;
      }
      spans.set(key, def.span);
      if (def.fields === null) types.unreadable.add(key);
      else types.defs.set(key, new ScriptStruct(def.keyword, def.name));
    }
    for (const def of definitions) {
      const s = types.defs.get(`${def.keyword} ${def.name}`);
      if (s && !s.complete && def.fields) new Layout(types, def, diags).run(s, def.fields);
    }
    return types;
  }

  /**
   * The CType a script names with `struct X` / `union X`: the script's definition, else the
   * kernel's. A string is an error message (the type exists but cannot be used).
   */
  lookup(keyword: 'struct' | 'union', name: string): CType | string | undefined {
    const key = `${keyword} ${name}`;
    const s = this.defs.get(key);
    if (s) return { kind: 'script', def: s };
    if (this.unreadable.has(key)) {
      return `'${key}' is defined in the script with members tsbpf cannot lay out (function pointers, nested definitions or enums)`;
    }
    return namedCType(name, keyword);
  }

  /** A "did you mean" hint among the script's own definitions. */
  suggest(keyword: 'struct' | 'union', name: string): string | undefined {
    return didYouMean(`${keyword} ${name}`, [...this.defs.keys(), ...this.unreadable]);
  }

  /** A script definition by `struct NAME`, complete or still being laid out. */
  defined(key: string): ScriptStruct | undefined {
    return this.defs.get(key);
  }
}

const QUALIFIERS = /\b(const|volatile|restrict|__user|__rcu|__percpu|__iomem|__restrict)\b/g;

/** C integer type names by their keyword multiset (`long unsigned int` = `unsigned long`). */
function cInteger(words: string[]): { size: 1 | 2 | 4 | 8; signed: boolean } | undefined {
  if (words.length === 0 || !words.every((w) => ['unsigned', 'signed', 'long', 'short', 'char', 'int'].includes(w))) return undefined;
  const count = (w: string): number => words.filter((x) => x === w).length;
  const signed = count('unsigned') === 0;
  if (count('char')) return { size: 1, signed };
  if (count('short')) return { size: 2, signed };
  if (count('long')) return { size: 8, signed };
  return { size: 4, signed };
}

const FIXED_WIDTH: Record<string, { size: 1 | 2 | 4 | 8; signed: boolean }> = {
  int8_t: { size: 1, signed: true }, int16_t: { size: 2, signed: true }, int32_t: { size: 4, signed: true }, int64_t: { size: 8, signed: true },
  uint8_t: { size: 1, signed: false }, uint16_t: { size: 2, signed: false }, uint32_t: { size: 4, signed: false }, uint64_t: { size: 8, signed: false },
  intptr_t: { size: 8, signed: true }, uintptr_t: { size: 8, signed: false }, ptrdiff_t: { size: 8, signed: true },
  off_t: { size: 8, signed: true }, uid_t: { size: 4, signed: false }, gid_t: { size: 4, signed: false },
};

/** Floating point is laid out but not readable: such members are bytes (buf() reads them). */
const FLOATS: Record<string, number> = { float: 4, double: 8, 'long double': 16 };

class Layout {
  constructor(private readonly types: ScriptTypes, private readonly def: CDefinition, private readonly diags: Diagnostics) {}

  run(s: ScriptStruct, fields: readonly CField[]): void {
    const union = s.keyword === 'union';
    const members: ScriptMember[] = [];
    let bit = 0, end = 0, align = 1;
    for (const f of fields) {
      if (members.some((m) => m.name === f.name)) {
        this.error(f.name, `duplicate member '${f.name}' in '${s.cName}'`);
        continue;
      }
      const laid = this.member(f, s);
      if (!laid) continue;
      align = Math.max(align, laid.align);
      if (union) bit = 0;
      if (f.bits !== null) {
        const unit = laid.size * 8;
        if (laid.signed === undefined || f.pointerDepth || f.arrayDims.length) {
          this.error(f.name, `bitfield '${f.name}' must have an integer type`);
          continue;
        }
        if (f.bits < 1 || f.bits > unit) {
          this.error(f.name, `bitfield '${f.name}' is ${f.bits} bits wide; its type holds 1 to ${unit}`);
          continue;
        }
        // A bitfield never straddles an aligned unit of its declared type.
        if (Math.floor(bit / unit) !== Math.floor((bit + f.bits - 1) / unit)) bit = roundUp(bit, unit);
        members.push({ name: f.name, type: laid.type, bitOffset: bit, bitSize: f.bits, signed: laid.signed });
        bit += f.bits;
      } else {
        bit = roundUp(bit, laid.align * 8);
        members.push({ name: f.name, type: laid.type, bitOffset: bit, bitSize: 0, signed: false });
        bit += laid.size * 8;
      }
      end = Math.max(end, bit);
    }
    s.members = members;
    s.align = align;
    s.size = roundUp(Math.ceil(end / 8), align);
    s.complete = true;
  }

  private member(f: CField, self: ScriptStruct): Laid | undefined {
    const base = this.base(f, self);
    if (!base) return undefined;
    let laid = base;
    for (let i = 0; i < f.pointerDepth; i++) laid = { type: { kind: 'ptr', to: laid.type }, size: 8, align: 8 };
    const chars = f.pointerDepth === 0 && /^((un)?signed )?char$/.test(f.type.replace(QUALIFIERS, '').trim().replace(/\s+/g, ' '));
    // `int m[2][3]` is two arrays of three: wrap from the innermost dimension out.
    for (const [i, len] of [...f.arrayDims].reverse().entries()) {
      laid = { type: { kind: 'array', elem: laid.type, len, chars: chars && i === 0 }, size: laid.size * len, align: laid.align };
    }
    return laid;
  }

  private base(f: CField, self: ScriptStruct): Laid | undefined {
    const text = f.type.replace(QUALIFIERS, '').replace(/\s+/g, ' ').trim();
    const tagged = /^(struct|union|enum) (\w+)$/.exec(text);
    if (tagged) {
      const [, keyword, name] = tagged as unknown as [string, 'struct' | 'union' | 'enum', string];
      if (keyword === 'enum') return { type: { kind: 'int', size: 4, signed: false }, size: 4, align: 4, signed: false };
      const script = this.types.defined(`${keyword} ${name}`);
      if (script) {
        if (f.pointerDepth > 0) return { type: { kind: 'script', def: script }, size: 0, align: 1 };
        if (script === self || !script.complete) {
          this.error(f.name, `member '${f.name}' has incomplete type '${text}'`,
            script === self ? 'a struct cannot contain itself; make the member a pointer' : `define '${text}' before '${self.cName}', or make the member a pointer`);
          return undefined;
        }
        return { type: { kind: 'script', def: script }, size: script.size, align: script.align };
      }
      const kernel = namedCType(name, keyword);
      if (kernel) return { type: kernel, size: ctypeSize(kernel), align: btfAlign(kernel) };
      // A pointer to a type nobody defined is still a pointer (C's incomplete types).
      if (f.pointerDepth > 0) return { type: { kind: 'void' }, size: 0, align: 1 };
      this.error(f.name, `unknown type '${text}' for member '${f.name}'`, `define '${text}' earlier in the script`);
      return undefined;
    }
    const int = cInteger(text.split(' ')) ?? FIXED_WIDTH[text];
    if (int) return { type: { kind: 'int', ...int }, size: int.size, align: int.size, signed: int.signed };
    if (FLOATS[text]) {
      const size = FLOATS[text];
      return { type: { kind: 'array', elem: { kind: 'int', size: 1, signed: false }, len: size, chars: false }, size, align: size };
    }
    if (text === 'void') {
      if (f.pointerDepth > 0) return { type: { kind: 'void' }, size: 0, align: 1 };
      this.error(f.name, `member '${f.name}' cannot have type 'void'`);
      return undefined;
    }
    const named = namedCType(text);
    if (named) {
      const size = ctypeSize(named);
      const rt = named.kind === 'btf' ? resolveType(vmlinux(), named.id) : undefined;
      const signed = named.kind === 'int' ? named.signed : rt?.kind === 'int' || rt?.kind === 'enum' ? rt.signed : undefined;
      return { type: named, size, align: btfAlign(named), signed };
    }
    this.error(f.name, `unknown type '${text}' for member '${f.name}'`, 'use a C integer type, a pointer, or a struct defined earlier in the script');
    return undefined;
  }

  /** Reports at the member's name inside the definition. */
  private error(name: string, message: string, hint?: string): void {
    const body = this.def.text.indexOf('{');
    const m = new RegExp(`\\b${name}\\b(?=\\s*[\\[;:,])`).exec(this.def.text.slice(body));
    const span = m ? this.diags.source.spanAt(this.def.span.offset + body + m.index, name.length) : this.def.span;
    this.diags.error(span, message, hint);
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** BTF keeps sizes, not alignment: a struct aligns to its strictest member, as C lays it out. */
function btfAlign(c: CType, depth = 0): number {
  if (c.kind === 'int') return c.size;
  if (c.kind !== 'btf' || depth > 16) return c.kind === 'ptr' ? 8 : 1;
  const btf = vmlinux();
  const t = resolveType(btf, c.id);
  switch (t.kind) {
    case 'int': case 'enum': case 'enum64': case 'float': return Math.min(8, Math.max(1, t.size));
    case 'ptr': return 8;
    case 'array': return btfAlign({ kind: 'btf', id: t.elem }, depth + 1);
    case 'struct': case 'union':
      return t.members.reduce((a, m) => Math.max(a, btfAlign({ kind: 'btf', id: m.type }, depth + 1)), 1);
    default: return 1;
  }
}

/** Whether `c` is a struct or union, whose members `->` and `.` reach. */
export function isStructType(c: CType): boolean {
  if (c.kind === 'script') return true;
  if (c.kind !== 'btf') return false;
  const k = resolveType(vmlinux(), c.id).kind;
  return k === 'struct' || k === 'union';
}

/** The type of member `name` of a struct type, or undefined when it has none. */
export function memberType(c: CType, name: string): CType | undefined {
  if (c.kind === 'script') return c.def.members.find((m) => m.name === name)?.type;
  if (c.kind !== 'btf') return undefined;
  const m = findMember(vmlinux(), c.id, name);
  return m ? { kind: 'btf', id: m.type } : undefined;
}

export function memberNamesOf(c: CType): string[] {
  if (c.kind === 'script') return c.def.members.map((m) => m.name);
  return c.kind === 'btf' ? memberNames(vmlinux(), c.id) : [];
}

/** Where member `name` (known to exist) lives, for codegen. */
export function memberAccess(c: CType, name: string): MemberAccess {
  let bitOffset: number, bitSize: number, signed: boolean, type: CType;
  if (c.kind === 'script') {
    const m = c.def.members.find((x) => x.name === name)!;
    ({ bitOffset, bitSize, signed, type } = m);
  } else if (c.kind === 'btf') {
    const btf = vmlinux();
    const m = findMember(btf, c.id, name)!;
    const rt = resolveType(btf, m.type);
    ({ bitOffset, bitSize } = m);
    signed = (rt.kind === 'int' || rt.kind === 'enum') && rt.signed;
    type = { kind: 'btf', id: m.type };
  } else {
    throw new Error(`internal: member access on ${c.kind}`);
  }
  if (bitSize === 0) return { offset: bitOffset / 8, inMemory: inMemory(type) };
  const offset = Math.floor(bitOffset / 8);
  const shift = bitOffset - offset * 8;
  const loadSize = ([1, 2, 4, 8] as const).find((n) => n * 8 >= shift + bitSize);
  if (!loadSize) throw new Error(`internal: bitfield '${name}' spans more than 8 bytes`);
  return { offset, bitfield: { loadSize, shift, bits: bitSize, signed }, inMemory: false };
}

function inMemory(c: CType): boolean {
  if (c.kind === 'script' || c.kind === 'array') return true;
  if (c.kind !== 'btf') return false;
  const k = resolveType(vmlinux(), c.id).kind;
  return k === 'struct' || k === 'union' || k === 'array';
}
