// Types the semantic pass gives expressions. A superset of the runtime contract's SType
// (compiled.ts): besides storable values it knows C types reached through pointers (BTF
// structs, tracepoint fields), which are never stored whole, only read member by member.
import { SType, StackMode } from './compiled.js';
import { Btf, resolveType, typeName } from '../btf/index.js';
import type { ScriptStruct } from './cstructs.js';

/** A C type in traced memory: what a pointer points to. */
export type CType =
  | { kind: 'int'; size: 1 | 2 | 4 | 8; signed: boolean }
  | { kind: 'ptr'; to: CType }
  | { kind: 'btf'; id: number }
  /** A struct or union defined in the script (cstructs.ts). */
  | { kind: 'script'; def: ScriptStruct }
  /** An array member of a script struct; `chars` arrays (`char name[16]`) read as strings. */
  | { kind: 'array'; elem: CType; len: number; chars: boolean }
  | { kind: 'void' };

/** Which address space a pointer's memory is in: decides probe_read_user vs _kernel. */
export type AddrSpace = 'user' | 'kernel';

export type Ty =
  | { kind: 'int'; size: 1 | 2 | 4 | 8; signed: boolean }
  | { kind: 'string'; size: number }
  | { kind: 'buffer'; size: number }
  | { kind: 'ksym' }
  | { kind: 'usym' }
  | { kind: 'kstack'; mode: StackMode; limit: number }
  | { kind: 'ustack'; mode: StackMode; limit: number }
  | { kind: 'inet' }
  | { kind: 'probe' }
  | { kind: 'username' }
  | { kind: 'timestamp'; format: string }
  | { kind: 'ptr'; to: CType; space: AddrSpace }
  | { kind: 'tuple'; elems: Ty[] }
  | { kind: 'none' }
  /** `args` of a tracepoint / fentry probe: only its fields are values. */
  | { kind: 'record' }
  /** A struct or union in traced memory; the value is its address. */
  | { kind: 'cstruct'; ctype: CType; space: AddrSpace }
  /** A non-char array in traced memory; the value is its address. */
  | { kind: 'carray'; elem: CType; len: number; space: AddrSpace };

export const INT64: Ty = { kind: 'int', size: 8, signed: true };
export const UINT64: Ty = { kind: 'int', size: 8, signed: false };
export const NONE: Ty = { kind: 'none' };

/** bpftrace's default string size (BPFTRACE_STRLEN). */
export const STRLEN = 64;

/** Values kept in a register during codegen; everything else lives in scratch memory. */
export function isScalar(t: Ty): boolean {
  switch (t.kind) {
    case 'int': case 'ksym': case 'kstack': case 'probe': case 'username': case 'timestamp': case 'ptr':
    case 'cstruct': case 'carray':
      return true;
    default:
      return false;
  }
}

/** Types a map key, map value, variable or event argument can hold. */
export function isStorable(t: Ty): boolean {
  if (t.kind === 'tuple') return t.elems.every(isStorable);
  return t.kind !== 'record' && t.kind !== 'cstruct' && t.kind !== 'carray' && t.kind !== 'none';
}

/** Kernel BTF; Btf caches it until the CLI releases it after compiling. */
export function vmlinux(): Btf {
  return Btf.vmlinux();
}

export function ctypeName(c: CType): string {
  switch (c.kind) {
    case 'int': return `${c.signed ? '' : 'unsigned '}int${c.size * 8}`;
    case 'ptr': return `${ctypeName(c.to)} *`;
    case 'btf': return typeName(vmlinux(), c.id);
    case 'script': return c.def.cName;
    case 'array': return `${ctypeName(c.elem)}[${c.len}]`;
    case 'void': return 'void';
  }
}

/** Type names as bpftrace prints them in messages: `int64`, `string[16]`, `(int64,string[3])`. */
export function tyName(t: Ty): string {
  switch (t.kind) {
    case 'int': return `${t.signed ? '' : 'unsigned '}int${t.size * 8}`;
    case 'string': return `string[${t.size}]`;
    case 'buffer': return `buffer[${t.size}]`;
    case 'kstack': case 'ustack': return t.kind;
    case 'timestamp': return 'timestamp';
    case 'ptr': return `${ctypeName(t.to)} *`;
    case 'tuple': return `(${t.elems.map(tyName).join(',')})`;
    case 'cstruct': return ctypeName(t.ctype);
    case 'carray': return `${ctypeName(t.elem)}[${t.len}]`;
    default: return t.kind;
  }
}

