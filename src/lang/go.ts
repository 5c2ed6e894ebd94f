// Go functions in the language: `args.NAME` typed from DWARF and read where Go's ABI put
// each value (registers at entry, the caller's argument area on the stack), `retval` and
// `retval.N` at the Go-safe return sites, and `goarg(N)` (the Nth integer register of the
// register ABI, which needs no DWARF). The semantic pass asks this module for types, the
// code generator for instructions; both derive locations from the same cached signature.
import type { Asm } from '../isa/asm.js';
import { R0, R1, R2, R3, R6, R9 } from '../isa/insn.js';
import { GO_INT_REGS, PT_REGS, type GoBinary, type GoPiece, type GoSignature, type GoValueLocation } from '../probes/go.js';
import { resolveType, type DwarfType } from '../elf/dwarf.js';
import { TsbpfError } from '../kernel/errors.js';
import { didYouMean, type Diagnostics, type Span } from './diagnostics.js';
import type { Call, Expr } from './ast.js';
import type { ResolvedProbe } from './probes.js';
import { NONE, STRLEN, UINT64, type CType, type Ty } from './types.js';

/**
 * Where in a Go function a uprobe sits: its first instruction (arguments are where the
 * ABI put them), one of its RET instructions (results are), or elsewhere.
 */
export interface GoSite {
  binary: GoBinary;
  func: string;
  at: 'entry' | 'return' | 'inside';
}

// reflect.Kind values Go's DWARF records (DW_AT_go_kind) for the composite kinds we read.
const KIND_SLICE = 23;
const KIND_STRING = 24;

const signatures = new WeakMap<GoBinary, Map<string, GoSignature | TsbpfError>>();

/** The function's signature, or the reason it is unknown (no DWARF, no entry for it). */
function signatureOf(site: GoSite): GoSignature | TsbpfError {
  let byFunc = signatures.get(site.binary);
  if (!byFunc) signatures.set(site.binary, (byFunc = new Map()));
  let sig = byFunc.get(site.func);
  if (!sig) {
    try {
      sig = site.binary.signature(site.func);
    } catch (e) {
      if (!(e instanceof TsbpfError)) throw e;
      sig = e;
    }
    byFunc.set(site.func, sig);
  }
  return sig;
}

/** How the language sees a Go value, or why it cannot. */
type GoTy = { ty: Ty } | { error: string; hint?: string };

function goTypeName(t: DwarfType): string {
  return t.name || resolveType(t).name || resolveType(t).kind;
}

function isByteSlice(t: DwarfType): boolean {
  const r = resolveType(t);
  if (r.kind !== 'struct' || (t.goKind ?? r.goKind) !== KIND_SLICE) return false;
  const array = r.members.find((m) => m.name === 'array')?.type;
  const elem = array && resolveType(array).kind === 'pointer' ? (resolveType(array) as { target?: DwarfType }).target : undefined;
  return elem !== undefined && resolveType(elem).kind === 'base' && resolveType(elem).size === 1;
}

function intCType(t: DwarfType | undefined): CType {
  const r = t && resolveType(t);
  if (r?.kind === 'base' && (r.encoding === 'signed' || r.encoding === 'unsigned' || r.encoding === 'boolean') && [1, 2, 4, 8].includes(r.size)) {
    return { kind: 'int', size: r.size as 1 | 2 | 4 | 8, signed: r.encoding === 'signed' };
  }
  return { kind: 'void' };
}

