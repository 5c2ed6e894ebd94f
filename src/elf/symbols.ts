// Function symbols of an ELF file (.symtab and .dynsym merged), indexed by address for
// stack symbolisation and by name (exact, versioned or glob) for uprobe attachment. Data
// (OBJECT) symbols are read only on request, so code lookups never land on a variable.
import { TsbpfError } from '../kernel/errors.js';
import { cString, ElfFile, SHT_DYNSYM, SHT_GNU_VERDEF, SHT_GNU_VERSYM, SHT_SYMTAB, type Section } from './reader.js';
import { lastAtOrBelow } from './search.js';

export type SymbolBinding = 'local' | 'global' | 'weak' | 'unique' | 'other';
export type SymbolKind = 'func' | 'ifunc' | 'object';

export interface ElfSymbol {
  /** The name without any `@VERSION` suffix. */
  name: string;
  /** Symbol version (`GLIBC_2.2.5`), from .gnu.version or a `name@@VER` symtab entry. */
  version?: string;
  /** `@@` (the default a new link binds to) rather than `@` (a hidden, older version). */
  defaultVersion: boolean;
  /** Link-time virtual address. */
  address: number;
  size: number;
  binding: SymbolBinding;
  kind: SymbolKind;
  sectionIndex: number;
  table: 'symtab' | 'dynsym';
}

export interface SymbolHit {
  symbol: ElfSymbol;
  /** Bytes from the symbol's start. */
  offset: number;
}

const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const bindings: SymbolBinding[] = ['local', 'global', 'weak'];

/** `malloc@@GLIBC_2.2.5` as nm prints it, or the bare name for unversioned symbols. */
export function versionedName(s: ElfSymbol): string {
  return s.version ? `${s.name}${s.defaultVersion ? '@@' : '@'}${s.version}` : s.name;
}

