// Go support for uprobes: where a Go function's arguments and results are (the amd64
// register ABI of Go 1.17+, or the stack ABI before it), where its RET instructions are
// (Go-safe return probes), and how to read the current goroutine's id.
//
// Why RET probes: a uretprobe replaces the return address on the goroutine stack with a
// trampoline address. When the goroutine's stack grows, the runtime copies the stack and
// walks its frames by return PC; the trampoline PC is in no Go function, so the runtime
// dies ("unexpected return pc", "fatal error: unknown caller pc"). Plain uprobes on every
// RET never touch the stack.
//
// Why floats are unreadable: BPF programs attached to uprobes see struct pt_regs, the
// general-purpose registers the kernel saved on entry. XMM registers are not in pt_regs,
// no helper reads the user FPU state, and the task's in-memory FPU copy
// (task->thread.fpu) is only current when the kernel has saved it (TIF_NEED_FPU_LOAD),
// which is not the case in the uprobe path, so reading it would return stale values. The
// caller does not spill float arguments either (Go only spills register arguments on the
// morestack path). So a float argument or result in X0..X14 cannot be read soundly, and
// the mapping below says so instead of guessing.
import { TsbpfError } from '../kernel/errors.js';
import { ElfFile } from '../elf/reader.js';
import { readGoBuildInfo, type GoBuildInfo } from '../elf/gobuildinfo.js';
import { readGoPclntab, type GoFunc, type GoPclntab } from '../elf/gopclntab.js';
import { Dwarf, memberOf, resolveType, type DwarfType } from '../elf/dwarf.js';
import { findReturns } from '../x86/returns.js';

/** Integer argument registers of Go's amd64 ABIInternal, in assignment order (pt_regs names). */
export const GO_INT_REGS = ['ax', 'bx', 'cx', 'di', 'si', 'r8', 'r9', 'r10', 'r11'] as const;
export type GoIntReg = (typeof GO_INT_REGS)[number];
/** X0..X14 carry float arguments and results. */
export const GO_FLOAT_REGS = 15;

/** Byte offsets of x86-64 struct pt_regs fields, as a uprobe program's ctx (R1) holds them. */
export const PT_REGS: Readonly<Record<GoIntReg | 'r14' | 'sp' | 'ip', number>> = {
  r14: 8, r11: 48, r10: 56, r9: 64, r8: 72, ax: 80, cx: 88, si: 104, di: 112, bx: 40, ip: 128, sp: 152,
};

export type GoAbi = 'register' | 'stack';

/** A part of a value: `offset`/`size` say which bytes of the value's memory layout it holds. */
export type GoPiece =
  | { reg: GoIntReg; ptRegsOffset: number; offset: number; size: number }
  | { xmm: number; offset: number; size: number; unreadable: string }
  /**
   * On the stack at `sp + 8 + stackOffset`, where sp is the stack pointer at the function's
   * entry or at any of its RET instructions (both point at the return address).
   */
  | { stackOffset: number; offset: number; size: number };

export interface GoValueLocation {
  name: string;
  type: DwarfType;
  pieces: GoPiece[];
  /** Set when some piece cannot be read by a BPF program (floats in XMM registers). */
  unreadable?: string;
}

export interface GoSignature {
  abi: GoAbi;
  params: GoValueLocation[];
  results: GoValueLocation[];
  /** Bytes of the stack argument and result area (what the caller reserves). */
  stackSize: number;
}

export interface GoValueSpec {
  name: string;
  type: DwarfType;
}

const PTR = 8;

function alignUp(n: number, a: number): number {
  return a <= 1 ? n : Math.ceil(n / a) * a;
}

/** Go's alignment of a type on amd64, from its layout (DWARF records none). */
export function goAlignOf(t: DwarfType): number {
  const r = resolveType(t);
  switch (r.kind) {
    case 'base':
      return Math.min(PTR, Math.max(1, r.encoding === 'complex' ? r.size / 2 : r.size));
    case 'pointer': case 'func': return PTR;
    case 'enum': return Math.min(PTR, Math.max(1, r.size));
    case 'array': return goAlignOf(r.element);
    case 'struct': case 'union': return r.members.reduce((a, m) => Math.max(a, goAlignOf(m.type)), 1);
    default: return 1;
  }
}