/** The language type of a Go value at `loc`, checking that a BPF program can read it. */
function goValueTy(what: string, loc: GoValueLocation): GoTy {
  const type = goTypeName(loc.type);
  const xmm = loc.pieces.find((p): p is Extract<GoPiece, { xmm: number }> => 'xmm' in p);
  if (xmm) {
    return {
      error: `${what} (${type}) is passed in X${xmm.xmm}: BPF cannot read XMM registers at a uprobe`,
      hint: 'float arguments and results are invisible to uprobes; trace an integer that carries the same information',
    };
  }
  const r = resolveType(loc.type);
  const kind = loc.type.goKind ?? r.goKind;
  if (r.kind === 'base') {
    if (r.encoding === 'float' || r.encoding === 'complex') return { error: `${what} (${type}) is a floating-point value, which the language cannot hold` };
    if ([1, 2, 4, 8].includes(r.size)) return { ty: { kind: 'int', size: r.size as 1 | 2 | 4 | 8, signed: r.encoding === 'signed' } };
  }
  // A one-element array has its element's layout and ABI assignment.
  if (r.kind === 'array' && r.count === 1) return goValueTy(what, { ...loc, type: r.element });
  if (r.kind === 'enum' && [1, 2, 4, 8].includes(r.size)) return { ty: { kind: 'int', size: r.size as 1 | 2 | 4 | 8, signed: true } };
  // Maps, channels and funcs are single pointers in Go's DWARF too.
  if (r.kind === 'pointer') return { ty: { kind: 'ptr', to: intCType(r.target), space: 'user' } };
  if (r.kind === 'func') return { ty: { kind: 'ptr', to: { kind: 'void' }, space: 'user' } };
  if ((r.kind === 'struct' && kind === KIND_STRING) || isByteSlice(loc.type)) return { ty: { kind: 'string', size: STRLEN } };
  const first = loc.pieces[0];
  const words = first && 'reg' in first ? ` (its first word is goarg(${GO_INT_REGS.indexOf(first.reg)}))` : '';
  return {
    error: `${what} is a Go ${type}, which the language cannot represent`,
    hint: `the language reads Go integers, bools, pointers, strings and []byte; read this value's words with goarg(N)${words}`,
  };
}

function report(d: Diagnostics, span: Span, t: GoTy): Ty {
  if ('ty' in t) return t.ty;
  d.error(span, t.error, t.hint);
  return NONE;
}

function noSignature(d: Diagnostics, span: Span, e: TsbpfError, what: string): Ty {
  d.error(span, `${what}: ${e.message}`, `${e.hint ? `${e.hint}; ` : ''}goarg(N) reads the register ABI's integer words without DWARF`);
  return NONE;
}

// --- semantic pass ------------------------------------------------------------------

/**
 * The type of builtin `name` when the probe is in a Go function and Go gives it a meaning
 * (`args`, `retval` typed from DWARF); undefined to let the general rules apply.
 */
export function goIdentifierType(p: ResolvedProbe, name: string, span: Span, d: Diagnostics): Ty | undefined {
  const go = p.go;
  if (!go) return undefined;
  if (name === 'args') {
    if (go.at !== 'entry') {
      d.error(span, `args of a Go function are only known at its entry, not in ${p.name}`,
        go.at === 'return' ? 'save them at the entry in a map keyed by goid: uprobe:...{ @a[goid] = args.x }' : 'probe the function itself, without +OFFSET');
      return NONE;
    }
    return { kind: 'record' };
  }
  if (name === 'retval' && go.at === 'return') {
    const sig = signatureOf(go);
    // Without DWARF the first result word is still in RAX: the general rule reads it.
    if (sig instanceof TsbpfError) return undefined;
    return goRetvalType(p, 0, span, d);
  }
  return undefined;
}

/** `args.NAME` of a Go function. */
export function goArgType(p: ResolvedProbe, field: string, span: Span, d: Diagnostics): Ty {
  const sig = signatureOf(p.go!);
  if (sig instanceof TsbpfError) return noSignature(d, span, sig, `args.${field}`);
  const loc = sig.params.find((x) => x.name === field);
  if (!loc) {
    const names = sig.params.map((x) => x.name);
    d.error(span, `${p.go!.func} has no parameter named '${field}'`, didYouMean(field, names) ?? `its parameters: ${names.join(', ') || 'none'}`);
    return NONE;
  }
  return report(d, span, goValueTy(`args.${field}`, loc));
}

/** `retval` (index 0) or `retval.N` at a Go return site. */
export function goRetvalType(p: ResolvedProbe, index: number, span: Span, d: Diagnostics): Ty {
  const go = p.go!;
  const what = index ? `retval.${index}` : 'retval';
  if (go.at !== 'return') {
    d.error(span, `${what} is only available in uretprobes`, 'probe the function with uretprobe: (tsbpf puts uprobes on its RET instructions)');
    return NONE;
  }
  const sig = signatureOf(go);
  if (sig instanceof TsbpfError) return noSignature(d, span, sig, what);
  const loc = sig.results[index];
  if (!loc) {
    d.error(span, `${what}: ${go.func} returns ${sig.results.length} value${sig.results.length === 1 ? '' : 's'}`,
      sig.results.length ? `use retval.0 to retval.${sig.results.length - 1}` : undefined);
    return NONE;
  }
  return report(d, span, goValueTy(what, loc));
}

