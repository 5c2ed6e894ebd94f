// Typed wrappers over the bpf(2) commands tsbpf uses. Attribute layouts follow
// union bpf_attr in <linux/bpf.h>; unused tail bytes stay zero as the kernel requires.
import { native } from './native.js';
import { check, SyscallError, TsbpfError, VerifierError } from './errors.js';

export const Cmd = {
  MAP_CREATE: 0, MAP_LOOKUP_ELEM: 1, MAP_UPDATE_ELEM: 2, MAP_DELETE_ELEM: 3, MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5, OBJ_PIN: 6, OBJ_GET: 7, PROG_ATTACH: 8, PROG_DETACH: 9, PROG_TEST_RUN: 10,
  PROG_GET_NEXT_ID: 11, MAP_GET_NEXT_ID: 12, PROG_GET_FD_BY_ID: 13, MAP_GET_FD_BY_ID: 14,
  OBJ_GET_INFO_BY_FD: 15, PROG_QUERY: 16, RAW_TRACEPOINT_OPEN: 17, BTF_LOAD: 18, BTF_GET_FD_BY_ID: 19,
  TASK_FD_QUERY: 20, MAP_LOOKUP_AND_DELETE_ELEM: 21, MAP_FREEZE: 22, BTF_GET_NEXT_ID: 23,
  MAP_LOOKUP_BATCH: 24, MAP_LOOKUP_AND_DELETE_BATCH: 25, MAP_UPDATE_BATCH: 26, MAP_DELETE_BATCH: 27,
  LINK_CREATE: 28, LINK_UPDATE: 29, LINK_GET_FD_BY_ID: 30, LINK_GET_NEXT_ID: 31, ENABLE_STATS: 32,
  ITER_CREATE: 33, LINK_DETACH: 34, PROG_BIND_MAP: 35,
} as const;

export const MapType = {
  unspec: 0, hash: 1, array: 2, prog_array: 3, perf_event_array: 4, percpu_hash: 5, percpu_array: 6,
  stack_trace: 7, cgroup_array: 8, lru_hash: 9, lru_percpu_hash: 10, lpm_trie: 11, array_of_maps: 12,
  hash_of_maps: 13, devmap: 14, sockmap: 15, cpumap: 16, xskmap: 17, sockhash: 18, cgroup_storage: 19,
  reuseport_sockarray: 20, percpu_cgroup_storage: 21, queue: 22, stack: 23, sk_storage: 24,
  devmap_hash: 25, struct_ops: 26, ringbuf: 27, inode_storage: 28, task_storage: 29, bloom_filter: 30,
  user_ringbuf: 31, cgrp_storage: 32, arena: 33,
} as const;
export type MapTypeName = keyof typeof MapType;

export const ProgType = {
  unspec: 0, socket_filter: 1, kprobe: 2, sched_cls: 3, sched_act: 4, tracepoint: 5, xdp: 6,
  perf_event: 7, cgroup_skb: 8, cgroup_sock: 9, lwt_in: 10, lwt_out: 11, lwt_xmit: 12, sock_ops: 13,
  sk_skb: 14, cgroup_device: 15, sk_msg: 16, raw_tracepoint: 17, cgroup_sock_addr: 18, lwt_seg6local: 19,
  lirc_mode2: 20, sk_reuseport: 21, flow_dissector: 22, cgroup_sysctl: 23, raw_tracepoint_writable: 24,
  cgroup_sockopt: 25, tracing: 26, struct_ops: 27, ext: 28, lsm: 29, sk_lookup: 30, syscall: 31,
  netfilter: 32,
} as const;
export type ProgTypeName = keyof typeof ProgType;

