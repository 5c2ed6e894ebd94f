// Attach points to concrete probes: wildcards expanded (tracepoints from tracefs, uprobe
// symbols from the ELF symbol table, kernel functions from BTF), each with what the program
// needs to know about its context (tracepoint format, function arguments, address space).
import type { AttachPoint } from './ast.js';
import type { Attach, CompiledProbe } from './compiled.js';
import { listTracepoints, tracepointFormat, type TracepointFormat } from '../kernel/tracefs.js';
import { SwConfig, HwConfig } from '../kernel/perf.js';
import { globToRegExp, isGlob } from '../elf/symbols.js';
import type { UsdtArg } from '../elf/usdt.js';
import { resolveUprobes } from '../probes/uprobe.js';
import { GoBinary, type GoroutineIdLocation } from '../probes/go.js';
import type { GoSite } from './go.js';
import { ElfFile } from '../elf/reader.js';
import { isGoBinary } from '../elf/gobuildinfo.js';
import { nativeReturnSites } from '../probes/returns.js';
import { resolveUsdt } from '../probes/usdt.js';
import type { Arg } from '../btf/index.js';
import { TsbpfError } from '../kernel/errors.js';
import { vmlinux, type AddrSpace } from './types.js';

/** One program's worth of attach point: a single tracepoint, symbol, timer, ... */
export interface ResolvedProbe {
  /** Full name, as `probe` prints it. */
  name: string;
  provider: string;
  attach: Attach;
  progType: CompiledProbe['progType'];
  expectedAttachType?: 'trace_fentry' | 'trace_fexit';
  /** Where pointers read from this probe's arguments point. */
  space: AddrSpace;
  tracepoint?: TracepointFormat;
  /** fentry/fexit arguments, raw tracepoint arguments. */
  funcArgs?: Arg[];
  /** fexit: BTF type id of the return value. */
  retType?: number;
  /** uprobe at a function's first instruction: the return address is at *sp. */
  atEntry: boolean;
  /** Go binaries: where the running goroutine's id is (for `goid`); undefined when unknown. */
  goid?: GoroutineIdLocation;
  /** Uprobes in Go functions: for `args.NAME`, `retval.N` and `goarg(N)` (lang/go.ts). */
  go?: GoSite;
  /** usdt: how to read arg0..argN. */
  usdtArgs?: UsdtArg[];
}

/** Substitutes $N positional parameters inside attach point fields. */
function substitute(part: string, params: readonly string[]): string {
  return part.replace(/\$(\d+)/g, (_, n: string) => params[Number(n) - 1] ?? '');
}

const UNITS: Record<string, number> = { s: 1e9, ms: 1e6, us: 1e3, hz: 0 };

export interface ResolveOptions {
  pid?: number;
  params: readonly string[];
  /** --ret-scan: uretprobes on any binary become uprobes on each RET (always so for Go). */
  retScan?: boolean;
}

