// What this kernel lets tsbpf load and attach, found the way bpftool feature probe does:
// by loading tiny programs and creating tiny maps and reading the errno (and, for helpers,
// the verifier log). When something is missing we also work out why (a config option,
// lockdown, capabilities, missing BTF) so the compiler can say so in one line.
// Every answer is cached for the life of the process.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants, release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { native } from './native.js';
import {
  assertRoot, AttachType, AttachTypeName, btfLoad, closeFd, Cmd, linkCreate, MapType, MapTypeName,
  ProgType, ProgTypeName, rawTracepointOpen, tryMapCreate, tryProgLoad,
} from './bpf.js';
import { SyscallError, TsbpfError, errnoName } from './errors.js';
import { perfEventOpen, PerfType, pmuType, SwConfig } from './perf.js';
import { tracefs } from './tracefs.js';
// A pure data table (no imports of its own): the helper ids are kernel ABI, and keeping a
// second copy here would let the two drift apart.
import { helperId, helperNames } from './helpers.js';

export type Support = { ok: true } | { ok: false; reason: string; hint: string };

export type Lockdown = 'none' | 'integrity' | 'confidentiality' | 'unknown';

/** Ways tsbpf attaches programs, each with whether it works here and, if not, why. */
export const attachFeatures = [
  'kprobe', 'uprobe', 'raw_tracepoint', 'tracing', 'perf_event_link', 'kprobe_multi', 'uprobe_multi',
  'ringbuf', 'probe_write_user', 'btf',
] as const;
export type AttachFeature = (typeof attachFeatures)[number];

/** Program types whose helpers are listed in the report: the ones tracing uses. */
export const helperProgTypes = ['kprobe', 'tracepoint', 'perf_event', 'raw_tracepoint'] as const satisfies readonly ProgTypeName[];

export interface SystemInfo {
  kernel: string;
  lockdown: Lockdown;
  btf: boolean;
  /** /proc/sys/net/core/bpf_jit_enable, or null when unreadable. */
  jitEnable: number | null;
  /** /proc/sys/kernel/unprivileged_bpf_disabled, or null when unreadable. */
  unprivilegedBpfDisabled: number | null;
  /** Tracing-related CONFIG_ options ('y', 'm', 'n'), or null when the config is not readable. */
  config: Record<string, string> | null;
}

export interface FeatureReport {
  system: SystemInfo;
  programTypes: Record<string, boolean>;
  mapTypes: Record<string, boolean>;
  /** Program type -> names (bpf_ prefixed) of the helpers it may call. */
  helpers: Record<string, string[]>;
  attach: Record<AttachFeature, Support>;
}

const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
const PMU_ROOT = '/sys/bus/event_source/devices';
const ENOTSUPP = 524; // kernel-internal "not supported", leaks out of some bpf(2) paths
const BPF_F_SLEEPABLE = 1 << 4;
const { EPERM, EINVAL, EBADF, EOPNOTSUPP } = constants.errno;

// ---------------------------------------------------------------------------------------
// System facts

let lockdownCache: Lockdown | undefined;

/** The kernel lockdown mode; mounts securityfs at its usual place when nobody has. */
export function lockdownMode(): Lockdown {
  if (lockdownCache) return lockdownCache;
  const path = '/sys/kernel/security/lockdown';
  if (!existsSync(path) && !isMounted('securityfs')) {
    try {
      execFileSync('mount', ['-t', 'securityfs', 'securityfs', '/sys/kernel/security'], { stdio: 'pipe' });
    } catch {
      // Not root or no securityfs: we just cannot tell.
    }
  }
  try {
    const m = /\[(\w+)\]/.exec(readFileSync(path, 'latin1'));
    lockdownCache = (m?.[1] as Lockdown | undefined) ?? 'unknown';
  } catch {
    // No lockdown LSM in this kernel means no lockdown.
    lockdownCache = existsSync('/sys/kernel/security/lsm') ? 'none' : 'unknown';
  }
  return lockdownCache;
}

