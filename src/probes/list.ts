// `tsbpf -l [PATTERN]`: every attach point matching a pattern, one per line in bpftrace's
// spelling (`tracepoint:syscalls:sys_enter_openat`, `uprobe:/bin/bash:readline`,
// `usdt:/usr/bin/python3.11:python:function__entry`), and with `verbose` the arguments
// each one offers, as `bpftrace -lv` prints them. Providers are listed in name order and
// each provider's matches sorted, as bpftrace's sets order them.
import { readFileSync } from 'node:fs';
import { TsbpfError } from '../kernel/errors.js';
import { listTracepoints, tracefs } from '../kernel/tracefs.js';
import { Btf, typeName } from '../btf/index.js';
import { globToRegExp } from '../elf/symbols.js';
import { binaryFunctions, nameMatcher } from './uprobe.js';
import { parseUsdtSpec, usdtFiles, usdtSites } from './usdt.js';
import { btfFunctions, kprobeFunctions, kprobesAvailable, requireKprobes, rawTracepointNames, resolveFentry, resolveRawTracepoints } from './kernel.js';
import { resolveBinary } from './target.js';
import { hostPath, mappedFiles } from './procmaps.js';

export interface ListOptions {
  pid?: number;
  verbose?: boolean;
}

export type Provider =
  | 'tracepoint' | 'rawtracepoint' | 'fentry' | 'fexit' | 'kprobe' | 'kretprobe'
  | 'uprobe' | 'uretprobe' | 'usdt' | 'software' | 'hardware';

const aliases: Record<string, Provider> = {
  t: 'tracepoint', rt: 'rawtracepoint', f: 'fentry', kfunc: 'fentry', fr: 'fexit', kretfunc: 'fexit',
  k: 'kprobe', kr: 'kretprobe', u: 'uprobe', ur: 'uretprobe', U: 'usdt', s: 'software', h: 'hardware',
};
const providers: readonly Provider[] = [
  'tracepoint', 'rawtracepoint', 'fentry', 'fexit', 'kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'usdt', 'software', 'hardware',
];

/** Event names bpftrace accepts for software:/hardware: probes, each with its short alias. */
export const softwareEvents: ReadonlyArray<[string, string?]> = [
  ['alignment-faults'], ['bpf-output'], ['context-switches', 'cs'], ['cpu-clock', 'cpu'], ['cpu-migrations'],
  ['dummy'], ['emulation-faults'], ['major-faults'], ['minor-faults'], ['page-faults', 'faults'], ['task-clock'],
];
export const hardwareEvents: ReadonlyArray<[string, string?]> = [
  ['backend-stalls'], ['branch-instructions', 'branches'], ['branch-misses'], ['bus-cycles'], ['cache-misses'],
  ['cache-references'], ['cpu-cycles', 'cycles'], ['frontend-stalls'], ['instructions'], ['ref-cycles'],
];

/** What a search without a provider covers: kernel probes, return probes left out, as bpftrace does. */
function kernelProviders(): Provider[] {
  const out: Provider[] = ['fentry', 'hardware', 'rawtracepoint', 'software', 'tracepoint'];
  if (kprobesAvailable()) out.push('kprobe');
  return out.sort();
}

export function providerName(word: string): Provider | undefined {
  return aliases[word] ?? (providers as readonly string[]).find((p) => p === word) as Provider | undefined;
}

/** The lines `tsbpf -l PATTERN` prints (an empty pattern lists every kernel probe). */
export function listProbes(pattern: string, opts: ListOptions = {}): string[] {
  const colon = pattern.indexOf(':');
  let chosen: Provider[];
  let rest: string;
  if (colon < 0) {
    chosen = kernelProviders();
    rest = pattern || '*';
  } else {
    const word = pattern.slice(0, colon);
    rest = pattern.slice(colon + 1) || '*';
    const exact = providerName(word);
    if (exact) chosen = [exact];
    else {
      const re = globToRegExp(word);
      chosen = kernelProviders().filter((p) => re.test(p));
      if (chosen.length === 0) {
        throw new TsbpfError(`unknown probe type '${word}'`, { hint: `probe types: ${providers.join(', ')}` });
      }
    }
  }
  const out: string[] = [];
  for (const p of chosen) {
    for (const { line, args } of listProvider(p, rest, opts)) {
      out.push(`${p}:${line}`);
      if (opts.verbose) for (const a of args()) out.push(`    ${a}`);
    }
  }
  return out;
}

interface Entry {
  /** The line without its `provider:` prefix. */
  line: string;
  /** Argument lines for -v, computed only when asked for. */
  args: () => string[];
}

