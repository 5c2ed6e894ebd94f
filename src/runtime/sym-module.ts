// One mapped binary (executable or shared library) as the symbolizer sees it: its function
// names (ELF symbols, a separate debug file's when the binary is stripped, or Go's pclntab,
// which survives stripping) and its unwind tables. Addresses here are link-time addresses;
// the caller removes the load bias first.
import { ElfFile } from '../elf/reader.js';
import { SymbolTable } from '../elf/symbols.js';
import { goFuncAt, readGoPclntab, type GoPclntab } from '../elf/gopclntab.js';
import { demangle } from '../elf/demangle.js';
import { EhFrame } from '../elf/ehframe.js';

export interface ModuleSymbol {
  name: string;
  /** Bytes from the function's start. */
  offset: number;
}

export class ModuleSymbols {
  private symtab?: SymbolTable | null;
  private datatab?: SymbolTable | null;
  private go?: GoPclntab | null;
  private eh?: EhFrame | null;
  private readonly names = new Map<string, string>();

  private constructor(readonly elf: ElfFile) {}

  /** Opens `path`; undefined when it is not a readable x86-64 ELF file (then frames stay hex). */
  static open(path: string): ModuleSymbols | undefined {
    try {
      return new ModuleSymbols(ElfFile.open(path));
    } catch {
      return undefined;
    }
  }

  /** Link-time address of a file offset (from /proc/PID/maps), or undefined if not loaded from the file. */
  vaddrOf(fileOffset: number): number | undefined {
    const v = this.elf.offsetToVaddr(fileOffset);
    if (v !== undefined) return v;
    // .bss sharing the last file page of the data segment: mapped from the file, past its bytes.
    const seg = this.elf.loadSegments().find((p) => p.memsz > p.filesz && fileOffset >= p.offset && fileOffset < p.offset + p.memsz);
    return seg ? fileOffset - seg.offset + seg.vaddr : undefined;
  }

  /** The function holding link-time address `vaddr`, demangled as bpftrace prints it. */
  symbol(vaddr: number): ModuleSymbol | undefined {
    const go = this.goTable();
    if (go) {
      const f = goFuncAt(go, vaddr);
      if (f) return { name: f.name, offset: vaddr - f.entry };
    }
    // A global variable (usym of a data address, such as uaddr's) before the function lookup,
    // whose last size-less symbol (_fini) would otherwise claim every address after it.
    const data = this.dataSymbols()?.lookup(vaddr);
    const hit = data?.symbol.kind === 'object' ? data : this.symbols()?.lookup(vaddr);
    if (!hit) return undefined;
    const raw = hit.symbol.name;
    let name = this.names.get(raw);
    if (name === undefined) {
      name = demangle(raw);
      this.names.set(raw, name);
    }
    return { name, offset: hit.offset };
  }

  ehFrame(): EhFrame | undefined {
    if (this.eh === undefined) {
      try {
        this.eh = EhFrame.read(this.elf) ?? null;
      } catch {
        this.eh = null;
      }
    }
    return this.eh ?? undefined;
  }

  /**
   * Reads everything symbolization and unwinding need now, so they keep working after the
   * file's path stops resolving (a /proc/PID/root path of a process that exited).
   */
  preload(): void {
    this.goTable();
    this.symbols();
    this.ehFrame();
  }

  private symbols(): SymbolTable | undefined {
    if (this.symtab === undefined) {
      let tab = safeSymbols(this.elf);
      // A stripped binary keeps only .dynsym; its debug file, when installed, has the rest.
      if (!this.elf.section('.symtab')) {
        const debug = this.elf.findDebugFile();
        const full = debug ? ModuleSymbols.open(debug)?.symbols() : undefined;
        if (full && full.size > (tab?.size ?? 0)) tab = full;
      }
      this.symtab = tab ?? null;
    }
    return this.symtab ?? undefined;
  }

  private dataSymbols(): SymbolTable | undefined {
    if (this.datatab === undefined) {
      try {
        this.datatab = SymbolTable.read(this.elf, { data: true });
      } catch {
        this.datatab = null;
      }
    }
    return this.datatab ?? undefined;
  }

  private goTable(): GoPclntab | undefined {
    if (this.go === undefined) {
      try {
        this.go = readGoPclntab(this.elf) ?? null;
      } catch {
        this.go = null;
      }
    }
    return this.go ?? undefined;
  }
}

// A corrupt symbol table reads as none: frames fall back to hex rather than failing the run.
function safeSymbols(elf: ElfFile): SymbolTable | undefined {
  try {
    return SymbolTable.read(elf);
  } catch {
    return undefined;
  }
}
