// perf_event_open(2) for the event kinds tsbpf attaches BPF programs to.
import { readFileSync } from 'node:fs';
import { native } from './native.js';
import { check, SyscallError, TsbpfError } from './errors.js';

export const PerfType = { HARDWARE: 0, SOFTWARE: 1, TRACEPOINT: 2, HW_CACHE: 3, RAW: 4, BREAKPOINT: 5 } as const;
export const SwConfig = {
  'cpu-clock': 0, 'task-clock': 1, 'page-faults': 2, faults: 2, 'context-switches': 3, cs: 3,
  'cpu-migrations': 4, migrations: 4, 'minor-faults': 5, 'major-faults': 6, 'alignment-faults': 7,
  'emulation-faults': 8, dummy: 9, 'bpf-output': 10,
} as const;
export const HwConfig = {
  'cpu-cycles': 0, cycles: 0, instructions: 1, 'cache-references': 2, 'cache-misses': 3,
  'branch-instructions': 4, branches: 4, 'branch-misses': 5, 'bus-cycles': 6,
  'stalled-cycles-frontend': 7, 'stalled-cycles-backend': 8, 'ref-cycles': 9,
} as const;

const IOC_ENABLE = 0x2400;
const IOC_DISABLE = 0x2401;
const IOC_SET_BPF = 0x40042408;
const SAMPLE_RAW = 1 << 10;
const FLAG_DISABLED = 1n << 0n;
const FLAG_FREQ = 1n << 10n;
const FLAG_WATERMARK = 1n << 14n;
const CLOEXEC = 8;

export interface PerfAttr {
  type: number;
  config: bigint | number;
  /** Sample every N events, or N times per second when `freq` is set. */
  period?: number;
  freq?: boolean;
  sampleType?: number;
  wakeupEvents?: number;
  disabled?: boolean;
  config1?: bigint;
  config2?: bigint;
}

export function perfEventOpen(a: PerfAttr, pid: number, cpu: number, what: string): number {
  const buf = Buffer.alloc(128);
  const dv = new DataView(buf.buffer, buf.byteOffset, 128);
  dv.setUint32(0, a.type, true);
  dv.setUint32(4, 128, true);
  dv.setBigUint64(8, BigInt(a.config), true);
  dv.setBigUint64(16, BigInt(a.period ?? 1), true);
  dv.setBigUint64(24, BigInt(a.sampleType ?? 0), true);
  let flags = 0n;
  if (a.disabled) flags |= FLAG_DISABLED;
  if (a.freq) flags |= FLAG_FREQ;
  dv.setBigUint64(40, flags, true);
  dv.setUint32(48, a.wakeupEvents ?? 1, true);
  dv.setBigUint64(56, a.config1 ?? 0n, true);
  dv.setBigUint64(64, a.config2 ?? 0n, true);
  const r = native.perfEventOpen(buf, pid, cpu, -1, CLOEXEC);
  if (r < 0) throw new SyscallError(`opening perf event for ${what}`, -r, r === -3 ? `process ${pid} does not exist` : undefined);
  return r;
}

/** Runs `progFd` whenever the perf event fires, then enables the event. */
export function attachBpf(perfFd: number, progFd: number, what: string): void {
  check(`attaching BPF program to ${what}`, native.ioctl(perfFd, IOC_SET_BPF, progFd));
  check(`enabling ${what}`, native.ioctl(perfFd, IOC_ENABLE, 0));
}

export function disable(perfFd: number): void {
  native.ioctl(perfFd, IOC_DISABLE, 0);
}

export function enable(perfFd: number): void {
  check('enabling perf event', native.ioctl(perfFd, IOC_ENABLE, 0));
}

/** A tracepoint event (id from tracefs), all CPUs: the BPF program sees every hit. */
export function openTracepoint(id: number, what: string): number {
  return perfEventOpen({ type: PerfType.TRACEPOINT, config: id, period: 1 }, -1, 0, what);
}

const pmuRoot = '/sys/bus/event_source/devices';

/** The dynamic PMU's type id, or undefined when the kernel lacks it (no uprobe/kprobe support). */
export function pmuType(pmu: 'uprobe' | 'kprobe'): number | undefined {
  try {
    return Number(readFileSync(`${pmuRoot}/${pmu}/type`, 'latin1').trim());
  } catch {
    return undefined;
  }
}

function pmuBit(pmu: string, field: string): bigint {
  // format files read like `config:0` or `config:32-63`
  const spec = readFileSync(`${pmuRoot}/${pmu}/format/${field}`, 'latin1').trim();
  return BigInt(Number(spec.split(':')[1].split('-')[0]));
}

export interface ProbeTarget {
  /** uprobe: the binary path; kprobe: the kernel function name. */
  name: string;
  /** uprobe: file offset; kprobe: offset within the function. */
  offset: bigint;
  retprobe: boolean;
  pid?: number;
  /** uprobe: file offset of a USDT semaphore the kernel increments while attached. */
  refCtrOffset?: bigint;
}

export function openProbe(pmu: 'uprobe' | 'kprobe', t: ProbeTarget): number {
  const type = pmuType(pmu);
  if (type === undefined) {
    throw new TsbpfError(`${pmu}s are not available on this kernel (no ${pmu} PMU in ${pmuRoot})`, {
      hint: pmu === 'kprobe'
        ? 'the kernel was built without CONFIG_KPROBES; use a tracepoint (tsbpf -l "tracepoint:*") or rawtracepoint instead'
        : 'the kernel was built without CONFIG_UPROBE_EVENTS',
    });
  }
  let config = 0n;
  if (t.retprobe) config |= 1n << pmuBit(pmu, 'retprobe');
  if (t.refCtrOffset) config |= t.refCtrOffset << pmuBit(pmu, 'ref_ctr_offset');
  const name = Buffer.from(`${t.name}\0`, 'latin1');
  const pid = t.pid ?? -1;
  const what = `${t.retprobe ? pmu.replace('probe', 'retprobe') : pmu} ${t.name}+0x${t.offset.toString(16)}`;
  const fd = perfEventOpen(
    { type, config, period: 1, config1: native.address(name), config2: t.offset },
    pid, pid === -1 ? 0 : -1, what,
  );
  return fd;
}

/** A software event (cpu-clock etc.) on one CPU; `freq` means samples per second. */
export function openSoftware(config: number, cpu: number, period: number, freq: boolean, pid = -1): number {
  return perfEventOpen({ type: PerfType.SOFTWARE, config, period, freq }, pid, cpu, `software event ${config} on cpu ${cpu}`);
}

export function openHardware(config: number, cpu: number, period: number, pid = -1): number {
  return perfEventOpen({ type: PerfType.HARDWARE, config, period }, pid, cpu, `hardware event ${config} on cpu ${cpu}`);
}

/** A bpf-output event for a perf buffer on one CPU. */
export function openBpfOutput(cpu: number, wakeupEvents = 1): number {
  return perfEventOpen(
    { type: PerfType.SOFTWARE, config: SwConfig['bpf-output'], period: 1, sampleType: SAMPLE_RAW, wakeupEvents },
    -1, cpu, `perf buffer on cpu ${cpu}`,
  );
}

export { FLAG_WATERMARK };
