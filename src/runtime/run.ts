// Runs a compiled script: creates its maps, loads and attaches its programs, runs BEGIN,
// turns event records into output, and on exit (exit(), Ctrl-C, SIGTERM, the -c command
// ending) runs END, prints the maps like bpftrace and releases everything.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CompiledMap, CompiledScript, EVENTS_MAP, EventSpec } from '../lang/compiled.js';
import { progTestRun } from '../kernel/bpf.js';
import { TsbpfError } from '../kernel/errors.js';
import { SwConfig } from '../kernel/perf.js';
import { kprobeSupport, tracingSupport } from '../kernel/features.js';
import { Output } from '../output/output.js';
import { formatPrintf, parseFormat, ParsedFormat } from '../output/printf.js';
import { strftime } from '../output/strftime.js';
import { MapSnapshot } from '../output/values.js';
import { Session, Program } from './session.js';
import { BpfMap } from './maps.js';
import { decodeList, decodeValue, DecodeContext, Symbolizer } from './decode.js';
import { snapshot } from './readout.js';
import { readStackIps } from './stacks.js';
import { StackSamples } from './stack-samples.js';
import { Symbolizer as ProcessSymbolizer } from './symbolize.js';
import { PID_SEEN_EVENT, STACK_SAMPLE_EVENT } from '../lang/stacks.js';

export interface RunOptions {
  output: Output;
  write(text: string): void;
  symbolizer: Symbolizer;
  /** Called after everything is attached and BEGIN ran (e.g. to start the -c command). */
  onStarted?(): void;
  /** -v: says which unwinder produced each user stack. */
  log?(line: string): void;
}

export class ScriptRun {
  readonly session = new Session();
  private readonly programs = new Map<string, Program>();
  private readonly formats = new Map<number, ParsedFormat>();
  private readonly ctx: DecodeContext;
  private stackMap: BpfMap | undefined;
  private finished = false;
  private resolveDone!: () => void;
  /** Settles when the script asked to exit or stop() ran. */
  readonly done = new Promise<void>((r) => (this.resolveDone = r));
  private exitCalled = false;
  private readonly samples: StackSamples;
  /** Which unwinder produced the stack stackIps() returned last (for -v). */
  private lastUnwinder = '';

  constructor(readonly script: CompiledScript, private readonly opts: RunOptions) {
    const sym = opts.symbolizer;
    this.samples = new StackSamples(sym instanceof ProcessSymbolizer ? sym : undefined);
    const log = opts.log;
    this.ctx = {
      // decode.ts asks stackIps() for a stack's ips right before formatting it with ustack().
      sym: log ? Object.assign(Object.create(sym) as Symbolizer, {
        ustack: (pid: number, ips: readonly bigint[], mode: Parameters<Symbolizer['ustack']>[2]) => {
          log(`ustack of pid ${pid}: ${ips.length} frames by ${this.lastUnwinder}`);
          return sym.ustack(pid, ips, mode);
        },
      }) : sym,
      probeNames: script.probeNames,
      stackIps: (id) => this.stackIps(id),
    };
  }

  /** Creates maps and loads every program (the verifier runs here); attaches nothing. */
  load(): void {
    this.checkKernelSupport();
    for (const m of this.script.maps) {
      this.session.createMap({ name: m.bpfName, type: m.mapType, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries });
    }
    for (const m of this.script.internalMaps) {
      const map = this.session.createMap({ name: m.bpfName, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries });
      if (m.type === 'stack_trace') this.stackMap = map;
    }
    this.script.probes.forEach((p, i) => {
      const prog = this.session.loadProgram({
        name: progName(p.name, i), type: p.progType, insns: p.insns,
        expectedAttachType: p.expectedAttachType,
        attachBtfId: p.attach.kind === 'fentry' || p.attach.kind === 'fexit' ? p.attach.btfId : undefined,
      });
      this.programs.set(p.name + '#' + i, prog);
    });
  }