/** Expands one attach point; throws TsbpfError (the caller positions it) when it matches nothing. */
export function resolveAttachPoint(ap: AttachPoint, opts: ResolveOptions): ResolvedProbe[] {
  const parts = ap.parts.map((p) => substitute(p, opts.params));
  const base = { provider: ap.provider, space: 'kernel' as AddrSpace, atEntry: false };
  switch (ap.provider) {
    case 'BEGIN': case 'END':
      return [{ ...base, name: ap.provider, attach: { kind: ap.provider === 'BEGIN' ? 'begin' : 'end' }, progType: 'raw_tracepoint' }];
    case 'tracepoint': {
      if (parts.length !== 2) throw new TsbpfError(`tracepoint needs 'tracepoint:category:name', got '${ap.raw}'`);
      const [cat, name] = parts;
      let matches: Array<[string, string]>;
      if (isGlob(cat) || isGlob(name)) {
        const rc = globToRegExp(cat), rn = globToRegExp(name);
        matches = listTracepoints().filter(([c, n]) => rc.test(c) && rn.test(n));
      } else {
        matches = [[cat, name]];
      }
      if (!matches.length) throw new TsbpfError(`no tracepoint matches '${cat}:${name}'`, { hint: `list them with: tsbpf -l 'tracepoint:${cat}:*'` });
      return matches.map(([c, n]) => ({
        ...base, name: `tracepoint:${c}:${n}`, attach: { kind: 'tracepoint', category: c, name: n }, progType: 'tracepoint',
        tracepoint: tracepointFormat(c, n), space: c === 'syscalls' ? 'user' : 'kernel',
      }));
    }
    case 'rawtracepoint': {
      const name = parts[parts.length - 1];
      if (!name) throw new TsbpfError(`rawtracepoint needs a name: 'rawtracepoint:NAME'`);
      const btf = vmlinux();
      const names = isGlob(name) ? btf.rawTracepointNames().filter((n) => globToRegExp(name).test(n)).sort() : [name];
      if (!names.length) throw new TsbpfError(`no raw tracepoint matches '${name}'`);
      return names.map((n) => ({
        ...base, name: `rawtracepoint:${n}`, attach: { kind: 'rawtracepoint', name: n }, progType: 'raw_tracepoint',
        funcArgs: btf.rawTracepointArgs(n),
      }));
    }
    case 'interval': case 'profile': {
      const [unit, value] = parts.length === 2 ? parts : ['hz', parts[0]];
      const n = Number(value);
      if (!(unit in UNITS) || !Number.isInteger(n) || n <= 0) {
        throw new TsbpfError(`invalid ${ap.provider} '${ap.raw}'`, { hint: `write ${ap.provider}:s:N, ${ap.provider}:ms:N, ${ap.provider}:us:N or ${ap.provider}:hz:N` });
      }
      const periodNs = unit === 'hz' ? Math.round(1e9 / n) : n * UNITS[unit];
      const attach: Attach = ap.provider === 'interval'
        ? { kind: 'interval', periodNs }
        : { kind: 'profile', hz: unit === 'hz' ? n : Math.max(1, Math.round(1e9 / periodNs)) };
      return [{ ...base, name: `${ap.provider}:${unit}:${n}`, attach, progType: 'perf_event' }];
    }
    case 'software': case 'hardware': {
      const table: Record<string, number> = ap.provider === 'software' ? SwConfig : HwConfig;
      const [ev, count] = parts;
      if (table[ev] === undefined) {
        throw new TsbpfError(`unknown ${ap.provider} event '${ev}'`, { hint: `known: ${Object.keys(table).join(', ')}` });
      }
      const period = count ? Number(count) : ap.provider === 'software' ? 1000 : 1000000;
      if (!Number.isInteger(period) || period <= 0) throw new TsbpfError(`invalid ${ap.provider} period '${count}'`);
      return [{
        ...base, name: `${ap.provider}:${ev}:${period}`,
        attach: { kind: ap.provider, config: table[ev], period }, progType: 'perf_event',
      }];
    }
    case 'uprobe': case 'uretprobe':
      return resolveUprobe(ap, parts, opts);
    case 'usdt':
      return resolveUsdtProbe(ap, parts, opts);
    case 'kprobe': case 'kretprobe': {
      const spec = parts[parts.length - 1] ?? '';
      const m = /^([^+]+)(?:\+(\d+|0x[0-9a-f]+))?$/i.exec(spec);
      if (!m) throw new TsbpfError(`invalid kprobe '${ap.raw}'`);
      const funcs = kernelFunctions(m[1]);
      const retprobe = ap.provider === 'kretprobe';
      return funcs.map((f) => ({
        ...base, name: `${ap.provider}:${f}${m[2] ? '+' + m[2] : ''}`,
        attach: { kind: 'kprobe', func: f, offset: BigInt(m[2] ?? 0), retprobe }, progType: 'kprobe',
      }));
    }
    case 'fentry': case 'fexit': {
      const fn = parts[parts.length - 1] ?? '';
      const btf = vmlinux();
      return kernelFunctions(fn).map((f) => {
        const proto = btf.funcProto(f);
        return {
          ...base, name: `${ap.provider}:${f}`, attach: { kind: ap.provider as 'fentry' | 'fexit', func: f, btfId: proto.func },
          progType: 'tracing' as const, expectedAttachType: ap.provider === 'fentry' ? 'trace_fentry' as const : 'trace_fexit' as const,
          funcArgs: btf.funcArgs(f), retType: proto.ret,
        };
      });
    }
    default:
      throw new TsbpfError(`probe type '${ap.providerAlias}' is not supported by the compiler yet`, {
        hint: 'supported: BEGIN, END, tracepoint, rawtracepoint, interval, profile, software, hardware, uprobe, uretprobe, usdt, kprobe, kretprobe, fentry, fexit',
      });
  }
}

