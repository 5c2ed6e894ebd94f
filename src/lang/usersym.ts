// uaddr("name"): where a global (or function) of the probed binary is in the traced process.
// The symbol's link-time address is known at compile time. A PIE executable or a shared
// library is loaded at a bias chosen by ASLR, which the program learns at run time from the
// probe's own address: bias = runtime address of the probed instruction - its link-time address.
import { ElfFile } from '../elf/reader.js';
import { SymbolTable, type ElfSymbol } from '../elf/symbols.js';
import { TsbpfError } from '../kernel/errors.js';
import type { Asm } from '../isa/asm.js';
import { R0, R1, R6 } from '../isa/insn.js';
import { didYouMean } from './diagnostics.js';
import type { ResolvedProbe } from './probes.js';
import type { Ty } from './types.js';

interface Binary {
  elf: ElfFile;
  symbols: SymbolTable;
}

const binaries = new Map<string, Binary>();

function binary(path: string): Binary {
  let b = binaries.get(path);
  if (!b) {
    const elf = ElfFile.open(path);
    let symbols = SymbolTable.read(elf, { data: true });
    // A stripped binary keeps only exported symbols; its debug file has the static ones too.
    if (!elf.section('.symtab')) {
      const debug = elf.findDebugFile();
      if (debug) symbols = SymbolTable.read(ElfFile.open(debug), { data: true });
    }
    b = { elf, symbols };
    binaries.set(path, b);
  }
  return b;
}

function probedBinary(probe: ResolvedProbe): string {
  if (probe.attach.kind !== 'uprobe') throw new TsbpfError(`uaddr() can not be used with ${probe.provider} probes`);
  return probe.attach.path;
}

/** The symbol `name` of the probed binary; data objects win over functions of the same name. */
function symbolOf(probe: ResolvedProbe, name: string): { symbol: ElfSymbol; elf: ElfFile } {
  const path = probedBinary(probe);
  const { elf, symbols } = binary(path);
  const found = symbols.byName(name);
  const symbol = found.find((s) => s.kind === 'object') ?? found[0];
  if (!symbol) {
    const names = symbols.symbols.map((s) => s.name);
    throw new TsbpfError(`uaddr(): no symbol '${name}' in ${path}`, {
      hint: didYouMean(name, names) ?? 'uaddr() takes a global variable or function of the probed binary',
    });
  }
  return { symbol, elf };
}

/**
 * The type of uaddr(name) in `probe`: a user pointer to a signed integer as wide as the
 * symbol when that is 1, 2 or 4 bytes, else 8 (bpftrace: `int64 *`). Throws TsbpfError.
 */
export function uaddrType(probe: ResolvedProbe, name: string): Ty {
  const { size } = symbolOf(probe, name).symbol;
  return { kind: 'ptr', to: { kind: 'int', size: size === 1 || size === 2 || size === 4 ? size : 8, signed: true }, space: 'user' };
}

/** Emits R0 = runtime address of symbol `name` (R6 holds the pt_regs context). */
export function emitUaddr(a: Asm, probe: ResolvedProbe, name: string): void {
  const { symbol, elf } = symbolOf(probe, name);
  if (!elf.isDynamic) {
    a.loadImm(R0, symbol.address);
    return;
  }
  const attach = probe.attach as Extract<ResolvedProbe['attach'], { kind: 'uprobe' }>;
  const site = elf.offsetToVaddr(Number(attach.offset));
  if (site === undefined) throw new TsbpfError(`uaddr(): probe offset 0x${attach.offset.toString(16)} is not in a loaded segment of ${attach.path}`);
  // bpf_get_func_ip of a uprobe is the probed address, also in a uretprobe (where ip has
  // already moved to the caller).
  a.mov(R1, R6).call('get_func_ip').loadImm(R1, symbol.address - site).alu64('add', R0, R1);
}