  /**
   * kprobes and fentry/fexit fail here with a bare errno on kernels that forbid them; say
   * precisely why (no CONFIG_KPROBES, lockdown) before loading anything.
   */
  private checkKernelSupport(): void {
    for (const p of this.script.probes) {
      const kind = p.attach.kind;
      const support = kind === 'kprobe' ? kprobeSupport() : kind === 'fentry' || kind === 'fexit' ? tracingSupport() : undefined;
      if (support && !support.ok) throw new TsbpfError(`${p.name}: ${support.reason}`, { hint: support.hint });
    }
  }

  /** Attaches all probes, prints "Attaching N probes...", runs BEGIN, starts event delivery. */
  start(): void {
    const s = this.session;
    const events = this.script.internalMaps.find((m) => m.bpfName === EVENTS_MAP);
    if (events) s.ringbuf(s.map(EVENTS_MAP), (d) => this.onEvent(d));
    // BEGIN runs before anything else is attached: its records then lead the ring buffer, so
    // its output (a tool's header) comes before the first event, as in bpftrace.
    this.script.probes.forEach((p, i) => {
      if (p.attach.kind === 'begin') progTestRun(this.programs.get(p.name + '#' + i)!.fd);
    });
    this.script.probes.forEach((p, i) => {
      const prog = this.programs.get(p.name + '#' + i)!;
      const a = p.attach;
      switch (a.kind) {
        case 'begin': case 'end': break;
        case 'tracepoint': s.attachTracepoint(prog, a.category, a.name); break;
        case 'rawtracepoint': s.attachRawTracepoint(prog, a.name); break;
        case 'interval': s.attachPerfEvent(prog, 'software', SwConfig['cpu-clock'], a.periodNs, false, [0]); break;
        case 'profile': s.attachPerfEvent(prog, 'software', SwConfig['cpu-clock'], a.hz, true); break;
        case 'software': s.attachPerfEvent(prog, 'software', a.config, a.period); break;
        case 'hardware': s.attachPerfEvent(prog, 'hardware', a.config, a.period); break;
        case 'uprobe':
          s.attachProbe(prog, 'uprobe', { name: a.path, offset: a.offset, retprobe: a.retprobe, pid: a.pid, refCtrOffset: a.refCtrOffset });
          break;
        case 'kprobe': s.attachProbe(prog, 'kprobe', { name: a.func, offset: a.offset, retprobe: a.retprobe }); break;
        case 'fentry': s.attachLink(prog, 'trace_fentry'); break;
        case 'fexit': s.attachLink(prog, 'trace_fexit'); break;
      }
    });
    // Unlike bpftrace (which prints it before attaching), the line means every probe is live:
    // scripts and tests may start their workload when they see it.
    this.opts.write(this.opts.output.attachedProbes(this.script.attachCount));
    this.poll();
    if (!this.finished) this.opts.onStarted?.();
  }

  /** Delivers pending events now (the event loop also does this as they arrive). */
  poll(): void {
    this.session.drainAll();
  }

  private stackIps(id: number): bigint[] {
    const copied = this.samples.ips(id);
    this.lastUnwinder = copied ? '.eh_frame unwinding of a copied user stack' : 'frame pointers (bpf_get_stackid)';
    if (copied) return copied;
    return this.stackMap ? readStackIps(this.stackMap, id) : [];
  }

  private compiledMap(name: string): CompiledMap {
    const m = this.script.maps.find((x) => x.name === name);
    if (!m) throw new TsbpfError(`internal: event names unknown map ${name}`);
    return m;
  }

