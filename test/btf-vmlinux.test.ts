// The BTF reader against the running kernel's /sys/kernel/btf/vmlinux, checked against
// what bpftool (libbpf's reader) says about the same file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Btf, VMLINUX_BTF } from '../src/btf/reader.js';
import { arrayInfo, bitfieldAccess, isChar, pointerTarget } from '../src/btf/types.js';
import { bpftool, compareDumps, parseRaw, type RawType } from './lib/btf-dump.js';
import { TsbpfError } from '../src/kernel/errors.js';

const raw = bpftool('raw');
const rawTypes = parseRaw(raw);

// Memory is reported after a full collection so it shows what the reader keeps.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('opening vmlinux BTF and finding task_struct is fast and small', () => {
  gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const btf = Btf.open(VMLINUX_BTF);
  const t1 = performance.now();
  const id = btf.findType('struct', 'task_struct');
  const t2 = performance.now();
  gc();
  const after = process.memoryUsage();
  console.log(`open ${(t1 - t0).toFixed(1)} ms + find task_struct ${(t2 - t1).toFixed(1)} ms ` +
    `(${btf.typeCount - 1} types); heap +${((after.heapUsed - before.heapUsed) / 1e6).toFixed(2)} MB, ` +
    `array buffers +${((after.arrayBuffers - before.arrayBuffers) / 1e6).toFixed(2)} MB ` +
    '(the file itself, plus the index)');
  const want = [...rawTypes.values()].find((t) => t.kind === 'STRUCT' && t.name === 'task_struct');
  assert.equal(id, want?.id);
  assert.equal(btf.typeCount - 1, [...rawTypes.keys()].reduce((a, b) => Math.max(a, b)));
});

test('every vmlinux type decodes to exactly what bpftool dumps', () => {
  const count = compareDumps(Btf.vmlinux(), raw);
  assert.ok(count > 10000, `only ${count} types`);
});

// Member offsets by path, resolved independently from bpftool's dump.
function bpftoolMember(structName: string, path: string): { bitOffset: number; bitSize: number; type: number } {
  const strip = (id: number): RawType => {
    let t = rawTypes.get(id)!;
    while (['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG'].includes(t.kind)) {
      t = rawTypes.get(Number(/type_id=(\d+)/.exec(t.rest)![1]))!;
    }
    return t;
  };
  const find = (t: RawType, name: string, base: number): { bitOffset: number; bitSize: number; type: number } | undefined => {
    const members = t.lines.map((l) => {
      const m = /^'(.*?)' type_id=(\d+) bits_offset=(\d+)(?: bitfield_size=(\d+))?$/.exec(l)!;
      return { name: m[1], type: Number(m[2]), bitOffset: base + Number(m[3]), bitSize: Number(m[4] ?? 0) };
    });
    const direct = members.find((m) => m.name === name);
    if (direct) return { bitOffset: direct.bitOffset, bitSize: direct.bitSize, type: direct.type };
    for (const m of members.filter((x) => x.name === '(anon)')) {
      const found = find(strip(m.type), name, m.bitOffset);
      if (found) return found;
    }
    return undefined;
  };
  let t = [...rawTypes.values()].find((x) => x.kind === 'STRUCT' && x.name === structName)!;
  let acc = 0;
  let res: { bitOffset: number; bitSize: number; type: number } | undefined;
  for (const part of path.split('.')) {
    res = find(t, part, 0);
    assert.ok(res, `bpftool's dump has no ${structName}.${path}`);
    acc += res.bitOffset;
    t = strip(res.type);
  }
  return { ...res!, bitOffset: acc };
}

