// A Session owns every kernel object it creates (maps, programs, perf events, links,
// mappings, watchers) and releases all of them on close(), on process exit, and when
// a signal or an uncaught error ends the process.
import { native } from '../kernel/native.js';
import {
  AttachTypeName, closeFd, linkCreate, progLoad, ProgTypeName, rawTracepointOpen,
} from '../kernel/bpf.js';
import { attachBpf, openProbe, openSoftware, openHardware, openTracepoint, ProbeTarget } from '../kernel/perf.js';
import { tracepointId } from '../kernel/tracefs.js';
import { TsbpfError } from '../kernel/errors.js';
import { encode, Insn } from '../isa/insn.js';
import { Asm } from '../isa/asm.js';
import { BpfMap, MapSpec, possibleCpus } from './maps.js';
import { RecordHandler, RingBufReader } from './ringbuf.js';
import { PerfBufReader } from './perfbuf.js';

export interface ProgramSpec {
  name: string;
  type: ProgTypeName;
  insns: readonly Insn[] | Asm;
  expectedAttachType?: AttachTypeName;
  attachBtfId?: number;
  license?: string;
}

export interface Program {
  name: string;
  fd: number;
  type: ProgTypeName;
  insns: readonly Insn[];
}

interface Reader {
  drain(onRecord: RecordHandler): number;
  close(): void;
}

const live = new Set<Session>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // fds die with the process anyway; closing explicitly also runs our own cleanup
  // (e.g. restoring state we changed in traced processes) before that.
  process.on('exit', () => {
    for (const s of live) s.close();
  });
}

const EPOLLIN = 1, EPOLL_CTL_ADD = 1;

export class Session {
  readonly maps = new Map<string, BpfMap>();
  readonly programs: Program[] = [];
  /** Number of attached probe instances (perf events, links). */
  attached = 0;
  private closers: Array<() => void> = [];
  private attachments: number[] = [];
  private readers: Array<{ reader: Reader; onRecord: RecordHandler }> = [];
  private epfd = -1;
  private watchHandle: object | undefined;
  private closed = false;

  constructor() {
    live.add(this);
    installExitHook();
  }

  private own(close: () => void): void {
    this.closers.push(close);
  }

  private ownFd(fd: number): number {
    this.own(() => closeFd(fd));
    return fd;
  }

  private ensureOpen(): void {
    if (this.closed) throw new TsbpfError('session is closed');
  }

  createMap(spec: MapSpec): BpfMap {
    this.ensureOpen();
    if (this.maps.has(spec.name)) throw new TsbpfError(`map '${spec.name}' already exists in this session`);
    const map = new BpfMap(spec);
    this.maps.set(spec.name, map);
    this.own(() => map.close());
    return map;
  }

  map(name: string): BpfMap {
    const m = this.maps.get(name);
    if (!m) throw new TsbpfError(`no map named '${name}' in this session`);
    return m;
  }

  loadProgram(spec: ProgramSpec): Program {
    this.ensureOpen();
    const insns = spec.insns instanceof Asm ? spec.insns.assemble() : spec.insns;
    const bytes = encode(insns, (name) => this.map(name).fd);
    const { fd } = progLoad({
      type: spec.type, insns: bytes, name: spec.name, license: spec.license,
      expectedAttachType: spec.expectedAttachType, attachBtfId: spec.attachBtfId,
    });
    this.ownFd(fd);
    const prog = { name: spec.name, fd, type: spec.type, insns };
    this.programs.push(prog);
    return prog;
  }

  private perf(fd: number, prog: Program, what: string): void {
    this.ownAttachment(fd);
    attachBpf(fd, prog.fd, what);
  }

  // Attachments close apart from maps and programs so a run can stop its probes and still
  // read its maps (bpftrace's END sees maps that no longer change).
  private ownAttachment(fd: number): void {
    this.attachments.push(fd);
    this.attached++;
  }

  /** Detaches every probe; maps and programs stay usable. Idempotent. */
  detach(): void {
    for (const fd of this.attachments.splice(0)) {
      try {
        closeFd(fd);
      } catch {
        // keep detaching the rest
      }
    }
  }