/** Whether `e` is `retval.N` in a Go function (the parser's TupleIndex on `retval`). */
export function isGoRetvalIndex(e: Expr, p: ResolvedProbe): e is Expr & { kind: 'TupleIndex' } {
  return e.kind === 'TupleIndex' && e.expr.kind === 'Identifier' && e.expr.name === 'retval' && p.go !== undefined;
}

/** `goarg(N)`: checks the call (its argument is already typed) and gives its type. */
export function goargType(p: ResolvedProbe, c: Call, d: Diagnostics): Ty {
  if (c.args.length !== 1) {
    d.error(c.span, `goarg() requires 1 argument (${c.args.length} provided)`);
    return NONE;
  }
  if (!p.go) {
    d.error(c.span, `goarg() reads Go's register ABI: it is only available in uprobes on Go binaries`, 'for C functions use arg0 to arg5');
    return NONE;
  }
  if (p.go.binary.abi !== 'register') {
    d.error(c.span, `goarg(): ${p.go.binary.path} uses Go's stack ABI (before Go 1.17), where arguments are on the stack`, 'read them with sarg0, sarg1, ...');
    return NONE;
  }
  const n = goargIndex(c);
  if (n === undefined || n >= GO_INT_REGS.length) {
    d.error(c.args[0].span, `goarg() needs an integer literal from 0 to ${GO_INT_REGS.length - 1}`, `Go passes at most ${GO_INT_REGS.length} integer words in registers; later ones are on the stack`);
    return NONE;
  }
  return UINT64;
}

function goargIndex(c: Call): number | undefined {
  const a = c.args[0];
  return a?.kind === 'Integer' ? Number(a.value) : undefined;
}

const regName = (r: string): string => (/^r\d+$/.test(r) ? r.toUpperCase() : `R${r.toUpperCase()}`);

function describeLocation(loc: GoValueLocation): string {
  const parts = loc.pieces.map((p) => ('reg' in p ? regName(p.reg) : 'xmm' in p ? `X${p.xmm}` : `the stack at sp+${8 + p.stackOffset} (${p.size} bytes)`));
  return `${goTypeName(loc.type)}: ${parts.join(', ') || 'no bytes'}`;
}

/**
 * For -v: per probe, which ABI the binary uses and where each Go value the script reads
 * comes from. `types` are the semantic pass's expression types of the probe's program.
 */
export function goNotes(units: ReadonlyArray<{ probe: ResolvedProbe; types: ReadonlyMap<Expr, Ty> }>): string[] {
  const lines = new Set<string>();
  for (const u of units) {
    const go = u.probe.go;
    if (!go) continue;
    const used: string[] = [];
    const sig = signatureOf(go);
    for (const [e, t] of u.types) {
      if (e.kind === 'Field' && u.types.get(e.expr)?.kind === 'record' && !(sig instanceof TsbpfError)) {
        const loc = sig.params.find((x) => x.name === e.field);
        if (loc) used.push(`args.${e.field} (${describeLocation(loc)})`);
      } else if (e.kind === 'TupleIndex' && isGoRetvalIndex(e, u.probe) && !(sig instanceof TsbpfError)) {
        const loc = sig.results[e.index];
        if (loc) used.push(`retval.${e.index} (${describeLocation(loc)})`);
      } else if (e.kind === 'Identifier' && e.name === 'retval' && t.kind !== 'none' && go.at === 'return') {
        const loc = sig instanceof TsbpfError ? undefined : sig.results[0];
        used.push(`retval (${loc ? describeLocation(loc) : 'RAX, untyped: no DWARF'})`);
      } else if (e.kind === 'Call' && e.name === 'goarg') {
        const n = goargIndex(e);
        if (n !== undefined && n < GO_INT_REGS.length) used.push(`goarg(${n}) (${regName(GO_INT_REGS[n])})`);
      }
    }
    if (!used.length) continue;
    const version = go.binary.goVersion ? ` (${go.binary.goVersion})` : '';
    lines.add(`${u.probe.name}: Go ${go.binary.abi} ABI${version}; ${[...new Set(used)].join('; ')}`);
  }
  return [...lines];
}