function isMounted(fsType: string): boolean {
  return readFileSync('/proc/mounts', 'latin1').split('\n').some((l) => l.split(' ')[2] === fsType);
}

const configKeys = [
  'BPF', 'BPF_SYSCALL', 'BPF_JIT', 'BPF_JIT_ALWAYS_ON', 'BPF_EVENTS', 'BPF_LSM', 'DEBUG_INFO_BTF',
  'KPROBES', 'KPROBE_EVENTS', 'UPROBES', 'UPROBE_EVENTS', 'FPROBE', 'FTRACE_SYSCALLS', 'FUNCTION_TRACER',
  'DYNAMIC_FTRACE_WITH_DIRECT_CALLS', 'BPF_KPROBE_OVERRIDE', 'SECURITY_LOCKDOWN_LSM',
] as const;

let configCache: Record<string, string> | null | undefined;

/** Tracing-related kernel config options, from /proc/config.gz or /boot/config-RELEASE. */
export function kernelConfig(): Record<string, string> | null {
  if (configCache !== undefined) return configCache;
  let text: string | undefined;
  try {
    text = gunzipSync(readFileSync('/proc/config.gz')).toString('latin1');
  } catch {
    try {
      text = readFileSync(`/boot/config-${release()}`, 'latin1');
    } catch {
      return (configCache = null);
    }
  }
  const all = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^CONFIG_(\w+)=(.*)$/.exec(line);
    if (set) all.set(set[1], set[2]);
  }
  configCache = Object.fromEntries(configKeys.map((k) => [k, all.get(k) ?? 'n']));
  return configCache;
}

function readNumber(path: string): number | null {
  try {
    return Number(readFileSync(path, 'latin1').trim());
  } catch {
    return null;
  }
}

export function systemInfo(): SystemInfo {
  return {
    kernel: release(),
    lockdown: lockdownMode(),
    btf: existsSync(VMLINUX_BTF),
    jitEnable: readNumber('/proc/sys/net/core/bpf_jit_enable'),
    unprivilegedBpfDisabled: readNumber('/proc/sys/kernel/unprivileged_bpf_disabled'),
    config: kernelConfig(),
  };
}

/** Which of CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF this process lacks (empty when unknown). */
function missingCaps(): string[] {
  const m = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'latin1'));
  if (!m) return [];
  const eff = BigInt(`0x${m[1]}`);
  const want: Array<[string, bigint]> = [['CAP_SYS_ADMIN', 21n], ['CAP_PERFMON', 38n], ['CAP_BPF', 39n]];
  return want.filter(([, bit]) => !((eff >> bit) & 1n)).map(([name]) => name);
}

// ---------------------------------------------------------------------------------------
// Raw probes. These use their own attribute buffers rather than progLoad/mapCreate: a
// probe needs the errno and the verifier log as data, never an exception, and a few
// program and map types need fields (prog_flags, BTF ids) those wrappers do not set.

const MOV_R0 = 0xb7, CALL = 0x85, EXIT = 0x95;
const EXIT_PROG = insns([MOV_R0, 0], [EXIT, 0]); // r0 = 0; exit
const LOG_SIZE = 4096;
const logBuf = Buffer.alloc(LOG_SIZE);

/** Instructions as [opcode, imm] (registers and offset zero: all a probe needs). */
function insns(...ops: Array<[number, number]>): Uint8Array {
  const out = Buffer.alloc(ops.length * 8);
  ops.forEach(([code, imm], i) => {
    out[i * 8] = code;
    out.writeInt32LE(imm, i * 8 + 4);
  });
  return out;
}

// As bpftool does: the verifier checks the helper id before the arguments, so an
// unprepared call still tells "not allowed here" apart from any other complaint.
const callProg = (id: number): Uint8Array => insns([CALL, id], [EXIT, 0]);

interface ProgOpts {
  expectedAttachType?: AttachTypeName;
  attachBtfId?: number;
  progFlags?: number;
  /** Errno that proves support for types that cannot load without a real attach target. */
  expectErrno?: number;
}

