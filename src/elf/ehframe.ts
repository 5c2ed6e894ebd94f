// Call frame information from .eh_frame (and its .eh_frame_hdr search table): the rules that
// say, at any instruction, where the caller's frame (CFA) starts and where each saved register
// lives. Every x86-64 binary carries it for C++ exceptions and glibc's backtrace(), also when
// built without frame pointers, so it is what a user stack can be unwound with when the frame
// pointer chain is missing. Only what gcc and clang emit for x86-64 is understood; anything
// else yields "no rule" and the unwind stops there rather than guessing.
import { ElfFile, PT_LOAD, type Segment } from './reader.js';
import { lastAtOrBelow, rangeHolding } from './search.js';

const PT_GNU_EH_FRAME = 0x6474e550;

/** DWARF register numbers for x86-64 (System V psABI, figure 3.36). */
export const DwarfReg = { rbp: 6, rsp: 7, ra: 16 } as const;

export type CfaRule = { kind: 'reg'; reg: number; offset: number } | { kind: 'expr'; expr: Uint8Array };

export type RegRule =
  | { kind: 'undefined' }
  | { kind: 'same' }
  /** Saved in memory at CFA + offset. */
  | { kind: 'offset'; offset: number }
  /** The value is CFA + offset itself. */
  | { kind: 'val_offset'; offset: number }
  | { kind: 'register'; reg: number }
  /** Saved at the address the expression computes (CFA pushed first). */
  | { kind: 'expr'; expr: Uint8Array }
  | { kind: 'val_expr'; expr: Uint8Array };

export interface UnwindRow {
  cfa: CfaRule;
  /** Rules for registers the function saved; registers not listed keep their value. */
  regs: Map<number, RegRule>;
  /** Which DWARF register holds the return address (16 on x86-64). */
  raReg: number;
  /** The frame is a signal trampoline: its pc is not a return address, so no -1 adjustment. */
  signalFrame: boolean;
}

interface Cie {
  codeAlign: number;
  dataAlign: number;
  raReg: number;
  fdeEnc: number;
  signalFrame: boolean;
  hasAugData: boolean;
  initial: Uint8Array;
}

export interface Fde {
  /** Link-time address range [start, end) the entry covers. */
  start: number;
  end: number;
  cie: Cie;
  program: Uint8Array;
}

// Pointer encodings (DW_EH_PE_*): low nibble is the format, the next three bits how it is applied.
const PE_OMIT = 0xff;
const PE_PCREL = 0x10;
const PE_DATAREL = 0x30;
const PE_INDIRECT = 0x80;

