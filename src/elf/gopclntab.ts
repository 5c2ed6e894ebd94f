// Go's own function table (pclntab). The runtime needs it for tracebacks, so it survives
// `-ldflags=-s -w`: with it we name every Go function, and find its entry and end, in
// binaries that have no ELF symbol table at all.
import { TsbpfError } from '../kernel/errors.js';
import { cString, ElfFile, PF_X, PT_LOAD } from './reader.js';
import { rangeHolding } from './search.js';

export type PclntabVersion = '1.2' | '1.16' | '1.18' | '1.20';

export interface GoFunc {
  name: string;
  /** Link-time address of the first instruction. */
  entry: number;
  /** First address past the function (the next function's entry, or the end of text). */
  end: number;
  /** Bytes of arguments and results on the stack (ABI0 frame layout). */
  argsSize: number;
}

export interface GoPclntab {
  version: PclntabVersion;
  ptrSize: number;
  /** Address of the pclntab itself and how it was found. */
  address: number;
  source: 'section' | 'scan';
  /** Sorted by entry. */
  funcs: GoFunc[];
}

const magics: Record<number, PclntabVersion> = {
  0xfffffffb: '1.2',
  0xfffffffa: '1.16',
  0xfffffff0: '1.18',
  0xfffffff1: '1.20',
};

/** The Go function table, or undefined when the binary has none (not Go). */
export function readGoPclntab(elf: ElfFile): GoPclntab | undefined {
  const s = elf.section('.gopclntab');
  if (s && s.size > 0) {
    const data = elf.sectionData(s);
    const parsed = parsePclntab(data);
    if (!parsed) throw new TsbpfError(`${elf.path}: .gopclntab has an unknown layout (magic 0x${data.readUInt32LE(0).toString(16)})`, {
      hint: 'Go versions 1.2 through 1.22+ are understood; was the file modified?',
    });
    return { ...parsed, address: s.addr, source: 'section' };
  }
  if (elf.sections.some((x) => x.name === '.text')) return undefined;
  return scanSegments(elf);
}

/** Binary search for the Go function containing `addr`. */
export function goFuncAt(tab: GoPclntab, addr: number): GoFunc | undefined {
  return rangeHolding(tab.funcs, (f) => f.entry, (f) => f.end, addr);
}

// Without section headers, look for a header whose magic, padding and pointer size fit,
// in the read-only segments, and keep the first that parses into a sane table.
function scanSegments(elf: ElfFile): GoPclntab | undefined {
  const text = elf.loadSegments().filter((p) => p.flags & PF_X);
  const inText = (a: number): boolean => text.some((p) => a >= p.vaddr && a < p.vaddr + p.memsz);
  for (const p of elf.segments) {
    if (p.type !== PT_LOAD || p.filesz < 64) continue;
    const seg = elf.read(p.offset, p.filesz, 'segment');
    for (let o = 0; o + 64 <= seg.length; o += 8) {
      if (!(seg.readUInt32LE(o) in magics) || seg[o + 4] !== 0 || seg[o + 5] !== 0) continue;
      if (![1, 2, 4].includes(seg[o + 6]) || seg[o + 7] !== 8) continue;
      const parsed = parsePclntab(seg.subarray(o));
      if (parsed && parsed.funcs.length > 0 && inText(parsed.funcs[0].entry) && inText(parsed.funcs[parsed.funcs.length - 1].entry)) {
        return { ...parsed, address: p.vaddr + o, source: 'scan' };
      }
    }
  }
  return undefined;
}

function parsePclntab(d: Buffer): Omit<GoPclntab, 'address' | 'source'> | undefined {
  if (d.length < 16) return undefined;
  const version = magics[d.readUInt32LE(0)];
  const ptrSize = d[7];
  if (!version || (ptrSize !== 8 && ptrSize !== 4)) return undefined;
  const word = (off: number): number => {
    if (off + ptrSize > d.length) throw new RangeError('pclntab word out of range');
    return ptrSize === 8 ? Number(d.readBigUInt64LE(off)) : d.readUInt32LE(off);
  };
  try {
    const nfunc = word(8);
    const funcs: GoFunc[] = [];
    if (version === '1.2') {
      // Everything is relative to the table start; functab holds {entry, funcoff} words.
      const functab = 8 + ptrSize;
      const fieldSize = ptrSize * 2;
      for (let i = 0; i < nfunc; i++) {
        const entry = word(functab + i * fieldSize);
        const funcOff = word(functab + i * fieldSize + ptrSize);
        const end = word(functab + (i + 1) * fieldSize);
        const nameOff = d.readInt32LE(funcOff + ptrSize);
        funcs.push({ name: cString(d, nameOff), entry, end, argsSize: d.readInt32LE(funcOff + ptrSize + 4) });
      }
    } else {
      const hasText = version !== '1.16';
      const field = (n: number): number => word(8 + n * ptrSize);
      const textStart = hasText ? field(2) : 0;
      const base = hasText ? 3 : 2;
      const funcnameOff = field(base);
      const pclnOff = field(base + 4);
      const functab = d.subarray(pclnOff);
      for (let i = 0; i < nfunc; i++) {
        let entry: number;
        let funcOff: number;
        let end: number;
        if (hasText) {
          entry = textStart + functab.readUInt32LE(i * 8);
          funcOff = functab.readUInt32LE(i * 8 + 4);
          end = textStart + functab.readUInt32LE((i + 1) * 8);
        } else {
          const w = (k: number): number => word(pclnOff + k * ptrSize);
          entry = w(i * 2);
          funcOff = w(i * 2 + 1);
          end = w(i * 2 + 2);
        }
        // _func: entry (uint32 offset since 1.18, a pointer before), then nameoff and args.
        const f = pclnOff + funcOff + (hasText ? 4 : ptrSize);
        const nameOff = d.readInt32LE(f);
        funcs.push({ name: cString(d, funcnameOff + nameOff), entry, end, argsSize: d.readInt32LE(f + 4) });
      }
    }
    for (let i = 1; i < funcs.length; i++) if (funcs[i].entry < funcs[i - 1].entry) return undefined;
    return { version, ptrSize, funcs };
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}