/** The contract type of a storable value; ints widen to 8 bytes as bpftrace stores them. */
export function toSType(t: Ty): SType {
  switch (t.kind) {
    case 'int': return { kind: 'int', size: 8, signed: t.signed };
    case 'ptr': return { kind: 'pointer', to: ctypeName(t.to) };
    case 'tuple': return { kind: 'tuple', elems: t.elems.map(toSType) };
    case 'record': case 'cstruct': case 'carray': return { kind: 'int', size: 8, signed: false };
    default: return t;
  }
}

/** Whether two values can share a map slot or variable; strings of any size do (the larger wins). */
export function compatible(a: Ty, b: Ty): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'tuple' && b.kind === 'tuple') {
    return a.elems.length === b.elems.length && a.elems.every((e, i) => compatible(e, b.elems[i]));
  }
  if (a.kind === 'buffer' && b.kind === 'buffer') return a.size === b.size;
  return true;
}

/** The common type of two compatible values: the wider string, the signedness of the first. */
export function unify(a: Ty, b: Ty): Ty {
  if (a.kind === 'string' && b.kind === 'string') return a.size >= b.size ? a : b;
  if (a.kind === 'tuple' && b.kind === 'tuple') return { kind: 'tuple', elems: a.elems.map((e, i) => unify(e, b.elems[i])) };
  return a;
}

/**
 * What reading a C value of type `c` yields: ints and pointers are read; structs and
 * non-char arrays stay in memory (their address is the value); char arrays read as strings.
 */
export function valueOfCType(c: CType, space: AddrSpace): Ty {
  switch (c.kind) {
    case 'int': return { kind: 'int', size: c.size, signed: c.signed };
    case 'ptr': return { kind: 'ptr', to: c.to, space };
    case 'void': return UINT64;
    case 'script': return { kind: 'cstruct', ctype: c, space };
    case 'array': return c.chars ? { kind: 'string', size: c.len } : { kind: 'carray', elem: c.elem, len: c.len, space };
    case 'btf': {
      const btf = vmlinux();
      const t = resolveType(btf, c.id);
      switch (t.kind) {
        case 'int': return { kind: 'int', size: intSize(t.size), signed: t.signed };
        case 'enum': case 'enum64': return { kind: 'int', size: intSize(t.size), signed: t.signed };
        case 'ptr': return { kind: 'ptr', to: btfTarget(t.target), space };
        case 'struct': case 'union': return { kind: 'cstruct', ctype: { kind: 'btf', id: t.id }, space };
        case 'array': {
          const elem = resolveType(btf, t.elem);
          if (elem.kind === 'int' && elem.size === 1 && /char/.test(elem.name)) return { kind: 'string', size: t.len };
          return { kind: 'carray', elem: { kind: 'btf', id: t.elem }, len: t.len, space };
        }
        default: return UINT64;
      }
    }
  }
}

function intSize(n: number): 1 | 2 | 4 | 8 {
  return n === 1 || n === 2 || n === 4 ? n : 8;
}

function btfTarget(id: number): CType {
  if (id === 0) return { kind: 'void' };
  const t = resolveType(vmlinux(), id);
  return t.kind === 'void' ? { kind: 'void' } : { kind: 'btf', id };
}

/** sizeof a C type. */
export function ctypeSize(c: CType): number {
  switch (c.kind) {
    case 'int': return c.size;
    case 'ptr': return 8;
    case 'void': return 1;
    case 'script': return c.def.size;
    case 'array': return c.len * ctypeSize(c.elem);
    case 'btf': {
      const t = resolveType(vmlinux(), c.id);
      if (t.kind === 'ptr') return 8;
      if (t.kind === 'array') return t.len * ctypeSize({ kind: 'btf', id: t.elem });
      if ('size' in t && typeof t.size === 'number') return t.size;
      return 8;
    }
  }
}

/** sizeof a value type, as bpftrace reports it (`sizeof(@x)`, `sizeof($s)`). */
export function tySize(t: Ty): number {
  switch (t.kind) {
    case 'int': return t.size;
    case 'cstruct': return ctypeSize(t.ctype);
    case 'carray': return t.len * ctypeSize(t.elem);
    case 'record': return 8;
    default: {
      const s = toSType(t);
      return s.kind === 'tuple' ? tupleLayoutSize(s) : scalarSize(s);
    }
  }
}

