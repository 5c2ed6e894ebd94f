// The compiler's entry point: source text to a CompiledScript (see compiled.ts), or a
// LangError carrying every diagnostic with its position.
import { parseInto } from './parser.js';
import { Diagnostics, LangError, SourceText } from './diagnostics.js';
import {
  EVENTS_MAP, layoutOf, type CompiledMap, type CompiledProbe, type CompiledScript, type EventSpec, type InternalMap,
} from './compiled.js';
import { analyse, type CompileOptions, type MapInfo } from './semantic.js';
import { CodegenError, ELAPSED_MAP, generateProbe, SCRATCH_MAP, STACK_DEPTH, STACK_MAP, type ProgramContext } from './codegen.js';
import { toSType } from './types.js';
import { TsbpfError } from '../kernel/errors.js';

export type { CompileOptions } from './semantic.js';

/** bpftrace's default map size (BPFTRACE_MAP_KEYS_MAX). */
const MAP_ENTRIES = 4096;
const EVENTS_BYTES = 1 << 22;

export function compile(source: string, opts: CompileOptions = {}): CompiledScript {
  const src = new SourceText(source, opts.file ?? 'stdin');
  const diags = new Diagnostics(src);
  const program = parseInto(src, diags, { predefined: { BPFTRACE_HAVE_BTF: '1' } });
  diags.throwIfErrors();
  const analysis = analyse(program, diags, opts);
  diags.throwIfErrors();

  const maps = [...analysis.maps.values()].filter((m) => m.defined);
  const bpfNames = mapNames(maps);
  const events: EventSpec[] = [];
  const ctx: ProgramContext = { maps: analysis.maps, bpfNames, events, usesElapsed: analysis.usesElapsed, params: opts.params ?? [], cpid: opts.cpid };
  const probes: CompiledProbe[] = [];
  let scratch = 8;
  let usesStacks = false;
  let elapsedStartWritten = false;
  const units = analysis.units;
  // elapsed counts from the first BEGIN; a program without one gets a hidden BEGIN for it.
  const needHiddenBegin = analysis.usesElapsed && !units.some((u) => u.probe.attach.kind === 'begin');
  const jobs = needHiddenBegin ? [undefined, ...units] : units;
  for (const u of jobs) {
    if (!u) {
      const hidden = generateHiddenBegin(ctx);
      probes.push({ name: 'BEGIN', attach: { kind: 'begin' }, progType: 'raw_tracepoint', insns: hidden.insns });
      elapsedStartWritten = true;
      continue;
    }
    const writesStart = analysis.usesElapsed && !elapsedStartWritten && u.probe.attach.kind === 'begin';
    if (writesStart) elapsedStartWritten = true;
    try {
      const code = generateProbe(u, ctx, writesStart);
      scratch = Math.max(scratch, code.scratchSize);
      usesStacks ||= code.usesStacks;
      probes.push({
        name: u.probe.name, attach: u.probe.attach, progType: u.probe.progType, insns: code.insns,
        ...(u.probe.expectedAttachType ? { expectedAttachType: u.probe.expectedAttachType } : {}),
      });
    } catch (e) {
      if (e instanceof CodegenError) diags.error(e.span, e.message, e.hint);
      else if (e instanceof TsbpfError) diags.error(u.ast.span, e.message, e.hint);
      else throw e;
    }
  }
  diags.throwIfErrors();
  if (scratch > 32768) {
    throw new LangError([{ severity: 'error', message: `the program needs ${scratch} bytes of per-CPU scratch space (at most 32768)`, span: program.span, hint: 'use shorter strings (str(x, N)) or fewer of them per statement' }], src);
  }

  const internalMaps: InternalMap[] = [
    { bpfName: EVENTS_MAP, type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: EVENTS_BYTES },
    { bpfName: SCRATCH_MAP, type: 'percpu_array', keySize: 4, valueSize: scratch, maxEntries: 1 },
  ];
  if (usesStacks) internalMaps.push({ bpfName: STACK_MAP, type: 'stack_trace', keySize: 4, valueSize: 8 * STACK_DEPTH, maxEntries: MAP_ENTRIES });
  if (analysis.usesElapsed) internalMaps.push({ bpfName: ELAPSED_MAP, type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });

  return {
    maps: maps.map((m) => compiledMap(m, bpfNames.get(m.name)!)),
    internalMaps,
    probes,
    events,
    probeNames: analysis.probeNames,
    attachCount: analysis.attachCount,
    warnings: diags.list.filter((d) => d.severity === 'warning').map((d) => d.message),
  };
}

function generateHiddenBegin(ctx: ProgramContext): { insns: CompiledProbe['insns'] } {
  const span = { offset: 0, length: 0, line: 1, col: 1 };
  const unit = {
    ast: { kind: 'Probe' as const, attachPoints: [], predicate: null, body: { kind: 'Block' as const, statements: [], span }, span },
    probe: { name: 'BEGIN', provider: 'BEGIN', attach: { kind: 'begin' as const }, progType: 'raw_tracepoint' as const, space: 'kernel' as const, atEntry: false },
    index: 0, types: new Map(), vars: new Map(), ctypes: new Map(),
  };
  return generateProbe(unit, ctx, true);
}

/** Kernel map names: `@` -> AT_, `@name` -> AT_name, at most 15 characters, unique. */
function mapNames(maps: MapInfo[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const m of maps) {
    const base = `AT_${m.name.slice(1)}`.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 15);
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base.slice(0, 15 - String(i).length - 1)}_${i}`;
    used.add(name);
    out.set(m.name, name);
  }
  return out;
}

function compiledMap(m: MapInfo, bpfName: string): CompiledMap {
  const keys = m.keys.map(toSType);
  const userKey = keys.length ? layoutOf({ kind: 'tuple', elems: keys }).size : 0;
  const bucketed = m.agg === 'hist' || m.agg === 'lhist';
  const keySize = bucketed ? userKey + 8 : keys.length ? userKey : 8;
  let valueSize = 8;
  if (m.agg === 'min' || m.agg === 'max' || m.agg === 'avg' || m.agg === 'stats') valueSize = 16;
  const value = toSType(m.value);
  if (m.agg === 'value') valueSize = Math.max(1, layoutOf(value).size);
  const aggregation: CompiledMap['aggregation'] = m.agg === 'value' ? { kind: 'value', type: value }
    : m.agg === 'lhist' ? { kind: 'lhist', ...m.lhist! } : { kind: m.agg };
  return {
    name: m.name, bpfName, mapType: m.agg === 'value' ? 'hash' : 'percpu_hash', keys, aggregation, keySize, valueSize, maxEntries: MAP_ENTRIES,
  };
}