test('struct member offsets, through nesting and anonymous members, agree with bpftool', () => {
  const btf = Btf.vmlinux();
  const cases: Record<string, string[]> = {
    task_struct: ['tgid', 'pid', 'real_parent', 'parent', 'comm', 'flags', 'mm', 'cred', 'files', 'prio',
      'group_leader', 'start_time', 'stack', 'se.vruntime', 'thread_info.flags', 'sched_reset_on_fork',
      'sched_contributes_to_load', 'sched_remote_wakeup', 'exit_code', 'nsproxy'],
    sk_buff: ['len', 'data_len', 'protocol', 'data', 'head', 'sk', 'dev', 'mark', 'hash', 'cloned', 'pkt_type', 'next'],
    file: ['f_path', 'f_path.dentry', 'f_path.mnt', 'f_inode', 'f_mode', 'f_pos', 'f_flags'],
    dentry: ['d_name', 'd_name.name', 'd_name.len', 'd_name.hash', 'd_inode', 'd_parent', 'd_sb'],
    mm_struct: ['pgd', 'mmap_base', 'start_code', 'arg_start', 'owner'],
  };
  let n = 0, bitfields = 0, viaAnon = 0;
  for (const [struct, paths] of Object.entries(cases)) {
    const id = btf.requireType('struct', struct);
    for (const path of paths) {
      const ours = btf.structMember(id, path);
      const theirs = bpftoolMember(struct, path);
      assert.deepEqual({ bitOffset: ours.bitOffset, bitSize: ours.bitSize, type: ours.type }, theirs, `${struct}.${path}`);
      n++;
      if (ours.bitSize) bitfields++;
      const outer = btf.type(id);
      if (outer.kind === 'struct' && !path.includes('.') && !outer.members.some((m) => m.name === path)) viaAnon++;
    }
  }
  assert.ok(n >= 50 && bitfields >= 5 && viaAnon >= 3, `${n} members, ${bitfields} bitfields, ${viaAnon} via anonymous members`);

  const comm = btf.structMember('task_struct', 'comm');
  assert.equal(btf.typeName(comm.type), 'char[16]');
  assert.equal(btf.sizeOf(comm.type), 16);
  assert.ok(isChar(btf, arrayInfo(btf, comm.type)!.elem));
  assert.ok(!isChar(btf, btf.structMember('task_struct', 'pid').type));
  assert.ok(isChar(btf, pointerTarget(btf, btf.funcArgs('vfs_read')[1].type)!));
  assert.equal(btf.typeName(btf.structMember('task_struct', 'real_parent').type), 'struct task_struct *');
  const bit = btf.structMember('task_struct', 'sched_reset_on_fork');
  assert.deepEqual(bitfieldAccess(bit), { byteOffset: Math.floor(bit.bitOffset / 8), loadSize: 1, shift: bit.bitOffset % 8, bitSize: 1 });
});

test('member lookup failures are TsbpfErrors that name the type and suggest a member', () => {
  const btf = Btf.vmlinux();
  assert.throws(() => btf.structMember('task_struct', 'real_parnt'), (e: unknown) =>
    e instanceof TsbpfError && e.message === "struct task_struct has no member 'real_parnt'" && e.hint === "did you mean 'real_parent'?");
  assert.throws(() => btf.structMember('task_struct', 'real_parent.pid'), (e: unknown) =>
    e instanceof TsbpfError && /is struct task_struct \*, not a struct/.test(e.message) && /'->'/.test(e.hint ?? ''));
  assert.throws(() => btf.structMember('no_such_struct_xyz', 'a'), (e: unknown) =>
    e instanceof TsbpfError && e.message.includes("typedef 'no_such_struct_xyz' is not in"));
});

