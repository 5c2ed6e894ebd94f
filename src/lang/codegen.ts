// Code generation: one BPF program per probe unit, straight to instructions.
//
// Register conventions: R6 holds the context for the whole program, R9 the per-CPU scratch
// buffer (strings, tuples, keys, event records: the stack is only 512 bytes). Expressions
// leave scalars in R0; aggregate values live in scratch and are named by their offset.
// Integer variables and temporaries live on the stack, where the verifier tracks their
// exact values (bounded loops over `$i` verify only because of that).
import { Asm, type Width } from '../isa/asm.js';
import { R0, R1, R2, R3, R4, R6, R7, R9, FP, type Reg } from '../isa/insn.js';
import type { AssignStmt, Block, Call, Expr, MapRef, Stmt } from './ast.js';
import type { Span } from './diagnostics.js';
import { EVENTS_MAP, layoutOf, type EventSpec, type SType } from './compiled.js';
import { pruneUnreachable } from './prune.js';
import { emitPidSeen, emitStackSample, ustackUnwinder } from './stacks.js';
import { ARG_REGS, PT_REGS, PT_REGS_AX, PT_REGS_IP, PT_REGS_SP, SIGNALS } from './builtins.js';
import { cgroupId, kallsyms, type MapInfo, type ProbeUnit } from './semantic.js';
import { memberAccess } from './cstructs.js';
import { emitGoArg, emitGoarg, emitGoResult, goReturnOffset, isGoRetvalIndex, type GoEmitter } from './go.js';
import { emitUaddr } from './usersym.js';
import {
  ctypeFromText, ctypeSize, isScalar, toSType, tySize, vmlinux, type AddrSpace, type CType, type Ty,
} from './types.js';

export const SCRATCH_MAP = 'scratch';
export const STACK_MAP = 'stack_traces';
export const ELAPSED_MAP = 'elapsed';
export const STACK_DEPTH = 127;

const BPF_ANY = 0;
const BPF_F_USER_STACK = 1 << 8;
const STACK_BYTES = 512;

/** What codegen needs from the whole program: maps by name, the shared event table. */
export interface ProgramContext {
  maps: Map<string, MapInfo>;
  bpfNames: Map<string, string>;
  events: EventSpec[];
  usesElapsed: boolean;
  params: readonly string[];
  cpid?: number;
}

type Val = { reg: true } | { off: number };
const REG: Val = { reg: true };

/** Codegen failures that are the user's to fix (the program is too big for BPF, ...). */
export class CodegenError extends Error {
  constructor(readonly span: Span, message: string, readonly hint?: string) {
    super(message);
  }
}

export interface ProbeCode {
  insns: ReturnType<Asm['assemble']>;
  scratchSize: number;
  usesStacks: boolean;
}

export function generateProbe(unit: ProbeUnit, ctx: ProgramContext, writesElapsedStart: boolean): ProbeCode {
  return new ProbeGen(unit, ctx).run(writesElapsedStart);
}

const aligned8 = (n: number): number => Math.ceil(n / 8) * 8;
const widthOf = (size: number): Width => (size === 1 ? 'u8' : size === 2 ? 'u16' : size === 4 ? 'u32' : 'u64');

class ProbeGen {
  private readonly a = new Asm();
  private scratchTop = 0;
  private scratchMax = 0;
  private stackTop = 0;
  private readonly varSlots = new Map<string, number>();
  private readonly loops: Array<{ brk: string; cont: string }> = [];
  private readonly exitLabel: string;
  usesStacks = false;

  constructor(private readonly u: ProbeUnit, private readonly ctx: ProgramContext) {
    this.exitLabel = this.a.newLabel('exit');
  }

  run(writesElapsedStart: boolean): ProbeCode {
    const a = this.a;
    a.mov(R6, R1);
    a.storeImm(FP, -8, 0, 'u64');
    a.ldMap(R1, SCRATCH_MAP).mov(R2, FP).alu64('add', R2, { imm: -8 }).call('map_lookup_elem');
    a.jmp('jeq', R0, { imm: 0 }, this.exitLabel);
    a.mov(R9, R0);
    for (const [name, t] of this.u.vars) {
      if (isScalar(t)) {
        const slot = this.pushTemp();
        a.storeImm(FP, slot, 0, 'u64');
        this.varSlots.set(name, slot);
      } else {
        const off = this.alloc(tySize(t));
        this.zero(off, tySize(t));
        this.varSlots.set(name, off);
      }
    }
    if (writesElapsedStart) {
      const k = this.pushTemp();
      a.storeImm(FP, k, 0, 'u64');
      a.ldMap(R1, ELAPSED_MAP).mov(R2, FP).alu64('add', R2, { imm: k }).call('map_lookup_elem');
      const skip = a.newLabel('noelapsed');
      a.jmp('jeq', R0, { imm: 0 }, skip).mov(R7, R0).call('ktime_get_ns').store(R7, 0, R0, 'u64').label(skip);
      this.popTemp();
    }
    if (this.u.ast.predicate) {
      this.scalar(this.u.ast.predicate);
      a.jmp('jeq', R0, { imm: 0 }, this.exitLabel);
    }
    this.block(this.u.ast.body);
    a.label(this.exitLabel).movImm(R0, 0).exit();
    return { insns: pruneUnreachable(a.assemble()), scratchSize: Math.max(8, aligned8(this.scratchMax)), usesStacks: this.usesStacks };
  }

  // --- storage -------------------------------------------------------------------------

  private alloc(size: number): number {
    const off = this.scratchTop;
    this.scratchTop += aligned8(Math.max(size, 1));
    this.scratchMax = Math.max(this.scratchMax, this.scratchTop);
    return off;
  }

  private pushTemp(span?: Span): number {
    this.stackTop += 8;
    if (this.stackTop > STACK_BYTES) {
      throw new CodegenError(span ?? this.u.ast.span, 'the probe needs more than 512 bytes of BPF stack', 'use fewer integer variables or split the expression');
    }
    return -this.stackTop;
  }

  private popTemp(): void {
    this.stackTop -= 8;
  }

  private type(e: Expr): Ty {
    const t = this.u.types.get(e);
    if (!t) throw new Error(`internal: no type for ${e.kind} at ${e.span.line}:${e.span.col}`);
    return t;
  }

  private zero(off: number, size: number): void {
    let i = 0;
    for (; i + 8 <= size; i += 8) this.a.storeImm(R9, off + i, 0, 'u64');
    for (; i < size; i++) this.a.storeImm(R9, off + i, 0, 'u8');
  }