/** Load options per program type, as libbpf's probe uses them. */
const progOpts: Partial<Record<ProgTypeName, ProgOpts>> = {
  cgroup_sock_addr: { expectedAttachType: 'cgroup_inet4_connect' },
  cgroup_sockopt: { expectedAttachType: 'cgroup_getsockopt' },
  sk_lookup: { expectedAttachType: 'sk_lookup' },
  lirc_mode2: { expectedAttachType: 'lirc_mode2' },
  netfilter: { expectedAttachType: 'netfilter' },
  syscall: { progFlags: BPF_F_SLEEPABLE },
  // BTF id 1 is never a function: a kernel that allows the type rejects the target (EINVAL);
  // one that refuses the type outright fails earlier with another errno.
  tracing: { expectedAttachType: 'trace_fentry', attachBtfId: 1, expectErrno: EINVAL },
  lsm: { expectedAttachType: 'lsm_mac', attachBtfId: 1, expectErrno: EINVAL },
  ext: { attachBtfId: 1, expectErrno: EINVAL },
  struct_ops: { expectErrno: ENOTSUPP },
};

interface LoadResult {
  fd: number;
  errno: number;
  log: string;
}

function loadRaw(type: ProgTypeName, code: Uint8Array, o: ProgOpts, withLog: boolean): LoadResult {
  const { fd, log } = tryProgLoad({
    type, insns: code, name: 'tsbpf_probe', progFlags: o.progFlags,
    expectedAttachType: o.expectedAttachType, attachBtfId: o.attachBtfId,
  }, withLog ? logBuf : undefined);
  return { fd, errno: fd < 0 ? -fd : 0, log };
}

interface MapOpts {
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  innerMap?: boolean;
  /** Local storage maps need BTF for their key and value. */
  btf?: boolean;
  btfVmlinuxValueTypeId?: number;
  expectErrno?: number;
}

const NO_PREALLOC = 1, MMAPABLE = 1 << 10;
const PAGE = 4096;
const storage: MapOpts = { keySize: 4, valueSize: 4, maxEntries: 0, flags: NO_PREALLOC, btf: true };

/** Map parameters per type, as libbpf's probe uses them; the default suits the rest. */
const mapOpts: Partial<Record<MapTypeName, MapOpts>> = {
  stack_trace: { keySize: 4, valueSize: 8, maxEntries: 1 },
  lpm_trie: { keySize: 8, valueSize: 8, maxEntries: 1, flags: NO_PREALLOC },
  queue: { keySize: 0, valueSize: 4, maxEntries: 1 },
  stack: { keySize: 0, valueSize: 4, maxEntries: 1 },
  bloom_filter: { keySize: 0, valueSize: 4, maxEntries: 1 },
  ringbuf: { keySize: 0, valueSize: 0, maxEntries: PAGE },
  user_ringbuf: { keySize: 0, valueSize: 0, maxEntries: PAGE },
  array_of_maps: { keySize: 4, valueSize: 4, maxEntries: 1, innerMap: true },
  hash_of_maps: { keySize: 4, valueSize: 4, maxEntries: 1, innerMap: true },
  cgroup_storage: { keySize: 16, valueSize: 4, maxEntries: 0 },
  percpu_cgroup_storage: { keySize: 16, valueSize: 4, maxEntries: 0 },
  sk_storage: storage,
  inode_storage: storage,
  task_storage: storage,
  cgrp_storage: storage,
  // BTF id 1 is no struct_ops type: a kernel with the map type says ENOTSUPP.
  struct_ops: { keySize: 4, valueSize: 4, maxEntries: 1, btfVmlinuxValueTypeId: 1, expectErrno: ENOTSUPP },
  arena: { keySize: 0, valueSize: 0, maxEntries: 1, flags: MMAPABLE },
};