function floatUnreadable(x: number): string {
  return `float in X${x}: BPF cannot read XMM registers at a uprobe`;
}

/** Register-assignment state of abi-internal.md: next integer and float register. */
interface RegState { i: number; f: number }

/**
 * Register-assigns a value of type `t` whose bytes start at `offset` of the argument;
 * false when it does not fit (the caller then puts the whole argument on the stack).
 */
function assignRegs(t: DwarfType, offset: number, st: RegState, out: GoPiece[]): boolean {
  const r = resolveType(t);
  const intReg = (size: number): boolean => {
    if (st.i >= GO_INT_REGS.length) return false;
    const reg = GO_INT_REGS[st.i++];
    out.push({ reg, ptRegsOffset: PT_REGS[reg], offset, size });
    return true;
  };
  const floatReg = (off: number, size: number): boolean => {
    if (st.f >= GO_FLOAT_REGS) return false;
    const x = st.f++;
    out.push({ xmm: x, offset: off, size, unreadable: floatUnreadable(x) });
    return true;
  };
  switch (r.kind) {
    case 'base':
      if (r.encoding === 'float') return floatReg(offset, r.size);
      if (r.encoding === 'complex') return floatReg(offset, r.size / 2) && floatReg(offset + r.size / 2, r.size / 2);
      // Integers wider than a register take two on 32-bit targets only; amd64 has none.
      return r.size <= PTR && intReg(r.size);
    case 'enum':
      return r.size <= PTR && intReg(r.size);
    // Maps and channels are pointers in Go's DWARF; funcs are pointers to closures.
    case 'pointer': case 'func':
      return intReg(PTR);
    // Strings, slices and interfaces are structs {ptr,len}, {ptr,len,cap}, {tab,data} in DWARF,
    // so the struct rule assigns their 2 or 3 parts in order, as the ABI specifies.
    case 'struct':
      return r.members.every((m) => assignRegs(m.type, offset + m.offset, st, out));
    case 'array':
      if (r.count === 0) return true;
      if (r.count === 1) return assignRegs(r.element, offset, st, out);
      return false;
    case 'void':
      return r.size === 0;
    default:
      return false;
  }
}

/**
 * Where each parameter and result lives at function entry (parameters) and at its RET
 * instructions (results), following Go's internal ABI (src/cmd/compile/abi-internal.md):
 * each value is register-assigned as a whole or, when its parts do not all fit (or it is an
 * array of 2+ elements), placed on the stack at its alignment; parameters and results each
 * start from the first register, and the results' stack area starts pointer-aligned after
 * the parameters'. With the stack ABI (Go < 1.17) everything is on the stack.
 */
export function assignGoAbi(params: GoValueSpec[], results: GoValueSpec[], abi: GoAbi = 'register'): GoSignature {
  let stack = 0;
  const place = (specs: GoValueSpec[]): GoValueLocation[] => {
    const st: RegState = { i: 0, f: 0 };
    return specs.map(({ name, type }) => {
      let pieces: GoPiece[] = [];
      const saved = { ...st };
      if (abi !== 'register' || !assignRegs(type, 0, st, pieces)) {
        st.i = saved.i;
        st.f = saved.f;
        const size = resolveType(type).size || type.size;
        stack = alignUp(stack, goAlignOf(type));
        pieces = size ? [{ stackOffset: stack, offset: 0, size }] : [];
        stack += size;
      }
      const bad = pieces.find((p): p is Extract<GoPiece, { unreadable: string }> => 'unreadable' in p);
      return { name, type, pieces, ...(bad ? { unreadable: bad.unreadable } : {}) };
    });
  };
  const p = place(params);
  stack = alignUp(stack, PTR);
  const r = place(results);
  stack = alignUp(stack, PTR);
  return { abi, params: p, results: r, stackSize: stack };
}