  /** Copies `size` bytes from [src + srcOff] to scratch [dstOff]. */
  private copy(dstOff: number, src: Reg, srcOff: number, size: number): void {
    let i = 0;
    for (; i + 8 <= size; i += 8) this.a.load(R1, src, srcOff + i, 'u64').store(R9, dstOff + i, R1, 'u64');
    for (; i < size; i++) this.a.load(R1, src, srcOff + i, 'u8').store(R9, dstOff + i, R1, 'u8');
  }

  /** Stores a value of type `from` into scratch at `dst` as type `to` (strings widen, ints to 8 bytes). */
  private storeAs(dst: number, v: Val, from: Ty, to: Ty): void {
    if ('reg' in v) {
      const size = to.kind === 'int' || isScalar(to) ? 8 : tySize(to);
      this.a.store(R9, dst, R0, widthOf(Math.min(size, 8)));
      return;
    }
    if (from.kind === 'tuple' && to.kind === 'tuple') {
      const lf = layoutOf(toSType(from)), lt = layoutOf(toSType(to));
      from.elems.forEach((fe, i) => {
        const te = to.elems[i];
        const src = v.off + lf.offsets[i];
        if (isScalar(fe)) {
          this.a.load(R0, R9, src, 'u64');
          this.storeAs(dst + lt.offsets[i], REG, fe, te);
        } else {
          this.storeAs(dst + lt.offsets[i], { off: src }, fe, te);
        }
      });
      return;
    }
    const fromSize = tySize(from), toSize = tySize(to);
    const n = Math.min(fromSize, toSize);
    this.copy(dst, R9, v.off, n);
    if (toSize > n) this.zero(dst + n, toSize - n);
  }

  /** Leaves an integer-like value in R0. */
  private scalar(e: Expr): void {
    const v = this.expr(e);
    if (!('reg' in v)) throw new CodegenError(e.span, 'internal: expected a scalar value');
  }

  /** Evaluates into a fresh scratch region typed `to` (for keys, values, event arguments). */
  private materialize(e: Expr, to: Ty): number {
    const off = this.alloc(tySize(to));
    this.storeAs(off, this.expr(e), this.type(e), to);
    return off;
  }

  /** Sign- or zero-extends the low `size` bytes of R0 to 64 bits. */
  private extend(reg: Reg, size: number, signed: boolean): void {
    if (size >= 8) return;
    const bits = 64 - size * 8;
    this.a.alu64('lsh', reg, { imm: bits }).alu64(signed ? 'arsh' : 'rsh', reg, { imm: bits });
  }

  private probeRead(space: AddrSpace, str = false): string {
    return `probe_read_${space}${str ? '_str' : ''}`;
  }

  /** R0 = the `size`-byte integer at address R0 in `space`. */
  private readInt(space: AddrSpace, size: number, signed: boolean): void {
    const t = this.pushTemp();
    this.a.storeImm(FP, t, 0, 'u64');
    this.a.mov(R3, R0).mov(R1, FP).alu64('add', R1, { imm: t }).movImm(R2, size).call(this.probeRead(space));
    this.a.load(R0, FP, t, 'u64');
    this.popTemp();
    this.extend(R0, size, signed);
  }

  /** What lang/go.ts needs to emit reads of Go arguments and results. */
  private goEmitter(): GoEmitter {
    return {
      a: this.a,
      alloc: (size) => this.alloc(size),
      zero: (off, size) => this.zero(off, size),
      readUser: (size, signed) => this.readInt('user', size, signed),
    };
  }

  // --- statements ----------------------------------------------------------------------

  private block(b: Block): void {
    for (const s of b.statements) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    const mark = this.scratchTop;
    const stack = this.stackTop;
    this.stmtInner(s);
    this.scratchTop = mark;
    this.stackTop = stack;
  }

  private stmtInner(s: Stmt): void {
    const a = this.a;
    switch (s.kind) {
      case 'Block': this.block(s); return;
      case 'ExprStmt': this.expr(s.expr); return;
      case 'Assign': this.assign(s); return;
      case 'If': {
        const elseL = a.newLabel('else'), end = a.newLabel('fi');
        this.scalar(s.cond);
        a.jmp('jeq', R0, { imm: 0 }, elseL);
        this.block(s.then);
        a.ja(end).label(elseL);
        if (s.else) this.stmt(s.else);
        a.label(end);
        return;
      }
      case 'Unroll': {
        const n = s.count.kind === 'Integer' ? Number(s.count.value) : 1;
        for (let i = 0; i < n; i++) this.block(s.body);
        return;
      }
      case 'While': {
        const head = a.newLabel('while'), end = a.newLabel('wend');
        a.label(head);
        this.scalar(s.cond);
        a.jmp('jeq', R0, { imm: 0 }, end);
        this.loops.push({ brk: end, cont: head });
        this.block(s.body);
        this.loops.pop();
        a.ja(head).label(end);
        return;
      }
      case 'Jump': {
        if (s.jump === 'return') {
          a.ja(this.exitLabel);
          return;
        }
        const loop = this.loops[this.loops.length - 1];
        if (!loop) throw new CodegenError(s.span, `${s.jump} used outside of a loop`);
        a.ja(s.jump === 'break' ? loop.brk : loop.cont);
        return;
      }
    }
  }

  private assign(s: AssignStmt): void {
    const a = this.a;
    const target = s.target;
    if (target.kind === 'Variable') {
      const t = this.u.vars.get(target.name)!;
      const slot = this.varSlots.get(target.name)!;
      if (isScalar(t)) {
        if (s.op === '=') {
          this.scalar(s.value);
        } else {
          this.scalar(s.value);
          a.mov(R1, R0).load(R0, FP, slot, 'u64');
          this.arith(s.op.slice(0, -1), t.kind === 'int' && t.signed);
        }
        a.store(FP, slot, R0, 'u64');
      } else {
        this.storeAs(slot, this.expr(s.value), this.type(s.value), t);
      }
      return;
    }
    const info = this.ctx.maps.get(target.name)!;
    if (s.value.kind === 'Call' && info.agg !== 'value' && s.value.name === info.agg) {
      this.aggregate(target, info, s.value);
      return;
    }
    if (s.op !== '=') {
      this.scalar(s.value);
      const t = this.pushTemp();
      a.store(FP, t, R0, 'u64');
      this.mapUpdateInt(target, info, () => {
        a.load(R1, FP, t, 'u64');
        this.arith(s.op.slice(0, -1), true);
      });
      this.popTemp();
      return;
    }
    const valOff = this.materialize(s.value, info.value);
    const keyOff = this.key(target, info);
    this.update(info, keyOff, valOff);
  }

