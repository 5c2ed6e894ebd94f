// Kernel attach points: kprobe/kretprobe targets (where the kernel has kprobes), fentry/fexit
// targets by BTF function id, and raw tracepoints by their btf_trace_* typedefs. Each says
// plainly when this kernel cannot attach it and what to use instead.
import { readFileSync } from 'node:fs';
import { kprobeSupport, tracingSupport } from '../kernel/features.js';
import { TsbpfError } from '../kernel/errors.js';
import { pmuType } from '../kernel/perf.js';
import { tracefs } from '../kernel/tracefs.js';
import { Btf, protoOf, typeName } from '../btf/index.js';
import { globToRegExp, isGlob } from '../elf/symbols.js';
import { didYouMean } from './suggest.js';

// ---------------------------------------------------------------- kprobes

export interface KprobeTarget {
  func: string;
  /** Bytes into the function. */
  offset: number;
  retprobe: boolean;
}

export function kprobesAvailable(): boolean {
  return pmuType('kprobe') !== undefined;
}

/** Throws the one-line explanation (from kernel/features.ts) when the kernel has no kprobes. */
export function requireKprobes(kind: 'kprobe' | 'kretprobe'): void {
  const s = kprobeSupport();
  if (!s.ok) throw new TsbpfError(s.reason.replace(/^kprobes/, `${kind}s`), { hint: s.hint });
}

/** Kernel functions kprobes can attach to (available_filter_functions, module suffixes dropped). */
export function kprobeFunctions(): string[] {
  let text: string;
  try {
    text = readFileSync(`${tracefs()}/available_filter_functions`, 'latin1');
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const name = line.split(' ')[0];
    if (name && !name.includes('.part.')) names.add(name);
  }
  return [...names].sort();
}

/** `FUNC`, `FUNC+OFF`, `MODULE:FUNC` or a glob, expanded against the traceable functions. */
export function resolveKprobes(spec: string, retprobe: boolean): KprobeTarget[] {
  requireKprobes(retprobe ? 'kretprobe' : 'kprobe');
  const func = spec.includes(':') ? spec.slice(spec.lastIndexOf(':') + 1) : spec;
  const plus = /^(.+?)\+(0x[0-9a-f]+|\d+)$/i.exec(func);
  if (plus && retprobe) throw new TsbpfError(`kretprobe:${spec}: return probes cannot have an offset`);
  const name = plus ? plus[1] : func;
  const offset = plus ? Number(plus[2]) : 0;
  const known = kprobeFunctions();
  if (isGlob(name)) {
    const re = globToRegExp(name);
    const hits = known.filter((f) => re.test(f));
    if (hits.length === 0) throw new TsbpfError(`no traceable kernel function matches '${name}'`);
    return hits.map((f) => ({ func: f, offset: 0, retprobe }));
  }
  // available_filter_functions can be unreadable (or incomplete): then let the kernel decide.
  if (known.length > 0 && !known.includes(name)) throw noSuchKernelFunction(name, known, 'kprobe');
  return [{ func: name, offset, retprobe }];
}

function noSuchKernelFunction(name: string, known: Iterable<string>, kind: string): TsbpfError {
  const close = didYouMean(name, known);
  return new TsbpfError(`no traceable kernel function '${name}'`, {
    hint: (close.length ? `did you mean ${close.map((c) => `'${c}'`).join(' or ')}? ` : '') +
      `it may be inlined or notrace; list them with: tsbpf -l '${kind}:*'`,
  });
}

// ---------------------------------------------------------------- fentry / fexit

export interface BtfArg {
  name: string;
  /** BTF type id. */
  type: number;
  /** The type as C spells it, e.g. `struct file *`. */
  typeName: string;
}

export interface FentryTarget {
  func: string;
  /** BTF id of the FUNC, the program's attach_btf_id. */
  btfId: number;
  args: BtfArg[];
  /** Return type id (0 for void), what fexit's `retval` is. */
  ret: number;
}

/** Strips an optional `vmlinux:` (or other module) qualifier. */
function unqualified(spec: string): string {
  return spec.includes(':') ? spec.slice(spec.lastIndexOf(':') + 1) : spec;
}

/** Names of every kernel function with BTF: the fentry/fexit candidates. */
export function btfFunctions(btf = Btf.vmlinux()): string[] {
  return [...btf.nameIndex('func').keys()].filter(Boolean).sort();
}

/** `FUNC`, `vmlinux:FUNC` or a glob, to BTF function targets with their typed arguments. */
export function resolveFentry(spec: string, btf = Btf.vmlinux()): FentryTarget[] {
  const name = unqualified(spec);
  const index = btf.nameIndex('func');
  const names = isGlob(name) ? btfFunctions(btf).filter((n) => globToRegExp(name).test(n)) : index.has(name) ? [name] : [];
  if (names.length === 0) {
    if (isGlob(name)) throw new TsbpfError(`no kernel function with BTF matches '${name}'`);
    throw noSuchKernelFunction(name, index.keys(), 'fentry');
  }
  return names.map((func) => {
    const btfId = index.get(func)![0];
    const proto = protoOf(btf, btfId);
    const args = proto.params.map((p, i) => ({ name: p.name || `arg${i}`, type: p.type, typeName: typeName(btf, p.type) }));
    return { func, btfId, args, ret: proto.ret };
  });
}

/** Throws one line saying why fentry/fexit cannot work here (see kernel/features.ts). */
export function requireTracing(kind: 'fentry' | 'fexit'): void {
  const s = tracingSupport();
  if (!s.ok) throw new TsbpfError(s.reason.replace(/^fentry\/fexit/, `${kind} probes`), { hint: s.hint });
}

// ---------------------------------------------------------------- raw tracepoints

export interface RawTracepointTarget {
  name: string;
  /** The tracepoint's arguments, without the leading `void *__data`. */
  args: BtfArg[];
}

export function rawTracepointNames(btf = Btf.vmlinux()): string[] {
  return btf.rawTracepointNames().sort();
}

/** `NAME`, `vmlinux:NAME`, `CATEGORY:NAME` (the category is ignored) or a glob. */
export function resolveRawTracepoints(spec: string, btf = Btf.vmlinux()): RawTracepointTarget[] {
  const name = unqualified(spec);
  const all = rawTracepointNames(btf);
  const names = isGlob(name) ? all.filter((n) => globToRegExp(name).test(n)) : all.includes(name) ? [name] : [];
  if (names.length === 0) {
    const close = isGlob(name) ? [] : didYouMean(name, all);
    throw new TsbpfError(`no raw tracepoint ${isGlob(name) ? 'matches ' : ''}'${name}'`, {
      hint: (close.length ? `did you mean ${close.map((c) => `'${c}'`).join(' or ')}? ` : '') + "list them with: tsbpf -l 'rawtracepoint:*'",
    });
  }
  return names.map((n) => ({
    name: n,
    args: btf.rawTracepointArgs(n).map((a) => ({ name: a.name, type: a.type, typeName: typeName(btf, a.type) })),
  }));
}
