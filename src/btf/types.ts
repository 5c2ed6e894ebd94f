// The decoded BTF type model and the questions the compiler asks of it: what a typedef
// really is, how big a type is, where a (possibly nested, possibly bit-) field lives, and
// how to print a type the way bpftool's `format c` and bpftrace's `-lv` do.
import { TsbpfError } from '../kernel/errors.js';

export type Kind =
  | 'void' | 'int' | 'ptr' | 'array' | 'struct' | 'union' | 'enum' | 'fwd' | 'typedef'
  | 'volatile' | 'const' | 'restrict' | 'func' | 'func_proto' | 'var' | 'datasec'
  | 'float' | 'decl_tag' | 'type_tag' | 'enum64';

/** Kind names indexed by the kind number in the BTF `info` word (0 is void). */
export const KIND_NAMES: readonly Kind[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile',
  'const', 'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag',
  'enum64',
];

interface Common { id: number; name: string }
export interface VoidType extends Common { kind: 'void' }
export interface IntType extends Common {
  kind: 'int'; size: number; bits: number; bitOffset: number; signed: boolean; char: boolean; bool: boolean;
}
export interface PtrType extends Common { kind: 'ptr'; target: number }
export interface ArrayType extends Common { kind: 'array'; elem: number; index: number; len: number }
/** bitOffset is from the start of the enclosing struct; bitSize is 0 for ordinary members. */
export interface Member { name: string; type: number; bitOffset: number; bitSize: number }
export interface StructType extends Common { kind: 'struct' | 'union'; size: number; members: Member[] }
export interface EnumValue { name: string; value: bigint }
export interface EnumType extends Common { kind: 'enum' | 'enum64'; size: number; signed: boolean; values: EnumValue[] }
export interface FwdType extends Common { kind: 'fwd'; fwdKind: 'struct' | 'union' }
export interface RefType extends Common { kind: 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'; target: number }
export type Linkage = 'static' | 'global' | 'extern';
export interface FuncType extends Common { kind: 'func'; proto: number; linkage: Linkage }
export interface Param { name: string; type: number }
export interface FuncProtoType extends Common { kind: 'func_proto'; ret: number; params: Param[]; variadic: boolean }
export interface VarType extends Common { kind: 'var'; type: number; linkage: Linkage }
export interface DatasecVar { type: number; offset: number; size: number }
export interface DatasecType extends Common { kind: 'datasec'; size: number; vars: DatasecVar[] }
export interface FloatType extends Common { kind: 'float'; size: number }
/** componentIdx is -1 when the tag applies to the whole type, else a member/param index. */
export interface DeclTagType extends Common { kind: 'decl_tag'; target: number; componentIdx: number }

export type BtfType =
  | VoidType | IntType | PtrType | ArrayType | StructType | EnumType | FwdType | RefType
  | FuncType | FuncProtoType | VarType | DatasecType | FloatType | DeclTagType;

/** What the helpers need from a BTF reader; `Btf` implements it. */
export interface TypeTable { type(id: number): BtfType }

/** Pointers are not sized in BTF; every target we trace is 64-bit. */
export const POINTER_SIZE = 8;
// Deeper chains than this only come from corrupt (cyclic) BTF.
const MAX_DEPTH = 64;

function tooDeep(id: number): TsbpfError {
  return new TsbpfError(`BTF type ${id} refers to itself through a chain of more than ${MAX_DEPTH} types`, {
    hint: 'the BTF data is corrupt; regenerate it (pahole -J) or use the kernel\'s /sys/kernel/btf/vmlinux',
  });
}

function isModifier(t: BtfType): t is RefType {
  return t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag';
}

/** The id behind any typedef/const/volatile/restrict/type_tag wrappers. */
export function resolve(tt: TypeTable, id: number): number {
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const t = tt.type(id);
    if (!isModifier(t)) return id;
    id = t.target;
  }
  throw tooDeep(id);
}

export function resolveType(tt: TypeTable, id: number): BtfType {
  return tt.type(resolve(tt, id));
}

/** Size in bytes, as C's sizeof; throws for types without one (void, functions, forward decls). */
export function sizeOf(tt: TypeTable, id: number): number {
  let count = 1;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const t = resolveType(tt, id);
    switch (t.kind) {
      case 'int': case 'float': case 'struct': case 'union': case 'enum': case 'enum64': case 'datasec':
        return count * t.size;
      case 'ptr':
        return count * POINTER_SIZE;
      case 'array':
        count *= t.len;
        id = t.elem;
        continue;
      default:
        throw new TsbpfError(`sizeof is not defined for ${typeName(tt, id)} (BTF ${t.kind} type ${t.id})`, {
          hint: t.kind === 'fwd' ? 'the type is only declared here; its definition is in another BTF object' : undefined,
        });
    }
  }
  throw tooDeep(id);
}

