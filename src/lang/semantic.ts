// Semantic analysis: resolves attach points into probe units (one per program), types every
// expression of every unit, unifies map key/value types across all uses and checks what
// bpftrace checks (unknown names, type mismatches, printf arguments, builtins a probe kind
// does not have, unsafe functions). All problems are collected, then thrown together.
import { readFileSync, statSync } from 'node:fs';
import type {
  AssignStmt, Block, Call, Expr, FieldAccess, MapRef, Probe, Program, Stmt, TypeRef,
} from './ast.js';
import { Diagnostics, didYouMean, type Span } from './diagnostics.js';
import type { Aggregation, StackMode } from './compiled.js';
import { checkFormatArgs, FormatError, parseFormat, type ArgKind } from '../output/printf.js';
import { TsbpfError } from '../kernel/errors.js';
import { AGGREGATIONS, BUILTIN_NAMES, FUNCTIONS, PT_REGS, SIGNALS, STACK_LIMIT, STATEMENT_FUNCTIONS, UNSAFE_FUNCTIONS } from './builtins.js';
import { resolveAttachPoint, type ResolvedProbe } from './probes.js';
import { goArgType, goargType, goIdentifierType, goNotes, goRetvalType, isGoRetvalIndex } from './go.js';
import { isStructType, memberNamesOf, memberType, ScriptTypes } from './cstructs.js';
import { uaddrType } from './usersym.js';
import {
  compatible, ctypeFromText, ctypeSize, INT64, isStorable, namedCType, NONE, STRLEN, tyName, UINT64,
  unify, valueOfCType, type AddrSpace, type CType, type Ty,
} from './types.js';

export interface CompileOptions {
  file?: string;
  pid?: number;
  unsafe?: boolean;
  params?: string[];
  /** Pid of the command started with -c, for the `cpid` builtin. */
  cpid?: number;
  /** -v: receives explanations (which Go ABI, where each Go argument is read from). */
  explain?: (line: string) => void;
  /** --ret-scan: uretprobes become uprobes on every RET for any binary (always for Go). */
  retScan?: boolean;
}

/** What a map holds, settled over every use in the program. */
export interface MapInfo {
  name: string;
  keys: Ty[];
  agg: Aggregation['kind'];
  /** lhist bounds. */
  lhist?: { min: number; max: number; step: number };
  /** The stored type of a plain-value map. */
  value: Ty;
  defined: boolean;
  /** Where the keys were first given (for conflict messages). */
  keySpan: Span;
}

/** One program: a probe body specialised to one concrete attach point. */
export interface ProbeUnit {
  ast: Probe;
  probe: ResolvedProbe;
  /** Index into probeNames (the `probe` builtin's value). */
  index: number;
  types: Map<Expr, Ty>;
  vars: Map<string, Ty>;
  /** What the type names of casts and sizeof resolved to (script structs shadow kernel ones). */
  ctypes: Map<TypeRef, CType>;
}

export interface Analysis {
  program: Program;
  units: ProbeUnit[];
  maps: Map<string, MapInfo>;
  probeNames: string[];
  attachCount: number;
  usesElapsed: boolean;
  warnings: string[];
}

const INT_TYPES: Record<string, { size: 1 | 2 | 4 | 8; signed: boolean }> = {
  bool: { size: 1, signed: false }, int8: { size: 1, signed: true }, int16: { size: 2, signed: true },
  int32: { size: 4, signed: true }, int64: { size: 8, signed: true }, uint8: { size: 1, signed: false },
  uint16: { size: 2, signed: false }, uint32: { size: 4, signed: false }, uint64: { size: 8, signed: false },
};

const STACK_MODES = new Set(['bpftrace', 'perf', 'raw']);

export function analyse(program: Program, diags: Diagnostics, opts: CompileOptions): Analysis {
  const params = opts.params ?? [];
  const units: Omit<ProbeUnit, 'types' | 'vars' | 'ctypes'>[] = [];
  const probeNames: string[] = [];
  let attachCount = 0;
  for (const probe of program.probes) {
    const failed: { ap: (typeof probe.attachPoints)[number]; e: TsbpfError }[] = [];
    let attached = 0;
    for (const ap of probe.attachPoints) {
      let resolved: ResolvedProbe[];
      try {
        resolved = resolveAttachPoint(ap, { pid: opts.pid, params, retScan: opts.retScan });
      } catch (e) {
        if (!(e instanceof TsbpfError)) throw e;
        failed.push({ ap, e });
        continue;
      }
      attached += resolved.length;
      for (const r of resolved) {
        let index = probeNames.indexOf(r.name);
        if (index < 0) index = probeNames.push(r.name) - 1;
        units.push({ ast: probe, probe: r, index });
        attachCount++;
      }
    }
    for (const { ap, e } of failed) {
      // Like bpftrace, a probe listing several user functions attaches those that exist
      // (sslsnoop.bt names libcrypto's local rsa_ossl_* functions, absent from stripped builds).
      if (attached && isMissingUserFunction(ap.provider, e)) diags.warning(ap.span, `${e.message}: skipping ${ap.raw}`);
      else diags.error(ap.span, e.message, e.hint);
    }
  }
  const maps = new Map<string, MapInfo>();
  const scriptTypes = ScriptTypes.from(program.preamble.cDefinitions, diags);
  let result: Analyser | undefined;
  // Map types settle over all uses: a read may come (in source order) before the assignment
  // that defines the map, and string sizes grow. Re-run until nothing changes.
  for (let round = 0; round < 4; round++) {
    const d = new Diagnostics(diags.source);
    result = new Analyser(d, maps, opts, params, scriptTypes);
    for (const u of units) result.unit({ ...u, types: new Map(), vars: new Map(), ctypes: new Map() });
    if (!result.changed || round === 3) {
      diags.list.push(...dedupe(d.list));
      break;
    }
  }
  if (opts.explain && !diags.errorCount) for (const line of goNotes(result!.units)) opts.explain(line);
  return {
    program, units: result!.units, maps, probeNames, attachCount, usesElapsed: result!.usesElapsed, warnings: [],
  };
}

