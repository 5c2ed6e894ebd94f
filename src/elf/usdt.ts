// USDT probes: the .note.stapsdt notes <sys/sdt.h> leaves in a binary, and the x86-64
// argument specs in them (`-4@%edi`, `8@-16(%rbp)`, `4@$5` ...), decoded into a form the
// code generator can read from pt_regs. The layout follows libbpf's usdt.c description.
import { ElfFile } from './reader.js';

export interface UsdtProbe {
  provider: string;
  name: string;
  /** Link-time address of the probe's nop, adjusted for prelinking. */
  pc: number;
  /** File offset of `pc`: where the uprobe goes (equal to `pc` in files without segments). */
  pcOffset: number;
  /** Link-time address of the semaphore (0 when the probe has none). */
  semaphore: number;
  /** File offset of the semaphore, for the uprobe's ref_ctr_offset (0 when none). */
  semaphoreOffset: number;
  /** The note's own base, as recorded at link time. */
  base: number;
  argsText: string;
  args: UsdtArg[];
}

export type UsdtArg = { size: number; signed: boolean; text: string } & (
  | { kind: 'register'; reg: string; regOffset: number }
  | { kind: 'memory'; reg: string; regOffset: number; offset: number; index?: { reg: string; regOffset: number; scale: number } }
  | { kind: 'constant'; value: bigint }
  | { kind: 'rip'; symbol?: string; offset: number }
  | { kind: 'unsupported'; reason: string }
);

const NT_STAPSDT = 3;

// struct pt_regs on x86-64, in the order the kernel lays it out.
const ptRegs = ['r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi', 'rdi', 'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss'];

// Every spelling of a general-purpose register, mapped to its 64-bit name.
const regAliases = new Map<string, string>();
for (const r of ['ax', 'bx', 'cx', 'dx']) {
  for (const a of [`r${r}`, `e${r}`, r, `${r[0]}l`]) regAliases.set(a, `r${r}`);
}
for (const r of ['si', 'di', 'bp', 'sp']) {
  for (const a of [`r${r}`, `e${r}`, r, `${r}l`]) regAliases.set(a, `r${r}`);
}
for (let n = 8; n <= 15; n++) for (const s of ['', 'd', 'w', 'b']) regAliases.set(`r${n}${s}`, `r${n}`);
regAliases.set('rip', 'rip');

/** Offset of a register's slot in struct pt_regs, or undefined for one it does not hold. */
export function ptRegsOffset(reg: string): number | undefined {
  const i = ptRegs.indexOf(reg);
  return i < 0 ? undefined : i * 8;
}

function register(name: string): { reg: string; regOffset: number } | undefined {
  const reg = regAliases.get(name);
  if (!reg) return undefined;
  return { reg, regOffset: ptRegsOffset(reg)! };
}

/** Parses one arg spec: `[-]SIZE@OPERAND` in AT&T syntax. */
export function parseUsdtArg(text: string): UsdtArg {
  let size = 8;
  let signed = false;
  let op = text;
  const at = /^(-?)(\d+)@/.exec(text);
  if (at) {
    signed = at[1] === '-';
    size = Number(at[2]);
    op = text.slice(at[0].length);
  }
  const base = { size, signed, text };
  const bad = (reason: string): UsdtArg => ({ ...base, kind: 'unsupported', reason });
  if (![1, 2, 4, 8].includes(size)) return bad(`argument size ${size}`);
  let m: RegExpExecArray | null;
  if ((m = /^%(\w+)$/.exec(op))) {
    const r = register(m[1]);
    return r ? { ...base, kind: 'register', ...r } : bad(`register %${m[1]}`);
  }
  if ((m = /^\$(-?(?:0x[0-9a-fA-F]+|\d+))$/.exec(op))) {
    const v = m[1].startsWith('-') ? -BigInt(m[1].slice(1)) : BigInt(m[1]);
    return { ...base, kind: 'constant', value: v };
  }
  if ((m = /^([^(]*)\(%rip\)$/.exec(op))) {
    const d = /^([A-Za-z_.$][\w.$@]*)?([+-]?(?:0x[0-9a-fA-F]+|\d+))?$/.exec(m[1]);
    if (!d) return bad(`rip-relative operand ${op}`);
    return { ...base, kind: 'rip', symbol: d[1], offset: d[2] ? Number(d[2]) : 0 };
  }
  if ((m = /^(-?(?:0x[0-9a-fA-F]+|\d+))?\(%(\w+)(?:,%(\w+)(?:,(\d))?)?\)$/.exec(op))) {
    const r = register(m[2]);
    if (!r) return bad(`register %${m[2]}`);
    const arg: UsdtArg = { ...base, kind: 'memory', ...r, offset: m[1] ? Number(m[1]) : 0 };
    if (m[3]) {
      const idx = register(m[3]);
      if (!idx) return bad(`register %${m[3]}`);
      arg.index = { ...idx, scale: m[4] ? Number(m[4]) : 1 };
    }
    return arg;
  }
  return bad(`operand ${op}`);
}

/** Splits an args string on spaces; specs themselves never contain one. */
export function parseUsdtArgs(argsText: string): UsdtArg[] {
  return argsText.split(/\s+/).filter(Boolean).map(parseUsdtArg);
}

/** Every USDT probe in the file, in note order. */
export function readUsdtProbes(elf: ElfFile): UsdtProbe[] {
  const notes = elf.notes('.note.stapsdt').filter((n) => n.owner === 'stapsdt' && n.type === NT_STAPSDT);
  if (notes.length === 0) return [];
  // Prelink moves the code but not the notes; .stapsdt.base records where the notes'
  // base ended up, and every address shifts by the same amount.
  const baseSection = elf.section('.stapsdt.base');
  const out: UsdtProbe[] = [];
  for (const n of notes) {
    const d = n.desc;
    if (d.length < 24 + 3) continue;
    const pc0 = Number(d.readBigUInt64LE(0));
    const base = Number(d.readBigUInt64LE(8));
    const sema0 = Number(d.readBigUInt64LE(16));
    const strs = d.subarray(24).toString('utf8').split('\0');
    const [provider, name, argsText = ''] = strs;
    const shift = baseSection && base ? baseSection.addr - base : 0;
    const pc = pc0 + shift;
    const semaphore = sema0 ? sema0 + shift : 0;
    out.push({
      provider, name, pc, base, semaphore, argsText,
      pcOffset: elf.vaddrToOffset(pc) ?? pc,
      semaphoreOffset: semaphore ? elf.vaddrToOffset(semaphore) ?? 0 : 0,
      args: parseUsdtArgs(argsText),
    });
  }
  return out;
}