  /** Builds the key of `m` in scratch; `bucket` (R0 on entry when given) is appended for hist maps. */
  private key(m: MapRef, info: MapInfo, withBucket = false): number {
    const keyTypes = info.keys.map(toSType);
    const l = layoutOf({ kind: 'tuple', elems: keyTypes });
    const userSize = info.keys.length ? l.size : withBucket ? 0 : 8;
    const size = userSize + (withBucket ? 8 : 0);
    let bucketSlot = 0;
    if (withBucket) {
      bucketSlot = this.pushTemp();
      this.a.store(FP, bucketSlot, R0, 'u64');
    }
    const off = this.alloc(size);
    this.zero(off, size);
    m.keys.forEach((k, i) => this.storeAs(off + l.offsets[i], this.expr(k), this.type(k), info.keys[i]));
    if (withBucket) {
      this.a.load(R0, FP, bucketSlot, 'u64').store(R9, off + userSize, R0, 'u64');
      this.popTemp();
    }
    return off;
  }

  private mapName(info: MapInfo): string {
    return this.ctx.bpfNames.get(info.name)!;
  }

  private update(info: MapInfo, keyOff: number, valOff: number): void {
    this.a.ldMap(R1, this.mapName(info)).mov(R2, R9).alu64('add', R2, { imm: keyOff });
    this.a.mov(R3, R9).alu64('add', R3, { imm: valOff }).movImm(R4, BPF_ANY).call('map_update_elem');
  }

  /** R0 = pointer to the value of key at keyOff, or 0. */
  private lookup(info: MapInfo, keyOff: number): void {
    this.a.ldMap(R1, this.mapName(info)).mov(R2, R9).alu64('add', R2, { imm: keyOff }).call('map_lookup_elem');
  }

  /**
   * Read-modify-write of an integer map value: `op` gets the old value (0 when missing) in
   * R0 and leaves the new one in R0; R0 holds the new value afterwards.
   */
  private mapUpdateInt(m: MapRef, info: MapInfo, op: () => void): void {
    const a = this.a;
    const keyOff = this.key(m, info);
    this.lookup(info, keyOff);
    const have = a.newLabel('have');
    a.jmp('jeq', R0, { imm: 0 }, have).load(R0, R0, 0, 'u64').label(have);
    op();
    const valOff = this.alloc(8);
    a.store(R9, valOff, R0, 'u64');
    this.update(info, keyOff, valOff);
    a.load(R0, R9, valOff, 'u64');
  }

  private aggregate(m: MapRef, info: MapInfo, call: Call): void {
    const a = this.a;
    const arg = call.args[0];
    const vSlot = this.pushTemp();
    if (arg) this.scalar(arg);
    else a.movImm(R0, 1);
    a.store(FP, vSlot, R0, 'u64');
    let keyOff: number;
    if (info.agg === 'hist') {
      this.histBucket();
      keyOff = this.key(m, info, true);
    } else if (info.agg === 'lhist') {
      this.lhistBucket(info.lhist!);
      keyOff = this.key(m, info, true);
    } else {
      keyOff = this.key(m, info);
    }
    this.lookup(info, keyOff);
    const init = a.newLabel('init'), done = a.newLabel('done');
    a.jmp('jeq', R0, { imm: 0 }, init);
    a.load(R2, FP, vSlot, 'u64');
    switch (info.agg) {
      case 'count': case 'hist': case 'lhist':
        a.load(R1, R0, 0, 'u64').alu64('add', R1, { imm: 1 }).store(R0, 0, R1, 'u64');
        break;
      case 'sum':
        a.load(R1, R0, 0, 'u64').alu64('add', R1, R2).store(R0, 0, R1, 'u64');
        break;
      case 'min': case 'max': {
        const take = a.newLabel('take');
        a.load(R1, R0, 8, 'u64').jmp('jeq', R1, { imm: 0 }, take);
        a.load(R1, R0, 0, 'u64').jmp(info.agg === 'min' ? 'jsle' : 'jsge', R1, R2, done);
        a.label(take).store(R0, 0, R2, 'u64').storeImm(R0, 8, 1, 'u64');
        break;
      }
      case 'avg': case 'stats':
        a.load(R1, R0, 0, 'u64').alu64('add', R1, { imm: 1 }).store(R0, 0, R1, 'u64');
        a.load(R1, R0, 8, 'u64').alu64('add', R1, R2).store(R0, 8, R1, 'u64');
        break;
      default: break;
    }
    a.ja(done).label(init);
    const valOff = this.alloc(16);
    a.load(R2, FP, vSlot, 'u64');
    switch (info.agg) {
      case 'count': case 'hist': case 'lhist': a.storeImm(R9, valOff, 1, 'u64'); break;
      case 'sum': a.store(R9, valOff, R2, 'u64'); break;
      case 'min': case 'max': a.store(R9, valOff, R2, 'u64').storeImm(R9, valOff + 8, 1, 'u64'); break;
      case 'avg': case 'stats': a.storeImm(R9, valOff, 1, 'u64').store(R9, valOff + 8, R2, 'u64'); break;
      default: break;
    }
    this.update(info, keyOff, valOff);
    a.label(done);
    this.popTemp();
  }

  /** R0 = hist bucket of R0: 0 for negatives, 1 for zero, 2 + floor(log2(v)) otherwise. */
  private histBucket(): void {
    const a = this.a;
    const done = a.newLabel('hb');
    a.mov(R1, R0).movImm(R0, 0).jmp('jslt', R1, { imm: 0 }, done);
    a.movImm(R0, 1).jmp('jeq', R1, { imm: 0 }, done);
    a.movImm(R0, 2);
    for (const shift of [32, 16, 8, 4, 2, 1]) {
      const skip = a.newLabel('hs');
      a.mov(R2, R1).alu64('rsh', R2, { imm: shift }).jmp('jeq', R2, { imm: 0 }, skip);
      a.mov(R1, R2).alu64('add', R0, { imm: shift }).label(skip);
    }
    a.label(done);
  }