function createMapRaw(type: MapTypeName, o: MapOpts, innerFd: number, btfFd: number): number {
  return tryMapCreate({
    type, keySize: o.keySize, valueSize: o.valueSize, maxEntries: o.maxEntries, flags: o.flags,
    innerMapFd: innerFd < 0 ? 0 : innerFd,
    // key and value: the one `int` type of intBtf()
    btf: btfFd >= 0 ? { fd: btfFd, keyTypeId: 1, valueTypeId: 1 } : undefined,
    btfVmlinuxValueTypeId: o.btfVmlinuxValueTypeId,
  });
}

/** A BTF blob with one type, [1] int: enough key/value types for local storage maps. */
function intBtf(): Uint8Array {
  const strs = Buffer.from('\0int\0', 'latin1');
  const b = Buffer.alloc(24 + 16 + strs.length);
  b.writeUInt16LE(0xeb9f, 0);
  b[2] = 1; // version
  b.writeUInt32LE(24, 4); // hdr_len
  b.writeUInt32LE(0, 8); // type_off
  b.writeUInt32LE(16, 12); // type_len
  b.writeUInt32LE(16, 16); // str_off
  b.writeUInt32LE(strs.length, 20);
  b.writeUInt32LE(1, 24); // name "int"
  b.writeUInt32LE(1 << 24, 28); // kind INT
  b.writeUInt32LE(4, 32); // size
  b.writeUInt32LE((1 << 24) | 32, 36); // signed, 32 bits
  strs.copy(b, 40);
  return b;
}

// ---------------------------------------------------------------------------------------
// Cached single-feature queries

const progCache = new Map<ProgTypeName, LoadResult>();
const mapCache = new Map<MapTypeName, boolean>();
const helperCache = new Map<string, boolean>();
const attachCache = new Map<AttachFeature, Support>();

function probeProgType(type: ProgTypeName): LoadResult {
  let r = progCache.get(type);
  if (!r) {
    assertRoot();
    r = loadRaw(type, EXIT_PROG, progOpts[type] ?? {}, false);
    closeFd(r.fd);
    progCache.set(type, r);
  }
  return r;
}

export function haveProgType(type: ProgTypeName): boolean {
  const r = probeProgType(type);
  const expect = progOpts[type]?.expectErrno;
  return r.fd >= 0 || (expect !== undefined && r.errno === expect);
}

export function haveMapType(type: MapTypeName): boolean {
  const known = mapCache.get(type);
  if (known !== undefined) return known;
  assertRoot();
  const o = mapOpts[type] ?? { keySize: 4, valueSize: 4, maxEntries: 1 };
  let inner = -1, btf = -1;
  try {
    if (o.innerMap) inner = createMapRaw('array', { keySize: 4, valueSize: 4, maxEntries: 1 }, -1, -1);
    if (o.btf) btf = tryBtfLoad(intBtf());
    const r = createMapRaw(type, o, inner, btf);
    closeFd(r);
    const ok = r >= 0 || (o.expectErrno !== undefined && -r === o.expectErrno);
    mapCache.set(type, ok);
    return ok;
  } finally {
    closeFd(inner);
    closeFd(btf);
  }
}

function tryBtfLoad(blob: Uint8Array): number {
  try {
    return btfLoad(blob);
  } catch {
    return -1;
  }
}

// Wording differs across kernel versions; all three mean "not for this program type".
const helperRefused = /invalid func |unknown func |program of this type cannot use helper /;

/**
 * Whether programs of `progType` may call helper `name` (with or without the bpf_ prefix).
 * Always false for types that only load against a real attach target (tracing, lsm, ext,
 * struct_ops): a probe cannot reach their helper check.
 */
export function haveHelper(progType: ProgTypeName, name: string): boolean {
  const id = helperId(name);
  if (id === undefined || id === 0) {
    throw new TsbpfError(`unknown BPF helper '${name}'`, { hint: 'run tsbpf feature to list the helpers of each program type' });
  }
  const key = `${progType}/${id}`;
  const known = helperCache.get(key);
  if (known !== undefined) return known;
  let ok = false;
  if (haveProgType(progType) && progOpts[progType]?.expectErrno === undefined) {
    const r = loadRaw(progType, callProg(id), progOpts[progType] ?? {}, true);
    closeFd(r.fd);
    ok = r.fd >= 0 || (r.log !== '' && !helperRefused.test(r.log));
  }
  helperCache.set(key, ok);
  return ok;
}

