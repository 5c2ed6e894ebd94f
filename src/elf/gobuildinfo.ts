// Go build information (the data `go version -m` prints), from the .go.buildinfo blob the
// linker writes into every Go binary since 1.13, stripped or not. Go 1.18+ stores the
// strings inline; older linkers stored pointers to string headers elsewhere in the image.
import { ElfFile, PF_W, PT_LOAD } from './reader.js';

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
}

export interface GoBuildInfo {
  /** As `go version` prints it, e.g. `go1.19.8`. */
  goVersion: string;
  /** The main package's import path (`command-line-arguments` for `go build file.go`). */
  path?: string;
  /** The main module, absent for GOPATH-mode builds. */
  main?: GoModule;
  deps: GoModule[];
  /** `build` lines: -compiler, CGO_ENABLED, GOARCH, vcs.revision, ... */
  settings: Record<string, string>;
  /** Which header layout the binary uses. */
  format: 'inline' | 'pointer';
}

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_SIZE = 32;
const FLAG_BIG_ENDIAN = 1;
const FLAG_INLINE = 2;
// How far into the data segment the linker puts the blob when section headers are gone.
const SCAN_LIMIT = 64 * 1024;

/** Build info of a Go binary, or undefined when the file is not one. */
export function readGoBuildInfo(elf: ElfFile): GoBuildInfo | undefined {
  const blob = findBlob(elf);
  if (!blob) return undefined;
  const ptrSize = blob[14];
  const flags = blob[15];
  if (flags & FLAG_BIG_ENDIAN) return undefined;
  let version: string | undefined;
  let modinfo: string | undefined;
  let format: GoBuildInfo['format'];
  if (flags & FLAG_INLINE) {
    format = 'inline';
    let off = HEADER_SIZE;
    const v = readVarString(blob, off);
    if (!v) return undefined;
    version = v.value;
    off = v.next;
    modinfo = readVarString(blob, off)?.value;
  } else {
    format = 'pointer';
    if (ptrSize !== 8 && ptrSize !== 4) return undefined;
    version = readPointerString(elf, readPtr(blob, 16, ptrSize), ptrSize);
    modinfo = readPointerString(elf, readPtr(blob, 16 + ptrSize, ptrSize), ptrSize);
  }
  if (!version) return undefined;
  return { goVersion: version, format, ...parseModinfo(modinfo ?? '') };
}

export function isGoBinary(elf: ElfFile): boolean {
  return elf.section('.go.buildinfo') !== undefined || elf.section('.gopclntab') !== undefined || findBlob(elf) !== undefined;
}

function findBlob(elf: ElfFile): Buffer | undefined {
  const s = elf.section('.go.buildinfo');
  if (s) {
    const d = elf.sectionData(s);
    return d.subarray(0, MAGIC.length).equals(MAGIC) ? d : undefined;
  }
  if (elf.sections.length > 0) return undefined;
  // No section headers: the blob sits 16-byte aligned near the start of the writable segment.
  for (const p of elf.segments) {
    if (p.type !== PT_LOAD || !(p.flags & PF_W) || p.filesz === 0) continue;
    const d = elf.read(p.offset, Math.min(p.filesz, SCAN_LIMIT), 'data segment');
    for (let o = 0; o + HEADER_SIZE <= d.length; o += 16) {
      if (d.subarray(o, o + MAGIC.length).equals(MAGIC)) return d.subarray(o);
    }
  }
  return undefined;
}

function readPtr(b: Buffer, off: number, ptrSize: number): number {
  return ptrSize === 8 ? Number(b.readBigUInt64LE(off)) : b.readUInt32LE(off);
}

function readVarString(b: Buffer, off: number): { value: string; next: number } | undefined {
  let len = 0;
  let shift = 0;
  for (;;) {
    if (off >= b.length || shift > 35) return undefined;
    const byte = b[off++];
    len += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) break;
    shift += 7;
  }
  if (off + len > b.length) return undefined;
  return { value: b.toString('utf8', off, off + len), next: off + len };
}

/** A Go string header {data, len} at `addr`, followed to its bytes. */
function readPointerString(elf: ElfFile, addr: number, ptrSize: number): string | undefined {
  const hdr = elf.readVaddr(addr, ptrSize * 2);
  if (!hdr) return undefined;
  const data = readPtr(hdr, 0, ptrSize);
  const len = readPtr(hdr, ptrSize, ptrSize);
  if (len === 0) return '';
  return elf.readVaddr(data, len)?.toString('utf8');
}

function parseModinfo(raw: string): Pick<GoBuildInfo, 'path' | 'main' | 'deps' | 'settings'> {
  // The linker wraps modinfo in 16-byte sentinels so `go version` can find it in memory.
  let text = raw;
  if (text.length >= 33 && text[text.length - 17] === '\n') text = text.slice(16, text.length - 16);
  const out: Pick<GoBuildInfo, 'path' | 'main' | 'deps' | 'settings'> = { deps: [], settings: {} };
  let last: GoModule | undefined;
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    switch (f[0]) {
      case 'path': out.path = f[1]; break;
      case 'mod': out.main = last = mod(f); break;
      case 'dep': out.deps.push((last = mod(f))); break;
      case '=>': if (last) Object.assign(last, mod(f)); break;
      case 'build': {
        const eq = f[1]?.indexOf('=') ?? -1;
        if (eq > 0) out.settings[f[1].slice(0, eq)] = f[1].slice(eq + 1);
        break;
      }
    }
  }
  return out;
}

function mod(f: string[]): GoModule {
  const m: GoModule = { path: f[1] ?? '', version: f[2] ?? '' };
  if (f[3]) m.sum = f[3];
  return m;
}
