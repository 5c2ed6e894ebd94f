// `tsbpf feature [--json] [--full]`: what this kernel supports, grouped like bpftool's
// `feature probe`, plus how each tsbpf probe kind would attach here and why not.
import { assertRoot } from '../kernel/bpf.js';
import { TsbpfError } from '../kernel/errors.js';
import { FeatureReport, probeFeatures, Support } from '../kernel/features.js';

const usage = `usage: tsbpf feature [--json] [--full]
  --json   one JSON object instead of text
  --full   also probe bpf_trace_printk/bpf_trace_vprintk (leaves a banner in the kernel log)
`;

export async function main(argv: string[]): Promise<number> {
  let json = false, full = false;
  for (const a of argv) {
    if (a === '--json' || a === '-j') json = true;
    else if (a === '--full') full = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(usage);
      return 0;
    } else {
      throw new TsbpfError(`tsbpf feature: unknown option '${a}'`, { hint: 'usage: tsbpf feature [--json] [--full]' });
    }
  }
  // Before any probe: as non-root every probe would fail and read as "unsupported".
  assertRoot();
  const report = probeFeatures({ full });
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : renderText(report));
  return 0;
}

const avail = (ok: boolean): string => (ok ? 'is available' : 'is NOT available');

function supportLines(name: string, s: Support): string[] {
  return s.ok ? [`${name} is available`] : [`${name} is NOT available`, `\treason: ${s.reason}`, `\thint: ${s.hint}`];
}

export function renderText(r: FeatureReport): string {
  const out: string[] = ['Scanning system configuration...'];
  const sys = r.system;
  out.push(`kernel release is ${sys.kernel}`);
  out.push(`kernel lockdown is ${sys.lockdown}`);
  out.push(sys.btf ? 'kernel BTF is available (/sys/kernel/btf/vmlinux)' : 'kernel BTF is NOT available');
  if (sys.jitEnable !== null) {
    out.push(sys.jitEnable === 0 ? 'JIT compiler is disabled' : sys.jitEnable === 2 ? 'JIT compiler is enabled with debugging traces in kernel logs' : 'JIT compiler is enabled');
  }
  if (sys.unprivilegedBpfDisabled !== null) {
    const u = sys.unprivilegedBpfDisabled;
    out.push(u === 0 ? 'bpf() syscall for unprivileged users is enabled'
      : u === 1 ? 'bpf() syscall restricted to privileged users (without recovery)'
        : 'bpf() syscall restricted to privileged users (admin can change)');
  }
  if (sys.config) {
    for (const [k, v] of Object.entries(sys.config)) out.push(v === 'n' ? `CONFIG_${k} is not set` : `CONFIG_${k} is set to ${v}`);
  } else {
    out.push('kernel configuration is not readable (no /proc/config.gz or /boot/config-*)');
  }

  out.push('', 'Scanning eBPF program types...');
  for (const [t, ok] of Object.entries(r.programTypes)) out.push(`eBPF program_type ${t} ${avail(ok)}`);
  out.push('', 'Scanning eBPF map types...');
  for (const [t, ok] of Object.entries(r.mapTypes)) out.push(`eBPF map_type ${t} ${avail(ok)}`);
  out.push('', 'Scanning eBPF helper functions...');
  for (const [t, names] of Object.entries(r.helpers)) {
    out.push(`eBPF helpers supported for program type ${t}:`);
    out.push(...(r.programTypes[t] ? names.map((n) => `\t- ${n}`) : ['\tProgram type not supported']));
  }
  out.push('', 'Scanning tsbpf attach methods...');
  for (const [f, s] of Object.entries(r.attach)) out.push(...supportLines(f, s));
  return `${out.join('\n')}\n`;
}
