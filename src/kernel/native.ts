// Loads the N-API addon (native/tsbpf.c). Every call returns its result or -errno.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TsbpfError } from './errors.js';

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

/** build/Release/tsbpf.node in the package root, found upward from this file (dist/src/kernel or a bundle in dist/). */
function addonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const p = join(dir, 'build/Release/tsbpf.node');
    if (existsSync(p)) return p;
  }
  throw new TsbpfError('the native addon is not built (build/Release/tsbpf.node is missing)', {
    hint: 'run npm install in the tsbpf package (it builds native/ with node-gyp)',
  });
}

export const native: Native = createRequire(import.meta.url)(addonPath());