  private onEvent(d: DataView): void {
    const id = Number(d.getBigUint64(0, true));
    // Stack bookkeeping prints nothing and map keys may need it even after exit().
    if (id === PID_SEEN_EVENT) {
      this.opts.symbolizer.remember?.(Number(d.getBigUint64(8, true)));
      return;
    }
    if (id === STACK_SAMPLE_EVENT) {
      this.samples.add(d);
      return;
    }
    if (this.finished) return;
    const ev: EventSpec | undefined = this.script.events[id];
    if (!ev) return;
    const out = this.opts.output;
    const args = (types: Parameters<typeof decodeList>[0]) => decodeList(types, d, 8, this.ctx);
    switch (ev.kind) {
      case 'printf':
        this.opts.write(out.message('printf', formatPrintf(this.format(id, ev.format), args(ev.args))));
        break;
      case 'system': {
        const cmd = formatPrintf(this.format(id, ev.format), args(ev.args));
        try {
          this.opts.write(out.message('syscall', execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })));
        } catch (e) {
          this.opts.write(out.message('syscall', String((e as { stdout?: string }).stdout ?? '')));
        }
        break;
      }
      case 'cat': {
        const path = formatPrintf(this.format(id, ev.format), args(ev.args));
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch {
          text = `cat: ${path}: No such file or directory\n`;
        }
        this.opts.write(out.message('cat', text));
        break;
      }
      case 'time':
        this.opts.write(out.message('time', strftime(ev.format, new Date())));
        break;
      case 'join': {
        const parts: string[] = [];
        for (let i = 0; i < ev.count; i++) {
          const b = new Uint8Array(d.buffer, d.byteOffset + 8 + i * ev.strSize, ev.strSize);
          const end = b.indexOf(0);
          if (end === 0) break;
          parts.push(Buffer.from(b.subarray(0, end < 0 ? ev.strSize : end)).toString('utf8'));
        }
        this.opts.write(out.message('join', parts.join(ev.separator), true));
        break;
      }
      case 'print_value':
        this.opts.write(out.value(decodeValue(ev.type, d, 8, this.ctx)));
        break;
      case 'print_map':
        this.opts.write(out.map(this.readMap(this.compiledMap(ev.map)), { top: ev.top, div: ev.div }));
        break;
      case 'clear':
        this.session.map(this.compiledMap(ev.map).bpfName).clear();
        break;
      case 'zero':
        this.session.map(this.compiledMap(ev.map).bpfName).zero();
        break;
      case 'exit':
        this.exitCalled = true;
        this.finish();
        break;
    }
  }

  private format(id: number, fmt: string): ParsedFormat {
    let f = this.formats.get(id);
    if (!f) this.formats.set(id, (f = parseFormat(fmt)));
    return f;
  }

  readMap(m: CompiledMap): MapSnapshot {
    const map = this.session.map(m.bpfName);
    if (!m.keys.some((k) => k.kind === 'ustack')) return snapshot(m, map, this.ctx);
    // Keys naming copied stacks differ per sample: fold equal stacks before printing.
    const folded = this.samples.fold(m, map.entries());
    return snapshot(m, Object.assign(Object.create(map) as BpfMap, { entries: () => folded }), this.ctx);
  }

  /** Drops records still queued (those that came after exit()). */
  private discardQueued(): void {
    const accept = this.finished;
    this.finished = true;
    this.session.drainAll();
    this.finished = accept;
  }

  /** Asks the run to end; `stop()` then does the END work. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.resolveDone();
  }

  /**
   * Ends the run: detaches probes first (so maps stop changing), runs END, drains the last
   * events, prints every map and closes the session.
   */
  stop(): void {
    this.finish();
    const s = this.session;
    const ends = this.script.probes
      .map((p, i) => ({ p, prog: this.programs.get(p.name + '#' + i)! }))
      .filter((x) => x.p.attach.kind === 'end');
    try {
      s.detach();
      // Events queued before an exit() call were delivered in order; after a signal or the
      // -c command ending, deliver what is queued now. Then END runs and its output follows.
      this.finished = false;
      if (!this.exitCalled) s.drainAll();
      this.discardQueued();
      for (const { prog } of ends) progTestRun(prog.fd);
      s.drainAll();
      this.finished = true;
      const maps = this.script.maps.map((m) => this.readMap(m));
      this.opts.write(this.opts.output.exit(maps));
    } finally {
      s.close();
    }
  }
}

/** A kernel-acceptable program name from a probe name. */
function progName(probe: string, i: number): string {
  const base = probe.replace(/^(\w+):.*?([\w.]+)$/, '$1_$2').replace(/[^A-Za-z0-9_]/g, '_');
  return `${base.slice(0, 11)}_${i}`;
}