/** The type a pointer (through typedefs and qualifiers) points to, or undefined if not a pointer. */
export function pointerTarget(tt: TypeTable, id: number): number | undefined {
  const t = resolveType(tt, id);
  return t.kind === 'ptr' ? t.target : undefined;
}

export function arrayInfo(tt: TypeTable, id: number): { elem: number; len: number } | undefined {
  const t = resolveType(tt, id);
  return t.kind === 'array' ? { elem: t.elem, len: t.len } : undefined;
}

/**
 * Whether a type is a C char (so `char[N]` and `char *` read as strings). Kernel BTF leaves
 * the CHAR encoding bit unset on `char`, so the name decides as well.
 */
export function isChar(tt: TypeTable, id: number): boolean {
  const t = resolveType(tt, id);
  return t.kind === 'int' && t.size === 1 && (t.char || /\bchar\b/.test(t.name));
}

export function isStructLike(t: BtfType): t is StructType {
  return t.kind === 'struct' || t.kind === 'union';
}

/**
 * A member by name, looking through anonymous struct/union members as C does. The result's
 * bitOffset is from the start of the outer type, and old-style bitfields (structs without
 * kind_flag, where the INT type carries offset and width) are reported like new-style ones.
 */
export function findMember(tt: TypeTable, id: number, name: string): Member | undefined {
  return findMemberAt(tt, resolveType(tt, id), name, 0, 0);
}