  /** R0 = lhist bucket of R0 for [min, max) in steps. */
  private lhistBucket(b: { min: number; max: number; step: number }): void {
    const a = this.a;
    const done = a.newLabel('lb');
    a.mov(R1, R0);
    a.loadImm(R2, b.min).movImm(R0, 0).jmp('jslt', R1, R2, done);
    a.loadImm(R2, b.max).movImm(R0, 1 + Math.trunc((b.max - b.min) / b.step)).jmp('jsgt', R1, R2, done);
    a.mov(R0, R1).loadImm(R2, b.min).alu64('sub', R0, R2).loadImm(R2, b.step).alu64('div', R0, R2).alu64('add', R0, { imm: 1 });
    a.label(done);
  }

  /** R0 = R0 op R1. */
  private arith(op: string, signed: boolean): void {
    const a = this.a;
    switch (op) {
      case '+': a.alu64('add', R0, R1); break;
      case '-': a.alu64('sub', R0, R1); break;
      case '*': a.alu64('mul', R0, R1); break;
      case '/': a.alu64('div', R0, R1); break;
      case '%': a.alu64('mod', R0, R1); break;
      case '&': a.alu64('and', R0, R1); break;
      case '|': a.alu64('or', R0, R1); break;
      case '^': a.alu64('xor', R0, R1); break;
      case '<<': a.alu64('lsh', R0, R1); break;
      case '>>': a.alu64(signed ? 'arsh' : 'rsh', R0, R1); break;
      default: throw new Error(`internal: operator ${op}`);
    }
  }

  // --- expressions ---------------------------------------------------------------------

  private expr(e: Expr): Val {
    const a = this.a;
    const t = this.type(e);
    switch (e.kind) {
      case 'Integer': a.loadImm(R0, e.value); return REG;
      case 'String': return this.stringConst(e.bytes);
      case 'Positional': {
        if (t.kind === 'string') return this.stringConst(new Uint8Array(Buffer.from(this.ctxParam(e.index))));
        a.loadImm(R0, BigInt(this.ctxParam(e.index) || 0));
        return REG;
      }
      case 'ParamCount': a.movImm(R0, this.ctx.params.length); return REG;
      case 'Variable': {
        const vt = this.u.vars.get(e.name)!;
        const slot = this.varSlots.get(e.name)!;
        if (isScalar(vt)) {
          a.load(R0, FP, slot, 'u64');
          return REG;
        }
        return { off: slot };
      }
      case 'Map': return this.readMap(e);
      case 'Identifier': return this.builtin(e.name, t, e.span);
      case 'Binary': return this.binary(e);
      case 'Unary': {
        if (e.op === '*') {
          const pt = this.type(e.operand);
          this.scalar(e.operand);
          return this.readAt(pt.kind === 'ptr' ? pt.space : this.u.probe.space, t, e.span);
        }
        this.scalar(e.operand);
        if (e.op === '!') {
          const z = a.newLabel('not');
          a.mov(R1, R0).movImm(R0, 1).jmp('jeq', R1, { imm: 0 }, z).movImm(R0, 0).label(z);
        } else if (e.op === '~') {
          a.alu64('xor', R0, { imm: -1 });
        } else if (e.op === '-') {
          a.neg(R0);
        }
        return REG;
      }
      case 'Update': {
        const delta = e.op === '++' ? 1 : -1;
        if (e.target.kind === 'Variable') {
          const slot = this.varSlots.get(e.target.name)!;
          a.load(R0, FP, slot, 'u64').mov(R1, R0).alu64('add', R1, { imm: delta }).store(FP, slot, R1, 'u64');
          if (e.prefix) a.mov(R0, R1);
          return REG;
        }
        const info = this.ctx.maps.get(e.target.name)!;
        this.mapUpdateInt(e.target, info, () => a.alu64('add', R0, { imm: delta }));
        if (!e.prefix) a.alu64('add', R0, { imm: -delta });
        return REG;
      }
      case 'Ternary': {
        const elseL = a.newLabel('telse'), end = a.newLabel('tend');
        if (isScalar(t)) {
          this.scalar(e.cond);
          a.jmp('jeq', R0, { imm: 0 }, elseL);
          this.scalar(e.then);
          a.ja(end).label(elseL);
          this.scalar(e.else);
          a.label(end);
          return REG;
        }
        const off = this.alloc(tySize(t));
        this.scalar(e.cond);
        a.jmp('jeq', R0, { imm: 0 }, elseL);
        this.storeAs(off, this.expr(e.then), this.type(e.then), t);
        a.ja(end).label(elseL);
        this.storeAs(off, this.expr(e.else), this.type(e.else), t);
        a.label(end);
        return { off };
      }
      case 'Cast': {
        const v = this.expr(e.expr);
        if (!('reg' in v)) return v;
        if (t.kind === 'int') {
          if (t.size < 8) this.extend(R0, t.size, t.signed);
        }
        return REG;
      }
      case 'Field': return this.field(e, t);
      case 'TupleIndex': {
        if (isGoRetvalIndex(e, this.u.probe)) return emitGoResult(this.goEmitter(), this.u.probe, e.index, t)!;
        const tt = this.type(e.expr);
        const v = this.expr(e.expr);
        if (tt.kind !== 'tuple' || 'reg' in v) throw new CodegenError(e.span, 'internal: tuple index on a non-tuple');
        const off = v.off + layoutOf(toSType(tt)).offsets[e.index];
        if (isScalar(t)) {
          a.load(R0, R9, off, 'u64');
          return REG;
        }
        return { off };
      }
      case 'Index': {
        const bt = this.type(e.expr);
        const elem: CType = bt.kind === 'ptr' ? (bt.to.kind === 'void' ? { kind: 'int', size: 1, signed: false } : bt.to)
          : bt.kind === 'carray' ? bt.elem : { kind: 'int', size: 8, signed: false };
        const space = bt.kind === 'ptr' || bt.kind === 'carray' ? bt.space : this.u.probe.space;
        this.scalar(e.expr);
        const base = this.pushTemp();
        a.store(FP, base, R0, 'u64');
        this.scalar(e.index);
        a.mov(R1, R0).alu64('mul', R1, { imm: ctypeSize(elem) }).load(R0, FP, base, 'u64').alu64('add', R0, R1);
        this.popTemp();
        return this.readAt(space, t, e.span);
      }
      case 'Tuple': {
        const l = layoutOf(toSType(t));
        const off = this.alloc(l.size);
        this.zero(off, l.size);
        const tt = t as Ty & { kind: 'tuple' };
        e.elements.forEach((x, i) => this.storeAs(off + l.offsets[i], this.expr(x), this.type(x), tt.elems[i]));
        return { off };
      }
      case 'Sizeof': {
        let size: number;
        if (e.arg.kind === 'Type') {
          const tr = e.arg;
          size = ctypeSize(this.u.ctypes.get(tr)!);
        } else {
          size = tySize(this.type(e.arg));
        }
        a.movImm(R0, size);
        return REG;
      }
      case 'Call': return this.call(e, t);
    }
  }

