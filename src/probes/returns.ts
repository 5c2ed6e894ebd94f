// Return sites of a native function: uprobes on each RET instead of a uretprobe. A
// uretprobe rewrites the return address on the stack; code that inspects or moves its
// stack (Go, coroutines, some unwinders) breaks on that. The RET scan never touches it.
import { ElfFile } from '../elf/reader.js';
import { SymbolTable } from '../elf/symbols.js';
import { TsbpfError } from '../kernel/errors.js';
import { findReturns } from '../x86/returns.js';

export interface ReturnSite {
  address: number;
  fileOffset: number;
}

/** Every RET of `symbol` in the ELF file at `path`, from its symbol's address and size. */
export function nativeReturnSites(path: string, symbol: string): ReturnSite[] {
  const elf = ElfFile.open(path);
  const [sym] = SymbolTable.read(elf).byName(symbol);
  if (!sym) throw new TsbpfError(`${path}: no symbol '${symbol}' to scan for returns`);
  if (!sym.size) {
    throw new TsbpfError(`${path}: '${symbol}' has no size in the symbol table, so its RET instructions cannot be found`, {
      hint: 'use a plain uretprobe (without --ret-scan) for this function',
    });
  }
  const code = elf.readVaddr(sym.address, sym.size);
  if (!code) throw new TsbpfError(`${path}: the code of '${symbol}' is not in the file`);
  const rets = findReturns(code, 0, code.length);
  if (!rets.length) {
    throw new TsbpfError(`${path}: '${symbol}' has no RET instruction`, { hint: 'it never returns normally (tail call, exit); probe its entry instead' });
  }
  return rets.map((o) => ({ address: sym.address + o, fileOffset: elf.vaddrToOffset(sym.address + o)! }));
}
