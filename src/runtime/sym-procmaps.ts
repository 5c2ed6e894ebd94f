// A process's address space as /proc/PID/maps describes it: which file is mapped where,
// from which file offset. User addresses stay below 2^47 on x86-64, so plain numbers hold them.
import { readFileSync } from 'node:fs';

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
  let lo = 0;
  let hi = maps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = maps[mid];
    if (addr < m.start) hi = mid - 1;
    else if (addr >= m.end) lo = mid + 1;
    else return m;
  }
  return undefined;
}

/** File-backed mappings (not anonymous memory, not [heap]/[stack]/[vdso]-style names). */
export function isFileBacked(m: Mapping): boolean {
  return m.inode !== 0 && m.path.startsWith('/');
}