export const AttachType = {
  cgroup_inet_ingress: 0, cgroup_inet_egress: 1, cgroup_inet_sock_create: 2, cgroup_sock_ops: 3,
  sk_skb_stream_parser: 4, sk_skb_stream_verdict: 5, cgroup_device: 6, sk_msg_verdict: 7,
  cgroup_inet4_bind: 8, cgroup_inet6_bind: 9, cgroup_inet4_connect: 10, cgroup_inet6_connect: 11,
  cgroup_inet4_post_bind: 12, cgroup_inet6_post_bind: 13, cgroup_udp4_sendmsg: 14,
  cgroup_udp6_sendmsg: 15, lirc_mode2: 16, flow_dissector: 17, cgroup_sysctl: 18,
  cgroup_udp4_recvmsg: 19, cgroup_udp6_recvmsg: 20, cgroup_getsockopt: 21, cgroup_setsockopt: 22,
  trace_raw_tp: 23, trace_fentry: 24, trace_fexit: 25, modify_return: 26, lsm_mac: 27, trace_iter: 28,
  cgroup_inet4_getpeername: 29, cgroup_inet6_getpeername: 30, cgroup_inet4_getsockname: 31,
  cgroup_inet6_getsockname: 32, xdp_devmap: 33, cgroup_inet_sock_release: 34, xdp_cpumap: 35,
  sk_lookup: 36, xdp: 37, sk_skb_verdict: 38, sk_reuseport_select: 39,
  sk_reuseport_select_or_migrate: 40, perf_event: 41, trace_kprobe_multi: 42, lsm_cgroup: 43,
  struct_ops: 44, netfilter: 45, tcx_ingress: 46, tcx_egress: 47, trace_uprobe_multi: 48,
} as const;
export type AttachTypeName = keyof typeof AttachType;

export const MapFlags = { NO_PREALLOC: 1, RDONLY_PROG: 1 << 7, WRONLY_PROG: 1 << 8, MMAPABLE: 1 << 10 } as const;
export const UpdateFlags = { ANY: 0n, NOEXIST: 1n, EXIST: 2n } as const;

const ATTR_SIZE = 144;

function attr(): { buf: Buffer; dv: DataView } {
  const buf = Buffer.alloc(ATTR_SIZE);
  return { buf, dv: new DataView(buf.buffer, buf.byteOffset, ATTR_SIZE) };
}

function writeName(buf: Buffer, offset: number, name: string): void {
  // The kernel accepts only [A-Za-z0-9_.] in object names, at most 15 bytes.
  buf.write(name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 15), offset, 'latin1');
}

const addr = (b: ArrayBufferView | null): bigint => (b === null ? 0n : native.address(b));

function sys(op: string, cmd: number, buf: Buffer, hint?: string): number {
  return check(op, native.bpf(cmd, buf), hint);
}

export interface MapCreateOptions {
  type: MapTypeName;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  name?: string;
  innerMapFd?: number;
  /** BTF describing key and value (needed by local-storage maps). */
  btf?: { fd: number; keyTypeId: number; valueTypeId: number };
  btfVmlinuxValueTypeId?: number;
}

/** One BPF_MAP_CREATE: the fd, or -errno (for probing; mapCreate throws instead). */
export function tryMapCreate(o: MapCreateOptions): number {
  const { buf, dv } = attr();
  dv.setUint32(0, MapType[o.type], true);
  dv.setUint32(4, o.keySize, true);
  dv.setUint32(8, o.valueSize, true);
  dv.setUint32(12, o.maxEntries, true);
  dv.setUint32(16, o.flags ?? 0, true);
  dv.setUint32(20, o.innerMapFd ?? 0, true);
  if (o.name) writeName(buf, 28, o.name);
  if (o.btf) {
    dv.setUint32(48, o.btf.fd, true);
    dv.setUint32(52, o.btf.keyTypeId, true);
    dv.setUint32(56, o.btf.valueTypeId, true);
  }
  if (o.btfVmlinuxValueTypeId !== undefined) dv.setUint32(60, o.btfVmlinuxValueTypeId, true);
  return native.bpf(Cmd.MAP_CREATE, buf);
}