export interface GoroutineIdLocation {
  /** Where the current goroutine's g pointer is at a probe in Go code. */
  g: { reg: 'r14'; ptRegsOffset: number } | { tls: true; fsOffset: number };
  /** Byte offset of `goid` (int64) in runtime.g. */
  goidOffset: number;
  source: 'dwarf' | 'table';
}

// goid's offset in runtime.g on amd64 by Go minor version, for binaries without DWARF:
// 152 since Go 1.9; Go 1.23 added g.syscallbp before it, Go 1.25 removed gobuf.ret.
const goidOffsets: Array<{ from: number; to: number; offset: number }> = [
  { from: 9, to: 22, offset: 152 },
  { from: 23, to: 24, offset: 160 },
  { from: 25, to: 26, offset: 152 },
];

/** The minor version of a `go1.N[.P]` version string (also `devel go1.N-...`). */
export function goMinorVersion(version: string): number | undefined {
  const m = /go1\.(\d+)/.exec(version);
  return m ? Number(m[1]) : undefined;
}

export interface GoReturnSite {
  /** Link-time address of the RET instruction. */
  address: number;
  /** File offset, what a uprobe is attached at. */
  fileOffset: number;
}

export interface GoBinaryOptions {
  /** Overrides the ABI read from the build info (e.g. for a binary without one). */
  abi?: GoAbi;
}

/** A Go executable opened for probing: functions from pclntab, types from DWARF when present. */
export class GoBinary {
  readonly path: string;
  readonly elf: ElfFile;
  readonly buildInfo?: GoBuildInfo;
  readonly pclntab: GoPclntab;
  readonly abi: GoAbi;
  private dwarfCache?: Dwarf | null;
  private byName?: Map<string, GoFunc>;

  private constructor(elf: ElfFile, pclntab: GoPclntab, buildInfo: GoBuildInfo | undefined, abi: GoAbi) {
    this.path = elf.path;
    this.elf = elf;
    this.pclntab = pclntab;
    this.buildInfo = buildInfo;
    this.abi = abi;
  }

  static open(path: string, opts: GoBinaryOptions = {}): GoBinary {
    const elf = ElfFile.open(path);
    const pclntab = readGoPclntab(elf);
    if (!pclntab) throw new TsbpfError(`${path}: not a Go binary (no Go function table)`, { hint: 'Go probes need a binary built by the Go toolchain' });
    const buildInfo = readGoBuildInfo(elf);
    return new GoBinary(elf, pclntab, buildInfo, opts.abi ?? detectAbi(path, buildInfo, pclntab));
  }

  get goVersion(): string | undefined {
    return this.buildInfo?.goVersion;
  }

  /** DWARF debug info, or undefined for binaries built with -ldflags=-w or stripped. */
  dwarf(): Dwarf | undefined {
    if (this.dwarfCache === undefined) this.dwarfCache = Dwarf.load(this.elf) ?? null;
    return this.dwarfCache ?? undefined;
  }

  /** The function named `name` (`main.f`, `main.(*T).M`, `pkg/path.F`). */
  func(name: string): GoFunc {
    if (!this.byName) this.byName = new Map(this.pclntab.funcs.map((x) => [x.name, x]));
    const f = this.byName.get(name);
    if (f) return f;
    const suffix = name.includes('.') ? name.slice(name.lastIndexOf('.')) : `.${name}`;
    const near = this.pclntab.funcs.filter((x) => x.name.endsWith(suffix)).slice(0, 5).map((x) => x.name);
    throw new TsbpfError(`${this.path}: no Go function named ${name}`, {
      hint: near.length ? `did you mean ${near.join(', ')}?` : 'Go function names are package-qualified, e.g. main.handler or main.(*Server).Serve',
    });
  }

  /** File offset of the function's first instruction, for an entry uprobe. */
  entryOffset(name: string): number {
    const f = this.func(name);
    return this.fileOffset(f.entry, name);
  }

