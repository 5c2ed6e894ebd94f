// ELF64 little-endian reader. Only the headers are read when a file is opened; section
// and segment bytes are read on demand with positional reads, so a multi-GB binary with
// debug info costs a few kilobytes until someone asks for its symbol table.
import { closeSync, existsSync, fstatSync, openSync, readSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { TsbpfError } from '../kernel/errors.js';

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_BPF = 247;

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const SHT_GNU_VERDEF = 0x6ffffffd;
export const SHT_GNU_VERSYM = 0x6fffffff;

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_NOTE = 4;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const NT_GNU_BUILD_ID = 3;

export interface Section {
  index: number;
  name: string;
  type: number;
  flags: number;
  /** Virtual address when loaded (0 for sections that are not). */
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface Segment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface Note {
  owner: string;
  type: number;
  desc: Buffer;
  /** The section the note came from, or undefined when read from a PT_NOTE segment. */
  section?: string;
}

export interface OpenOptions {
  /** e_machine values accepted; x86-64 only unless said otherwise. */
  machines?: number[];
}

const machineNames: Record<number, string> = {
  3: 'i386', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 'S/390', 40: 'ARM',
  [EM_X86_64]: 'x86-64', [EM_AARCH64]: 'AArch64', 243: 'RISC-V', [EM_BPF]: 'BPF',
};

function u64(b: Buffer, off: number): number {
  return Number(b.readBigUInt64LE(off));
}

export class ElfFile {
  readonly path: string;
  readonly type: number;
  readonly machine: number;
  readonly entry: number;
  readonly fileSize: number;
  readonly sections: readonly Section[];
  readonly segments: readonly Segment[];
  private readonly cache = new Map<number, Buffer>();

  private constructor(path: string, header: Buffer, fileSize: number, fd: number) {
    this.path = path;
    this.fileSize = fileSize;
    this.type = header.readUInt16LE(16);
    this.machine = header.readUInt16LE(18);
    this.entry = u64(header, 24);
    this.segments = this.readSegments(fd, header);
    this.sections = this.readSections(fd, header);
  }

  /** Opens and validates an ELF file; throws TsbpfError naming the file and the problem. */
  static open(path: string, opts: OpenOptions = {}): ElfFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new TsbpfError(`${path}: no such file`, { hint: 'check the binary path (absolute, or on PATH for uprobes)' });
      if (code === 'EACCES' || code === 'EPERM') throw new TsbpfError(`${path}: permission denied`, { hint: 'run as root or make the file readable' });
      throw new TsbpfError(`${path}: cannot open (${code ?? String(e)})`);
    }
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw new TsbpfError(`${path}: is a directory, not an ELF binary`);
      const size = st.size;
      const header = Buffer.alloc(64);
      const got = readSync(fd, header, 0, 64, 0);
      if (got < 4 || header.readUInt32BE(0) !== 0x7f454c46) {
        throw new TsbpfError(`${path}: not an ELF file`, { hint: 'uprobes and symbols need a compiled binary or shared library, not a script' });
      }
      if (header[4] !== 2) throw new TsbpfError(`${path}: 32-bit ELF is not supported`, { hint: 'tsbpf reads 64-bit binaries only' });
      if (header[5] !== 1) throw new TsbpfError(`${path}: big-endian ELF is not supported`);
      if (got < 64) throw new TsbpfError(`${path}: truncated ELF file (header is ${got} of 64 bytes)`);
      const machine = header.readUInt16LE(18);
      const allowed = opts.machines ?? [EM_X86_64];
      if (!allowed.includes(machine)) {
        const name = machineNames[machine] ?? `machine ${machine}`;
        throw new TsbpfError(`${path}: built for ${name}, expected ${allowed.map((m) => machineNames[m] ?? m).join(' or ')}`, {
          hint: 'trace a binary built for this machine',
        });
      }
      return new ElfFile(path, header, size, fd);
    } finally {
      closeSync(fd);
    }
  }

  get isExecutable(): boolean { return this.type === ET_EXEC; }
  /** Shared objects and position-independent executables: loaded at a runtime-chosen bias. */
  get isDynamic(): boolean { return this.type === ET_DYN; }

  section(name: string): Section | undefined {
    return this.sections.find((s) => s.name === name);
  }

  sectionsOfType(type: number): Section[] {
    return this.sections.filter((s) => s.type === type);
  }

  /** Sections that hold bytes in the file (NOBITS like .bss have none). */
  sectionData(s: Section): Buffer {
    if (s.type === SHT_NOBITS || s.size === 0) return Buffer.alloc(0);
    const hit = this.cache.get(s.index);
    if (hit) return hit;
    const data = this.read(s.offset, s.size, `section ${s.name}`);
    this.cache.set(s.index, data);
    return data;
  }

  /** Reads `length` bytes at file offset `offset`, checking the file is long enough. */
  read(offset: number, length: number, what = 'data'): Buffer {
    if (offset + length > this.fileSize) {
      throw new TsbpfError(`${this.path}: truncated ELF file (${what} at offset 0x${offset.toString(16)} + ${length} runs past the end at ${this.fileSize})`);
    }
    const buf = Buffer.alloc(length);
    const fd = openSync(this.path, 'r');
    try {
      let done = 0;
      while (done < length) {
        const n = readSync(fd, buf, done, length - done, offset + done);
        if (n === 0) throw new TsbpfError(`${this.path}: truncated ELF file (file shrank while reading ${what})`);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    return buf;
  }

  loadSegments(): Segment[] {
    return this.segments.filter((p) => p.type === PT_LOAD);
  }

  /** File offset of a link-time virtual address, as uprobe_events/perf uprobes want; undefined if not file-backed. */
  vaddrToOffset(vaddr: number): number | undefined {
    for (const p of this.segments) {
      if (p.type === PT_LOAD && vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz) return vaddr - p.vaddr + p.offset;
    }
    return undefined;
  }

  /** Link-time virtual address of a file offset (e.g. from /proc/PID/maps' page offset). */
  offsetToVaddr(offset: number): number | undefined {
    for (const p of this.segments) {
      if (p.type === PT_LOAD && offset >= p.offset && offset < p.offset + p.filesz) return offset - p.offset + p.vaddr;
    }
    return undefined;
  }

  /** Bytes of the loaded image at [vaddr, vaddr+length), from the file. */
  readVaddr(vaddr: number, length: number): Buffer | undefined {
    const off = this.vaddrToOffset(vaddr);
    if (off === undefined || this.vaddrToOffset(vaddr + length - 1) !== off + length - 1) return undefined;
    return this.read(off, length, `memory at 0x${vaddr.toString(16)}`);
  }

  /** Notes from SHT_NOTE sections, or from PT_NOTE segments when section headers are gone. */
  notes(sectionName?: string): Note[] {
    const out: Note[] = [];
    const noteSections = this.sectionsOfType(SHT_NOTE).filter((s) => sectionName === undefined || s.name === sectionName);
    if (noteSections.length > 0 || this.sections.length > 0) {
      for (const s of noteSections) parseNotes(this.sectionData(s), s.addralign, s.name, out);
      return out;
    }
    for (const p of this.segments) {
      if (p.type === PT_NOTE) parseNotes(this.read(p.offset, p.filesz, 'PT_NOTE segment'), p.align, undefined, out);
    }
    return out;
  }

  /** The GNU build-id as lowercase hex, as `readelf -n` prints it. */
  buildId(): string | undefined {
    const named = this.notes('.note.gnu.build-id');
    const all = named.length ? named : this.notes();
    const n = all.find((x) => x.owner === 'GNU' && x.type === NT_GNU_BUILD_ID);
    return n?.desc.toString('hex');
  }

  /** The .gnu_debuglink section: the separate debug file's name and the CRC32 of its contents. */
  debugLink(): { file: string; crc: number } | undefined {
    const s = this.section('.gnu_debuglink');
    if (!s) return undefined;
    const d = this.sectionData(s);
    const end = d.indexOf(0);
    if (end <= 0) return undefined;
    const crcOff = (end + 4) & ~3;
    if (crcOff + 4 > d.length) return undefined;
    return { file: d.toString('utf8', 0, end), crc: d.readUInt32LE(crcOff) };
  }

  /**
   * The separate debug-info file, searched as gdb does: by build-id under
   * DEBUGDIR/.build-id/xx/rest.debug, then by debuglink next to the binary, in its .debug/
   * directory and under DEBUGDIR mirroring the binary's directory. Debuglink candidates
   * must match the recorded CRC, so a stale file is never used.
   */
  findDebugFile(debugDir = '/usr/lib/debug'): string | undefined {
    const id = this.buildId();
    if (id && id.length > 2) {
      const p = join(debugDir, '.build-id', id.slice(0, 2), `${id.slice(2)}.debug`);
      if (existsSync(p)) return p;
    }
    const link = this.debugLink();
    if (!link) return undefined;
    const dir = dirname(this.path);
    for (const p of [join(dir, link.file), join(dir, '.debug', link.file), join(debugDir, dir, link.file)]) {
      if (p === this.path || basename(p) !== link.file || !existsSync(p)) continue;
      try {
        if (crc32(readFileSync(p)) === link.crc) return p;
      } catch {
        // Unreadable candidates are skipped like missing ones.
      }
    }
    return undefined;
  }

  private readSegments(fd: number, h: Buffer): Segment[] {
    const phoff = u64(h, 32);
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    if (phnum === 0 || phoff === 0) return [];
    if (phentsize < 56) throw new TsbpfError(`${this.path}: corrupt ELF file (program header entry size ${phentsize})`);
    const buf = this.readFd(fd, phoff, phentsize * phnum, 'program headers');
    const out: Segment[] = [];
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      out.push({
        type: buf.readUInt32LE(o), flags: buf.readUInt32LE(o + 4), offset: u64(buf, o + 8), vaddr: u64(buf, o + 16),
        filesz: u64(buf, o + 32), memsz: u64(buf, o + 40), align: u64(buf, o + 48),
      });
    }
    return out;
  }

  private readSections(fd: number, h: Buffer): Section[] {
    const shoff = u64(h, 40);
    const shentsize = h.readUInt16LE(58);
    let shnum = h.readUInt16LE(60);
    let shstrndx = h.readUInt16LE(62);
    if (shoff === 0) return [];
    if (shentsize < 64) throw new TsbpfError(`${this.path}: corrupt ELF file (section header entry size ${shentsize})`);
    // Files with 0xff00+ sections keep the real counts in section 0.
    const first = this.readFd(fd, shoff, shentsize, 'section headers');
    if (shnum === 0) shnum = u64(first, 32);
    if (shstrndx === 0xffff) shstrndx = first.readUInt32LE(40);
    const buf = this.readFd(fd, shoff, shentsize * shnum, 'section headers');
    const out: Section[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = i * shentsize;
      out.push({
        index: i, name: '', type: buf.readUInt32LE(o + 4), flags: u64(buf, o + 8), addr: u64(buf, o + 16),
        offset: u64(buf, o + 24), size: u64(buf, o + 32), link: buf.readUInt32LE(o + 40), info: buf.readUInt32LE(o + 44),
        addralign: u64(buf, o + 48), entsize: u64(buf, o + 56),
      });
    }
    const nameOffsets = out.map((_, i) => buf.readUInt32LE(i * shentsize));
    const strtab = out[shstrndx];
    if (strtab && strtab.type !== SHT_NOBITS) {
      const names = this.readFd(fd, strtab.offset, strtab.size, 'section name table');
      out.forEach((s, i) => (s.name = cString(names, nameOffsets[i])));
    }
    return out;
  }

  private readFd(fd: number, offset: number, length: number, what: string): Buffer {
    if (offset + length > this.fileSize) {
      throw new TsbpfError(`${this.path}: truncated ELF file (${what} at offset 0x${offset.toString(16)} + ${length} runs past the end at ${this.fileSize})`);
    }
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    return buf;
  }
}

/** NUL-terminated string at `off` ('' when out of range). */
export function cString(b: Buffer, off: number): string {
  if (off < 0 || off >= b.length) return '';
  let end = b.indexOf(0, off);
  if (end < 0) end = b.length;
  return b.toString('utf8', off, end);
}

function parseNotes(data: Buffer, align: number, section: string | undefined, out: Note[]): void {
  // 8-aligned note sections (GNU properties) pad the descriptor and the next note to 8.
  const pad = align === 8 ? 8 : 4;
  const up = (n: number): number => (n + pad - 1) & ~(pad - 1);
  let o = 0;
  while (o + 12 <= data.length) {
    const namesz = data.readUInt32LE(o);
    const descsz = data.readUInt32LE(o + 4);
    const type = data.readUInt32LE(o + 8);
    const nameStart = o + 12;
    const descStart = up(nameStart + namesz);
    if (descStart + descsz > data.length) break;
    const owner = data.toString('utf8', nameStart, nameStart + Math.max(0, namesz - 1));
    out.push({ owner, type, desc: data.subarray(descStart, descStart + descsz), section });
    o = up(descStart + descsz);
  }
}