export function mapCreate(o: MapCreateOptions): number {
  return check(`creating ${o.type} map '${o.name ?? ''}'`, tryMapCreate(o));
}

/**
 * Element operations reuse one attribute buffer per map: the hot path (map read-out,
 * per-event lookups) then costs one syscall and no allocation.
 */
export class MapElemOps {
  private readonly buf = Buffer.alloc(32);
  private readonly dv = new DataView(this.buf.buffer, this.buf.byteOffset, 32);
  constructor(readonly fd: number) {
    this.dv.setUint32(0, fd, true);
  }
  private set(key: ArrayBufferView | null, value: ArrayBufferView | null, flags: bigint): void {
    this.dv.setBigUint64(8, addr(key), true);
    this.dv.setBigUint64(16, addr(value), true);
    this.dv.setBigUint64(24, flags, true);
  }
  /** Returns false when the key is absent. */
  lookup(key: ArrayBufferView, value: ArrayBufferView): boolean {
    this.set(key, value, 0n);
    const r = native.bpf(Cmd.MAP_LOOKUP_ELEM, this.buf);
    if (r === -2) return false;
    check('map lookup', r);
    return true;
  }
  update(key: ArrayBufferView, value: ArrayBufferView, flags = UpdateFlags.ANY): void {
    this.set(key, value, flags);
    check('map update', native.bpf(Cmd.MAP_UPDATE_ELEM, this.buf));
  }
  /** Returns false when the key was absent. */
  delete(key: ArrayBufferView): boolean {
    this.set(key, null, 0n);
    const r = native.bpf(Cmd.MAP_DELETE_ELEM, this.buf);
    if (r === -2) return false;
    check('map delete', r);
    return true;
  }
  /** Writes the key after `key` (or the first key when null) into `next`; false at the end. */
  nextKey(key: ArrayBufferView | null, next: ArrayBufferView): boolean {
    this.set(key, next, 0n);
    const r = native.bpf(Cmd.MAP_GET_NEXT_KEY, this.buf);
    if (r === -2) return false;
    check('map get_next_key', r);
    return true;
  }
  lookupAndDelete(key: ArrayBufferView | null, value: ArrayBufferView): boolean {
    this.set(key, value, 0n);
    const r = native.bpf(Cmd.MAP_LOOKUP_AND_DELETE_ELEM, this.buf);
    if (r === -2) return false;
    check('map lookup_and_delete', r);
    return true;
  }
}

export interface BatchResult {
  count: number;
  done: boolean;
}

/**
 * BPF_MAP_LOOKUP_BATCH (or _AND_DELETE): fills keys/values with up to `count` entries.
 * `inBatch`/`outBatch` are opaque cursors of the map's key size (hash maps) or 4 bytes (arrays).
 */
export function mapLookupBatch(
  fd: number, inBatch: ArrayBufferView | null, outBatch: ArrayBufferView,
  keys: ArrayBufferView, values: ArrayBufferView, count: number, andDelete = false,
): BatchResult {
  const { buf, dv } = attr();
  dv.setBigUint64(0, addr(inBatch), true);
  dv.setBigUint64(8, addr(outBatch), true);
  dv.setBigUint64(16, addr(keys), true);
  dv.setBigUint64(24, addr(values), true);
  dv.setUint32(32, count, true);
  dv.setUint32(36, fd, true);
  const r = native.bpf(andDelete ? Cmd.MAP_LOOKUP_AND_DELETE_BATCH : Cmd.MAP_LOOKUP_BATCH, buf);
  const got = dv.getUint32(32, true);
  if (r === -2) return { count: got, done: true }; // ENOENT: the last batch
  check('map lookup batch', r);
  return { count: got, done: false };
}

