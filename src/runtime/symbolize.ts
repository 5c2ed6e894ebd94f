// Addresses to names, as bpftrace prints them: kernel addresses through /proc/kallsyms, user
// addresses through the process's mappings and the symbols of the mapped files.
//
// A process's address space is captured the first time the runtime sees its pid
// (`remember`), so stacks of short-lived processes still resolve after they exit, which is
// where bpftrace prints raw hex. Binaries of processes in other mount namespaces (containers)
// are opened through /proc/PID/root; when such a path would die with the process, the
// binary's tables are read at once.
import { statSync } from 'node:fs';
import type { StackMode } from '../lang/compiled.js';
import type { Symbolizer as DecodeSymbolizer } from './decode.js';
import { KernelSymbols } from './sym-kernel.js';
import { ModuleSymbols, type ModuleSymbol } from './sym-module.js';
import { isFileBacked, mappingAt, readProcMaps, type Mapping } from '../probes/procmaps.js';
import { formatKernelFrames, formatUserFrames } from './stacks.js';
import { ElfFile } from '../elf/reader.js';

export interface UserFrame {
  symbol?: ModuleSymbol;
  /** The mapped file's path as the process sees it (perf mode's module column). */
  module?: string;
}

export interface ModuleHit {
  module: ModuleSymbols;
  /** Link-time address inside the module. */
  vaddr: number;
  mapping: Mapping;
}

interface AddressSpace {
  maps: Mapping[];
  /** Per executable mapping's path: the opened binary, or null when it could not be opened. */
  modules: Map<string, ModuleSymbols | null>;
  /** Addresses found in no mapping even after re-reading maps, so each costs one re-read at most. */
  misses: Set<number>;
}

export class Symbolizer implements DecodeSymbolizer {
  readonly kernel: KernelSymbols;
  private readonly spaces = new Map<number, AddressSpace>();
  /** Binaries shared by every process that maps them, keyed by file identity. */
  private readonly files = new Map<string, ModuleSymbols | null>();
  /** Executables pids are about to run (-c commands), for when they exit before `remember`. */
  private readonly execs = new Map<number, string>();

  constructor(opts: { kallsyms?: string } = {}) {
    this.kernel = new KernelSymbols(opts.kallsyms);
  }

  /**
   * Captures the address space of `pid` (call when a pid is first seen). Returns false when
   * the process is already gone and was never seen before.
   */
  remember(pid: number): boolean {
    if (this.spaces.has(pid)) return true;
    return this.capture(pid) !== undefined;
  }

  /**
   * Says `pid` is about to exec the executable at `path`. A command that exits within
   * milliseconds is gone before its maps can be read; a non-PIE executable (Go's default)
   * is mapped at its link-time addresses, so its addresses still resolve.
   */
  expectExec(pid: number, path: string): void {
    this.execs.set(pid, path);
  }

  /** Drops what is known about `pid` (its pid may be reused by a new process). */
  forget(pid: number): void {
    this.spaces.delete(pid);
  }

  /** `ksym`: the kernel function name, or the address in hex. */
  ksym(addr: bigint): string {
    return this.kernel.lookup(addr)?.name ?? hex0x(addr);
  }

  /** Address of a kernel symbol (`kaddr`), or undefined when there is none of that name. */
  kaddr(name: string): bigint | undefined {
    return this.kernel.address(name);
  }

  /** `usym`: the user function name (bpftrace prints no offset here), or the address in hex. */
  usym(pid: number, addr: bigint): string {
    return this.userFrame(pid, addr).symbol?.name ?? hex0x(addr);
  }

  /** The user function and module holding `addr` in `pid`. */
  userFrame(pid: number, addr: bigint): UserFrame {
    const hit = this.moduleAt(pid, addr);
    if (!hit) return {};
    return { symbol: hit.module.symbol(hit.vaddr), module: hit.mapping.path };
  }