test('struct member declarations print exactly as bpftool format c prints them', () => {
  const btf = Btf.vmlinux();
  // bpftool renames clashing type names with ___N suffixes; we print the BTF name.
  const lines = bpftool('c').replace(/___\d+\b/g, '').split('\n');
  const blocks = new Map<string, string[]>();
  for (let i = 0; i < lines.length; i++) {
    const head = /^(struct|union) (\w+) \{$/.exec(lines[i]);
    if (!head) continue;
    const members: string[] = [];
    for (let j = i + 1; j < lines.length && !lines[j].startsWith('}'); j++) {
      const l = lines[j];
      // Depth-1 members only; nested anonymous bodies and padding like `long: 64;` are skipped.
      if (/^\t[^\t]/.test(l) && !/[{}]/.test(l) && !/^\t(long|int|short|char): \d+;$/.test(l)) members.push(l.slice(1, -1));
    }
    blocks.set(`${head[1]} ${head[2]}`, members);
  }
  let structs = 0, members = 0;
  for (const kind of ['struct', 'union'] as const) {
    for (const [name, ids] of btf.nameIndex(kind)) {
      // Several types sharing a name is what bpftool's renaming is for; skip those.
      if (ids.length > 1) continue;
      const t = btf.type(ids[0]);
      assert.equal(t.name, name);
      if (t.kind !== kind) continue;
      const want = blocks.get(`${kind} ${t.name}`);
      if (!want) continue;
      const ours = t.members.filter((m) => m.name !== '')
        .map((m) => btf.declaration(m.type, m.name) + (m.bitSize ? `: ${m.bitSize}` : ''))
        .filter((d) => !d.includes('{...}'));
      assert.deepEqual(ours, want, `${kind} ${t.name}`);
      structs++;
      members += ours.length;
    }
  }
  assert.ok(structs > 5000 && members > 30000, `${structs} structs, ${members} members compared`);
});

test('raw tracepoint arguments come from btf_trace_* with names from __bpf_trace_*', () => {
  const btf = Btf.vmlinux();
  const decls = (tp: string) => btf.rawTracepointArgs(tp).map((a) => btf.declaration(a.type, a.name));
  assert.deepEqual(decls('sched_switch'),
    ['bool preempt', 'struct task_struct *prev', 'struct task_struct *next', 'unsigned int prev_state']);
  assert.deepEqual(decls('sched_process_exec'),
    ['struct task_struct *p', 'pid_t old_pid', 'struct linux_binprm *bprm']);
  assert.deepEqual(decls('sys_enter'), ['struct pt_regs *regs', 'long int id']);
  assert.deepEqual(btf.rawTracepointArgs('sys_enter').map((a) => a.index), [0, 1]);
  // The types really are those of the typedef, whose first parameter is `void *__data`.
  const typedef = rawTypes.get(btf.findType('typedef', 'btf_trace_sched_switch')!)!;
  const proto = rawTypes.get(Number(/type_id=(\d+)/.exec(rawTypes.get(Number(/type_id=(\d+)/.exec(typedef.rest)![1]))!.rest)![1]))!;
  assert.equal(proto.kind, 'FUNC_PROTO');
  assert.deepEqual(btf.rawTracepointArgs('sched_switch').map((a) => a.type),
    proto.lines.slice(1).map((l) => Number(/type_id=(\d+)/.exec(l)![1])));
  const names = btf.rawTracepointNames();
  assert.ok(names.includes('sched_switch') && names.includes('sys_exit'), `${names.length} raw tracepoints`);
  assert.throws(() => btf.rawTracepointArgs('no_such_tp'), (e: unknown) => e instanceof TsbpfError && /btf_trace_no_such_tp/.test(e.message));
});

test('funcArgs(vfs_read) gives file, buf, count, pos with C types', () => {
  const btf = Btf.vmlinux();
  const args = btf.funcArgs('vfs_read');
  assert.deepEqual(args.map((a) => a.name), ['file', 'buf', 'count', 'pos']);
  assert.deepEqual(args.map((a) => btf.typeName(a.type)), ['struct file *', 'char *', 'size_t', 'loff_t *']);
  assert.equal(btf.funcSignature(btf.funcProto('vfs_read').func),
    'ssize_t vfs_read(struct file *file, char *buf, size_t count, loff_t *pos)');
  assert.equal(btf.funcSignature(btf.requireType('func', '_printk')), 'int _printk(const char *fmt, ...)');
  assert.throws(() => btf.funcArgs('no_such_function_xyz'), TsbpfError);
});

test('module BTF is read as split BTF on top of vmlinux', (t) => {
  const modules = readdirSync('/sys/kernel/btf').filter((f) => f !== 'vmlinux');
  if (modules.length === 0) {
    t.skip('no module exposes BTF on this machine (/sys/kernel/btf holds only vmlinux); btf-split.test.ts covers split BTF');
    return;
  }
  for (const mod of modules.slice(0, 3)) {
    const btf = Btf.module(mod);
    assert.equal(btf.firstId, Btf.vmlinux().typeCount);
    compareDumps(btf, bpftool('raw', `/sys/kernel/btf/${mod}`, VMLINUX_BTF));
  }
});

test('a missing module is a TsbpfError with a hint', () => {
  assert.throws(() => Btf.module('no_such_module_xyz'), (e: unknown) =>
    e instanceof TsbpfError && /no BTF/.test(e.message) && /ls \/sys\/kernel\/btf/.test(e.hint ?? ''));
});