class Cursor {
  constructor(readonly b: Buffer, public pos: number) {}
  u8(): number { return this.b[this.pos++]; }
  u16(): number { const v = this.b.readUInt16LE(this.pos); this.pos += 2; return v; }
  u32(): number { const v = this.b.readUInt32LE(this.pos); this.pos += 4; return v; }
  s16(): number { const v = this.b.readInt16LE(this.pos); this.pos += 2; return v; }
  s32(): number { const v = this.b.readInt32LE(this.pos); this.pos += 4; return v; }
  u64(): number { const v = Number(this.b.readBigUInt64LE(this.pos)); this.pos += 8; return v; }
  s64(): number { const v = Number(this.b.readBigInt64LE(this.pos)); this.pos += 8; return v; }
  uleb(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const byte = this.b[this.pos++];
      if (byte === undefined) throw new RangeError('LEB128 runs past the end');
      result += (byte & 0x7f) * mul;
      mul *= 128;
      if (!(byte & 0x80)) return result;
    }
  }
  sleb(): number {
    let result = 0;
    let mul = 1;
    let byte: number;
    do {
      byte = this.b[this.pos++];
      if (byte === undefined) throw new RangeError('LEB128 runs past the end');
      result += (byte & 0x7f) * mul;
      mul *= 128;
    } while (byte & 0x80);
    return byte & 0x40 ? result - mul : result;
  }
  cstr(): string {
    const end = this.b.indexOf(0, this.pos);
    const s = this.b.toString('latin1', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  /** An encoded pointer; `base` is the link-time address of b[0], `dataBase` for datarel. */
  pointer(enc: number, base: number, dataBase = 0): number {
    const at = base + this.pos;
    let v: number;
    switch (enc & 0x0f) {
      case 0x00: v = this.u64(); break;
      case 0x01: v = this.uleb(); break;
      case 0x02: v = this.u16(); break;
      case 0x03: v = this.u32(); break;
      case 0x04: v = this.u64(); break;
      case 0x09: v = this.sleb(); break;
      case 0x0a: v = this.s16(); break;
      case 0x0b: v = this.s32(); break;
      case 0x0c: v = this.s64(); break;
      default: throw new RangeError(`pointer encoding 0x${enc.toString(16)}`);
    }
    switch (enc & 0x70) {
      case 0: return v;
      case PE_PCREL: return v + at;
      case PE_DATAREL: return v + dataBase;
      default: throw new RangeError(`pointer application 0x${(enc & 0x70).toString(16)}`);
    }
  }
}

export class EhFrame {
  private readonly cies = new Map<number, Cie>();
  private all?: Fde[];

  /**
   * `data` is .eh_frame loaded at link-time address `addr`; `hdr`, when given, is .eh_frame_hdr
   * at `hdrAddr`, whose sorted table makes a lookup a binary search instead of a scan.
   */
  constructor(
    private readonly data: Buffer,
    private readonly addr: number,
    private readonly hdr?: Buffer,
    private readonly hdrAddr = 0,
  ) {}

  /** The binary's unwind tables, or undefined when it has none (Go binaries, some stripped files). */
  static read(elf: ElfFile): EhFrame | undefined {
    const sec = elf.section('.eh_frame');
    const hdrSec = elf.section('.eh_frame_hdr');
    if (sec && sec.size > 0 && sec.addr !== 0) {
      const hdr = hdrSec && hdrSec.size > 0 ? elf.sectionData(hdrSec) : undefined;
      return new EhFrame(elf.sectionData(sec), sec.addr, hdr, hdrSec?.addr ?? 0);
    }
    if (elf.sections.length > 0) return undefined;
    // No section headers: PT_GNU_EH_FRAME is the header, and it points at .eh_frame, which
    // runs to the end of the loadable segment holding it.
    const ph = elf.segments.find((p) => p.type === PT_GNU_EH_FRAME);
    if (!ph) return undefined;
    const hdr = elf.read(ph.offset, ph.filesz, 'PT_GNU_EH_FRAME');
    if (hdr[0] !== 1) return undefined;
    const framePtr = new Cursor(hdr, 4).pointer(hdr[1], ph.vaddr, ph.vaddr);
    const seg = elf.segments.find((p: Segment) => p.type === PT_LOAD && framePtr >= p.vaddr && framePtr < p.vaddr + p.filesz);
    if (!seg) return undefined;
    const data = elf.read(seg.offset + (framePtr - seg.vaddr), seg.vaddr + seg.filesz - framePtr, '.eh_frame');
    return new EhFrame(data, framePtr, hdr, ph.vaddr);
  }

  /** The FDE covering link-time address `pc`. */
  fdeFor(pc: number): Fde | undefined {
    const viaHdr = this.searchHdr(pc);
    if (viaHdr !== undefined) {
      const fde = viaHdr >= 0 ? this.parseFde(viaHdr) : undefined;
      return fde && pc >= fde.start && pc < fde.end ? fde : undefined;
    }
    return rangeHolding(this.fdes(), (f) => f.start, (f) => f.end, pc);
  }

  /** The unwind rules in effect at link-time address `pc`, or undefined when none cover it. */
  rowAt(pc: number): UnwindRow | undefined {
    const fde = this.fdeFor(pc);
    if (!fde) return undefined;
    const cie = fde.cie;
    const state: State = { cfa: { kind: 'reg', reg: DwarfReg.rsp, offset: 8 }, regs: new Map() };
    run(cie.initial, cie, state, undefined, Infinity, 0);
    const initial = new Map(state.regs);
    run(fde.program, cie, state, initial, pc, fde.start);
    return { cfa: state.cfa, regs: state.regs, raReg: cie.raReg, signalFrame: cie.signalFrame };
  }

  /** Every FDE, sorted by start address (parsed once, for tables without a usable header). */
  fdes(): Fde[] {
    if (!this.all) {
      const out: Fde[] = [];
      let o = 0;
      while (o + 4 <= this.data.length) {
        const { length, idAt, next } = entryBounds(this.data, o);
        if (length === 0) break;
        if (this.data.readUInt32LE(idAt) !== 0) {
          const fde = this.parseFde(o);
          if (fde && fde.end > fde.start) out.push(fde);
        }
        o = next;
      }
      this.all = out.sort((x, y) => x.start - y.start);
    }
    return this.all;
  }

  /**
   * Offset into .eh_frame of the candidate FDE from the header's sorted table (-1: none
   * covers pc), or undefined when there is no header or its table is in a form we do not read.
   */
  private searchHdr(pc: number): number | undefined {
    const h = this.hdr;
    if (!h || h.length < 4 || h[0] !== 1) return undefined;
    const [framePtrEnc, countEnc, tableEnc] = [h[1], h[2], h[3]];
    // gcc and lld always write datarel sdata4 entries: fixed 8-byte rows we can bisect.
    if (countEnc === PE_OMIT || tableEnc !== 0x3b) return undefined;
    const c = new Cursor(h, 4);
    try {
      c.pointer(framePtrEnc, this.hdrAddr, this.hdrAddr);
      const count = c.pointer(countEnc, this.hdrAddr, this.hdrAddr);
      const table = c.pos;
      if (table + count * 8 > h.length) return undefined;
      const found = lastAtOrBelow(count, (i) => h.readInt32LE(table + i * 8) + this.hdrAddr, pc);
      if (found < 0) return -1;
      const off = h.readInt32LE(table + found * 8 + 4) + this.hdrAddr - this.addr;
      return off >= 0 && off < this.data.length ? off : -1;
    } catch {
      return undefined;
    }
  }

  private parseFde(o: number): Fde | undefined {
    try {
      const { idAt, next } = entryBounds(this.data, o);
      const cieOff = idAt - this.data.readUInt32LE(idAt);
      const cie = this.parseCie(cieOff);
      if (!cie) return undefined;
      const c = new Cursor(this.data, idAt + 4);
      const start = c.pointer(cie.fdeEnc, this.addr);
      const range = c.pointer(cie.fdeEnc & 0x0f, this.addr);
      if (cie.hasAugData) c.pos += c.uleb();
      return { start, end: start + range, cie, program: this.data.subarray(c.pos, next) };
    } catch {
      return undefined;
    }
  }

  private parseCie(o: number): Cie | undefined {
    const hit = this.cies.get(o);
    if (hit) return hit;
    const { idAt, next } = entryBounds(this.data, o);
    if (this.data.readUInt32LE(idAt) !== 0) return undefined;
    const c = new Cursor(this.data, idAt + 4);
    const version = c.u8();
    const aug = c.cstr();
    if (aug.includes('eh')) c.pos += 8;
    const cie: Cie = {
      codeAlign: c.uleb(), dataAlign: c.sleb(), raReg: version === 1 ? c.u8() : c.uleb(),
      fdeEnc: 0, signalFrame: false, hasAugData: aug.startsWith('z'), initial: new Uint8Array(),
    };
    if (cie.hasAugData) {
      const len = c.uleb();
      const end = c.pos + len;
      for (const ch of aug.slice(1)) {
        if (ch === 'R') cie.fdeEnc = c.u8();
        else if (ch === 'L') c.u8();
        else if (ch === 'P') c.pointer(c.u8() & ~PE_INDIRECT, this.addr);
        else if (ch === 'S') cie.signalFrame = true;
      }
      c.pos = end;
    }
    cie.initial = this.data.subarray(c.pos, next);
    this.cies.set(o, cie);
    return cie;
  }
}

function entryBounds(b: Buffer, o: number): { length: number; idAt: number; next: number } {
  let length = b.readUInt32LE(o);
  let idAt = o + 4;
  if (length === 0xffffffff) {
    length = Number(b.readBigUInt64LE(o + 4));
    idAt = o + 12;
  }
  return { length, idAt, next: idAt + length };
}

interface State {
  cfa: CfaRule;
  regs: Map<number, RegRule>;
}

// Runs CFA instructions from `loc` until the row that covers `pc` is built.
function run(prog: Uint8Array, cie: Cie, st: State, initial: Map<number, RegRule> | undefined, pc: number, loc: number): void {
  const c = new Cursor(Buffer.from(prog.buffer, prog.byteOffset, prog.byteLength), 0);
  const stack: State[] = [];
  const advance = (delta: number): boolean => {
    loc += delta * cie.codeAlign;
    return loc <= pc;
  };
  const offsetRule = (factored: number): RegRule => ({ kind: 'offset', offset: factored * cie.dataAlign });
  const restore = (reg: number): void => {
    const r = initial?.get(reg);
    if (r) st.regs.set(reg, r);
    else st.regs.delete(reg);
  };
  while (c.pos < prog.length) {
    const op = c.u8();
    const high = op & 0xc0;
    const low = op & 0x3f;
    if (high === 0x40) {
      if (!advance(low)) return;
      continue;
    }
    if (high === 0x80) {
      st.regs.set(low, offsetRule(c.uleb()));
      continue;
    }
    if (high === 0xc0) {
      restore(low);
      continue;
    }
    switch (op) {
      case 0x00: break; // nop
      case 0x01:
        // set_loc is absolute only in tables nobody emits with pc-relative pointers; those we cannot place.
        if (cie.fdeEnc & 0x70) return;
        loc = c.pointer(cie.fdeEnc, 0);
        if (loc > pc) return;
        break;
      case 0x02: if (!advance(c.u8())) return; break;
      case 0x03: if (!advance(c.u16())) return; break;
      case 0x04: if (!advance(c.u32())) return; break;
      case 0x05: { const r = c.uleb(); st.regs.set(r, offsetRule(c.uleb())); break; }
      case 0x06: restore(c.uleb()); break;
      case 0x07: st.regs.set(c.uleb(), { kind: 'undefined' }); break;
      case 0x08: st.regs.set(c.uleb(), { kind: 'same' }); break;
      case 0x09: { const r = c.uleb(); st.regs.set(r, { kind: 'register', reg: c.uleb() }); break; }
      case 0x0a: stack.push({ cfa: { ...st.cfa }, regs: new Map(st.regs) }); break;
      case 0x0b: { const s = stack.pop(); if (s) { st.cfa = s.cfa; st.regs = s.regs; } break; }
      case 0x0c: { const reg = c.uleb(); st.cfa = { kind: 'reg', reg, offset: c.uleb() }; break; }
      case 0x0d: { const reg = c.uleb(); st.cfa = { kind: 'reg', reg, offset: st.cfa.kind === 'reg' ? st.cfa.offset : 0 }; break; }
      case 0x0e: { const offset = c.uleb(); if (st.cfa.kind === 'reg') st.cfa = { ...st.cfa, offset }; break; }
      case 0x0f: { const n = c.uleb(); st.cfa = { kind: 'expr', expr: prog.subarray(c.pos, c.pos + n) }; c.pos += n; break; }
      case 0x10: { const r = c.uleb(); const n = c.uleb(); st.regs.set(r, { kind: 'expr', expr: prog.subarray(c.pos, c.pos + n) }); c.pos += n; break; }
      case 0x11: { const r = c.uleb(); st.regs.set(r, { kind: 'offset', offset: c.sleb() * cie.dataAlign }); break; }
      case 0x12: { const reg = c.uleb(); st.cfa = { kind: 'reg', reg, offset: c.sleb() * cie.dataAlign }; break; }
      case 0x13: { const offset = c.sleb() * cie.dataAlign; if (st.cfa.kind === 'reg') st.cfa = { ...st.cfa, offset }; break; }
      case 0x14: { const r = c.uleb(); st.regs.set(r, { kind: 'val_offset', offset: c.uleb() * cie.dataAlign }); break; }
      case 0x15: { const r = c.uleb(); st.regs.set(r, { kind: 'val_offset', offset: c.sleb() * cie.dataAlign }); break; }
      case 0x16: { const r = c.uleb(); const n = c.uleb(); st.regs.set(r, { kind: 'val_expr', expr: prog.subarray(c.pos, c.pos + n) }); c.pos += n; break; }
      case 0x2e: c.uleb(); break; // GNU_args_size: only matters for exception landing pads
      case 0x2f: { const r = c.uleb(); st.regs.set(r, { kind: 'offset', offset: -c.uleb() * cie.dataAlign }); break; }
      default:
        // An opcode we do not know leaves the rest of the program unreadable: stop here with
        // the row so far, which is still right for the instructions it has covered.
        return;
    }
  }
}

/**
 * Evaluates a DWARF expression (the subset unwind tables use: register-relative values,
 * constants, arithmetic, comparisons, branches, memory reads). Undefined when it reads a
 * register or memory we do not have.
 */
export function evalExpression(
  expr: Uint8Array, reg: (r: number) => bigint | undefined, mem: (addr: bigint) => bigint | undefined, push: bigint[] = [],
): bigint | undefined {
  const M = (1n << 64n) - 1n;
  const s = [...push];
  const c = new Cursor(Buffer.from(expr.buffer, expr.byteOffset, expr.byteLength), 0);
  const pop = (): bigint => {
    const v = s.pop();
    if (v === undefined) throw new RangeError('DWARF expression stack underflow');
    return v;
  };
  const signed = (v: bigint): bigint => BigInt.asIntN(64, v);
  try {
    while (c.pos < expr.length) {
      const op = c.u8();
      if (op >= 0x30 && op <= 0x4f) { s.push(BigInt(op - 0x30)); continue; }
      if (op >= 0x50 && op <= 0x6f) {
        const v = reg(op - 0x50);
        if (v === undefined) return undefined;
        s.push(v);
        continue;
      }
      if (op >= 0x70 && op <= 0x8f) {
        const v = reg(op - 0x70);
        if (v === undefined) return undefined;
        s.push((v + BigInt(c.sleb())) & M);
        continue;
      }
      switch (op) {
        case 0x06: { const v = mem(pop()); if (v === undefined) return undefined; s.push(v); break; }
        case 0x08: s.push(BigInt(c.u8())); break;
        case 0x09: s.push(BigInt((c.u8() << 24) >> 24) & M); break;
        case 0x0a: s.push(BigInt(c.u16())); break;
        case 0x0b: s.push(BigInt(c.s16()) & M); break;
        case 0x0c: s.push(BigInt(c.u32())); break;
        case 0x0d: s.push(BigInt(c.s32()) & M); break;
        case 0x0e: case 0x0f: s.push(c.b.readBigUInt64LE(c.pos)); c.pos += 8; break;
        case 0x10: s.push(BigInt(c.uleb())); break;
        case 0x11: s.push(BigInt(c.sleb()) & M); break;
        case 0x12: { const v = pop(); s.push(v, v); break; }
        case 0x13: pop(); break;
        case 0x14: { const a = pop(); const b = pop(); s.push(b, a, b); break; }
        case 0x15: { const i = c.u8(); const v = s[s.length - 1 - i]; if (v === undefined) return undefined; s.push(v); break; }
        case 0x16: { const a = pop(); const b = pop(); s.push(a, b); break; }
        case 0x17: { const a = pop(); const b = pop(); const d = pop(); s.push(a, d, b); break; }
        case 0x19: s.push(((v) => (v < 0n ? -v : v))(signed(pop())) & M); break;
        case 0x1a: { const a = pop(); s.push(pop() & a); break; }
        case 0x1b: { const a = signed(pop()); const b = signed(pop()); if (a === 0n) return undefined; s.push((b / a) & M); break; }
        case 0x1c: { const a = pop(); s.push((pop() - a) & M); break; }
        case 0x1d: { const a = pop(); const b = pop(); if (a === 0n) return undefined; s.push(b % a); break; }
        case 0x1e: { const a = pop(); s.push((pop() * a) & M); break; }
        case 0x1f: s.push(-pop() & M); break;
        case 0x20: s.push(~pop() & M); break;
        case 0x21: { const a = pop(); s.push(pop() | a); break; }
        case 0x22: { const a = pop(); s.push((pop() + a) & M); break; }
        case 0x23: s.push((pop() + BigInt(c.uleb())) & M); break;
        case 0x24: { const a = pop(); s.push((pop() << a) & M); break; }
        case 0x25: { const a = pop(); s.push(pop() >> a); break; }
        case 0x26: { const a = pop(); s.push((signed(pop()) >> a) & M); break; }
        case 0x27: { const a = pop(); s.push(pop() ^ a); break; }
        case 0x28: { const off = c.s16(); if (pop() !== 0n) c.pos += off; break; }
        case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e: {
          const a = signed(pop());
          const b = signed(pop());
          const r = op === 0x29 ? b === a : op === 0x2a ? b >= a : op === 0x2b ? b > a : op === 0x2c ? b <= a : op === 0x2d ? b < a : b !== a;
          s.push(r ? 1n : 0n);
          break;
        }
        case 0x2f: c.pos += c.s16(); break;
        case 0x96: break;
        default: return undefined;
      }
    }
  } catch {
    return undefined;
  }
  return s.pop();
}