  /** The binary mapped at `addr` in `pid` and the link-time address `addr` corresponds to. */
  moduleAt(pid: number, addr: bigint | number): ModuleHit | undefined {
    const a = Number(addr);
    if (!(a > 0 && a < 2 ** 53)) return undefined;
    let space = this.spaces.get(pid) ?? this.capture(pid) ?? this.fixedSpace(pid);
    if (!space) return undefined;
    let m = mappingAt(space.maps, a);
    if (!m && !space.misses.has(a)) {
      // Libraries loaded since the first look (dlopen) are not in the captured maps yet; a
      // look during exec (new exe, segments not yet mapped) saw nothing of the executable.
      space = this.capture(pid, space) ?? this.fixedSpace(pid) ?? space;
      m = mappingAt(space.maps, a);
      if (!m) space.misses.add(a);
    }
    if (!m) return undefined;
    const module = space.modules.get(m.path);
    if (!module) return undefined;
    const vaddr = module.vaddrOf(a - m.start + m.offset);
    return vaddr === undefined ? undefined : { module, vaddr, mapping: m };
  }

  kstack(ips: readonly bigint[], mode: StackMode): string[] {
    return formatKernelFrames(ips, (ip) => this.kernel.lookup(ip), mode);
  }

  ustack(pid: number, ips: readonly bigint[], mode: StackMode): string[] {
    return formatUserFrames(ips, (ip) => this.userFrame(pid, ip), mode);
  }

  private capture(pid: number, prior?: AddressSpace): AddressSpace | undefined {
    const maps = readProcMaps(pid);
    // An exited but unreaped process (a zombie) has a maps file with nothing in it.
    if (!maps?.length) return undefined;
    const space: AddressSpace = { maps, modules: prior?.modules ?? new Map(), misses: prior?.misses ?? new Set() };
    for (const m of maps) {
      if (!m.perms.includes('x') || !isFileBacked(m) || space.modules.has(m.path)) continue;
      space.modules.set(m.path, this.openMapped(pid, m));
    }
    this.spaces.set(pid, space);
    return space;
  }

  /** The address space of an expected non-PIE executable, from its program headers. */
  private fixedSpace(pid: number): AddressSpace | undefined {
    const path = this.execs.get(pid);
    let elf: ElfFile;
    try {
      if (path === undefined || !(elf = ElfFile.open(path)).isExecutable) return undefined;
    } catch {
      return undefined;
    }
    const PF_X = 1;
    const maps: Mapping[] = elf.loadSegments().filter((s) => s.flags & PF_X).map((s) => ({
      start: s.vaddr, end: s.vaddr + s.memsz, offset: s.offset, perms: 'r-xp', dev: '0:0', inode: 1, path, deleted: false,
    }));
    const module = ModuleSymbols.open(path) ?? null;
    const space: AddressSpace = { maps, modules: new Map([[path, module]]), misses: new Set() };
    this.spaces.set(pid, space);
    return space;
  }

  // The file behind a mapping, by the longest-lived path that reaches the same inode.
  private openMapped(pid: number, m: Mapping): ModuleSymbols | null {
    const viaProc = m.deleted ? `/proc/${pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}` : `/proc/${pid}/root${m.path}`;
    // An expected executable that exited between reading its maps and this look is the
    // file we were told it would run.
    const procStat = statOf(viaProc) ?? (this.execs.get(pid) === m.path ? statOf(m.path) : undefined);
    if (!procStat) return null;
    const identity = `${procStat.dev}:${procStat.ino}:${procStat.mtimeMs}:${procStat.size}`;
    const known = this.files.get(identity);
    if (known !== undefined) return known;
    const hostStat = m.deleted ? undefined : statOf(m.path);
    const sameFile = hostStat !== undefined && hostStat.dev === procStat.dev && hostStat.ino === procStat.ino;
    const module = ModuleSymbols.open(sameFile ? m.path : viaProc) ?? null;
    // Paths under /proc/PID vanish with the process: read the tables while we still can.
    if (module && !sameFile) module.preload();
    this.files.set(identity, module);
    return module;
  }
}

export function createSymbolizer(): Symbolizer {
  return new Symbolizer();
}

function statOf(path: string): { dev: number; ino: number; mtimeMs: number; size: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** bpftrace prints unresolved addresses as a C++ stream prints a `void *`: 0x-hex, and 0 bare. */
export function hex0x(addr: bigint): string {
  return addr === 0n ? '0' : '0x' + addr.toString(16);
}
