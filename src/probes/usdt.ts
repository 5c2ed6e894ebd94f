// USDT attach points: `BINARY:PROVIDER:NAME`, `BINARY:NAME` and globs of either, or with a
// PID every object the process has mapped (`*:PROVIDER:NAME`, `PROVIDER:NAME`, `NAME`).
// Each site is a uprobe at the probe's nop; a semaphore, when the probe has one, is handed
// to the uprobe PMU as ref_ctr_offset so the kernel raises it while we are attached and
// lowers it when we detach, in every process that maps the file.
import { TsbpfError } from '../kernel/errors.js';
import { ElfFile } from '../elf/reader.js';
import { globToRegExp } from '../elf/symbols.js';
import { readUsdtProbes, type UsdtArg } from '../elf/usdt.js';
import { resolveBinary, type TargetOptions } from './target.js';
import { hostPath, mappedFiles } from './procmaps.js';
import { didYouMean } from './suggest.js';

export interface UsdtSite {
  /** The binary or library, as a path this process and the kernel can open. */
  path: string;
  provider: string;
  name: string;
  /** Link-time address of the probe's nop. */
  address: number;
  /** Where the uprobe goes. */
  fileOffset: number;
  /** File offset of the probe's semaphore, for the uprobe's ref_ctr_offset; 0 when it has none. */
  refCtrOffset: number;
  args: UsdtArg[];
}

export interface UsdtSpec {
  /** A binary, a library name, or `*` / undefined for everything a PID has mapped. */
  binary?: string;
  /** Glob; undefined matches any provider. */
  provider?: string;
  /** Glob. */
  name: string;
}

/** Reads `BIN:PROV:NAME`, `BIN:NAME`, and with a PID also `PROV:NAME` and `NAME`. */
export function parseUsdtSpec(spec: string, opts: TargetOptions = {}): UsdtSpec {
  const parts = spec.split(':');
  const bad = (): TsbpfError => new TsbpfError(`invalid usdt target '${spec}'`, {
    hint: 'write usdt:BINARY:PROVIDER:NAME or usdt:BINARY:NAME (with -p PID, also usdt:PROVIDER:NAME)',
  });
  if (parts.some((p) => p === '') || parts.length > 3) throw bad();
  if (parts.length === 3) return { binary: parts[0], provider: parts[1], name: parts[2] };
  if (opts.pid === undefined) {
    if (parts.length === 2) return { binary: parts[0], name: parts[1] };
    throw bad();
  }
  if (parts.length === 1) return { name: parts[0] };
  // Two parts with a PID: a binary when one answers to the first part, else a provider.
  try {
    resolveBinary(parts[0], opts);
    return { binary: parts[0], name: parts[1] };
  } catch {
    return { provider: parts[0], name: parts[1] };
  }
}

/** Every USDT site in one file, in note order. */
export function usdtSites(path: string): UsdtSite[] {
  return readUsdtProbes(ElfFile.open(path)).map((p) => ({
    path, provider: p.provider, name: p.name, address: p.pc, fileOffset: p.pcOffset,
    refCtrOffset: p.semaphoreOffset, args: p.args,
  }));
}

/** The files a spec searches: one binary, or with a PID every ELF object it maps. */
export function usdtFiles(binary: string | undefined, opts: TargetOptions): string[] {
  if (binary !== undefined && binary !== '*') return [resolveBinary(binary, opts)];
  if (opts.pid === undefined) {
    throw new TsbpfError('usdt probes without a binary need a process', { hint: 'name the binary (usdt:/path:provider:name) or pass -p PID' });
  }
  const pid = opts.pid;
  return mappedFiles(pid).map((p) => hostPath(pid, p)).filter((p) => {
    try {
      ElfFile.open(p);
      return true;
    } catch {
      return false;
    }
  });
}

/** Resolves a USDT attach point to its sites (a probe inlined in N places has N sites). */
export function resolveUsdt(spec: string | UsdtSpec, opts: TargetOptions = {}): UsdtSite[] {
  const s = typeof spec === 'string' ? parseUsdtSpec(spec, opts) : spec;
  const files = usdtFiles(s.binary, opts);
  const provRe = s.provider === undefined ? undefined : globToRegExp(s.provider);
  const nameRe = globToRegExp(s.name);
  const all: UsdtSite[] = [];
  for (const f of files) all.push(...usdtSites(f));
  const what = s.binary !== undefined && s.binary !== '*' ? files[0] : `process ${opts.pid}`;
  if (all.length === 0) {
    throw new TsbpfError(`${what} has no USDT probes (no .note.stapsdt notes)`, {
      hint: 'USDT probes come from <sys/sdt.h> DTRACE_PROBE/STAP_PROBE macros compiled into the binary',
    });
  }
  const hits = all.filter((p) => nameRe.test(p.name) && (!provRe || provRe.test(p.provider)));
  if (hits.length === 0) {
    const want = s.provider === undefined ? s.name : `${s.provider}:${s.name}`;
    const names = new Set(all.map((p) => (s.provider === undefined ? p.name : `${p.provider}:${p.name}`)));
    const close = didYouMean(want, names);
    throw new TsbpfError(`no USDT probe '${want}' in ${what}`, {
      hint: (close.length ? `did you mean ${close.map((c) => `'${c}'`).join(' or ')}? ` : '') +
        `list them with: tsbpf -l 'usdt:${s.binary ?? '*'}:*'${opts.pid === undefined ? '' : ` -p ${opts.pid}`}`,
    });
  }
  return hits;
}