// Merely asking the verifier about these makes the kernel allocate trace_printk buffers
// for good and print a warning banner to the kernel log, so (as bpftool does) they are
// probed only when asked for by name or with `full`.
const noisyHelpers = new Set(['trace_printk', 'trace_vprintk']);

/** Every helper (bpf_ prefixed) that programs of `progType` may call. */
export function helpersOf(progType: ProgTypeName, opts: { full?: boolean } = {}): string[] {
  const out: string[] = [];
  for (let id = 1; id < helperNames.length; id++) {
    if (!opts.full && noisyHelpers.has(helperNames[id])) continue;
    if (haveHelper(progType, helperNames[id])) out.push(`bpf_${helperNames[id]}`);
  }
  return out;
}

const no = (reason: string, hint: string): Support => ({ ok: false, reason, hint });
const yes: Support = { ok: true };

function cached(f: AttachFeature, probe: () => Support): Support {
  let s = attachCache.get(f);
  if (!s) attachCache.set(f, (s = probe()));
  return s;
}

const lockdownNote = (): string => {
  const mode = lockdownMode();
  return mode === 'integrity' || mode === 'confidentiality' ? `; kernel lockdown=${mode} is active` : '';
};

/** `what` plus the errno and, for EPERM, whether capabilities or lockdown explain it. */
function refusedAsRoot(what: string, errno: number): string {
  if (errno !== EPERM) return `${what} (${errnoName(errno)})`;
  const missing = missingCaps();
  if (missing.length) return `${what} (EPERM: this process lacks ${missing.join(', ')})`;
  return `${what} (EPERM even as root with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN${lockdownNote()})`;
}

/** kprobe:/kretprobe: through the kprobe PMU. */
export function kprobeSupport(): Support {
  return cached('kprobe', () => {
    if (pmuType('kprobe') !== undefined) {
      return haveProgType('kprobe') ? yes : no('kprobe programs cannot be loaded on this kernel', 'use tracepoint: or rawtracepoint: probes');
    }
    const hint = 'use a tracepoint (tsbpf -l "tracepoint:*") or rawtracepoint: instead';
    const events = existsSync(`${tracefs()}/kprobe_events`);
    const configured = kernelConfig()?.KPROBES;
    if (!events && (configured === undefined || configured === 'n')) {
      const evidence = `no kprobe PMU in ${PMU_ROOT}, no kprobe_events in tracefs${configured === 'n' ? ', and its config agrees' : ''}`;
      return no(`kprobes are not available: this kernel was built without CONFIG_KPROBES (${evidence})`, hint);
    }
    return no(`kprobes are not available: no kprobe PMU in ${PMU_ROOT} (the kernel is too old for perf-based kprobes or lacks CONFIG_KPROBE_EVENTS)`, hint);
  });
}

/** uprobe:/uretprobe:/usdt: through the uprobe PMU (programs of type kprobe). */
export function uprobeSupport(): Support {
  return cached('uprobe', () => {
    if (pmuType('uprobe') === undefined) {
      return no(`uprobes are not available: no uprobe PMU in ${PMU_ROOT} (kernel built without CONFIG_UPROBE_EVENTS)`, 'use tracepoints for what the kernel does on behalf of the program');
    }
    const r = probeProgType('kprobe');
    return r.fd >= 0 ? yes : no(refusedAsRoot('uprobe programs (type kprobe) cannot be loaded', r.errno), 'check capabilities and lockdown');
  });
}