  private ctxParam(i: number): string {
    return this.ctx.params[i - 1] ?? '';
  }

  private sizeofType(name: string, keyword: 'struct' | 'union' | 'enum' | null): number {
    const ints: Record<string, number> = { bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8 };
    if (!keyword && ints[name]) return ints[name];
    const btf = vmlinux();
    const id = keyword ? btf.findType(keyword === 'enum' ? 'enum' : keyword, name) : btf.findType('typedef', name) ?? btf.findType('struct', name);
    return id === undefined ? 8 : ctypeSize({ kind: 'btf', id });
  }

  private stringConst(bytes: Uint8Array): Val {
    const size = bytes.length + 1;
    const off = this.alloc(size);
    this.zero(off, size);
    for (let i = 0; i < bytes.length; i += 4) {
      const chunk = bytes.subarray(i, i + 4);
      if (chunk.length === 4) {
        this.a.storeImm(R9, off + i, Buffer.from(chunk).readInt32LE(0), 'u32');
      } else {
        chunk.forEach((b, j) => this.a.storeImm(R9, off + i + j, b, 'u8'));
      }
    }
    return { off };
  }

  /** Reads a value of type `t` at address R0 in `space`. */
  private readAt(space: AddrSpace, t: Ty, span: Span): Val {
    const a = this.a;
    switch (t.kind) {
      case 'int': this.readInt(space, t.size, t.signed); return REG;
      case 'ptr': this.readInt(space, 8, false); return REG;
      case 'cstruct': case 'carray': return REG;
      case 'string': {
        const off = this.alloc(t.size);
        this.zero(off, t.size);
        a.mov(R3, R0).mov(R1, R9).alu64('add', R1, { imm: off }).movImm(R2, t.size).call(this.probeRead(space));
        return { off };
      }
      default:
        throw new CodegenError(span, `reading a ${t.kind} from memory is not supported`);
    }
  }

  private readMap(m: MapRef): Val {
    const a = this.a;
    const info = this.ctx.maps.get(m.name)!;
    const keyOff = this.key(m, info);
    this.lookup(info, keyOff);
    const t = info.agg === 'value' ? info.value : { kind: 'int' as const, size: 8 as const, signed: true };
    const miss = a.newLabel('miss');
    if (isScalar(t)) {
      const end = a.newLabel('mend');
      a.jmp('jeq', R0, { imm: 0 }, end);
      if (info.agg === 'avg' || info.agg === 'stats') {
        a.load(R1, R0, 0, 'u64').load(R0, R0, 8, 'u64');
        const z = a.newLabel('z');
        a.jmp('jeq', R1, { imm: 0 }, z).alu64('div', R0, R1).label(z);
      } else {
        a.load(R0, R0, 0, 'u64');
      }
      a.label(end);
      return REG;
    }
    const size = tySize(t);
    const off = this.alloc(size);
    this.zero(off, size);
    a.jmp('jeq', R0, { imm: 0 }, miss).mov(R7, R0);
    this.copy(off, R7, 0, size);
    a.label(miss);
    return { off };
  }

  private binary(e: Expr & { kind: 'Binary' }): Val {
    const a = this.a;
    const lt = this.type(e.left), rt = this.type(e.right);
    if (e.op === '&&' || e.op === '||') {
      const out = a.newLabel('sc'), end = a.newLabel('scend');
      this.scalar(e.left);
      a.jmp(e.op === '&&' ? 'jeq' : 'jne', R0, { imm: 0 }, out);
      this.scalar(e.right);
      a.jmp(e.op === '&&' ? 'jeq' : 'jne', R0, { imm: 0 }, out);
      a.movImm(R0, e.op === '&&' ? 1 : 0).ja(end);
      a.label(out).movImm(R0, e.op === '&&' ? 0 : 1).label(end);
      return REG;
    }
    if (lt.kind === 'string' && rt.kind === 'string') {
      const l = this.expr(e.left) as { off: number };
      const r = this.expr(e.right) as { off: number };
      this.stringEquals(l.off, lt.size, r.off, rt.size, Math.max(lt.size, rt.size));
      if (e.op === '!=') a.alu64('xor', R0, { imm: 1 });
      return REG;
    }
    this.scalar(e.left);
    const slot = this.pushTemp();
    a.store(FP, slot, R0, 'u64');
    this.scalar(e.right);
    a.mov(R1, R0).load(R0, FP, slot, 'u64');
    this.popTemp();
    const signed = lt.kind === 'int' && lt.signed && rt.kind === 'int' && rt.signed;
    const cmp: Record<string, [string, string]> = {
      '==': ['jeq', 'jeq'], '!=': ['jne', 'jne'], '<': ['jlt', 'jslt'], '<=': ['jle', 'jsle'], '>': ['jgt', 'jsgt'], '>=': ['jge', 'jsge'],
    };
    if (cmp[e.op]) {
      const yes = a.newLabel('cmp');
      a.mov(R2, R0).movImm(R0, 1).jmp(cmp[e.op][signed ? 1 : 0] as 'jeq', R2, R1, yes).movImm(R0, 0).label(yes);
      return REG;
    }
    if (lt.kind === 'ptr' && (e.op === '+' || e.op === '-')) {
      const size = lt.to.kind === 'void' ? 1 : ctypeSize(lt.to);
      if (size !== 1) a.alu64('mul', R1, { imm: size });
    }
    this.arith(e.op, lt.kind === 'int' && lt.signed);
    return REG;
  }

  /** R0 = 1 when the C strings at the two offsets are equal within the first `limit` bytes. */
  private stringEquals(lo: number, ls: number, ro: number, rs: number, limit: number): void {
    const a = this.a;
    const eq = a.newLabel('seq'), ne = a.newLabel('sne'), end = a.newLabel('send');
    const n = Math.min(ls, rs, limit);
    for (let i = 0; i < n; i++) {
      a.load(R1, R9, lo + i, 'u8').load(R2, R9, ro + i, 'u8');
      a.jmp('jne', R1, R2, ne).jmp('jeq', R1, { imm: 0 }, eq);
    }
    if (n < limit && ls !== rs) {
      // One string is longer: equal only if it ends where the shorter one's bytes ran out.
      a.load(R1, R9, (ls > rs ? lo : ro) + n, 'u8').jmp('jeq', R1, { imm: 0 }, eq).ja(ne);
    } else {
      a.ja(eq);
    }
    a.label(ne).movImm(R0, 0).ja(end);
    a.label(eq).movImm(R0, 1).label(end);
  }