/** A glob with `*` (any run) and `?` (one character) as an anchored RegExp; everything else is literal. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${body}$`, 's');
}

export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

export class SymbolTable {
  /** Every function symbol, sorted by address (aliases adjacent). */
  readonly symbols: readonly ElfSymbol[];
  private readonly elf: ElfFile;
  private readonly byAddress: ElfSymbol[];
  private names?: Map<string, ElfSymbol[]>;

  private constructor(elf: ElfFile, symbols: ElfSymbol[]) {
    this.elf = elf;
    symbols.sort((a, b) => a.address - b.address || preference(a, b));
    this.symbols = symbols;
    // One representative per address keeps lookups a plain binary search.
    this.byAddress = symbols.filter((s, i) => i === 0 || symbols[i - 1].address !== s.address);
  }

  /** Function symbols; with `data`, also data objects (globals, for `uaddr` and data addresses). */
  static read(elf: ElfFile, opts: { data?: boolean } = {}): SymbolTable {
    const seen = new Map<string, ElfSymbol>();
    for (const table of [...elf.sectionsOfType(SHT_SYMTAB), ...elf.sectionsOfType(SHT_DYNSYM)]) {
      for (const s of readTable(elf, table, opts.data ?? false)) {
        const key = `${s.name}\0${s.address}`;
        const prior = seen.get(key);
        if (!prior) seen.set(key, s);
        else if (!prior.version && s.version) {
          prior.version = s.version;
          prior.defaultVersion = s.defaultVersion;
        }
      }
    }
    return new SymbolTable(elf, [...seen.values()]);
  }

  get size(): number {
    return this.symbols.length;
  }

  /** The function containing `address` (link-time), for stack frames. */
  lookup(address: number): SymbolHit | undefined {
    const list = this.byAddress;
    const found = lastAtOrBelow(list.length, (i) => list[i].address, address);
    if (found < 0) return undefined;
    const s = list[found];
    // Size-less symbols (hand-written assembly) extend to the next symbol.
    if (s.size > 0 && address >= s.address + s.size) return undefined;
    return { symbol: s, offset: address - s.address };
  }

  /** Symbols named `name`; `name@VER` / `name@@VER` select one version. */
  byName(name: string): ElfSymbol[] {
    const at = name.indexOf('@');
    const base = at > 0 ? name.slice(0, at) : name;
    const all = this.nameIndex().get(base) ?? [];
    if (at <= 0) return all;
    const wantDefault = name.startsWith('@@', at);
    const version = name.slice(at + (wantDefault ? 2 : 1));
    return all.filter((s) => s.version === version && (!wantDefault || s.defaultVersion));
  }

  /** Symbols whose name matches a glob (`*`, `?`); an exact name when there is no wildcard. */
  match(pattern: string): ElfSymbol[] {
    if (!isGlob(pattern)) return this.byName(pattern);
    const re = globToRegExp(pattern);
    const out: ElfSymbol[] = [];
    for (const [name, list] of this.nameIndex()) if (re.test(name)) out.push(...list);
    return out.sort((a, b) => a.address - b.address || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** File offset of a symbol's first byte: what a uprobe on it is attached at. */
  fileOffset(s: ElfSymbol): number {
    const off = this.elf.vaddrToOffset(s.address);
    if (off === undefined) {
      throw new TsbpfError(`${this.elf.path}: symbol ${s.name} at 0x${s.address.toString(16)} is not in any loadable segment`, {
        hint: 'the binary may be a separate debug file; probe the real executable',
      });
    }
    return off;
  }

  private nameIndex(): Map<string, ElfSymbol[]> {
    if (!this.names) {
      this.names = new Map();
      for (const s of this.symbols) {
        const list = this.names.get(s.name);
        if (list) list.push(s);
        else this.names.set(s.name, [s]);
      }
    }
    return this.names;
  }
}

/** Of several symbols at one address, the one a stack trace should show first. */
function preference(a: ElfSymbol, b: ElfSymbol): number {
  const rank = (s: ElfSymbol): number => (s.binding === 'global' ? 0 : s.binding === 'weak' ? 1 : 2);
  const underscores = (s: ElfSymbol): number => /^_*/.exec(s.name)![0].length;
  return rank(a) - rank(b) || underscores(a) - underscores(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function readTable(elf: ElfFile, table: Section, withData: boolean): ElfSymbol[] {
  const data = elf.sectionData(table);
  const strtab = elf.sections[table.link];
  if (!strtab) return [];
  const strings = elf.sectionData(strtab);
  const entsize = table.entsize || 24;
  const versions = table.type === SHT_DYNSYM ? dynamicVersions(elf, table) : undefined;
  const isDyn = table.type === SHT_DYNSYM;
  const out: ElfSymbol[] = [];
  for (let i = 1; i * entsize + 24 <= data.length; i++) {
    const o = i * entsize;
    const info = data[o + 4];
    const kind = info & 0xf;
    if (kind !== STT_FUNC && kind !== STT_GNU_IFUNC && !(withData && kind === STT_OBJECT)) continue;
    const shndx = data.readUInt16LE(o + 6);
    if (shndx === SHN_UNDEF || shndx >= SHN_LORESERVE) continue;
    const address = Number(data.readBigUInt64LE(o + 8));
    if (address === 0) continue;
    const raw = cString(strings, data.readUInt32LE(o));
    if (!raw) continue;
    const at = raw.indexOf('@');
    const sym: ElfSymbol = {
      name: at > 0 ? raw.slice(0, at) : raw,
      defaultVersion: false,
      address,
      size: Number(data.readBigUInt64LE(o + 16)),
      binding: bindings[info >> 4] ?? (info >> 4 === 10 ? 'unique' : 'other'),
      kind: kind === STT_FUNC ? 'func' : kind === STT_OBJECT ? 'object' : 'ifunc',
      sectionIndex: shndx,
      table: isDyn ? 'dynsym' : 'symtab',
    };
    if (at > 0) {
      sym.defaultVersion = raw.startsWith('@@', at);
      sym.version = raw.slice(at + (sym.defaultVersion ? 2 : 1));
    } else if (versions) {
      const v = versions(i);
      if (v) {
        sym.version = v.name;
        sym.defaultVersion = !v.hidden;
      }
    }
    out.push(sym);
  }
  return out;
}

/** Maps a .dynsym index to its version name via .gnu.version and .gnu.version_d. */
function dynamicVersions(elf: ElfFile, dynsym: Section): ((i: number) => { name: string; hidden: boolean } | undefined) | undefined {
  const versym = elf.sectionsOfType(SHT_GNU_VERSYM).find((s) => s.link === dynsym.index);
  const verdef = elf.sectionsOfType(SHT_GNU_VERDEF)[0];
  if (!versym || !verdef) return undefined;
  const vs = elf.sectionData(versym);
  const vd = elf.sectionData(verdef);
  const strings = elf.sectionData(elf.sections[verdef.link]);
  const names = new Map<number, string>();
  let o = 0;
  for (let n = 0; n < verdef.info && o + 20 <= vd.length; n++) {
    const flags = vd.readUInt16LE(o + 2);
    const ndx = vd.readUInt16LE(o + 4);
    const aux = vd.readUInt32LE(o + 12);
    const next = vd.readUInt32LE(o + 16);
    // VER_FLG_BASE names the file itself, not a version symbols bind to.
    if (!(flags & 1) && o + aux + 8 <= vd.length) names.set(ndx, cString(strings, vd.readUInt32LE(o + aux)));
    if (next === 0) break;
    o += next;
  }
  return (i) => {
    if (i * 2 + 2 > vs.length) return undefined;
    const v = vs.readUInt16LE(i * 2);
    const name = names.get(v & 0x7fff);
    return name ? { name, hidden: (v & 0x8000) !== 0 } : undefined;
  };
}
