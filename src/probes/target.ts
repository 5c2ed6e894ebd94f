// The binary a uprobe or USDT probe names, resolved the way bpftrace does: a path, a program
// on PATH, or a library short name (`libc`, `c`, `libssl.so`) looked up in /etc/ld.so.cache
// and the standard library directories. With a PID the process's own view wins: its
// executable, the libraries it has mapped, and paths inside its mount namespace, reached
// through /proc/PID/root so both we and the kernel can open them.
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, delimiter, join, resolve } from 'node:path';
import { TsbpfError } from '../kernel/errors.js';
import { ElfFile } from '../elf/reader.js';
import { hostPath, mappedFiles, otherMountNamespace, requireProcess } from './procmaps.js';

export interface TargetOptions {
  pid?: number;
}

const libDirs = [
  '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib',
];

/**
 * The path of the ELF file `arg` names, openable from this process (so possibly under
 * /proc/PID/root). Throws a TsbpfError for a missing file, a non-ELF file or a bad PID.
 */
export function resolveBinary(arg: string, opts: TargetOptions = {}): string {
  const { pid } = opts;
  if (pid !== undefined) requireProcess(pid);
  if (!arg) throw new TsbpfError('missing binary in probe', { hint: 'write uprobe:/path/to/binary:function' });
  let found: string | undefined;
  if (arg.includes('/')) {
    found = pid !== undefined && arg.startsWith('/') && !arg.startsWith('/proc/') ? hostPath(pid, arg) : resolve(arg);
    if (!existsSync(found)) throw missing(arg, pid);
  } else {
    const root = pid !== undefined && otherMountNamespace(pid) ? `/proc/${pid}/root` : '';
    found = (pid !== undefined ? inProcess(arg, pid) : undefined) ?? onPath(arg, root) ?? findLibrary(arg, root);
    if (!found) throw missing(arg, pid);
  }
  if (statSync(found).isDirectory()) throw new TsbpfError(`${arg}: is a directory, not a binary`);
  ElfFile.open(found); // throws the clear error for scripts, data files and foreign architectures
  return found;
}

function missing(arg: string, pid: number | undefined): TsbpfError {
  const where = pid === undefined ? '' : ` (looked in process ${pid}${otherMountNamespace(pid) ? `'s mount namespace via /proc/${pid}/root` : ''})`;
  return new TsbpfError(`binary not found: ${arg}${where}`, {
    hint: arg.includes('/')
      ? 'check the path; with -p PID, paths are resolved inside that process\'s filesystem'
      : 'give a path, a program on PATH, or a library name like libc (found via /etc/ld.so.cache)',
  });
}

/** The process's executable or one of its mapped libraries, when `name` names it. */
function inProcess(name: string, pid: number): string | undefined {
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
    if (basename(exe) === name) return hostPath(pid, exe);
  } catch {
    // kernel threads have no exe; fall back to the maps
  }
  const lib = mappedFiles(pid).find((p) => libraryMatches(basename(p), name));
  return lib === undefined ? undefined : hostPath(pid, lib);
}

function onPath(name: string, root: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!dir.startsWith('/')) continue;
    const p = `${root}${join(dir, name)}`;
    try {
      const st = statSync(p);
      if (st.isFile() && st.mode & 0o111) return p;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Does a library file name (`libc.so.6`, `libc-2.31.so`) answer to `name` (`libc`, `c`, `libc.so`)? */
export function libraryMatches(file: string, name: string): boolean {
  if (file === name) return true;
  const stem = (name.startsWith('lib') ? name : `lib${name}`).replace(/\.so$/, '');
  return file.startsWith(`${stem}.so`) || (file.startsWith(`${stem}-`) && /\.so(\.|$)/.test(file));
}

/** A shared library by short name, via ld.so.cache then the standard directories; `root` prefixes both. */
export function findLibrary(name: string, root = ''): string | undefined {
  const cached = readLdCache(`${root}/etc/ld.so.cache`).find((e) => libraryMatches(e.name, name));
  if (cached && existsSync(`${root}${cached.path}`)) return `${root}${cached.path}`;
  for (const dir of libDirs) {
    let files: string[];
    try {
      files = readdirSync(`${root}${dir}`);
    } catch {
      continue;
    }
    // A versioned runtime name (libc.so.6) over the development symlink or linker script (libc.so).
    const hits = files.filter((f) => libraryMatches(f, name)).sort((a, b) => Number(/\.so\.\d/.test(b)) - Number(/\.so\.\d/.test(a)));
    for (const f of hits) {
      const p = `${root}${dir}/${f}`;
      if (isElf(p)) return p;
    }
  }
  return undefined;
}

function isElf(path: string): boolean {
  try {
    ElfFile.open(path);
    return true;
  } catch {
    return false;
  }
}

export interface LdCacheEntry {
  /** The soname ldconfig recorded, e.g. `libc.so.6`. */
  name: string;
  path: string;
}

const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const FLAG_ELF_LIBC6 = 0x0003;
const FLAG_X8664_LIB64 = 0x0300;

/** x86-64 glibc entries of an ld.so.cache (the "new" format, alone or after the old one). */
export function readLdCache(path = '/etc/ld.so.cache'): LdCacheEntry[] {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch {
    return [];
  }
  const base = data.indexOf(NEW_MAGIC, 0, 'latin1');
  if (base < 0 || base + 48 > data.length) return [];
  const count = data.readUInt32LE(base + 20);
  const out: LdCacheEntry[] = [];
  const str = (off: number): string => {
    const at = base + off;
    const end = data.indexOf(0, at);
    return data.toString('utf8', at, end < 0 ? data.length : end);
  };
  for (let i = 0; i < count; i++) {
    const o = base + 48 + i * 24;
    if (o + 24 > data.length) break;
    const flags = data.readInt32LE(o);
    if ((flags & 0xff) !== FLAG_ELF_LIBC6 || (flags & 0xff00) !== FLAG_X8664_LIB64) continue;
    out.push({ name: str(data.readUInt32LE(o + 4)), path: str(data.readUInt32LE(o + 8)) });
  }
  return out;
}