  private field(e: Expr & { kind: 'Field' }, t: Ty): Val {
    const a = this.a;
    const bt = this.type(e.expr);
    const p = this.u.probe;
    if (bt.kind === 'record') {
      if (p.go) return emitGoArg(this.goEmitter(), p, e.field, t);
      if (p.tracepoint) {
        const f = p.tracepoint.fields.find((x) => x.name === e.field) ?? p.tracepoint.common.find((x) => x.name === e.field)!;
        if (f.dataLoc) {
          const off = this.alloc(tySize(t));
          this.zero(off, tySize(t));
          a.load(R3, R6, f.offset, 'u32').alu64('and', R3, { imm: 0xffff }).alu64('add', R3, R6);
          a.mov(R1, R9).alu64('add', R1, { imm: off }).movImm(R2, tySize(t)).call('probe_read_kernel_str');
          return { off };
        }
        if (t.kind === 'string' || (f.arrayLen !== undefined && t.kind !== 'carray')) {
          const off = this.alloc(tySize(t));
          a.mov(R3, R6).alu64('add', R3, { imm: f.offset }).mov(R1, R9).alu64('add', R1, { imm: off }).movImm(R2, tySize(t)).call('probe_read_kernel');
          return { off };
        }
        if (t.kind === 'carray') {
          a.mov(R0, R6).alu64('add', R0, { imm: f.offset });
          return REG;
        }
        const c = ctypeFromText(f.type, f.size, f.signed);
        const size = c.kind === 'int' ? c.size : 8;
        if (f.offset % size === 0) {
          a.load(R0, R6, f.offset, widthOf(size));
          if (c.kind === 'int') this.extend(R0, size, c.signed);
        } else {
          a.mov(R0, R6).alu64('add', R0, { imm: f.offset });
          this.readInt('kernel', size, c.kind === 'int' && c.signed);
        }
        return REG;
      }
      const arg = (p.funcArgs ?? []).find((x) => x.name === e.field)!;
      a.load(R0, R6, arg.index * 8, 'u64');
      if (t.kind === 'int') this.extend(R0, t.size, t.signed);
      return REG;
    }
    // A struct member, through a pointer or in a struct we already have the address of.
    const ctype = bt.kind === 'ptr' ? bt.to : bt.kind === 'cstruct' ? bt.ctype : undefined;
    if (ctype?.kind !== 'btf' && ctype?.kind !== 'script') throw new CodegenError(e.span, 'internal: field access on a non-struct');
    const space = bt.kind === 'ptr' || bt.kind === 'cstruct' ? bt.space : 'kernel';
    const m = memberAccess(ctype, e.field);
    this.scalar(e.expr);
    a.alu64('add', R0, { imm: m.offset });
    if (m.bitfield) {
      const bf = m.bitfield;
      this.readInt(space, bf.loadSize, false);
      // Shift the field's top bit to bit 63, then back down: masks and sign-extends in one go.
      a.alu64('lsh', R0, { imm: 64 - bf.shift - bf.bits }).alu64(bf.signed ? 'arsh' : 'rsh', R0, { imm: 64 - bf.bits });
      return REG;
    }
    if (t.kind === 'string') {
      const off = this.alloc(t.size);
      a.mov(R3, R0).mov(R1, R9).alu64('add', R1, { imm: off }).movImm(R2, t.size).call(this.probeRead(space));
      return { off };
    }
    if (m.inMemory) return REG;
    return this.readAt(space, t, e.span);
  }

  // --- builtins ------------------------------------------------------------------------