export function mapUpdateBatch(fd: number, keys: ArrayBufferView, values: ArrayBufferView, count: number): number {
  const { buf, dv } = attr();
  dv.setBigUint64(16, addr(keys), true);
  dv.setBigUint64(24, addr(values), true);
  dv.setUint32(32, count, true);
  dv.setUint32(36, fd, true);
  check('map update batch', native.bpf(Cmd.MAP_UPDATE_BATCH, buf));
  return dv.getUint32(32, true);
}

export function mapDeleteBatch(fd: number, keys: ArrayBufferView, count: number): number {
  const { buf, dv } = attr();
  dv.setBigUint64(16, addr(keys), true);
  dv.setUint32(32, count, true);
  dv.setUint32(36, fd, true);
  const r = native.bpf(Cmd.MAP_DELETE_BATCH, buf);
  if (r !== -2) check('map delete batch', r);
  return dv.getUint32(32, true);
}

export interface ProgLoadOptions {
  type: ProgTypeName;
  insns: Uint8Array;
  name?: string;
  license?: string;
  expectedAttachType?: AttachTypeName;
  attachBtfId?: number;
  attachBtfObjFd?: number;
  progFlags?: number;
  /** 0: no log unless the load fails (then retried with level 1); 1 or 2: always log. */
  logLevel?: number;
  logSize?: number;
}

export interface LoadedProg {
  fd: number;
  log: string;
}

export interface LoadAttempt {
  /** The program fd, or -errno. */
  fd: number;
  log: string;
}

/** One BPF_PROG_LOAD, logging into `log` when given (for probing; progLoad throws instead). */
export function tryProgLoad(o: ProgLoadOptions, log?: Buffer, logLevel = 1): LoadAttempt {
  const license = Buffer.from(`${o.license ?? 'GPL'}\0`, 'latin1');
  const { buf, dv } = attr();
  dv.setUint32(0, ProgType[o.type], true);
  dv.setUint32(4, o.insns.byteLength / 8, true);
  dv.setBigUint64(8, addr(o.insns), true);
  dv.setBigUint64(16, addr(license), true);
  if (log) {
    log[0] = 0;
    dv.setUint32(24, logLevel, true);
    dv.setUint32(28, log.byteLength, true);
    dv.setBigUint64(32, addr(log), true);
  }
  dv.setUint32(44, o.progFlags ?? 0, true);
  writeName(buf, 48, o.name ?? 'tsbpf');
  if (o.expectedAttachType !== undefined) dv.setUint32(68, AttachType[o.expectedAttachType], true);
  if (o.attachBtfId !== undefined) dv.setUint32(108, o.attachBtfId, true);
  if (o.attachBtfObjFd !== undefined) dv.setUint32(112, o.attachBtfObjFd, true);
  const fd = native.bpf(Cmd.PROG_LOAD, buf);
  const end = log ? log.indexOf(0) : 0;
  return { fd, log: log ? log.toString('latin1', 0, end < 0 ? log.byteLength : end) : '' };
}

/**
 * Loads a program. A first attempt runs without a log (fast); on failure the load is
 * retried with a verifier log so the error can show why.
 */
export function progLoad(o: ProgLoadOptions): LoadedProg {
  const name = o.name ?? 'tsbpf';
  let level = o.logLevel ?? 0;
  let size = o.logSize ?? 1 << 20;
  const attempt = () => tryProgLoad(o, level ? Buffer.alloc(size) : undefined, level);
  let { fd: r, log } = attempt();
  if (r < 0 && level === 0 && r !== -1) {
    level = 1;
    ({ fd: r, log } = attempt());
  }
  while (r === -28 && level && size < 1 << 28) { // ENOSPC: the log did not fit
    size *= 4;
    ({ fd: r, log } = attempt());
  }
  if (r >= 0) return { fd: r, log };
  if (r === -1) throw new SyscallError(`loading ${o.type} program '${name}'`, 1);
  if (log.trim()) throw new VerifierError(name, -r, log);
  throw new SyscallError(`loading ${o.type} program '${name}'`, -r);
}