// --- code generation ----------------------------------------------------------------

/** A value as the code generator holds it: in R0, or in scratch (R9) at `off`. */
export type GoVal = { reg: true } | { off: number };

/** What emitting a Go value needs from the code generator. */
export interface GoEmitter {
  a: Asm;
  /** Scratch space (addressed from R9) for `size` bytes. */
  alloc(size: number): number;
  zero(off: number, size: number): void;
  /** R0 = the `size`-byte integer at user address R0. */
  readUser(size: number, signed: boolean): void;
}

function signatureForCodegen(go: GoSite): GoSignature {
  const sig = signatureOf(go);
  if (sig instanceof TsbpfError) throw sig;
  return sig;
}

/** `args.NAME` at a Go function's entry. */
export function emitGoArg(g: GoEmitter, p: ResolvedProbe, field: string, t: Ty): GoVal {
  const loc = signatureForCodegen(p.go!).params.find((x) => x.name === field)!;
  return emitValue(g, loc, t);
}

/** `retval.N` at a Go return site; undefined when there is no DWARF (RAX is read as for C). */
export function emitGoResult(g: GoEmitter, p: ResolvedProbe, index: number, t: Ty): GoVal | undefined {
  const sig = signatureOf(p.go!);
  if (sig instanceof TsbpfError) return undefined;
  return emitValue(g, sig.results[index], t);
}

/** How far a Go return site's RET is from its function's first instruction. */
export function goReturnOffset(p: ResolvedProbe): number {
  if (p.attach.kind !== 'uprobe') throw new Error('internal: a Go return site that is not a uprobe');
  return Number(p.attach.offset) - p.go!.binary.entryOffset(p.go!.func);
}

/** `goarg(N)`: the Nth integer register of the register ABI. */
export function emitGoarg(g: GoEmitter, c: Call): GoVal {
  g.a.load(R0, R6, PT_REGS[GO_INT_REGS[goargIndex(c)!]], 'u64');
  return { reg: true };
}

function emitValue(g: GoEmitter, loc: GoValueLocation, t: Ty): GoVal {
  if (t.kind === 'string') return emitString(g, loc, t.size);
  const size = t.kind === 'int' ? t.size : 8;
  loadWord(g, loc, 0, size, t.kind === 'int' && t.signed);
  return { reg: true };
}

/** R0 = the `size`-byte integer at byte `at` of the value, from its register or the stack. */
function loadWord(g: GoEmitter, loc: GoValueLocation, at: number, size: number, signed: boolean): void {
  const a = g.a;
  const piece = loc.pieces.find((p) => at >= p.offset && at < p.offset + p.size);
  if (!piece || 'xmm' in piece) throw new Error(`internal: no readable piece at byte ${at} of ${loc.name}`);
  if ('reg' in piece) {
    a.load(R0, R6, piece.ptRegsOffset, 'u64');
    // Go leaves the bits above a narrow value in its register unspecified.
    if (size < 8) {
      const bits = 64 - size * 8;
      a.alu64('lsh', R0, { imm: bits }).alu64(signed ? 'arsh' : 'rsh', R0, { imm: bits });
    }
    return;
  }
  // sp points at the return address both at entry and at every RET; arguments follow it.
  a.load(R0, R6, PT_REGS.sp, 'u64').alu64('add', R0, { imm: 8 + piece.stackOffset + at - piece.offset });
  g.readUser(size, signed);
}

/**
 * A Go string or []byte ({ptr, len, ...}) as a language string of `size` bytes: exactly
 * min(len, size - 1) bytes are copied (Go strings have no NUL), the rest stays zero.
 */
function emitString(g: GoEmitter, loc: GoValueLocation, size: number): GoVal {
  const a = g.a;
  const off = g.alloc(size);
  g.zero(off, size);
  const len = g.alloc(8);
  loadWord(g, loc, 8, 8, false);
  a.store(R9, len, R0, 'u64');
  loadWord(g, loc, 0, 8, false);
  const bounded = a.newLabel('golen');
  a.mov(R3, R0).load(R2, R9, len, 'u64');
  a.jmp('jle', R2, { imm: size - 1 }, bounded).movImm(R2, size - 1).label(bounded);
  a.mov(R1, R9).alu64('add', R1, { imm: off }).call('probe_read_user');
  return { off };
}
