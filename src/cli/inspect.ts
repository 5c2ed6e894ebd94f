// `tsbpf prog|map|link list [--json]` and `tsbpf prog dump ID`: bpftool-style inspection of
// what is loaded in the kernel, with JSON for scripts.
import { closeFd, fdById, linkInfo, listIds, mapInfo, ObjKind, objInfo, progInfo, ProgType, MapType } from '../kernel/bpf.js';
import { assertRoot } from '../kernel/bpf.js';
import { native } from '../kernel/native.js';
import { TsbpfError } from '../kernel/errors.js';
import { decode } from '../isa/insn.js';
import { disassemble } from '../isa/disasm.js';

const nameOf = (table: Record<string, number>, v: number): string =>
  Object.entries(table).find(([, n]) => n === v)?.[0] ?? `type ${v}`;

function withFd<T>(kind: ObjKind, id: number, f: (fd: number) => T): T | undefined {
  const fd = fdById(kind, id);
  if (fd < 0) return undefined; // went away while we listed
  try {
    return f(fd);
  } finally {
    closeFd(fd);
  }
}

function rows(kind: 'prog' | 'map' | 'link'): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const id of listIds(kind)) {
    const row = withFd(kind, id, (fd) => {
      if (kind === 'prog') {
        const p = progInfo(fd);
        return { id: p.id, type: nameOf(ProgType, p.type), name: p.name, tag: p.tag, map_ids: p.mapIds, bytes_xlated: p.xlatedLen, bytes_jited: p.jitedLen, run_cnt: Number(p.runCnt), run_time_ns: Number(p.runTimeNs) };
      }
      if (kind === 'map') {
        const m = mapInfo(fd);
        return { id: m.id, type: nameOf(MapType, m.type), name: m.name, bytes_key: m.keySize, bytes_value: m.valueSize, max_entries: m.maxEntries, flags: m.flags };
      }
      const l = linkInfo(fd);
      return { id: l.id, type: l.type, prog_id: l.progId };
    });
    if (row) out.push(row);
  }
  return out;
}

function text(kind: string, r: Record<string, unknown>): string {
  if (kind === 'prog') return `${r.id}: ${r.type}  name ${r.name}  tag ${r.tag}\n\txlated ${r.bytes_xlated}B  jited ${r.bytes_jited}B${(r.map_ids as number[]).length ? `  map_ids ${(r.map_ids as number[]).join(',')}` : ''}`;
  if (kind === 'map') return `${r.id}: ${r.type}  name ${r.name}  flags 0x${(r.flags as number).toString(16)}\n\tkey ${r.bytes_key}B  value ${r.bytes_value}B  max_entries ${r.max_entries}`;
  return `${r.id}: type ${r.type}  prog ${r.prog_id}`;
}

/** The kernel's translated instructions of a loaded program. */
function dumpXlated(id: number): string {
  const res = withFd('prog', id, (fd) => {
    const len = progInfo(fd).xlatedLen;
    const insns = new Uint8Array(len);
    objInfo(fd, 232, (d) => {
      d.setUint32(20, len, true);
      d.setBigUint64(32, native.address(insns), true);
    });
    return disassemble(decode(insns));
  });
  if (res === undefined) throw new TsbpfError(`no program with id ${id}`, { hint: 'see tsbpf prog list' });
  return res;
}

export async function main(argv: string[], kind: 'prog' | 'map' | 'link'): Promise<number> {
  assertRoot();
  const [verb = 'list', ...rest] = argv;
  const json = rest.includes('--json') || argv.includes('--json');
  if (verb === 'list' || verb === '--json') {
    const r = rows(kind);
    process.stdout.write(json ? JSON.stringify(r) + '\n' : r.map((x) => text(kind, x)).join('\n') + (r.length ? '\n' : ''));
    return 0;
  }
  if (verb === 'dump' && kind === 'prog') {
    const id = Number(rest.find((a) => /^\d+$/.test(a)));
    if (!id) throw new TsbpfError('tsbpf prog dump needs a program id', { hint: 'see tsbpf prog list' });
    process.stdout.write(dumpXlated(id) + '\n');
    return 0;
  }
  throw new TsbpfError(`unknown '${kind}' command '${verb}'`, { hint: `use: tsbpf ${kind} list [--json]${kind === 'prog' ? ' | tsbpf prog dump ID' : ''}` });
}
