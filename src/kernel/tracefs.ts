// tracefs: where it is (mounting it when absent), tracepoint ids and their formats.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { TsbpfError } from './errors.js';

let root: string | undefined;

/** The tracefs mount point; mounts tracefs at /sys/kernel/tracing if it is nowhere. */
export function tracefs(): string {
  if (root) return root;
  const mounts = readFileSync('/proc/mounts', 'latin1').split('\n').map((l) => l.split(' '));
  const found = mounts.find((m) => m[2] === 'tracefs')?.[1];
  if (found) return (root = found);
  const debugfs = mounts.find((m) => m[2] === 'debugfs')?.[1];
  if (debugfs && existsSync(`${debugfs}/tracing/events`)) return (root = `${debugfs}/tracing`);
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { stdio: 'pipe' });
  } catch (e) {
    throw new TsbpfError('tracefs is not mounted and mounting it at /sys/kernel/tracing failed', {
      hint: 'run as root, or mount it yourself: mount -t tracefs nodev /sys/kernel/tracing',
      cause: e,
    });
  }
  return (root = '/sys/kernel/tracing');
}

export function tracepointExists(category: string, name: string): boolean {
  return existsSync(`${tracefs()}/events/${category}/${name}/id`);
}

export function tracepointId(category: string, name: string): number {
  const path = `${tracefs()}/events/${category}/${name}/id`;
  try {
    return Number(readFileSync(path, 'latin1').trim());
  } catch {
    throw new TsbpfError(`tracepoint not found: ${category}:${name}`, {
      hint: `list the ones that exist with: tsbpf -l 'tracepoint:${category}:*'`,
    });
  }
}

export interface TracepointField {
  name: string;
  /** The C type as written in the format file, e.g. `const char *` or `char[16]`. */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** `__data_loc` fields hold (len << 16 | offset) of data stored after the record. */
  dataLoc: boolean;
  /** Element count for fixed arrays like `char comm[16]`. */
  arrayLen?: number;
}

export interface TracepointFormat {
  category: string;
  name: string;
  id: number;
  /** Fields after the common_* header, in order. */
  fields: TracepointField[];
  common: TracepointField[];
}

export function parseFormat(text: string, category: string, name: string): TracepointFormat {
  const fields: TracepointField[] = [];
  const common: TracepointField[] = [];
  let id = -1;
  for (const line of text.split('\n')) {
    const idm = /^ID:\s*(\d+)/.exec(line);
    if (idm) id = Number(idm[1]);
    const m = /^\s*field:(.*);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/.exec(line);
    if (!m) continue;
    let decl = m[1].trim();
    const dataLoc = decl.startsWith('__data_loc ');
    if (dataLoc) decl = decl.slice('__data_loc '.length);
    let arrayLen: number | undefined;
    const arr = /\[(\d*)\]$/.exec(decl);
    if (arr) {
      decl = decl.slice(0, arr.index).trim();
      if (arr[1]) arrayLen = Number(arr[1]);
    }
    const nm = /([A-Za-z_]\w*)$/.exec(decl);
    if (!nm) continue;
    let type = decl.slice(0, nm.index).trim();
    if (arr && !dataLoc) type = `${type}[${arrayLen ?? ''}]`;
    const f: TracepointField = {
      name: nm[1], type, offset: Number(m[2]), size: Number(m[3]), signed: m[4] === '1', dataLoc, arrayLen,
    };
    (f.name.startsWith('common_') ? common : fields).push(f);
  }
  return { category, name, id, fields, common };
}

export function tracepointFormat(category: string, name: string): TracepointFormat {
  const path = `${tracefs()}/events/${category}/${name}/format`;
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    throw new TsbpfError(`tracepoint not found: ${category}:${name}`, {
      hint: `list the ones that exist with: tsbpf -l 'tracepoint:${category}:*'`,
    });
  }
  return parseFormat(text, category, name);
}

/** Every tracepoint as [category, name]. */
export function listTracepoints(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const events = `${tracefs()}/events`;
  for (const cat of readdirSync(events, { withFileTypes: true })) {
    if (!cat.isDirectory()) continue;
    for (const ev of readdirSync(`${events}/${cat.name}`, { withFileTypes: true })) {
      if (ev.isDirectory()) out.push([cat.name, ev.name]);
    }
  }
  return out.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
}