/** rawtracepoint: through BPF_RAW_TRACEPOINT_OPEN. */
export function rawTracepointSupport(): Support {
  return cached('raw_tracepoint', () => {
    const hint = 'use tracepoint: probes instead';
    assertRoot();
    const p = loadRaw('raw_tracepoint', EXIT_PROG, {}, false);
    if (p.fd < 0) return no(refusedAsRoot('raw tracepoint programs cannot be loaded', p.errno), hint);
    try {
      closeFd(rawTracepointOpen(p.fd, 'sys_enter'));
      return yes;
    } catch (e) {
      return no(refusedAsRoot('attaching a raw tracepoint failed', e instanceof SyscallError ? e.errno : 0), hint);
    } finally {
      closeFd(p.fd);
    }
  });
}

/** fentry:/fexit: (tracing programs, which need kernel BTF). */
export function tracingSupport(): Support {
  return cached('tracing', () => {
    const hint = 'use tracepoint: or rawtracepoint: probes (or uprobe: for user code) instead';
    if (!existsSync(VMLINUX_BTF)) {
      return no(`fentry/fexit are not available: no kernel BTF at ${VMLINUX_BTF} (kernel built without CONFIG_DEBUG_INFO_BTF)`, hint);
    }
    if (haveProgType('tracing')) return yes;
    const { errno } = probeProgType('tracing');
    return no(refusedAsRoot('fentry/fexit are not available: the kernel refuses tracing programs', errno), hint);
  });
}

/** BPF_LINK_CREATE on a perf event (the modern way to attach to perf events and probes). */
export function perfEventLinkSupport(): Support {
  return cached('perf_event_link', () => {
    const hint = 'tsbpf falls back to PERF_EVENT_IOC_SET_BPF';
    assertRoot();
    const p = loadRaw('perf_event', EXIT_PROG, {}, false);
    if (p.fd < 0) return no(refusedAsRoot('perf_event programs cannot be loaded', p.errno), hint);
    let ev = -1;
    try {
      // Disabled and with a one-second period: it never fires while we look.
      ev = perfEventOpen({ type: PerfType.SOFTWARE, config: SwConfig['cpu-clock'], period: 1e9, disabled: true }, -1, 0, 'feature probe');
      closeFd(linkCreate({ progFd: p.fd, targetFd: ev, attachType: 'perf_event' }));
      return yes;
    } catch (e) {
      return no(`perf event links are not available (${e instanceof SyscallError ? e.code : String(e)})`, hint);
    } finally {
      closeFd(ev);
      closeFd(p.fd);
    }
  });
}

/** Many kprobes in one link (fprobe based; independent of the kprobe PMU). */
export function kprobeMultiSupport(): Support {
  return cached('kprobe_multi', () => {
    const hint = 'kprobe wildcards are attached one probe at a time where kprobes exist at all';
    assertRoot();
    const p = loadRaw('kprobe', EXIT_PROG, { expectedAttachType: 'trace_kprobe_multi' }, false);
    if (p.fd < 0) return no(refusedAsRoot('kprobe_multi programs cannot be loaded (kernel older than 5.18?)', p.errno), hint);
    try {
      closeFd(linkCreate({ progFd: p.fd, attachType: 'trace_kprobe_multi', kprobeMulti: { syms: ['vprintk'], retprobe: false } }));
      return yes;
    } catch (e) {
      const errno = e instanceof SyscallError ? e.errno : 0;
      if (errno === EOPNOTSUPP) return no('kprobe_multi links are not available: the kernel was built without CONFIG_FPROBE', hint);
      return no(refusedAsRoot('kprobe_multi links are not available', errno), hint);
    } finally {
      closeFd(p.fd);
    }
  });
}

