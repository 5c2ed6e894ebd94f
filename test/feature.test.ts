// Feature probes against this kernel. Where the answer differs between machines (kprobes,
// fentry, lockdown) the test first establishes the machine's state independently (sysfs,
// a real fentry load on a real kernel function) and then checks the probe agrees with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import {
  haveHelper, haveMapType, haveProgType, helpersOf, kprobeSupport, lockdownMode, probeFeatures,
  probeWriteUserSupport, rawTracepointSupport, tracingSupport, uprobeSupport,
} from '../src/kernel/features.js';
import { closeFd, fdById, listIds, MapType, progInfo, progLoad, ProgType } from '../src/kernel/bpf.js';
import { SyscallError, TsbpfError, VerifierError } from '../src/kernel/errors.js';
import { tracefs } from '../src/kernel/tracefs.js';
import { Btf } from '../src/btf/index.js';
import { Asm } from '../src/isa/asm.js';
import { encode } from '../src/isa/insn.js';

const PMU = '/sys/bus/event_source/devices';

test('the program types tsbpf traces with are supported', () => {
  for (const t of ['tracepoint', 'kprobe', 'perf_event', 'raw_tracepoint'] as const) {
    assert.equal(haveProgType(t), true, t);
  }
  // lirc_mode2 needs CONFIG_BPF_LIRC_MODE2, which this kernel lacks (bpftool agrees).
  assert.equal(haveProgType('lirc_mode2'), false);
});

test('hash, array, ringbuf and stack_trace maps are supported', () => {
  for (const t of ['hash', 'array', 'ringbuf', 'stack_trace', 'percpu_array', 'lru_hash', 'perf_event_array'] as const) {
    assert.equal(haveMapType(t), true, t);
  }
});

test('helpers are probed per program type', () => {
  assert.equal(haveHelper('tracepoint', 'probe_read_user_str'), true);
  assert.equal(haveHelper('tracepoint', 'bpf_probe_read_user_str'), true, 'the bpf_ prefix is optional');
  assert.equal(haveHelper('kprobe', 'get_current_pid_tgid'), true);
  // Packet helpers are not for tracing programs.
  assert.equal(haveHelper('tracepoint', 'xdp_adjust_head'), false);
  assert.equal(haveHelper('xdp', 'xdp_adjust_head'), true);
  // bpf_perf_prog_read_value reads the perf event sample: only perf_event programs have one.
  assert.equal(haveHelper('perf_event', 'perf_prog_read_value'), true);
  assert.equal(haveHelper('tracepoint', 'perf_prog_read_value'), false);
  assert.throws(() => haveHelper('tracepoint', 'no_such_helper'), TsbpfError);
});

test('the helper list agrees with loading a real program that calls the helper', () => {
  // An independent check of the probe: a complete, valid program calling ktime_get_ns loads.
  const a = new Asm().call('ktime_get_ns').movImm(0, 0).exit();
  const { fd } = progLoad({ type: 'tracepoint', insns: encode(a.assemble()), name: 'feature_test' });
  closeFd(fd);
  const list = helpersOf('tracepoint');
  assert.ok(list.includes('bpf_ktime_get_ns'));
  assert.ok(list.includes('bpf_probe_read_user_str'));
  assert.ok(!list.includes('bpf_trace_printk'), 'noisy helpers are left out unless full');
  assert.ok(!list.includes('bpf_xdp_adjust_head'));
});

test('kprobe support matches the kernel: available exactly when the kprobe PMU exists', () => {
  const s = kprobeSupport();
  if (existsSync(`${PMU}/kprobe`)) {
    assert.deepEqual(s, { ok: true });
    return;
  }
  assert.equal(s.ok, false);
  if (s.ok) return;
  if (!existsSync(`${tracefs()}/kprobe_events`)) assert.match(s.reason, /CONFIG_KPROBES/);
  assert.match(s.hint, /tracepoint/);
  assert.ok(!s.reason.includes('\n'), 'one line');
  // kprobe-type programs still load: uprobes use them.
  assert.equal(haveProgType('kprobe'), true);
});