export function objPin(fd: number, path: string): void {
  const { buf, dv } = attr();
  const p = Buffer.from(`${path}\0`);
  dv.setBigUint64(0, addr(p), true);
  dv.setUint32(8, fd, true);
  sys(`pinning at ${path}`, Cmd.OBJ_PIN, buf);
}

export function objGet(path: string): number {
  const { buf, dv } = attr();
  const p = Buffer.from(`${path}\0`);
  dv.setBigUint64(0, addr(p), true);
  return sys(`opening pinned ${path}`, Cmd.OBJ_GET, buf);
}

export type ObjKind = 'prog' | 'map' | 'link' | 'btf';
const nextIdCmd = { prog: Cmd.PROG_GET_NEXT_ID, map: Cmd.MAP_GET_NEXT_ID, link: Cmd.LINK_GET_NEXT_ID, btf: Cmd.BTF_GET_NEXT_ID };
const fdByIdCmd = { prog: Cmd.PROG_GET_FD_BY_ID, map: Cmd.MAP_GET_FD_BY_ID, link: Cmd.LINK_GET_FD_BY_ID, btf: Cmd.BTF_GET_FD_BY_ID };

/** Every id of a kind currently in the kernel. */
export function listIds(kind: ObjKind): number[] {
  const ids: number[] = [];
  const { buf, dv } = attr();
  let id = 0;
  for (;;) {
    dv.setUint32(0, id, true);
    const r = native.bpf(nextIdCmd[kind], buf);
    if (r === -2) return ids;
    check(`listing ${kind} ids`, r);
    id = dv.getUint32(4, true);
    ids.push(id);
  }
}

/** An fd for an object id, or -1 if it vanished in between. */
export function fdById(kind: ObjKind, id: number): number {
  const { buf, dv } = attr();
  dv.setUint32(0, id, true);
  const r = native.bpf(fdByIdCmd[kind], buf);
  if (r === -2) return -1;
  return check(`opening ${kind} ${id}`, r);
}

export function objInfo(fd: number, size: number, prepare?: (info: DataView) => void): DataView {
  const info = Buffer.alloc(size);
  const idv = new DataView(info.buffer, info.byteOffset, size);
  prepare?.(idv);
  const { buf, dv } = attr();
  dv.setUint32(0, fd, true);
  dv.setUint32(4, size, true);
  dv.setBigUint64(8, addr(info), true);
  sys('reading object info', Cmd.OBJ_GET_INFO_BY_FD, buf);
  return idv;
}

const cstr = (dv: DataView, off: number, len: number): string => {
  const bytes = new Uint8Array(dv.buffer, dv.byteOffset + off, len);
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.subarray(0, end < 0 ? len : end)).toString('latin1');
};

export interface ProgInfo { id: number; type: number; name: string; tag: string; mapIds: number[]; xlatedLen: number; jitedLen: number; runCnt: bigint; runTimeNs: bigint }
export interface MapInfo { id: number; type: number; name: string; keySize: number; valueSize: number; maxEntries: number; flags: number }
export interface LinkInfo { id: number; type: number; progId: number }

export function progInfo(fd: number): ProgInfo {
  let dv = objInfo(fd, 232);
  const nMaps = dv.getUint32(52, true);
  let mapIds: number[] = [];
  if (nMaps) {
    const ids = new Uint32Array(nMaps);
    dv = objInfo(fd, 232, (d) => {
      d.setUint32(52, nMaps, true);
      d.setBigUint64(56, native.address(ids), true);
    });
    mapIds = [...ids];
  }
  return {
    id: dv.getUint32(4, true), type: dv.getUint32(0, true), name: cstr(dv, 64, 16),
    tag: Buffer.from(dv.buffer, dv.byteOffset + 8, 8).toString('hex'), mapIds,
    xlatedLen: dv.getUint32(20, true), jitedLen: dv.getUint32(16, true),
    runTimeNs: dv.getBigUint64(192, true), runCnt: dv.getBigUint64(200, true),
  };
}

