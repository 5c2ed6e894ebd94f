// Loads the N-API addon (native/tsbpf.c). Every call returns its result or -errno.
import { createRequire } from 'node:module';

export interface Native {
  bpf(cmd: number, attr: ArrayBufferView): number;
  perfEventOpen(attr: ArrayBufferView, pid: number, cpu: number, groupFd: number, flags: number): number;
  ioctl(fd: number, request: number, arg: number | ArrayBufferView): number;
  close(fd: number): number;
  address(view: ArrayBufferView | ArrayBuffer): bigint;
  mmap(fd: number, length: number, prot: number, flags: number, offset: number): ArrayBuffer | number;
  munmap(mapping: ArrayBuffer): number;
  epollCreate(): number;
  epollCtl(epfd: number, op: number, fd: number, events: number, data: number): number;
  epollWait(epfd: number, out: Uint32Array, timeoutMs: number): number;
  watch(fd: number, onReadable: () => void): object | number;
  unwatch(handle: object): number;
}

const require = createRequire(import.meta.url);
export const native: Native = require('../../../build/Release/tsbpf.node');