test('uprobe support matches the kernel: available exactly when the uprobe PMU exists', () => {
  assert.equal(uprobeSupport().ok, existsSync(`${PMU}/uprobe`));
});

test('raw tracepoints attach', () => {
  assert.deepEqual(rawTracepointSupport(), { ok: true });
});

/** Loads an fentry program on a real kernel function: the ground truth for tracing support. */
function realFentryLoad(): { ok: true } | { ok: false; errno: number } {
  const btf = Btf.vmlinux();
  const target = btf.findType('func', 'do_sys_openat2') ?? btf.findType('func', 'vfs_read');
  assert.ok(target !== undefined, 'a well-known kernel function has BTF');
  const a = new Asm().movImm(0, 0).exit();
  try {
    const { fd } = progLoad({ type: 'tracing', insns: encode(a.assemble()), expectedAttachType: 'trace_fentry', attachBtfId: target, name: 'feature_test' });
    closeFd(fd);
    return { ok: true };
  } catch (e) {
    if (e instanceof SyscallError || e instanceof VerifierError) return { ok: false, errno: e.errno };
    throw e;
  }
}

test('tracing (fentry) support matches a real fentry load, and says why when refused', () => {
  const truth = realFentryLoad();
  const s = tracingSupport();
  assert.equal(s.ok, truth.ok);
  if (s.ok || truth.ok) return;
  assert.ok(!s.reason.includes('\n'), 'one line');
  if (truth.errno === constants.errno.EPERM) {
    assert.match(s.reason, /EPERM/);
    const mode = lockdownMode();
    if (mode === 'integrity' || mode === 'confidentiality') assert.match(s.reason, new RegExp(`lockdown=${mode}`));
  }
});

test('lockdown mode is read from securityfs', () => {
  const mode = lockdownMode();
  const path = '/sys/kernel/security/lockdown';
  if (existsSync(path)) {
    assert.equal(mode, /\[(\w+)\]/.exec(readFileSync(path, 'latin1'))![1]);
  } else {
    assert.equal(mode, 'unknown');
  }
});

test('bpf_probe_write_user is refused under lockdown, with lockdown named', () => {
  const s = probeWriteUserSupport();
  const mode = lockdownMode();
  if (mode === 'integrity' || mode === 'confidentiality') {
    assert.equal(s.ok, false);
    if (!s.ok) assert.match(s.reason, new RegExp(`lockdown=${mode}`));
  }
  assert.equal(s.ok, haveHelper('kprobe', 'probe_write_user'));
});

test('the full report covers every program and map type and is cached', () => {
  const r = probeFeatures();
  assert.deepEqual(Object.keys(r.programTypes), Object.keys(ProgType).filter((t) => t !== 'unspec'));
  assert.deepEqual(Object.keys(r.mapTypes), Object.keys(MapType).filter((t) => t !== 'unspec'));
  assert.deepEqual(Object.keys(r.helpers), ['kprobe', 'tracepoint', 'perf_event', 'raw_tracepoint']);
  assert.equal(r.attach.kprobe.ok, existsSync(`${PMU}/kprobe`));
  assert.equal(r.attach.btf.ok, existsSync('/sys/kernel/btf/vmlinux'));
  assert.equal(r.system.btf, existsSync('/sys/kernel/btf/vmlinux'));
  assert.equal(r.system.lockdown, lockdownMode());
  if (r.system.config) assert.equal(r.system.config.KPROBES === 'n', !existsSync(`${PMU}/kprobe`) && !existsSync(`${tracefs()}/kprobe_events`));
  assert.deepEqual(probeFeatures(), r);
});

function probePrograms(): number[] {
  return listIds('prog').filter((id) => {
    const fd = fdById('prog', id);
    if (fd < 0) return false;
    try {
      return progInfo(fd).name === 'tsbpf_probe';
    } finally {
      closeFd(fd);
    }
  });
}

test('probing leaves no program behind', async () => {
  probeFeatures();
  // A detached raw tracepoint link drops its program only after an RCU grace period,
  // so give the kernel a moment; a leaked fd would keep the program forever.
  for (let waited = 0; probePrograms().length && waited < 5000; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(probePrograms(), []);
});
