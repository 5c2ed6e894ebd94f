// uprobe attach points: `BINARY:SYMBOL`, `BINARY:SYMBOL+OFF`, `BINARY:0xADDR` and globs,
// resolved to file offsets the uprobe PMU takes. Function names come from the ELF symbol
// tables (or a separate debug file when the binary is stripped), C++ names also match in
// demangled form as bpftrace's `uprobe:bin:"ns::f"` does, and Go functions come from the
// pclntab, which survives `-ldflags=-s -w`.
import { TsbpfError } from '../kernel/errors.js';
import { ElfFile, PF_X, PT_LOAD } from '../elf/reader.js';
import { globToRegExp, isGlob, SymbolTable } from '../elf/symbols.js';
import { demangle } from '../elf/demangle.js';
import { isGoBinary } from '../elf/gobuildinfo.js';
import { readGoPclntab } from '../elf/gopclntab.js';
import { instructionLength } from '../x86/length.js';
import { resolveBinary, type TargetOptions } from './target.js';
import { hostPath, mappedFiles } from './procmaps.js';
import { didYouMean } from './suggest.js';

export interface UprobeSite {
  /** The binary, as a path this process and the kernel can open. */
  path: string;
  /** The function the probe is in (raw, possibly mangled, name); `0x...` when no symbol covers it. */
  symbol: string;
  /** Bytes from the function's start. */
  offset: number;
  /** Link-time virtual address of the probed instruction. */
  address: number;
  /** Where the uprobe goes: the file offset of `address`. */
  fileOffset: number;
}

export interface UprobeSpec {
  binary: string;
  /** SYMBOL, SYMBOL+OFF, 0xADDR, or a glob; C++ names may be demangled, Go names as Go spells them. */
  func: string;
}

/** One function a binary defines, from whichever table knows it. */
export interface FunctionEntry {
  name: string;
  address: number;
  /** 0 when unknown (size-less assembly symbols). */
  size: number;
}

/** Splits `BINARY:FUNC` (also `BINARY:cpp:FUNC` and quoted names) at the first colon. */
export function parseUprobeSpec(spec: string): UprobeSpec {
  const colon = spec.indexOf(':');
  if (colon <= 0 || colon === spec.length - 1) {
    throw new TsbpfError(`invalid uprobe target '${spec}'`, { hint: 'write BINARY:FUNCTION, BINARY:FUNCTION+OFFSET or BINARY:0xADDRESS' });
  }
  let func = spec.slice(colon + 1);
  if (func.startsWith('cpp:')) func = func.slice(4);
  if (func.length >= 2 && func.startsWith('"') && func.endsWith('"')) func = func.slice(1, -1);
  return { binary: spec.slice(0, colon), func };
}