function scalarSize(s: SType): number {
  switch (s.kind) {
    case 'string': return s.size;
    case 'buffer': return 4 + s.size;
    case 'usym': return 16;
    case 'ustack': case 'inet': return 24;
    case 'none': return 0;
    case 'int': return s.size;
    default: return 8;
  }
}

function tupleLayoutSize(s: SType & { kind: 'tuple' }): number {
  let off = 0, align = 1;
  for (const e of s.elems) {
    const a = e.kind === 'string' ? 1 : e.kind === 'buffer' ? 4 : e.kind === 'tuple' ? 8 : e.kind === 'none' ? 1 : e.kind === 'int' ? e.size : 8;
    off = Math.ceil(off / a) * a + (e.kind === 'tuple' ? tupleLayoutSize(e) : scalarSize(e));
    align = Math.max(align, a);
  }
  return Math.ceil(off / align) * align;
}

/**
 * A C type from a tracepoint format's type text (`const char *`, `unsigned long`, `u32`,
 * `struct sk_buff *`): ints by the format's size and sign, pointers with their target.
 */
export function ctypeFromText(text: string, size: number, signed: boolean): CType {
  let t = text.replace(/\b(const|volatile|__user|__rcu|__percpu|__iomem)\b/g, '').trim();
  let depth = 0;
  while (t.endsWith('*')) {
    depth++;
    t = t.slice(0, -1).trim();
  }
  // The declared type wins over the slot size: syscall fields are 8-byte slots holding an `int`.
  if (depth === 0) return C_INTS[t] ? { kind: 'int', ...C_INTS[t] } : { kind: 'int', size: intSize(size), signed };
  let base = namedCType(t) ?? { kind: 'int', size: 8, signed: false };
  for (let i = 0; i < depth; i++) base = { kind: 'ptr', to: base };
  return base;
}

const C_INTS: Record<string, { size: 1 | 2 | 4 | 8; signed: boolean }> = {
  char: { size: 1, signed: true }, 'signed char': { size: 1, signed: true }, 'unsigned char': { size: 1, signed: false },
  short: { size: 2, signed: true }, 'unsigned short': { size: 2, signed: false },
  int: { size: 4, signed: true }, 'unsigned int': { size: 4, signed: false }, unsigned: { size: 4, signed: false },
  long: { size: 8, signed: true }, 'unsigned long': { size: 8, signed: false },
  'long long': { size: 8, signed: true }, 'unsigned long long': { size: 8, signed: false },
  bool: { size: 1, signed: false }, _Bool: { size: 1, signed: false },
  int8: { size: 1, signed: true }, int16: { size: 2, signed: true }, int32: { size: 4, signed: true }, int64: { size: 8, signed: true },
  uint8: { size: 1, signed: false }, uint16: { size: 2, signed: false }, uint32: { size: 4, signed: false }, uint64: { size: 8, signed: false },
  u8: { size: 1, signed: false }, u16: { size: 2, signed: false }, u32: { size: 4, signed: false }, u64: { size: 8, signed: false },
  s8: { size: 1, signed: true }, s16: { size: 2, signed: true }, s32: { size: 4, signed: true }, s64: { size: 8, signed: true },
  size_t: { size: 8, signed: false }, ssize_t: { size: 8, signed: true }, pid_t: { size: 4, signed: true },
};

/** A named C type: an integer name, `void`, or a struct/union/typedef found in kernel BTF. */
export function namedCType(name: string, keyword: 'struct' | 'union' | 'enum' | null = null): CType | undefined {
  const n = name.replace(/\s+/g, ' ').trim();
  if (n === 'void') return { kind: 'void' };
  if (keyword === null && C_INTS[n]) return { kind: 'int', ...C_INTS[n] };
  const m = /^(struct|union|enum) (\w+)$/.exec(n);
  const kw = keyword ?? (m ? (m[1] as 'struct' | 'union' | 'enum') : null);
  const bare = m ? m[2] : n;
  let btf: Btf;
  try {
    btf = vmlinux();
  } catch {
    return undefined;
  }
  const kinds = kw ? [kw === 'enum' ? 'enum' : kw] : ['typedef', 'struct', 'union'];
  for (const k of kinds) {
    const id = btf.findType(k as 'struct', bare);
    if (id !== undefined) return { kind: 'btf', id };
  }
  return undefined;
}