function sorted(entries: Entry[]): Entry[] {
  const seen = new Map<string, Entry>();
  for (const e of entries) if (!seen.has(e.line)) seen.set(e.line, e);
  return [...seen.values()].sort((a, b) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
}

const none = (): string[] => [];

function listProvider(p: Provider, rest: string, opts: ListOptions): Entry[] {
  switch (p) {
    case 'tracepoint': {
      const re = globToRegExp(rest);
      return sorted(tracepointNames().filter((n) => re.test(n)).map((n) => ({ line: n, args: () => tracepointArgs(n) })));
    }
    case 'rawtracepoint': {
      const match = moduleMatcher(rest);
      return sorted(rawTracepointNames().filter(match).map((n) => ({ line: `vmlinux:${n}`, args: () => rawArgs(n) })));
    }
    case 'fentry': case 'fexit': {
      const match = moduleMatcher(rest);
      return sorted(btfFunctions().filter(match).map((n) => ({ line: `vmlinux:${n}`, args: () => fentryArgs(n) })));
    }
    case 'kprobe': case 'kretprobe': {
      requireKprobes(p);
      const re = globToRegExp(rest);
      return sorted(kprobeFunctions().filter((n) => re.test(n)).map((n) => ({ line: n, args: none })));
    }
    case 'software': case 'hardware':
      return sorted(perfEvents(p === 'software' ? softwareEvents : hardwareEvents, rest));
    case 'uprobe': case 'uretprobe':
      return sorted(uprobeEntries(rest, opts));
    case 'usdt':
      return sorted(usdtEntries(rest, opts));
  }
}

function tracepointNames(): string[] {
  // available_events is what the kernel lets us attach; the events/ tree also has ftrace's own.
  try {
    return readFileSync(`${tracefs()}/available_events`, 'latin1').split('\n').filter(Boolean);
  } catch {
    return listTracepoints().map(([c, n]) => `${c}:${n}`);
  }
}

/** The field declarations of a tracepoint's format file after the common_* header. */
function tracepointArgs(event: string): string[] {
  const [category, name] = event.split(':');
  let text: string;
  try {
    text = readFileSync(`${tracefs()}/events/${category}/${name}/format`, 'latin1');
  } catch {
    return [];
  }
  const body = text.slice(text.indexOf('\n\n') + 2);
  const out: string[] = [];
  for (const line of body.split('\n')) {
    if (!line.startsWith('\tfield:')) continue;
    out.push(line.slice('\tfield:'.length, line.indexOf(';')));
  }
  return out;
}

/** Kernel names listed as `vmlinux:NAME`; a pattern may leave the module out. */
function moduleMatcher(rest: string): (name: string) => boolean {
  const re = globToRegExp(rest);
  return rest.includes(':') ? (n) => re.test(`vmlinux:${n}`) : (n) => re.test(n) || re.test(`vmlinux:${n}`);
}

function rawArgs(name: string): string[] {
  return resolveRawTracepoints(name)[0].args.map((a) => `${a.typeName} ${a.name}`);
}

function fentryArgs(name: string): string[] {
  const t = resolveFentry(name)[0];
  const lines = t.args.map((a) => `${a.typeName} ${a.name}`);
  if (t.ret !== 0) lines.push(`${typeName(Btf.vmlinux(), t.ret)} retval`);
  return lines;
}

function perfEvents(events: ReadonlyArray<[string, string?]>, rest: string): Entry[] {
  const re = globToRegExp(rest);
  const out: Entry[] = [];
  for (const [name, alias] of events) {
    for (const n of alias ? [name, alias] : [name]) {
      if (re.test(`${n}:`) || re.test(n)) out.push({ line: `${n}:`, args: none });
    }
  }
  return out;
}

function uprobeEntries(rest: string, opts: ListOptions): Entry[] {
  const colon = rest.indexOf(':');
  const binary = colon < 0 ? rest : rest.slice(0, colon);
  const func = colon < 0 ? '*' : rest.slice(colon + 1) || '*';
  const out: Entry[] = [];
  for (const path of binaries(binary, opts)) {
    let fns;
    try {
      fns = binaryFunctions(path);
    } catch (e) {
      // A stripped library among a process's mappings is skipped; a named binary reports it.
      if (binary !== '*') throw e;
      continue;
    }
    const matches = nameMatcher(func);
    for (const f of fns) if (matches(f.name)) out.push({ line: `${path}:${f.name}`, args: none });
  }
  return out;
}

function binaries(binary: string, opts: ListOptions): string[] {
  if (binary !== '*') return [resolveBinary(binary, opts)];
  if (opts.pid === undefined) {
    throw new TsbpfError("listing uprobes in every binary ('*') needs a process", { hint: 'name the binary, or pass -p PID' });
  }
  const pid = opts.pid;
  return mappedFiles(pid).map((p) => hostPath(pid, p));
}

function usdtEntries(rest: string, opts: ListOptions): Entry[] {
  // `usdt:BIN` alone means every probe in BIN.
  const spec = parseUsdtSpec(rest.includes(':') || opts.pid !== undefined ? rest : `${rest}:*`, opts);
  const provRe = globToRegExp(spec.provider ?? '*');
  const nameRe = globToRegExp(spec.name);
  const out: Entry[] = [];
  for (const f of usdtFiles(spec.binary, opts)) {
    for (const s of usdtSites(f)) {
      if (provRe.test(s.provider) && nameRe.test(s.name)) out.push({ line: `${f}:${s.provider}:${s.name}`, args: none });
    }
  }
  return out;
}