function findMemberAt(tt: TypeTable, t: BtfType, name: string, base: number, depth: number): Member | undefined {
  if (!isStructLike(t)) return undefined;
  if (depth > MAX_DEPTH) throw tooDeep(t.id);
  for (const m of t.members) {
    if (m.name === name) return normalizeBitfield(tt, { ...m, bitOffset: base + m.bitOffset });
  }
  for (const m of t.members) {
    if (m.name !== '') continue;
    const found = findMemberAt(tt, resolveType(tt, m.type), name, base + m.bitOffset, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function normalizeBitfield(tt: TypeTable, m: Member): Member {
  if (m.bitSize !== 0) return m;
  const t = resolveType(tt, m.type);
  if (t.kind === 'int' && (t.bitOffset !== 0 || t.bits !== t.size * 8)) {
    return { ...m, bitOffset: m.bitOffset + t.bitOffset, bitSize: t.bits };
  }
  return m;
}

/** Names of the members reachable from a struct/union, anonymous members flattened. */
export function memberNames(tt: TypeTable, id: number): string[] {
  const out: string[] = [];
  const walk = (t: BtfType, depth: number): void => {
    if (!isStructLike(t) || depth > MAX_DEPTH) return;
    for (const m of t.members) {
      if (m.name !== '') out.push(m.name);
      else walk(resolveType(tt, m.type), depth + 1);
    }
  };
  walk(resolveType(tt, id), 0);
  return out;
}

/**
 * A member by dotted path through nested (not pointed-to) structs, e.g. 'f_path.dentry'.
 * Throws a TsbpfError naming the type and suggesting close member names.
 */
export function structMember(tt: TypeTable, id: number, path: string): Member {
  let cur = id;
  let acc = 0;
  let member: Member | undefined;
  for (const part of path.split('.')) {
    const t = resolveType(tt, cur);
    if (!isStructLike(t)) {
      const hint = t.kind === 'ptr' ? `'${member?.name ?? path}' is a pointer; dereference it with '->'` : undefined;
      throw new TsbpfError(`'${member?.name ?? typeName(tt, id)}' is ${typeName(tt, cur)}, not a struct or union, so it has no member '${part}'`, { hint });
    }
    member = findMember(tt, cur, part);
    if (!member) {
      const near = closeNames(part, memberNames(tt, cur));
      throw new TsbpfError(`${typeName(tt, cur)} has no member '${part}'`, {
        hint: near.length ? `did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : undefined,
      });
    }
    acc += member.bitOffset;
    cur = member.type;
  }
  return { ...member!, bitOffset: acc };
}

function closeNames(want: string, names: string[]): string[] {
  const limit = Math.max(1, Math.floor(want.length / 3));
  return names
    .map((n) => ({ n, d: editDistance(want, n) }))
    .filter((x) => x.d <= limit)
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.n);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * How to read a bitfield member on a little-endian target: load `loadSize` bytes at
 * `byteOffset`, shift right by `shift`, keep the low `bitSize` bits.
 */
export interface BitfieldAccess { byteOffset: number; loadSize: 1 | 2 | 4 | 8; shift: number; bitSize: number }

export function bitfieldAccess(m: Member): BitfieldAccess {
  if (m.bitSize === 0) throw new TsbpfError(`member '${m.name}' is not a bitfield`);
  const byteOffset = Math.floor(m.bitOffset / 8);
  const shift = m.bitOffset - byteOffset * 8;
  const need = shift + m.bitSize;
  for (const loadSize of [1, 2, 4, 8] as const) {
    if (loadSize * 8 >= need) return { byteOffset, loadSize, shift, bitSize: m.bitSize };
  }
  throw new TsbpfError(`bitfield '${m.name}' (${m.bitSize} bits at bit ${m.bitOffset}) spans more than 8 bytes`, {
    hint: 'read the containing struct bytes directly',
  });
}

/** Parameters of a func, a func_proto, or a pointer to one (as the btf_trace_* typedefs are). */
export function funcParams(tt: TypeTable, id: number): Param[] {
  return protoOf(tt, id).params;
}

export function protoOf(tt: TypeTable, id: number): FuncProtoType {
  let t = tt.type(id);
  if (t.kind === 'func') {
    t = tt.type(t.proto);
  } else {
    t = resolveType(tt, id);
    if (t.kind === 'ptr') t = resolveType(tt, t.target);
  }
  if (t.kind !== 'func_proto') throw new TsbpfError(`BTF type ${id} (${typeName(tt, id)}) is not a function`);
  return t;
}

// --- the C-like printer -------------------------------------------------------------

/** A type as C writes it without a name: `struct task_struct *`, `char[16]`, `int (*)(void *)`. */
export function typeName(tt: TypeTable, id: number): string {
  return declaration(tt, id, '');
}

/** A declaration of `name` with type `id`: `char comm[16]`, `void (*fn)(int)`. */
export function declaration(tt: TypeTable, id: number, name: string): string {
  return declare(tt, id, name, [], 0);
}

/** `ssize_t vfs_read(struct file *file, char *buf, size_t count, loff_t *pos)` */
export function funcSignature(tt: TypeTable, funcId: number): string {
  const f = tt.type(funcId);
  if (f.kind !== 'func') throw new TsbpfError(`BTF type ${funcId} is a ${f.kind}, not a function`);
  const proto = protoOf(tt, funcId);
  return declare(tt, proto.ret, `${f.name}(${paramList(tt, proto, true)})`, [], 0);
}

function paramList(tt: TypeTable, proto: FuncProtoType, withNames: boolean): string {
  const parts = proto.params.map((p) => declare(tt, p.type, withNames ? p.name : '', [], 0));
  if (proto.variadic) parts.push('...');
  return parts.length ? parts.join(', ') : 'void';
}

// C declarators read inside-out: `inner` is what has been built so far around the name,
// and qualifiers travel down to whatever they apply to (the pointer, or the base type).
function declare(tt: TypeTable, id: number, inner: string, quals: string[], depth: number): string {
  if (depth > MAX_DEPTH) throw tooDeep(id);
  const t = tt.type(id);
  switch (t.kind) {
    case 'const': case 'volatile': case 'restrict':
      // `const` on an array and again on its elements is one `const` in C.
      return declare(tt, t.target, inner, quals.includes(t.kind) ? quals : [...quals, t.kind], depth + 1);
    case 'type_tag':
      return declare(tt, t.target, inner, quals, depth + 1);
    case 'ptr': {
      let d = '*';
      if (quals.length) d += ` ${quals.join(' ')}${inner ? ' ' : ''}`;
      d += inner;
      const pointee = skipQualifiers(tt, t.target);
      if (pointee.kind === 'array' || pointee.kind === 'func_proto') d = `(${d})`;
      return declare(tt, t.target, d, [], depth + 1);
    }
    case 'array':
      return declare(tt, t.elem, `${inner}[${t.len}]`, quals, depth + 1);
    case 'func_proto':
      // bpftool writes the return type whole, then the declarator: `void * (*start)(int)`.
      return `${declare(tt, t.ret, '', [], depth + 1)} ${inner}(${paramList(tt, t, false)})`;
    default: {
      const base = [...quals, baseName(t)].join(' ');
      if (inner === '') return base;
      return inner.startsWith('[') ? base + inner : `${base} ${inner}`;
    }
  }
}

function skipQualifiers(tt: TypeTable, id: number): BtfType {
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const t = tt.type(id);
    if (t.kind !== 'const' && t.kind !== 'volatile' && t.kind !== 'restrict' && t.kind !== 'type_tag') return t;
    id = t.target;
  }
  throw tooDeep(id);
}

function baseName(t: BtfType): string {
  switch (t.kind) {
    case 'void': return 'void';
    case 'struct': case 'union': return `${t.kind} ${t.name || '{...}'}`;
    case 'enum': case 'enum64': return `enum ${t.name || '{...}'}`;
    case 'fwd': return `${t.fwdKind} ${t.name}`;
    case 'func': return t.name;
    default: return t.name || `(anon ${t.kind})`;
  }
}