/** Every function of the binary at `path`, sorted by address; throws when it has none at all. */
export function binaryFunctions(path: string, elf = ElfFile.open(path)): FunctionEntry[] {
  const out: FunctionEntry[] = [];
  const seen = new Set<string>();
  const add = (name: string, address: number, size: number): void => {
    const key = `${name}\0${address}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ name, address, size });
  };
  if (isGoBinary(elf)) {
    for (const f of readGoPclntab(elf)?.funcs ?? []) add(f.name, f.entry, f.end - f.entry);
  }
  let syms = SymbolTable.read(elf);
  if (syms.size === 0) {
    const debug = elf.findDebugFile();
    if (debug) syms = SymbolTable.read(ElfFile.open(debug));
  }
  for (const s of syms.symbols) add(s.name, s.address, s.size);
  if (out.length === 0) {
    throw new TsbpfError(`${path} has no symbols (it is stripped and has no separate debug file)`, {
      hint: 'probe an address instead (uprobe:BINARY:0xADDR), rebuild without -s, or install its debug symbols',
    });
  }
  return out.sort((a, b) => a.address - b.address);
}

/** Resolves a uprobe attach point to one site per probed function (globs give many). */
export function resolveUprobes(spec: string | UprobeSpec, opts: TargetOptions = {}): UprobeSite[] {
  const { binary, func } = typeof spec === 'string' ? parseUprobeSpec(spec) : spec;
  if (binary === '*') return resolveInProcess(func, opts.pid);
  const path = resolveBinary(binary, opts);
  const elf = ElfFile.open(path);
  if (/^0x[0-9a-f]+$/i.test(func)) return [addressSite(path, elf, Number.parseInt(func, 16))];
  const fns = binaryFunctions(path, elf);
  const plus = /^(.+?)\+(0x[0-9a-f]+|\d+)$/i.exec(func);
  if (plus) return [offsetSite(path, elf, fns, plus[1], Number(plus[2]))];
  const matches = matchFunctions(fns, func);
  if (matches.length === 0) {
    if (isGlob(func)) {
      throw new TsbpfError(`no function in ${path} matches '${func}'`, { hint: `list them with: tsbpf -l 'uprobe:${path}:*'` });
    }
    throw noSuchFunction(path, fns, func);
  }
  return matches.map((f) => site(path, elf, f, 0));
}

/** `*:FUNC` with a PID: the function in every ELF object the process maps. */
function resolveInProcess(func: string, pid: number | undefined): UprobeSite[] {
  if (pid === undefined) {
    throw new TsbpfError(`uprobe:*:${func} needs a process`, { hint: 'name the binary, or pass -p PID to search everything it maps' });
  }
  const out: UprobeSite[] = [];
  for (const path of mappedFiles(pid).map((p) => hostPath(pid, p))) {
    let elf: ElfFile;
    let fns: FunctionEntry[];
    try {
      elf = ElfFile.open(path);
      fns = binaryFunctions(path, elf);
    } catch {
      continue; // data files, stripped libraries: nothing to match in them
    }
    for (const f of matchFunctions(fns, func)) out.push(site(path, elf, f, 0));
  }
  if (out.length === 0) {
    throw new TsbpfError(`no function '${func}' in any object process ${pid} maps`, { hint: `list them with: tsbpf -l 'uprobe:*:*' -p ${pid}` });
  }
  return out;
}

/**
 * Functions whose name (or, for C++, demangled name without the parameter list unless the
 * pattern has one) matches `pattern`. A glob probes each address once, however many aliases.
 */
export function matchFunctions(fns: readonly FunctionEntry[], pattern: string): FunctionEntry[] {
  // Go method names contain `*` (main.(*T).M): a name that exists as written is not a glob.
  const exact = fns.filter((f) => f.name === pattern);
  if (exact.length > 0) return exact;
  const matches = nameMatcher(pattern);
  if (!isGlob(pattern)) return fns.filter((f) => matches(f.name));
  const byAddress = new Map<number, FunctionEntry>();
  for (const f of fns) {
    if (!byAddress.has(f.address) && !f.name.includes('.part.') && matches(f.name)) byAddress.set(f.address, f);
  }
  return [...byAddress.values()];
}

/** Tests a function name, raw or (for C++ and Rust) demangled, against a name or glob. */
export function nameMatcher(pattern: string): (name: string) => boolean {
  const re = globToRegExp(pattern);
  return (name) => re.test(name) || re.test(demangledForMatch(name, pattern));
}

function demangledForMatch(name: string, pattern: string): string {
  if (!name.startsWith('_Z') && !name.startsWith('_R')) return name;
  const d = demangle(name);
  if (pattern.includes('(')) return d;
  const paren = d.lastIndexOf('(');
  return paren > 0 ? d.slice(0, paren) : d;
}

function noSuchFunction(path: string, fns: readonly FunctionEntry[], name: string): TsbpfError {
  const names = new Set<string>();
  for (const f of fns) {
    names.add(f.name);
    const d = demangledForMatch(f.name, name);
    if (d !== f.name) names.add(d);
  }
  const close = didYouMean(name, names);
  return new TsbpfError(`no function '${name}' in ${path}`, {
    hint: (close.length ? `did you mean ${close.map((c) => `'${c}'`).join(' or ')}? ` : '') + `list them with: tsbpf -l 'uprobe:${path}:*'`,
  });
}

function site(path: string, elf: ElfFile, f: FunctionEntry, offset: number): UprobeSite {
  const address = f.address + offset;
  const fileOffset = elf.vaddrToOffset(address);
  if (fileOffset === undefined) {
    throw new TsbpfError(`${path}: ${f.name} at 0x${address.toString(16)} is not in any loadable segment`, {
      hint: 'the file may be a separate debug file; probe the real executable',
    });
  }
  return { path, symbol: f.name, offset, address, fileOffset };
}

function offsetSite(path: string, elf: ElfFile, fns: readonly FunctionEntry[], name: string, offset: number): UprobeSite {
  const f = matchFunctions(fns, name)[0];
  if (!f) throw noSuchFunction(path, fns, name);
  if (f.size > 0) {
    if (offset >= f.size) {
      throw new TsbpfError(`offset ${offset} is past the end of ${f.name} in ${path} (it is ${f.size} bytes)`);
    }
    // A uprobe in the middle of an instruction corrupts it: only instruction starts are allowed.
    const code = elf.readVaddr(f.address, f.size);
    if (code) {
      let at = 0;
      while (at < offset) at += instructionLength(code, at);
      if (at !== offset) {
        throw new TsbpfError(`${f.name}+${offset} in ${path} is not at an instruction boundary`, {
          hint: `the nearest instruction starts are +${prevStart(code, offset)} and +${at}`,
        });
      }
    }
  }
  return site(path, elf, f, offset);
}

function prevStart(code: Uint8Array, offset: number): number {
  let at = 0;
  let prev = 0;
  while (at < offset) {
    prev = at;
    at += instructionLength(code, at);
  }
  return prev;
}

function addressSite(path: string, elf: ElfFile, address: number): UprobeSite {
  const inText = elf.segments.some((p) => p.type === PT_LOAD && p.flags & PF_X && address >= p.vaddr && address < p.vaddr + p.filesz);
  if (!inText) {
    throw new TsbpfError(`address 0x${address.toString(16)} is not in an executable segment of ${path}`, {
      hint: 'give a link-time address as objdump -d or nm print it',
    });
  }
  let fns: FunctionEntry[] = [];
  try {
    fns = binaryFunctions(path, elf);
  } catch {
    // stripped: an address needs no symbol
  }
  for (let i = fns.length - 1; i >= 0; i--) {
    const f = fns[i];
    if (f.address <= address && (f.size === 0 || address < f.address + f.size)) return site(path, elf, f, address - f.address);
  }
  return { path, symbol: `0x${address.toString(16)}`, offset: 0, address, fileOffset: elf.vaddrToOffset(address)! };
}