  private builtin(name: string, t: Ty, span: Span): Val {
    const a = this.a;
    const p = this.u.probe;
    const argm = /^(s?)arg(\d+)$/.exec(name);
    if (argm) {
      const n = Number(argm[2]);
      if (argm[1]) {
        a.load(R0, R6, PT_REGS_SP, 'u64').alu64('add', R0, { imm: 8 * (n + 1) });
        this.readInt(p.space, 8, false);
      } else if (p.usdtArgs) {
        this.usdtArg(n);
      } else if (p.provider === 'rawtracepoint') {
        a.load(R0, R6, n * 8, 'u64');
      } else {
        a.load(R0, R6, ARG_REGS[n], 'u64');
      }
      return REG;
    }
    switch (name) {
      case 'pid': a.call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }); return REG;
      case 'tid': a.call('get_current_pid_tgid').mov32(R0, R0); return REG;
      case 'uid': case 'username': a.call('get_current_uid_gid').mov32(R0, R0); return REG;
      case 'gid': a.call('get_current_uid_gid').alu64('rsh', R0, { imm: 32 }); return REG;
      case 'nsecs': a.call('ktime_get_ns'); return REG;
      case 'elapsed': {
        const k = this.pushTemp();
        a.storeImm(FP, k, 0, 'u64');
        a.ldMap(R1, ELAPSED_MAP).mov(R2, FP).alu64('add', R2, { imm: k }).call('map_lookup_elem');
        const none = a.newLabel('noel');
        a.movImm(R7, 0).jmp('jeq', R0, { imm: 0 }, none).load(R7, R0, 0, 'u64').label(none);
        a.call('ktime_get_ns').alu64('sub', R0, R7);
        this.popTemp();
        return REG;
      }
      case 'cpu': a.call('get_smp_processor_id'); return REG;
      case 'cgroup': a.call('get_current_cgroup_id'); return REG;
      case 'rand': a.call('get_prandom_u32'); return REG;
      case 'jiffies': a.call('jiffies64'); return REG;
      case 'numaid': a.call('get_numa_node_id'); return REG;
      case 'cpid': a.loadImm(R0, this.ctx.cpid ?? 0); return REG;
      case 'goid': {
        const g = p.goid!;
        if (!('reg' in g.g)) throw new CodegenError(span, 'goid needs the Go register ABI');
        a.load(R0, R6, g.g.ptRegsOffset, 'u64').alu64('add', R0, { imm: g.goidOffset });
        this.readInt('user', 8, true);
        return REG;
      }
      case 'comm': {
        const off = this.alloc(16);
        a.mov(R1, R9).alu64('add', R1, { imm: off }).movImm(R2, 16).call('get_current_comm');
        return { off };
      }
      case 'kstack': case 'ustack': return this.stack(t);
      case 'probe': a.movImm(R0, this.u.index); return REG;
      case 'curtask': a.call('get_current_task'); return REG;
      case 'func': {
        if (p.provider === 'fentry' || p.provider === 'fexit') {
          a.mov(R1, R6).call('get_func_ip');
          return REG;
        }
        a.load(R0, R6, PT_REGS_IP, 'u64');
        // At a Go return site ip is a RET: every RET of one function must give one `func`.
        if (p.go?.at === 'return') a.alu64('sub', R0, { imm: goReturnOffset(p) });
        if (t.kind !== 'usym') return REG;
        return this.usym();
      }
      case 'retval': {
        const goResult = p.go?.at === 'return' ? emitGoResult(this.goEmitter(), p, 0, t) : undefined;
        if (goResult) return goResult;
        if (p.provider === 'fexit') {
          a.load(R0, R6, (p.funcArgs?.length ?? 0) * 8, 'u64');
          if (t.kind === 'int') this.extend(R0, t.size, t.signed);
        } else {
          a.load(R0, R6, PT_REGS_AX, 'u64');
        }
        return REG;
      }
      case 'args': a.movImm(R0, 0); return REG;
      default: throw new CodegenError(span, `the ${name} builtin is not supported yet`);
    }
  }

  /** R0 = USDT argument n, read as its spec (`-4@%edi`, `8@-16(%rbp)`, `4@$5`) says. */
  private usdtArg(n: number): void {
    const a = this.a;
    const arg = this.u.probe.usdtArgs![n];
    switch (arg.kind) {
      case 'constant': a.loadImm(R0, arg.value); return;
      case 'register':
        a.load(R0, R6, arg.regOffset, 'u64');
        this.extend(R0, arg.size, arg.signed);
        return;
      case 'memory':
        a.load(R0, R6, arg.regOffset, 'u64').alu64('add', R0, { imm: arg.offset });
        if (arg.index) a.load(R1, R6, arg.index.regOffset, 'u64').alu64('mul', R1, { imm: arg.index.scale }).alu64('add', R0, R1);
        this.readInt('user', arg.size, arg.signed);
        return;
      default: a.movImm(R0, 0);
    }
  }

  /** A usym value {addr, pid} in scratch from the address in R0. */
  private usym(): Val {
    const off = this.alloc(16);
    this.a.store(R9, off, R0, 'u64').call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }).store(R9, off + 8, R0, 'u64');
    emitPidSeen(this.a, this.alloc(16));
    return { off };
  }

  private stack(t: Ty): Val {
    const a = this.a;
    const user = t.kind === 'ustack';
    if (user && ustackUnwinder(this.u.probe) === 'eh-frame') {
      const off = this.alloc(24);
      emitStackSample(a, off);
      return { off };
    }
    this.usesStacks = true;
    a.mov(R1, R6).ldMap(R2, STACK_MAP).movImm(R3, user ? BPF_F_USER_STACK : 0).call('get_stackid');
    if (!user) return REG;
    const off = this.alloc(24);
    a.store(R9, off, R0, 'u64');
    a.call('get_current_pid_tgid').alu64('rsh', R0, { imm: 32 }).store(R9, off + 8, R0, 'u64');
    a.storeImm(R9, off + 16, 0, 'u64');
    if (this.u.probe.atEntry) {
      // At a function's first instruction the caller's return address is at *sp; frame-pointer
      // unwinding skips that caller, so record it for the runtime to put back.
      a.load(R3, R6, PT_REGS_SP, 'u64').mov(R1, R9).alu64('add', R1, { imm: off + 16 }).movImm(R2, 8).call('probe_read_user');
    }
    emitPidSeen(a, this.alloc(16));
    return { off };
  }

  private event(spec: EventSpec, args: Expr[], types: SType[], tys: Ty[]): void {
    const a = this.a;
    const id = this.ctx.events.push(spec) - 1;
    const l = layoutOf({ kind: 'tuple', elems: types });
    const size = 8 + l.size;
    const off = this.alloc(size);
    this.zero(off, size);
    args.forEach((x, i) => this.storeAs(off + 8 + l.offsets[i], this.expr(x), this.type(x), tys[i]));
    a.loadImm(R1, id).store(R9, off, R1, 'u64');
    a.ldMap(R1, EVENTS_MAP).mov(R2, R9).alu64('add', R2, { imm: off }).movImm(R3, size).movImm(R4, 0).call('ringbuf_output');
  }

  private storedTy(t: Ty): Ty {
    return t.kind === 'int' ? { ...t, size: 8 } : t;
  }

  private call(c: Call, t: Ty): Val {
    const a = this.a;
    const args = c.args;
    const lit = (e: Expr | undefined): string => (e?.kind === 'String' ? e.value : e?.kind === 'Positional' ? this.ctxParam(e.index) : '');
    const num = (e: Expr | undefined, dflt: number): number => (e?.kind === 'Integer' ? Number(e.value) : e?.kind === 'Positional' ? Number(this.ctxParam(e.index)) : dflt);
    switch (c.name) {
      case 'printf': case 'system': case 'cat': {
        const rest = args.slice(1);
        const tys = rest.map((x) => this.storedTy(this.type(x)));
        const types = tys.map(toSType);
        this.event({ kind: c.name, format: lit(args[0]), args: types } as EventSpec, rest, types, tys);
        return REG;
      }
      case 'print': {
        if (args[0].kind === 'Map' && args[0].keys.length === 0) {
          this.event({ kind: 'print_map', map: args[0].name, top: num(args[1], 0), div: num(args[2], 0) }, [], [], []);
          return REG;
        }
        const ty = this.storedTy(this.type(args[0]));
        this.event({ kind: 'print_value', type: toSType(ty) }, [args[0]], [toSType(ty)], [ty]);
        return REG;
      }
      case 'clear': case 'zero':
        this.event({ kind: c.name, map: (args[0] as MapRef).name }, [], [], []);
        return REG;
      case 'exit': this.event({ kind: 'exit' }, [], [], []); return REG;
      case 'time': this.event({ kind: 'time', format: args.length ? lit(args[0]) : '%H:%M:%S\n' }, [], [], []); return REG;
      case 'delete': {
        const m = args[0] as MapRef;
        const info = this.ctx.maps.get(m.name)!;
        const keyOff = this.key(m, info);
        a.ldMap(R1, this.mapName(info)).mov(R2, R9).alu64('add', R2, { imm: keyOff }).call('map_delete_elem');
        return REG;
      }
      case 'join': return this.join(args[0], args[1] ? lit(args[1]) : ' ');
      case 'str': {
        const size = tySize(t);
        const src = this.type(args[0]);
        if (src.kind === 'string') {
          const v = this.expr(args[0]) as { off: number };
          const off = this.alloc(size);
          this.zero(off, size);
          this.copy(off, R9, v.off, size - 1);
          return { off };
        }
        const space = src.kind === 'ptr' ? src.space : this.u.probe.space;
        // str(p, n) reads at most n characters (and the NUL).
        const limit = args[1] ? Math.min(size, Math.max(1, num(args[1], size) + 1)) : size;
        this.scalar(args[0]);
        const off = this.alloc(size);
        a.mov(R7, R0);
        this.zero(off, size);
        a.mov(R3, R7).mov(R1, R9).alu64('add', R1, { imm: off }).movImm(R2, limit).call(this.probeRead(space, true));
        return { off };
      }
      case 'buf': {
        const size = (t as { size: number }).size;
        const src = this.type(args[0]);
        const off = this.alloc(4 + size);
        this.zero(off, 4 + size);
        if (src.kind === 'string') {
          const v = this.expr(args[0]) as { off: number };
          this.copy(off + 4, R9, v.off, Math.min(size, src.size));
        } else {
          const space = src.kind === 'ptr' || src.kind === 'carray' ? src.space : this.u.probe.space;
          this.scalar(args[0]);
          a.mov(R3, R0).mov(R1, R9).alu64('add', R1, { imm: off + 4 }).movImm(R2, size).call(this.probeRead(space));
        }
        a.storeImm(R9, off, size, 'u32');
        return { off };
      }
      case 'ksym': this.scalar(args[0]); return REG;
      case 'usym': this.scalar(args[0]); return this.usym();
      case 'kaddr': a.loadImm(R0, kallsyms(lit(args[0])) ?? 0n); return REG;
      case 'uaddr': emitUaddr(a, this.u.probe, lit(args[0])); return REG;
      case 'cgroupid': a.loadImm(R0, cgroupId(lit(args[0])) ?? 0n); return REG;
      case 'ntop': return this.ntop(args);
      case 'sizeof': {
        const x = args[0];
        a.movImm(R0, x.kind === 'Identifier' ? this.sizeofType(x.name, null) : tySize(this.type(x)));
        return REG;
      }
      case 'strftime': this.scalar(args[1]); return REG;
      case 'signal': {
        const s = args[0];
        if (s.kind === 'String') a.movImm(R1, SIGNALS[s.value.startsWith('SIG') ? s.value : `SIG${s.value}`]);
        else {
          this.scalar(s);
          a.mov(R1, R0);
        }
        a.call('send_signal');
        return REG;
      }
      case 'kstack': case 'ustack': return this.stack(t);
      case 'reg': a.load(R0, R6, PT_REGS[lit(args[0])], 'u64'); return REG;
      case 'strncmp': {
        const lt = this.type(args[0]) as { size: number }, rt = this.type(args[1]) as { size: number };
        const l = this.expr(args[0]) as { off: number };
        const r = this.expr(args[1]) as { off: number };
        const n = num(args[2], 0);
        if (n === 0) {
          a.movImm(R0, 0);
          return REG;
        }
        this.stringEquals(l.off, lt.size, r.off, rt.size, n);
        a.alu64('xor', R0, { imm: 1 });
        return REG;
      }
      case 'kptr': case 'uptr': return this.expr(args[0]);
      case 'goarg': return emitGoarg(this.goEmitter(), c);
      default: throw new CodegenError(c.span, `${c.name}() is not supported yet`);
    }
  }

  private ntop(args: Expr[]): Val {
    const a = this.a;
    const addr = args[args.length - 1];
    const at = this.type(addr);
    const off = this.alloc(24);
    this.zero(off, 24);
    if (args.length === 2) {
      this.scalar(args[0]);
      a.store(R9, off, R0, 'u64');
    }
    if (at.kind === 'int') {
      if (args.length === 1) a.storeImm(R9, off, 2, 'u64');
      this.scalar(addr);
      a.store(R9, off + 8, R0, 'u32');
      return { off };
    }
    const bytes = at.kind === 'carray' ? Math.min(16, at.len * ctypeSize(at.elem)) : Math.min(16, tySize(at));
    if (args.length === 1) a.storeImm(R9, off, bytes >= 16 ? 10 : 2, 'u64');
    if (at.kind === 'string') {
      const v = this.expr(addr) as { off: number };
      this.copy(off + 8, R9, v.off, bytes);
    } else {
      this.scalar(addr);
      const space = at.kind === 'carray' ? at.space : 'kernel';
      a.mov(R3, R0).mov(R1, R9).alu64('add', R1, { imm: off + 8 }).movImm(R2, bytes).call(this.probeRead(space));
    }
    return { off };
  }

  private join(argv: Expr, separator: string): Val {
    const a = this.a;
    const count = 16, strSize = 64;
    const at = this.type(argv);
    const space = at.kind === 'ptr' ? at.space : this.u.probe.space;
    const id = this.ctx.events.push({ kind: 'join', separator, count, strSize }) - 1;
    this.scalar(argv);
    const base = this.pushTemp(), ptr = this.pushTemp();
    a.store(FP, base, R0, 'u64');
    const size = 8 + count * strSize;
    const off = this.alloc(size);
    this.zero(off, size);
    a.loadImm(R1, id).store(R9, off, R1, 'u64');
    const done = a.newLabel('jdone');
    for (let i = 0; i < count; i++) {
      a.storeImm(FP, ptr, 0, 'u64');
      a.load(R3, FP, base, 'u64').alu64('add', R3, { imm: 8 * i }).mov(R1, FP).alu64('add', R1, { imm: ptr }).movImm(R2, 8).call(this.probeRead(space));
      a.load(R3, FP, ptr, 'u64').jmp('jeq', R3, { imm: 0 }, done);
      a.mov(R1, R9).alu64('add', R1, { imm: off + 8 + i * strSize }).movImm(R2, strSize).call(this.probeRead(space, true));
    }
    a.label(done);
    a.ldMap(R1, EVENTS_MAP).mov(R2, R9).alu64('add', R2, { imm: off }).movImm(R3, size).movImm(R4, 0).call('ringbuf_output');
    this.popTemp();
    this.popTemp();
    return REG;
  }
}