function isMissingUserFunction(provider: string, e: TsbpfError): boolean {
  return (provider === 'uprobe' || provider === 'uretprobe') && e.message.startsWith('no function ');
}

function dedupe<T extends { message: string; span: Span }>(list: T[]): T[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const k = `${d.span.offset}:${d.span.length}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const isInt = (t: Ty): boolean => t.kind === 'int';
const isIntLike = (t: Ty): boolean => t.kind === 'int' || t.kind === 'ptr' || t.kind === 'cstruct' || t.kind === 'carray';

/** What printf's checker calls each type. */
function argKind(t: Ty): ArgKind {
  if (t.kind === 'int' || t.kind === 'ptr') return 'int';
  if (t.kind === 'buffer') return 'buffer';
  return 'string';
}

class Analyser {
  changed = false;
  usesElapsed = false;
  readonly units: ProbeUnit[] = [];
  private u!: ProbeUnit;
  private loopDepth = 0;

  constructor(
    private readonly d: Diagnostics,
    private readonly maps: Map<string, MapInfo>,
    private readonly opts: CompileOptions,
    private readonly params: readonly string[],
    private readonly scriptTypes: ScriptTypes,
  ) {}

  unit(u: ProbeUnit): void {
    this.u = u;
    this.units.push(u);
    if (u.ast.predicate) {
      const t = this.expr(u.ast.predicate);
      if (!isIntLike(t) && t.kind !== 'none') this.d.error(u.ast.predicate.span, `Invalid type for predicate: ${tyName(t)}`, 'a predicate must be an integer or a pointer');
    }
    this.block(u.ast.body);
  }

  private get kind(): string {
    return this.u.probe.provider;
  }

  private block(b: Block): void {
    for (const s of b.statements) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'Block': this.block(s); break;
      case 'ExprStmt': this.expr(s.expr, true); break;
      case 'Assign': this.assign(s); break;
      case 'If': {
        this.cond(s.cond);
        this.block(s.then);
        if (s.else) this.stmt(s.else);
        break;
      }
      case 'Unroll': {
        const n = s.count.kind === 'Integer' ? Number(s.count.value) : Number(this.params[s.count.index - 1]);
        if (!Number.isInteger(n) || n < 1 || n > 100) this.d.error(s.count.span, 'unroll maximum value is 100 and minimum is 1');
        this.block(s.body);
        break;
      }
      case 'While':
        this.cond(s.cond);
        this.loopDepth++;
        this.block(s.body);
        this.loopDepth--;
        break;
      case 'Jump':
        if (s.jump !== 'return' && this.loopDepth === 0) this.d.error(s.span, `${s.jump} used outside of a loop`);
        if (s.value) this.expr(s.value);
        break;
    }
  }

  private cond(e: Expr): void {
    const t = this.expr(e);
    if (!isIntLike(t)) this.d.error(e.span, `Invalid condition: ${tyName(t)}`, 'conditions must be integers or pointers');
  }

  private assign(s: AssignStmt): void {
    const target = s.target;
    if (target.kind === 'Variable') {
      const value = this.expr(s.value);
      const prior = this.u.vars.get(target.name);
      if (s.op !== '=') {
        if (!prior) this.d.error(target.span, `Undefined or undeclared variable: ${target.name}`);
        else if (!isInt(prior) || !isIntLike(value)) this.d.error(s.span, `Compound assignment needs integers, got ${tyName(prior)} and ${tyName(value)}`);
        this.u.types.set(target, prior ?? INT64);
        return;
      }
      if (value.kind === 'none') return; // already reported
      if (!isStorable(value) && value.kind !== 'cstruct' && value.kind !== 'carray') {
        this.d.error(s.value.span, `Value of type ${tyName(value)} cannot be assigned to a variable`);
        return;
      }
      const stored = value.kind === 'int' ? { ...value, size: 8 as const } : value;
      if (prior && !compatible(prior, stored)) {
        this.d.error(target.span, `Type mismatch for ${target.name}: trying to assign value of type '${tyName(value)}' when variable already contains a value of type '${tyName(prior)}'`);
        return;
      }
      const t = prior ? unify(prior, stored) : stored;
      this.u.vars.set(target.name, t);
      this.u.types.set(target, t);
      return;
    }
    const keys = this.mapKeys(target);
    if (s.value.kind === 'Call' && AGGREGATIONS.has(s.value.name)) {
      if (s.op !== '=') this.d.error(s.span, `${s.value.name}() cannot be used with a compound assignment`);
      this.aggregation(target, keys, s.value);
      return;
    }
    const value = this.expr(s.value);
    if (s.op !== '=') {
      if (!isIntLike(value)) this.d.error(s.value.span, `Compound assignment needs an integer, got ${tyName(value)}`);
      this.defineMap(target, keys, 'value', INT64);
      return;
    }
    if (value.kind === 'none') return; // already reported
    if (!isStorable(value)) {
      this.d.error(s.value.span, `Value of type ${tyName(value)} cannot be stored in a map`);
      return;
    }
    this.defineMap(target, keys, 'value', value);
  }

  private aggregation(target: MapRef, keys: Ty[] | undefined, call: Call): void {
    this.u.types.set(call, NONE);
    const name = call.name as Aggregation['kind'];
    const [min, max] = FUNCTIONS[name];
    if (call.args.length < min || call.args.length > max) {
      this.d.error(call.span, `${name}() requires ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'} (${call.args.length} provided)`);
      return;
    }
    if (call.args.length) {
      const t = this.expr(call.args[0]);
      if (!isIntLike(t)) this.d.error(call.args[0].span, `${name}() expects an integer argument, got ${tyName(t)}`);
    }
    let lhist: MapInfo['lhist'];
    if (name === 'lhist') {
      const nums = call.args.slice(1).map((a) => this.constInt(a, `lhist() ${['min', 'max', 'step'][call.args.indexOf(a) - 1]}`));
      if (nums.every((n) => n !== undefined)) {
        const [lo, hi, step] = nums as number[];
        if (step <= 0) this.d.error(call.args[3].span, 'lhist() step must be >= 1');
        else if (hi <= lo) this.d.error(call.args[2].span, 'lhist() max must be greater than min');
        else lhist = { min: lo, max: hi, step };
      }
    }
    this.defineMap(target, keys, name, name === 'count' ? UINT64 : INT64, lhist);
  }

  /** Types the subscript of a map; undefined when a key is bad (already reported). */
  private mapKeys(m: MapRef): Ty[] | undefined {
    const keys: Ty[] = [];
    for (const k of m.keys) {
      const t = this.expr(k);
      if (!isStorable(t)) {
        this.d.error(k.span, `${tyName(t)} cannot be used as a map key`);
        return undefined;
      }
      keys.push(t.kind === 'int' ? { ...t, size: 8 } : t);
    }
    return keys;
  }

  private checkKeys(m: MapRef, info: MapInfo, keys: Ty[]): void {
    const ok = keys.length === info.keys.length && keys.every((k, i) => compatible(k, info.keys[i]));
    if (!ok) {
      const want = info.keys.length ? `[${info.keys.map(tyName).join(', ')}]` : 'no key';
      const got = keys.length ? `[${keys.map(tyName).join(', ')}]` : 'no key';
      this.d.error(m.span, `Argument mismatch for ${m.name}: trying to access with arguments: ${got} when map expects arguments: ${want}`,
        `the map's keys were first given at line ${info.keySpan.line}:${info.keySpan.col}`);
      return;
    }
    const grown = info.keys.map((k, i) => unify(k, keys[i]));
    if (JSON.stringify(grown) !== JSON.stringify(info.keys)) {
      info.keys = grown;
      this.changed = true;
    }
  }

  private defineMap(m: MapRef, keys: Ty[] | undefined, agg: Aggregation['kind'], value: Ty, lhist?: MapInfo['lhist']): void {
    const stored = value.kind === 'int' ? { ...value, size: 8 as const } : value;
    let info = this.maps.get(m.name);
    if (!info) {
      info = { name: m.name, keys: keys ?? [], agg, value: stored, lhist, defined: true, keySpan: m.span };
      this.maps.set(m.name, info);
      this.changed = true;
      return;
    }
    if (!info.defined) {
      // A read seen before this first write left a placeholder: its keys were never known.
      Object.assign(info, { keys: keys ?? info.keys, keySpan: m.span, agg, value: stored, lhist, defined: true });
      this.changed = true;
    }
    if (keys) this.checkKeys(m, info, keys);
    const describe = (a: string, t: Ty): string => (a === 'value' ? tyName(t) : a);
    if (info.agg !== agg || (agg === 'value' && !compatible(info.value, stored))) {
      this.d.error(m.span, `Type mismatch for ${m.name}: trying to assign value of type '${describe(agg, stored)}' when map already contains a value of type '${describe(info.agg, info.value)}'`);
      return;
    }
    if (agg === 'lhist' && lhist && info.lhist && JSON.stringify(lhist) !== JSON.stringify(info.lhist)) {
      this.d.error(m.span, `Different lhist bounds in a single map are unsupported`);
    }
    if (agg === 'value') {
      const grown = unify(info.value, stored);
      if (JSON.stringify(grown) !== JSON.stringify(info.value)) {
        info.value = grown;
        this.changed = true;
      }
    }
  }

  /** A map mentioned without being read or written (clear, zero, print, delete). */
  private mapInfo(m: MapRef): MapInfo | undefined {
    const info = this.maps.get(m.name);
    if (!info?.defined) {
      this.d.error(m.span, `Undefined map: ${m.name}`, didYouMean(m.name, [...this.maps.values()].filter((x) => x.defined).map((x) => x.name)));
      if (!info) this.maps.set(m.name, { name: m.name, keys: [], agg: 'value', value: INT64, defined: false, keySpan: m.span });
      return undefined;
    }
    return info;
  }

  private readMap(m: MapRef): Ty {
    const keys = this.mapKeys(m);
    const info = this.mapInfo(m);
    if (!info) return NONE;
    if (keys && (m.keys.length || info.keys.length)) this.checkKeys(m, info, keys);
    switch (info.agg) {
      case 'value': return info.value;
      case 'count': return UINT64;
      case 'hist': case 'lhist':
        this.d.error(m.span, `${m.name} holds a ${info.agg}() and cannot be read as a value`, `print it with print(${m.name})`);
        return NONE;
      default: return INT64;
    }
  }

  private constInt(e: Expr, what: string): number | undefined {
    this.expr(e);
    if (e.kind === 'Integer') return Number(e.value);
    if (e.kind === 'Positional') {
      const n = Number(this.params[e.index - 1]);
      if (Number.isInteger(n)) return n;
    }
    this.d.error(e.span, `${what} must be an integer literal`);
    return undefined;
  }

  private stringLiteral(e: Expr, what: string): string | undefined {
    this.expr(e);
    if (e.kind === 'String') return e.value;
    if (e.kind === 'Positional' && this.params[e.index - 1] !== undefined) return this.params[e.index - 1];
    this.d.error(e.span, `${what} must be a string literal`);
    return undefined;
  }

  expr(e: Expr, statement = false): Ty {
    const t = this.exprType(e, statement);
    this.u.types.set(e, t);
    return t;
  }

  private exprType(e: Expr, statement: boolean): Ty {
    switch (e.kind) {
      case 'Integer': {
        const unsigned = e.suffix.includes('u') || e.value > 0x7fffffffffffffffn;
        return unsigned ? UINT64 : INT64;
      }
      case 'String': return { kind: 'string', size: e.bytes.length + 1 };
      case 'Positional': {
        const p = this.params[e.index - 1];
        if (p !== undefined && /^-?(0x[0-9a-f]+|\d+)$/i.test(p)) return INT64;
        if (p === undefined) return INT64;
        return { kind: 'string', size: Buffer.byteLength(p) + 1 };
      }
      case 'ParamCount': return INT64;
      case 'Variable': {
        const t = this.u.vars.get(e.name);
        if (!t) {
          this.d.error(e.span, `Undefined or undeclared variable: ${e.name}`, didYouMean(e.name, this.u.vars.keys()));
          return NONE;
        }
        return t;
      }
      case 'Map': return this.readMap(e);
      case 'Identifier': return this.identifier(e.name, e.span);
      case 'Binary': return this.binary(e);
      case 'Unary': {
        const t = this.expr(e.operand);
        if (e.op === '*') {
          if (t.kind === 'ptr') return valueOfCType(t.to.kind === 'void' ? { kind: 'int', size: 8, signed: false } : t.to, t.space);
          if (t.kind === 'int') return UINT64;
          this.d.error(e.span, `Can not dereference type ${tyName(t)}`);
          return NONE;
        }
        if (e.op === '&') {
          this.d.error(e.span, 'the address-of operator & is not supported', 'use the pointer itself');
          return NONE;
        }
        if (!isIntLike(t)) this.d.error(e.span, `The ${e.op} operator can not be used on expressions of type '${tyName(t)}'`);
        return e.op === '!' ? UINT64 : INT64;
      }
      case 'Update': {
        if (e.target.kind === 'Variable') {
          const t = this.u.vars.get(e.target.name);
          if (!t) this.d.error(e.target.span, `Undefined or undeclared variable: ${e.target.name}`);
          else if (!isInt(t)) this.d.error(e.span, `The ${e.op} operator can only be used on integers, not ${tyName(t)}`);
          this.u.types.set(e.target, t ?? INT64);
          return t ?? INT64;
        }
        const keys = this.mapKeys(e.target);
        this.defineMap(e.target, keys, 'value', INT64);
        return INT64;
      }
      case 'Ternary': {
        this.cond(e.cond);
        const a = this.expr(e.then), b = this.expr(e.else);
        if (a.kind === 'none' || b.kind === 'none') return a.kind === 'none' ? b : a;
        if (isIntLike(a) && isIntLike(b)) return a.kind === 'int' && b.kind === 'int' && !(a.signed && b.signed) ? UINT64 : INT64;
        if (!compatible(a, b)) {
          this.d.error(e.span, `Ternary operator must return the same type: have '${tyName(a)}' and '${tyName(b)}'`);
          return a;
        }
        return unify(a, b);
      }
      case 'Cast': return this.cast(e.type, this.expr(e.expr), e.span);
      case 'Field': return this.field(e);
      case 'TupleIndex': {
        if (isGoRetvalIndex(e, this.u.probe)) {
          this.u.types.set(e.expr, NONE);
          return goRetvalType(this.u.probe, e.index, e.span, this.d);
        }
        const t = this.expr(e.expr);
        if (t.kind !== 'tuple') {
          this.d.error(e.span, `Can not access index '${e.index}' on expression of type '${tyName(t)}'`);
          return NONE;
        }
        if (e.index >= t.elems.length) {
          this.d.error(e.span, `Invalid tuple index: ${e.index}. Found ${t.elems.length} elements in tuple.`);
          return NONE;
        }
        return t.elems[e.index];
      }
      case 'Index': {
        const t = this.expr(e.expr);
        const i = this.expr(e.index);
        if (!isInt(i)) this.d.error(e.index.span, `The array index must be an integer, not ${tyName(i)}`);
        if (t.kind === 'ptr') return valueOfCType(t.to.kind === 'void' ? { kind: 'int', size: 1, signed: false } : t.to, t.space);
        if (t.kind === 'carray') return valueOfCType(t.elem, t.space);
        this.d.error(e.span, `The array index operator [] can only be used on arrays and pointers, not ${tyName(t)}`);
        return NONE;
      }
      case 'Tuple': {
        const elems = e.elements.map((x) => this.expr(x));
        for (const [i, t] of elems.entries()) {
          if (!isStorable(t)) this.d.error(e.elements[i].span, `${tyName(t)} cannot be a tuple element`);
        }
        return { kind: 'tuple', elems: elems.map((t) => (t.kind === 'int' ? { ...t, size: 8 as const } : t)) };
      }
      case 'Sizeof': {
        if (e.arg.kind === 'Type') {
          const c = this.typeRef(e.arg);
          if (c) return UINT64;
          return NONE;
        }
        this.expr(e.arg);
        return UINT64;
      }
      case 'Call': return this.call(e, statement);
    }
  }

  /** The C type a TypeRef names, or undefined (reported). */
  typeRef(t: TypeRef): CType | undefined {
    const what = t.keyword ? `${t.keyword} ${t.name}` : t.name;
    let base: CType | string | undefined = t.keyword === null && INT_TYPES[t.name] ? { kind: 'int', ...INT_TYPES[t.name] }
      : t.keyword === 'struct' || t.keyword === 'union' ? this.scriptTypes.lookup(t.keyword, t.name) : namedCType(t.name, t.keyword);
    if (typeof base === 'string') {
      this.d.error(t.span, base, 'simplify the definition to plain members, or cast to a kernel type');
      return undefined;
    }
    if (!base) {
      const near = t.keyword === 'struct' || t.keyword === 'union' ? this.scriptTypes.suggest(t.keyword, t.name) : undefined;
      this.d.error(t.span, `Unknown type: '${what}'`, near ?? `define it in the script (${what} { ... }) or use a kernel type from BTF (/sys/kernel/btf/vmlinux)`);
      return undefined;
    }
    for (let i = 0; i < t.pointerDepth; i++) base = { kind: 'ptr', to: base };
    this.u.ctypes.set(t, base);
    return base;
  }

  private cast(type: TypeRef, from: Ty, span: Span): Ty {
    const c = this.typeRef(type);
    if (!c) return NONE;
    if (!isIntLike(from)) {
      this.d.error(span, `Cannot cast from '${tyName(from)}' to '${type.name}'`);
      return NONE;
    }
    if (c.kind === 'int') return { kind: 'int', size: c.size, signed: c.signed };
    if (c.kind === 'ptr') return { kind: 'ptr', to: c.to, space: from.kind === 'ptr' || from.kind === 'cstruct' || from.kind === 'carray' ? from.space : this.u.probe.space };
    this.d.error(span, `Cannot cast to '${type.keyword ? type.keyword + ' ' : ''}${type.name}'`, 'cast to a pointer: (struct X *)');
    return NONE;
  }

  private binary(e: Expr & { kind: 'Binary' }): Ty {
    const a = this.expr(e.left), b = this.expr(e.right);
    if (a.kind === 'none' || b.kind === 'none') return INT64;
    const cmp = ['==', '!=', '<', '<=', '>', '>='].includes(e.op);
    if (a.kind === 'string' || b.kind === 'string') {
      if (a.kind !== b.kind) {
        this.d.error(e.span, `Type mismatch for '${e.op}': comparing '${tyName(a)}' with '${tyName(b)}'`);
      } else if (e.op !== '==' && e.op !== '!=') {
        this.d.error(e.span, `The ${e.op} operator can not be used on expressions of types ${tyName(a)}, ${tyName(b)}`);
      }
      return UINT64;
    }
    if (!isIntLike(a) || !isIntLike(b)) {
      this.d.error(e.span, `Type mismatch for '${e.op}': comparing '${tyName(a)}' with '${tyName(b)}'`);
      return INT64;
    }
    if (cmp || e.op === '&&' || e.op === '||') return UINT64;
    if (a.kind === 'ptr' && b.kind === 'int' && (e.op === '+' || e.op === '-')) return a;
    const signed = (a.kind === 'int' && a.signed) && (b.kind === 'int' && b.signed);
    return signed ? INT64 : UINT64;
  }

  private identifier(name: string, span: Span): Ty {
    if (name === 'goid') {
      const g = this.u.probe.goid;
      if (!g) this.d.error(span, 'goid is only available in uprobes on Go binaries', 'the binary must be built by the Go toolchain (1.17+ register ABI)');
      else if (!('reg' in g.g)) this.d.error(span, 'goid needs the Go register ABI (Go 1.17+): older Go keeps g in thread-local storage');
      return INT64;
    }
    const goTy = goIdentifierType(this.u.probe, name, span, this.d);
    if (goTy) return goTy;
    if (!BUILTIN_NAMES.has(name)) {
      if (STACK_MODES.has(name)) return NONE;
      this.d.error(span, `Unknown identifier: '${name}'`, didYouMean(name, BUILTIN_NAMES));
      return NONE;
    }
    const k = this.kind;
    const probeKinds = (allowed: string[], msg: string): boolean => {
      if (allowed.includes(k)) return true;
      this.d.error(span, msg);
      return false;
    };
    const argMatch = /^(s?)arg(\d+)$/.exec(name);
    if (argMatch) {
      const allowed = argMatch[1] ? ['kprobe', 'uprobe'] : ['kprobe', 'uprobe', 'rawtracepoint', 'usdt'];
      probeKinds(allowed, `The ${name} builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes`);
      const usdt = this.u.probe.usdtArgs;
      if (k === 'usdt' && usdt) {
        const arg = usdt[Number(argMatch[2])];
        if (!arg) {
          this.d.error(span, `${name} is out of range: ${this.u.probe.name} has ${usdt.length} argument${usdt.length === 1 ? '' : 's'}`);
        } else if (arg.kind === 'unsupported' || arg.kind === 'rip') {
          this.d.error(span, `${name} of ${this.u.probe.name} cannot be read: its location '${arg.text}' is not supported`);
        }
        return arg ? { kind: 'int', size: 8, signed: arg.signed } : UINT64;
      }
      if (!argMatch[1] && k !== 'rawtracepoint' && Number(argMatch[2]) > 5) this.d.error(span, `${name} is not available: only arg0 to arg5 are passed in registers`);
      const fa = this.u.probe.funcArgs;
      if (k === 'rawtracepoint' && fa && Number(argMatch[2]) >= fa.length) {
        this.d.error(span, `${name} is out of range: raw tracepoint ${this.u.probe.attach.kind === 'rawtracepoint' ? this.u.probe.attach.name : ''} has ${fa.length} arguments`);
      }
      return UINT64;
    }
    switch (name) {
      case 'pid': case 'tid': case 'uid': case 'gid': case 'nsecs': case 'cpu': case 'cgroup': case 'rand':
      case 'jiffies': case 'numaid':
        return UINT64;
      case 'cpid':
        if (this.opts.cpid === undefined) this.d.error(span, 'cpid is only available with a command to trace (-c CMD)');
        return UINT64;
      case 'elapsed':
        this.usesElapsed = true;
        return UINT64;
      case 'comm': return { kind: 'string', size: 16 };
      case 'kstack': return { kind: 'kstack', mode: 'bpftrace', limit: STACK_LIMIT };
      case 'ustack': return { kind: 'ustack', mode: 'bpftrace', limit: STACK_LIMIT };
      case 'probe': return { kind: 'probe' };
      case 'username': return { kind: 'username' };
      case 'curtask': return { kind: 'ptr', to: namedCType('task_struct', 'struct') ?? { kind: 'void' }, space: 'kernel' };
      case 'func':
        probeKinds(['kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'fentry', 'fexit'], "The func builtin can not be used with this probe type");
        return k.startsWith('u') ? { kind: 'usym' } : { kind: 'ksym' };
      case 'retval': {
        if (!probeKinds(['kretprobe', 'uretprobe', 'fexit'], "The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes")) return INT64;
        if (k === 'fexit' && this.u.probe.retType !== undefined) return valueOfCType({ kind: 'btf', id: this.u.probe.retType }, 'kernel');
        return INT64;
      }
      case 'args':
        if (!probeKinds(['tracepoint', 'fentry', 'fexit', 'rawtracepoint'], 'The args builtin can only be used with tracepoint/kfunc probes')) return NONE;
        return { kind: 'record' };
      default:
        this.d.error(span, `the ${name} builtin is not supported yet`);
        return NONE;
    }
  }

  private field(e: FieldAccess): Ty {
    const base = this.expr(e.expr);
    if (base.kind === 'none') return NONE;
    if (base.kind === 'record') return this.argsField(e);
    let ctype: CType | undefined;
    let space: AddrSpace = 'kernel';
    if (base.kind === 'ptr') {
      ctype = base.to;
      space = base.space;
    } else if (base.kind === 'cstruct') {
      ctype = base.ctype;
      space = base.space;
    }
    if (!ctype || !isStructType(ctype)) {
      this.d.error(e.span, `Can not access field '${e.field}' on expression of type '${tyName(base)}'`,
        base.kind === 'int' ? `cast it to a struct pointer first: ((struct NAME *)${'x'})->${e.field}` : undefined);
      return NONE;
    }
    if (e.arrow && base.kind === 'cstruct') {
      this.d.error(e.span, `Can not use '->' on '${tyName(base)}': it is not a pointer`, `use '.' for a member of a struct value: .${e.field}`);
      return NONE;
    }
    if (!e.arrow && base.kind === 'ptr') {
      this.d.error(e.span, `Can not access field '${e.field}' on type '${tyName(base)}'. Try dereferencing it first, or using '->'`);
      return NONE;
    }
    const m = memberType(ctype, e.field);
    if (!m) {
      this.d.error(e.fieldSpan, `Struct/union of type '${tyName({ kind: 'cstruct', ctype, space })}' does not contain a field named '${e.field}'`,
        didYouMean(e.field, memberNamesOf(ctype)));
      return NONE;
    }
    return valueOfCType(m, space);
  }

  private argsField(e: FieldAccess): Ty {
    const p = this.u.probe;
    if (p.go) return goArgType(p, e.field, e.span, this.d);
    if (p.tracepoint) {
      const f = p.tracepoint.fields.find((x) => x.name === e.field) ?? p.tracepoint.common.find((x) => x.name === e.field);
      if (!f) {
        this.d.error(e.fieldSpan, `Can't find field '${e.field}' in tracepoint ${p.name}`,
          didYouMean(e.field, p.tracepoint.fields.map((x) => x.name)) ?? `its fields: ${p.tracepoint.fields.map((x) => x.name).join(', ')}`);
        return NONE;
      }
      if (f.dataLoc) return { kind: 'string', size: STRLEN };
      if (f.arrayLen !== undefined) {
        const elem = f.type.replace(/\[\d*\]$/, '').trim();
        if (/\bchar$/.test(elem)) return { kind: 'string', size: f.arrayLen };
        const esz = f.size / f.arrayLen;
        return { kind: 'carray', elem: ctypeFromText(elem, esz, f.signed), len: f.arrayLen, space: 'kernel' };
      }
      const c = ctypeFromText(f.type, f.size, f.signed);
      return c.kind === 'ptr' ? { kind: 'ptr', to: c.to, space: p.space } : valueOfCType(c, p.space);
    }
    const args = p.funcArgs ?? [];
    const a = args.find((x) => x.name === e.field);
    if (!a) {
      this.d.error(e.fieldSpan, `Can't find function parameter '${e.field}' of ${p.name}`, didYouMean(e.field, args.map((x) => x.name)));
      return NONE;
    }
    return valueOfCType({ kind: 'btf', id: a.type }, 'kernel');
  }

  private call(c: Call, statement: boolean): Ty {
    if (c.name === 'goarg') {
      for (const a of c.args) this.expr(a);
      return goargType(this.u.probe, c, this.d);
    }
    const spec = FUNCTIONS[c.name];
    if (!spec) {
      this.d.error(c.nameSpan, `Unknown function: ${c.name}`, didYouMean(c.name, Object.keys(FUNCTIONS)));
      for (const a of c.args) this.expr(a);
      return NONE;
    }
    const [min, max] = spec;
    if (c.args.length < min || c.args.length > max) {
      const want = min === max ? `${min}` : max >= 64 ? `at least ${min}` : `${min} to ${max}`;
      this.d.error(c.span, `${c.name}() requires ${want} argument${min === 1 && max === 1 ? '' : 's'} (${c.args.length} provided)`);
      return NONE;
    }
    if (UNSAFE_FUNCTIONS.has(c.name) && !this.opts.unsafe) {
      this.d.error(c.nameSpan, `${c.name}() is an unsafe function being used in safe mode`, 'run with --unsafe to allow it');
    }
    if (AGGREGATIONS.has(c.name)) {
      this.d.error(c.span, `${c.name}() should be directly assigned to a map`, `write @name = ${c.name}(...)`);
      return NONE;
    }
    if (!statement && STATEMENT_FUNCTIONS.has(c.name)) {
      this.d.error(c.span, `${c.name}() should only be used as a statement`);
    }
    const args = c.args;
    switch (c.name) {
      case 'printf': case 'system': case 'cat': {
        const fmt = this.stringLiteral(args[0], `${c.name}() format`);
        const types = args.slice(1).map((a) => this.expr(a));
        types.forEach((t, i) => {
          if (!isStorable(t) && t.kind !== 'none') this.d.error(args[i + 1].span, `${c.name}() cannot print a value of type ${tyName(t)}`);
        });
        if (fmt === undefined || types.some((t) => t.kind === 'none')) return NONE;
        try {
          const f = parseFormat(fmt);
          const msg = checkFormatArgs(f, types.map(argKind));
          if (msg) this.d.error(c.span, c.name === 'printf' ? msg : msg.replace(/^printf/, c.name));
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
          this.d.error(args[0].span, e.message, e.hint);
        }
        return NONE;
      }
      case 'print': {
        if (args[0].kind === 'Map' && args[0].keys.length === 0) {
          this.mapInfo(args[0]);
          this.u.types.set(args[0], NONE);
          for (const a of args.slice(1)) this.constInt(a, 'print() top and div');
          return NONE;
        }
        if (args.length > 1) this.d.error(c.span, 'print() with top and div arguments needs a map: print(@m, top, div)');
        const t = this.expr(args[0]);
        if (!isStorable(t) && t.kind !== 'none') this.d.error(args[0].span, `print() cannot print a value of type ${tyName(t)}`);
        return NONE;
      }
      case 'clear': case 'zero': {
        if (args[0].kind !== 'Map' || args[0].keys.length) {
          this.d.error(args[0].span, `${c.name}() expects a map with no keys, like ${c.name}(@m)`);
          return NONE;
        }
        this.mapInfo(args[0]);
        return NONE;
      }
      case 'delete': {
        if (args[0].kind !== 'Map') {
          this.d.error(args[0].span, 'delete() expects a map element, like delete(@m[key])');
          return NONE;
        }
        const info = this.mapInfo(args[0]);
        const keys = this.mapKeys(args[0]);
        if (info && keys) this.checkKeys(args[0], info, keys);
        return NONE;
      }
      case 'time':
        if (args.length) this.stringLiteral(args[0], 'time() format');
        return NONE;
      case 'strftime': {
        const fmt = this.stringLiteral(args[0], 'strftime() format');
        const t = this.expr(args[1]);
        if (!isInt(t)) this.d.error(args[1].span, `strftime() expects an integer timestamp, got ${tyName(t)}`);
        return { kind: 'timestamp', format: fmt ?? '' };
      }
      case 'exit': return NONE;
      case 'join': {
        const t = this.expr(args[0]);
        if (t.kind !== 'ptr' && t.kind !== 'int') this.d.error(args[0].span, `join() expects a char ** pointer, got ${tyName(t)}`);
        if (args[1]) this.stringLiteral(args[1], 'join() separator');
        return NONE;
      }
      case 'str': {
        const t = this.expr(args[0]);
        let size = STRLEN;
        if (args[1]) {
          const n = this.constInt(args[1], 'str() length');
          if (n !== undefined && n < 1) this.d.error(args[1].span, 'str() length must be positive');
        }
        if (t.kind === 'string') return t;
        if (!isIntLike(t)) this.d.error(args[0].span, `str() expects a pointer or an integer address, got ${tyName(t)}`);
        return { kind: 'string', size };
      }
      case 'buf': {
        const t = this.expr(args[0]);
        let size = t.kind === 'carray' ? t.len * ctypeSize(t.elem) : STRLEN;
        if (args[1]) size = this.constInt(args[1], 'buf() length') ?? size;
        if (!isIntLike(t) && t.kind !== 'string') this.d.error(args[0].span, `buf() expects a pointer or an array, got ${tyName(t)}`);
        if (size < 1 || size > 1024) this.d.error(c.span, 'buf() length must be between 1 and 1024');
        return { kind: 'buffer', size: t.kind === 'string' && !args[1] ? t.size : size };
      }
      case 'ksym': case 'usym': {
        const t = this.expr(args[0]);
        if (!isIntLike(t)) this.d.error(args[0].span, `${c.name}() expects an address, got ${tyName(t)}`);
        return { kind: c.name };
      }
      case 'uaddr': {
        const name = this.stringLiteral(args[0], 'uaddr() symbol');
        if (!['uprobe', 'uretprobe', 'usdt'].includes(this.kind)) {
          this.d.error(c.span, `uaddr() can not be used with ${this.kind} probes`, 'uaddr() reads the probed binary: use it in uprobe, uretprobe or usdt probes');
          return UINT64;
        }
        if (name === undefined) return UINT64;
        try {
          return uaddrType(this.u.probe, name);
        } catch (e) {
          if (!(e instanceof TsbpfError)) throw e;
          this.d.error(args[0].span, e.message, e.hint);
          return UINT64;
        }
      }
      case 'kaddr': {
        const name = this.stringLiteral(args[0], 'kaddr() symbol');
        if (name !== undefined && kallsyms(name) === undefined) this.d.error(args[0].span, `kaddr(): no kernel symbol '${name}' in /proc/kallsyms`);
        return UINT64;
      }
      case 'ntop': {
        const ts = args.map((a) => this.expr(a));
        const addr = ts[ts.length - 1];
        if (ts.length === 2 && !isInt(ts[0])) this.d.error(args[0].span, 'ntop() address family must be an integer');
        if (!isInt(addr) && !(addr.kind === 'carray' && ctypeSize(addr.elem) * addr.len >= 4) && addr.kind !== 'string') {
          this.d.error(args[args.length - 1].span, `ntop() expects an integer or an array of 4 or 16 bytes, got ${tyName(addr)}`);
        }
        return { kind: 'inet' };
      }
      case 'sizeof': return UINT64;
      case 'signal': {
        const a = args[0];
        this.expr(a);
        if (a.kind === 'String') {
          const name = a.value.startsWith('SIG') ? a.value : `SIG${a.value}`;
          if (SIGNALS[name] === undefined) this.d.error(a.span, `signal(): unknown signal '${a.value}'`, didYouMean(name, Object.keys(SIGNALS)));
        } else if (a.kind === 'Integer') {
          if (a.value < 1n || a.value > 64n) this.d.error(a.span, `signal(): ${a.value} is not a valid signal number`);
        } else if (!isInt(this.u.types.get(a)!)) {
          this.d.error(a.span, 'signal() expects a signal name or number');
        }
        if (!['kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'tracepoint', 'rawtracepoint', 'profile', 'fentry', 'fexit', 'software', 'hardware'].includes(this.kind)) {
          this.d.error(c.span, `signal() can not be used with ${this.kind} probes`);
        }
        return NONE;
      }
      case 'kstack': case 'ustack': {
        let mode: StackMode = 'bpftrace';
        let limit = STACK_LIMIT;
        for (const a of args) {
          if (a.kind === 'Identifier' && STACK_MODES.has(a.name)) {
            mode = a.name as StackMode;
            this.u.types.set(a, NONE);
          } else if (a.kind === 'Integer') {
            limit = Number(a.value);
            if (limit < 1 || limit > 1024) this.d.error(a.span, `${c.name}() limit must be between 1 and 1024`);
            this.u.types.set(a, INT64);
          } else {
            this.d.error(a.span, `${c.name}() expects a mode (bpftrace, perf, raw) and/or a frame limit`);
          }
        }
        return { kind: c.name, mode, limit };
      }
      case 'reg': {
        const name = this.stringLiteral(args[0], 'reg() register name');
        if (name !== undefined && PT_REGS[name] === undefined) {
          this.d.error(args[0].span, `'${name}' is not a valid register`, didYouMean(name, Object.keys(PT_REGS)) ?? `registers: ${Object.keys(PT_REGS).join(' ')}`);
        }
        if (!['kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'profile'].includes(this.kind)) {
          this.d.error(c.span, `reg() can not be used with ${this.kind} probes`);
        }
        return UINT64;
      }
      case 'strncmp': {
        const a = this.expr(args[0]), b = this.expr(args[1]);
        if (a.kind !== 'string') this.d.error(args[0].span, `strncmp() expects strings, got ${tyName(a)}`);
        if (b.kind !== 'string') this.d.error(args[1].span, `strncmp() expects strings, got ${tyName(b)}`);
        const n = this.constInt(args[2], 'strncmp() length');
        if (n !== undefined && n < 0) this.d.error(args[2].span, 'strncmp() length must be non-negative');
        return UINT64;
      }
      case 'cgroupid': {
        const path = this.stringLiteral(args[0], 'cgroupid() path');
        if (path !== undefined && cgroupId(path) === undefined) this.d.error(args[0].span, `cgroupid(): cannot stat '${path}'`);
        return UINT64;
      }
      case 'kptr': case 'uptr': {
        const t = this.expr(args[0]);
        const space: AddrSpace = c.name === 'kptr' ? 'kernel' : 'user';
        if (t.kind === 'ptr' || t.kind === 'cstruct' || t.kind === 'carray') return { ...t, space };
        return t;
      }
      default:
        for (const a of args) this.expr(a);
        this.d.error(c.nameSpan, `${c.name}() is not supported yet`);
        return NONE;
    }
  }
}

/** A kernel symbol's address from /proc/kallsyms. */
export function kallsyms(name: string): bigint | undefined {
  const text = readKallsyms();
  const re = new RegExp(`^([0-9a-f]+) \\w ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`, 'm');
  const m = re.exec(text);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

let kallsymsText: string | undefined;
function readKallsyms(): string {
  if (kallsymsText === undefined) {
    try {
      kallsymsText = readFileSync('/proc/kallsyms', 'latin1');
    } catch {
      kallsymsText = '';
    }
  }
  return kallsymsText;
}

/** A cgroup's id (the inode of its directory in cgroupfs), as bpf_get_current_cgroup_id returns it. */
export function cgroupId(path: string): bigint | undefined {
  try {
    return BigInt(statSync(path, { bigint: true }).ino);
  } catch {
    return undefined;
  }
}