export function mapInfo(fd: number): MapInfo {
  const dv = objInfo(fd, 88);
  return {
    type: dv.getUint32(0, true), id: dv.getUint32(4, true), keySize: dv.getUint32(8, true),
    valueSize: dv.getUint32(12, true), maxEntries: dv.getUint32(16, true), flags: dv.getUint32(20, true),
    name: cstr(dv, 24, 16),
  };
}

export function linkInfo(fd: number): LinkInfo {
  const dv = objInfo(fd, 48);
  return { type: dv.getUint32(0, true), id: dv.getUint32(4, true), progId: dv.getUint32(8, true) };
}

export interface LinkCreateOptions {
  progFd: number;
  targetFd?: number;
  attachType: AttachTypeName;
  flags?: number;
  targetBtfId?: number;
  bpfCookie?: bigint;
  kprobeMulti?: { syms: string[]; retprobe: boolean };
}

export function linkCreate(o: LinkCreateOptions): number {
  const { buf, dv } = attr();
  dv.setUint32(0, o.progFd, true);
  dv.setUint32(4, o.targetFd ?? 0, true);
  dv.setUint32(8, AttachType[o.attachType], true);
  dv.setUint32(12, o.flags ?? 0, true);
  let keep: unknown[] = [];
  if (o.targetBtfId !== undefined) dv.setUint32(16, o.targetBtfId, true);
  if (o.bpfCookie !== undefined) dv.setBigUint64(16, o.bpfCookie, true);
  if (o.kprobeMulti) {
    const strs = o.kprobeMulti.syms.map((s) => Buffer.from(`${s}\0`, 'latin1'));
    const ptrs = new BigUint64Array(strs.map((s) => native.address(s)));
    keep = [strs, ptrs];
    dv.setUint32(16, o.kprobeMulti.retprobe ? 1 : 0, true);
    dv.setUint32(20, strs.length, true);
    dv.setBigUint64(24, native.address(ptrs), true);
  }
  const r = sys(`attaching program (${o.attachType})`, Cmd.LINK_CREATE, buf);
  keep.length = 0;
  return r;
}

export function rawTracepointOpen(progFd: number, name: string | null): number {
  const { buf, dv } = attr();
  const n = name === null ? null : Buffer.from(`${name}\0`, 'latin1');
  dv.setBigUint64(0, addr(n), true);
  dv.setUint32(8, progFd, true);
  return sys(`attaching raw tracepoint ${name ?? ''}`, Cmd.RAW_TRACEPOINT_OPEN, buf);
}

export interface TestRunResult { retval: number; durationNs: number }

export function progTestRun(progFd: number, ctxIn: Uint8Array | null = null, repeat = 0): TestRunResult {
  const { buf, dv } = attr();
  dv.setUint32(0, progFd, true);
  dv.setUint32(32, repeat, true);
  if (ctxIn) {
    dv.setUint32(40, ctxIn.byteLength, true);
    dv.setBigUint64(48, addr(ctxIn), true);
  }
  sys('test-running program', Cmd.PROG_TEST_RUN, buf);
  return { retval: dv.getUint32(4, true), durationNs: dv.getUint32(36, true) };
}

export function btfLoad(blob: Uint8Array): number {
  const { buf, dv } = attr();
  dv.setBigUint64(0, addr(blob), true);
  dv.setUint32(16, blob.byteLength, true);
  return sys('loading BTF', Cmd.BTF_LOAD, buf);
}

export function closeFd(fd: number): void {
  if (fd >= 0) native.close(fd);
}

export function assertRoot(): void {
  if (process.geteuid && process.geteuid() !== 0) {
    throw new TsbpfError('tsbpf needs root to load BPF programs', {
      hint: 'run it with sudo (or grant CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)',
    });
  }
}