/** Many uprobes in one link. */
export function uprobeMultiSupport(): Support {
  return cached('uprobe_multi', () => {
    const hint = 'tsbpf attaches uprobes one perf event at a time';
    assertRoot();
    const p = loadRaw('kprobe', EXIT_PROG, { expectedAttachType: 'trace_uprobe_multi' }, false);
    if (p.fd < 0) return no(refusedAsRoot('uprobe_multi programs cannot be loaded (kernel older than 6.6?)', p.errno), hint);
    try {
      // Asking for a probe on "/" (not a regular file) fails with EBADF exactly when the
      // kernel got far enough to understand the request, without attaching anything.
      const path = Buffer.from('/\0', 'latin1');
      const offsets = new BigUint64Array([0n]);
      const buf = Buffer.alloc(144);
      const dv = new DataView(buf.buffer, buf.byteOffset, 144);
      dv.setUint32(0, p.fd, true);
      dv.setUint32(8, AttachType.trace_uprobe_multi, true);
      dv.setBigUint64(16, native.address(path), true);
      dv.setBigUint64(24, native.address(offsets), true);
      dv.setUint32(48, 1, true);
      const r = native.bpf(Cmd.LINK_CREATE, buf);
      closeFd(r);
      if (r >= 0 || -r === EBADF) return yes;
      if (-r === EOPNOTSUPP) return no('uprobe_multi links are not available: the kernel was built without CONFIG_UPROBES', hint);
      return no(refusedAsRoot('uprobe_multi links are not available', -r), hint);
    } finally {
      closeFd(p.fd);
    }
  });
}

/** BPF ring buffers for event output. */
export function ringbufSupport(): Support {
  return cached('ringbuf', () =>
    haveMapType('ringbuf') && haveHelper('tracepoint', 'ringbuf_reserve')
      ? yes
      : no('BPF ring buffers are not available (they need Linux 5.8)', 'events go through a perf event array instead'));
}

/** bpf_probe_write_user (the language's --unsafe writes to user memory). */
export function probeWriteUserSupport(): Support {
  return cached('probe_write_user', () => {
    if (haveHelper('kprobe', 'probe_write_user')) return yes;
    const mode = lockdownMode();
    if (mode === 'integrity' || mode === 'confidentiality') {
      return no(`bpf_probe_write_user is refused under kernel lockdown=${mode}`, 'writing to user memory cannot work on this machine; lockdown can only be lifted by rebooting without it');
    }
    return no('bpf_probe_write_user is not available to kprobe/uprobe programs on this kernel', 'writing to user memory cannot work on this machine');
  });
}

/** Kernel BTF, for struct field access by name and for fentry. */
export function btfSupport(): Support {
  return cached('btf', () =>
    existsSync(VMLINUX_BTF)
      ? yes
      : no(`no kernel BTF at ${VMLINUX_BTF} (kernel built without CONFIG_DEBUG_INFO_BTF)`, 'kernel struct access needs BTF; tracepoint fields still work'));
}

const attachProbes: Record<AttachFeature, () => Support> = {
  kprobe: kprobeSupport,
  uprobe: uprobeSupport,
  raw_tracepoint: rawTracepointSupport,
  tracing: tracingSupport,
  perf_event_link: perfEventLinkSupport,
  kprobe_multi: kprobeMultiSupport,
  uprobe_multi: uprobeMultiSupport,
  ringbuf: ringbufSupport,
  probe_write_user: probeWriteUserSupport,
  btf: btfSupport,
};

export function attachSupport(f: AttachFeature): Support {
  return attachProbes[f]();
}

/**
 * Everything at once (needs root). Cached: a second call makes no bpf(2) calls.
 * `full` also probes the helpers whose probing leaves traces in the kernel log.
 */
export function probeFeatures(opts: { full?: boolean } = {}): FeatureReport {
  assertRoot();
  const names = <T extends string>(table: Record<T, number>): T[] =>
    (Object.keys(table) as T[]).filter((n) => n !== 'unspec');
  return {
    system: systemInfo(),
    programTypes: Object.fromEntries(names(ProgType).map((t) => [t, haveProgType(t)])),
    mapTypes: Object.fromEntries(names(MapType).map((t) => [t, haveMapType(t)])),
    helpers: Object.fromEntries(helperProgTypes.map((t) => [t, helpersOf(t, opts)])),
    attach: Object.fromEntries(attachFeatures.map((f) => [f, attachSupport(f)])) as Record<AttachFeature, Support>,
  };
}