  /**
   * Every RET of the function, the places to put uprobes instead of a uretprobe. Tail calls
   * (JMP to another function) and panics leave without a RET and are not covered.
   */
  returnSites(name: string): GoReturnSite[] {
    const f = this.func(name);
    const code = this.elf.readVaddr(f.entry, f.end - f.entry);
    if (!code) throw new TsbpfError(`${this.path}: code of ${name} (0x${f.entry.toString(16)}-0x${f.end.toString(16)}) is not in the file`);
    const base = this.fileOffset(f.entry, name);
    const rets = findReturns(code, 0, code.length);
    if (rets.length === 0) {
      throw new TsbpfError(`${this.path}: ${name} has no RET instruction`, { hint: 'it never returns normally (it panics, exits or tail-calls); probe its entry instead' });
    }
    return rets.map((o) => ({ address: f.entry + o, fileOffset: base + o }));
  }

  /** Parameter and result locations from the function's DWARF types. */
  signature(name: string): GoSignature {
    const f = this.func(name);
    const dwarf = this.dwarf();
    if (!dwarf) {
      throw new TsbpfError(`${this.path}: no DWARF debug info, so the types of ${name}'s arguments are unknown`, {
        hint: 'rebuild without -ldflags=-w / -s (the function itself is still probeable by name)',
      });
    }
    // By address: pclntab and DWARF spell some generated names differently (`[...]` vs `[5]`).
    const df = dwarf.functionContaining(f.entry);
    if (!df || df.lowPc !== f.entry) throw new TsbpfError(`${this.path}: ${name} has no DWARF entry`, { hint: 'it may be assembly or compiler-generated' });
    return assignGoAbi(
      df.params.filter((p) => !p.isResult),
      df.params.filter((p) => p.isResult),
      this.abi,
    );
  }

  /** How to read the running goroutine's id from a uprobe. */
  goroutineId(): GoroutineIdLocation {
    // The register ABI dedicates R14 to g; before it, g lived in thread-local storage at fs:-8.
    const g: GoroutineIdLocation['g'] = this.abi === 'register' ? { reg: 'r14', ptRegsOffset: PT_REGS.r14 } : { tls: true, fsOffset: -8 };
    const gType = this.dwarf()?.type('runtime.g');
    const member = gType ? memberOf(gType, 'goid') : undefined;
    if (member) return { g, goidOffset: member.offset, source: 'dwarf' };
    const minor = this.goVersion ? goMinorVersion(this.goVersion) : undefined;
    const row = minor === undefined ? undefined : goidOffsets.find((x) => minor >= x.from && minor <= x.to);
    if (!row) {
      throw new TsbpfError(`${this.path}: cannot locate runtime.g.goid for ${this.goVersion ?? 'an unknown Go version'}`, {
        hint: 'the binary has no DWARF and its Go version is not in the built-in table; rebuild without -ldflags=-w',
      });
    }
    return { g, goidOffset: row.offset, source: 'table' };
  }

  private fileOffset(addr: number, what: string): number {
    const off = this.elf.vaddrToOffset(addr);
    if (off === undefined) throw new TsbpfError(`${this.path}: ${what} at 0x${addr.toString(16)} is not in a loadable segment`);
    return off;
  }
}

function detectAbi(path: string, info: GoBuildInfo | undefined, tab: GoPclntab): GoAbi {
  const minor = info ? goMinorVersion(info.goVersion) : undefined;
  if (minor !== undefined) {
    if (/(^|,)noregabi(,|$)/.test(info?.settings.GOEXPERIMENT ?? '')) return 'stack';
    return minor >= 17 ? 'register' : 'stack';
  }
  // pclntab layouts newer than 1.16's only come from Go 1.18+, which always uses registers on amd64.
  if (tab.version === '1.18' || tab.version === '1.20') return 'register';
  if (tab.version === '1.2') return 'stack';
  throw new TsbpfError(`${path}: cannot tell which Go calling convention the binary uses (no build info, Go 1.16 or 1.17)`, {
    hint: "pass { abi: 'register' } for Go 1.17 or { abi: 'stack' } for Go 1.16",
  });
}
