// A process as a tracer sees it: does it exist, which files it has mapped (/proc/PID/maps),
// where a file offset of one of them sits in its address space, and whether it lives in
// another mount namespace (then its paths only make sense under /proc/PID/root).
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { TsbpfError } from '../kernel/errors.js';
import { rangeHolding } from '../elf/search.js';

export interface Mapping {
  start: number;
  end: number;
  /** File offset of `start`. */
  offset: number;
  perms: string;
  /** "major:minor" of the file's device, as maps prints it. */
  dev: string;
  inode: number;
  /** The path maps prints (the process's view), `[vdso]`-style names, or '' for anonymous memory. */
  path: string;
  /** The file was deleted or replaced after it was mapped. */
  deleted: boolean;
}

export function parseProcMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    // 55d4c5a00000-55d4c5a01000 r-xp 00001000 08:01 1234   /usr/bin/x (deleted)
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/.exec(line);
    if (!m) continue;
    let path = m[7];
    const deleted = path.endsWith(' (deleted)');
    if (deleted) path = path.slice(0, -' (deleted)'.length);
    out.push({
      start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], offset: parseInt(m[4], 16),
      dev: m[5], inode: Number(m[6]), path, deleted,
    });
  }
  return out;
}

/** Throws the user-facing error for a PID that names no running process. */
export function requireProcess(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new TsbpfError(`invalid process id '${pid}'`, { hint: 'pass a positive PID with -p' });
  }
  if (!existsSync(`/proc/${pid}`)) {
    throw new TsbpfError(`process ${pid} does not exist`, { hint: 'check the PID with `ps -p PID`; the process may have exited' });
  }
}

export function readMaps(pid: number): Mapping[] {
  requireProcess(pid);
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch (e) {
    throw new TsbpfError(`cannot read /proc/${pid}/maps (${(e as NodeJS.ErrnoException).code ?? e})`, {
      hint: 'the process may have exited, or tracing it needs root',
    });
  }
  return parseProcMaps(text);
}

/** Distinct files the process has mapped, in first-mapped order (the executable first). */
export function mappedFiles(pid: number): string[] {
  const seen = new Set<string>();
  for (const m of readMaps(pid)) if (isFileBacked(m)) seen.add(m.path);
  return [...seen];
}

/** True when `pid` sees a different filesystem tree than we do. */
export function otherMountNamespace(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`) !== readlinkSync('/proc/self/ns/mnt');
  } catch {
    return false;
  }
}

/** A path as the process sees it, turned into one we can open (and the kernel can probe). */
export function hostPath(pid: number, path: string): string {
  return otherMountNamespace(pid) ? `/proc/${pid}/root${path}` : path;
}

/** Runtime address in `pid` of a file offset of the mapped file `path` (process's own path). */
export function addressOf(pid: number, path: string, fileOffset: number): number | undefined {
  for (const m of readMaps(pid)) {
    if (m.path === path && fileOffset >= m.offset && fileOffset < m.offset + (m.end - m.start)) {
      return m.start + (fileOffset - m.offset);
    }
  }
  return undefined;
}

/** /proc/PID/maps, or undefined once the process is gone. */
export function readProcMaps(pid: number): Mapping[] | undefined {
  try {
    return parseProcMaps(readFileSync(`/proc/${pid}/maps`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** The mapping holding `addr` in a sorted list (maps is sorted by start). */
export function mappingAt(maps: readonly Mapping[], addr: number): Mapping | undefined {
  return rangeHolding(maps, (m) => m.start, (m) => m.end, addr);
}

/** File-backed mappings (not anonymous memory, not [heap]/[stack]/[vdso]-style names). */
export function isFileBacked(m: Mapping): boolean {
  return m.inode !== 0 && m.path.startsWith('/');
}