  attachTracepoint(prog: Program, category: string, name: string): void {
    const what = `tracepoint:${category}:${name}`;
    this.perf(openTracepoint(tracepointId(category, name), what), prog, what);
  }

  attachRawTracepoint(prog: Program, name: string): void {
    this.ownAttachment(rawTracepointOpen(prog.fd, name));
  }

  /** uprobe/uretprobe (and kprobe/kretprobe where the kernel has them) via the perf PMU. */
  attachProbe(prog: Program, pmu: 'uprobe' | 'kprobe', target: ProbeTarget): void {
    const fd = openProbe(pmu, target);
    this.perf(fd, prog, `${pmu} ${target.name}`);
  }

  /**
   * A software or hardware perf event on every CPU (profile:hz:N, software:*, hardware:*),
   * or on the given CPUs only (interval:*, which must fire once per period, not once per CPU).
   */
  attachPerfEvent(prog: Program, kind: 'software' | 'hardware', config: number, period: number, freq = false, cpus?: number[]): void {
    for (const cpu of cpus ?? Array.from({ length: possibleCpus() }, (_, i) => i)) {
      let fd: number;
      try {
        fd = kind === 'software' ? openSoftware(config, cpu, period, freq) : openHardware(config, cpu, period);
      } catch (e) {
        if ((e as { errno?: number }).errno === 19 /* ENODEV: offline CPU */) continue;
        throw e;
      }
      this.perf(fd, prog, `${kind} event on cpu ${cpu}`);
    }
  }

  /** fentry/fexit and other BTF-attached tracing programs. */
  attachLink(prog: Program, attachType: AttachTypeName, targetFd = 0): void {
    this.ownAttachment(linkCreate({ progFd: prog.fd, attachType, targetFd }));
  }

  /** Streams records from a ring buffer map to `onRecord` from the event loop. */
  ringbuf(map: BpfMap, onRecord: RecordHandler): RingBufReader {
    const r = new RingBufReader(map);
    this.addReader(r, [map.fd], onRecord);
    return r;
  }

  /** Streams records from a perf event array map (one buffer per CPU). */
  perfbuf(map: BpfMap, onRecord: RecordHandler, pagesPerCpu = 64): PerfBufReader {
    const r = new PerfBufReader(map, pagesPerCpu);
    this.addReader(r, r.fds, onRecord);
    return r;
  }

  private addReader(reader: Reader, fds: number[], onRecord: RecordHandler): void {
    this.own(() => reader.close());
    if (this.epfd < 0) {
      const ep = native.epollCreate();
      if (ep < 0) throw new TsbpfError(`epoll_create failed (errno ${-ep})`);
      this.epfd = this.ownFd(ep);
      // One libuv watcher on the epoll fd wakes the event loop for all readers.
      const h = native.watch(this.epfd, () => this.poll());
      if (typeof h === 'number') throw new TsbpfError(`watching epoll fd failed (errno ${-h})`);
      this.watchHandle = h;
    }
    const idx = this.readers.length;
    this.readers.push({ reader, onRecord });
    for (const fd of fds) native.epollCtl(this.epfd, EPOLL_CTL_ADD, fd, EPOLLIN, idx);
  }

  private readonly events = new Uint32Array(128);

  /** Drains every reader whose fd is ready; returns records delivered. */
  poll(): number {
    if (this.closed || this.epfd < 0) return 0;
    const n = native.epollWait(this.epfd, this.events, 0);
    const ready = new Set<number>();
    for (let i = 0; i < n; i++) ready.add(this.events[2 * i + 1]);
    let got = 0;
    for (const idx of ready) got += this.readers[idx].reader.drain(this.readers[idx].onRecord);
    return got;
  }

  /** Drains all readers regardless of readiness (e.g. once more before exit). */
  drainAll(): number {
    let got = 0;
    for (const { reader, onRecord } of this.readers) got += reader.drain(onRecord);
    return got;
  }

  /** Stops event delivery, detaches and frees everything, newest first. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    if (this.watchHandle) native.unwatch(this.watchHandle);
    this.detach();
    for (const c of this.closers.reverse()) {
      try {
        c();
      } catch {
        // keep releasing the rest
      }
    }
    this.closers = [];
    this.readers = [];
  }
}