/** Kernel functions named by a name or glob, from BTF (available_filter_functions is often unreadable). */
function kernelFunctions(pattern: string): string[] {
  if (!isGlob(pattern)) return [pattern];
  const re = globToRegExp(pattern);
  const names = [...vmlinux().nameIndex('func').keys()].filter((n) => re.test(n)).sort();
  if (!names.length) throw new TsbpfError(`no kernel function matches '${pattern}'`);
  return names;
}

function resolveUprobe(ap: AttachPoint, parts: string[], opts: ResolveOptions): ResolvedProbe[] {
  if (parts.length < 2) throw new TsbpfError(`${ap.provider} needs '${ap.provider}:BINARY:FUNCTION', got '${ap.raw}'`);
  const retprobe = ap.provider === 'uretprobe';
  const sites = resolveUprobes({ binary: parts[0], func: parts.slice(1).join(':') }, { pid: opts.pid });
  const go = sites.length && isGoBinary(ElfFile.open(sites[0].path)) ? GoBinary.open(sites[0].path) : undefined;
  const goid = go ? goroutineId(go) : undefined;
  if (go && retprobe) {
    // A uretprobe rewrites the return address on the goroutine stack, which kills the Go
    // program when that stack grows; probe every RET instruction instead.
    return sites.flatMap((site) => go.returnSites(site.symbol).map((ret) => ({
      name: `uretprobe:${site.path}:${site.symbol}`, provider: ap.provider, space: 'user' as AddrSpace, atEntry: false, goid,
      go: { binary: go, func: site.symbol, at: 'return' as const },
      attach: { kind: 'uprobe' as const, path: site.path, offset: BigInt(ret.fileOffset), retprobe: false, ...(opts.pid !== undefined ? { pid: opts.pid } : {}) },
      progType: 'kprobe' as const,
    })));
  }
  if (retprobe && opts.retScan) {
    return sites.flatMap((site) => nativeReturnSites(site.path, site.symbol).map((ret) => ({
      name: `uretprobe:${site.path}:${site.symbol}`, provider: ap.provider, space: 'user' as AddrSpace, atEntry: false,
      attach: { kind: 'uprobe' as const, path: site.path, offset: BigInt(ret.fileOffset), retprobe: false, ...(opts.pid !== undefined ? { pid: opts.pid } : {}) },
      progType: 'kprobe' as const,
    })));
  }
  return sites.map((site) => ({ goid,
    ...(go ? { go: { binary: go, func: site.symbol, at: site.offset === 0 ? 'entry' as const : 'inside' as const } } : {}),
    name: `${ap.provider}:${site.path}:${site.offset ? `${site.symbol}+${site.offset}` : site.symbol}`,
    provider: ap.provider, space: 'user' as AddrSpace, atEntry: site.offset === 0 && !retprobe,
    attach: { kind: 'uprobe' as const, path: site.path, offset: BigInt(site.fileOffset), retprobe, ...(opts.pid !== undefined ? { pid: opts.pid } : {}) },
    progType: 'kprobe' as const,
  }));
}

function resolveUsdtProbe(ap: AttachPoint, parts: string[], opts: ResolveOptions): ResolvedProbe[] {
  const sites = resolveUsdt(parts.join(':'), { pid: opts.pid });
  return sites.map((site) => ({
    name: `usdt:${site.path}:${site.provider}:${site.name}`, provider: 'usdt', space: 'user' as AddrSpace, atEntry: false,
    attach: {
      kind: 'uprobe' as const, path: site.path, offset: BigInt(site.fileOffset), retprobe: false,
      ...(opts.pid !== undefined ? { pid: opts.pid } : {}), ...(site.refCtrOffset ? { refCtrOffset: BigInt(site.refCtrOffset) } : {}),
    },
    progType: 'kprobe' as const, usdtArgs: site.args,
  }));
}

function goroutineId(go: GoBinary): GoroutineIdLocation | undefined {
  try {
    return go.goroutineId();
  } catch {
    return undefined;
  }
}
