// Start-up: wall time and peak RSS from exec to "Attaching N probes..." for tsbpf and
// bpftrace on the same scripts, as ratios. Peak RSS is VmHWM read while the tracer runs.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, hasCommand } from '../test/lib/fixtures.js';

export const STARTUP_SCRIPTS: Array<[string, string]> = [
  ['begin-printf', 'BEGIN { printf("hi\\n"); }'],
  ['count-opens', 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }'],
  ['read-hist', 'tracepoint:syscalls:sys_exit_read /args->ret > 0/ { @bytes = hist(args->ret); }'],
  ['syscall-latency', 'tracepoint:raw_syscalls:sys_enter { @s[tid] = nsecs; } tracepoint:raw_syscalls:sys_exit /@s[tid]/ { @ns[args->id] = hist(nsecs - @s[tid]); delete(@s[tid]); }'],
  ['profile', 'profile:hz:99 { @[cpu] = count(); } interval:s:1 { print(@); clear(@); }'],
  ['btf-curtask', 'tracepoint:syscalls:sys_enter_openat { @[curtask->real_parent->tgid] = count(); }'],
];

interface Sample { ms: number; rssKb: number; nowKb: number }

function startOnce(cmd: string, args: string[]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => { c.kill('SIGKILL'); reject(new Error(`${cmd}: no "Attaching" within 20 s`)); }, 20000);
    c.stdout.on('data', (d) => {
      out += d;
      if (!out.includes('Attaching')) return;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      let rssKb = 0, nowKb = 0;
      try {
        const status = readFileSync(`/proc/${c.pid}/status`, 'latin1');
        rssKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        nowKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      } catch { /* exited already */ }
      clearTimeout(timer);
      c.kill('SIGKILL');
      resolve({ ms, rssKb, nowKb });
    });
    c.on('error', reject);
  });
}

async function median(cmd: string, args: string[], n: number): Promise<Sample> {
  const xs: Sample[] = [];
  for (let i = 0; i < n; i++) xs.push(await startOnce(cmd, args));
  const mid = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { ms: mid(xs.map((x) => x.ms)), rssKb: mid(xs.map((x) => x.rssKb)), nowKb: mid(xs.map((x) => x.nowKb)) };
}

export async function startupBench(runs = 5): Promise<string> {
  const tsbpf = join(repoRoot, 'bin/tsbpf');
  const peer = hasCommand('bpftrace');
  const lines = ['start-up to "Attaching" (median of ' + runs + '; peak RSS, and RSS at that moment), tsbpf vs bpftrace:'];
  for (const [name, prog] of STARTUP_SCRIPTS) {
    const ours = await median(tsbpf, ['-e', prog], runs);
    const mb = (kb: number) => (kb / 1024).toFixed(1).padStart(5);
    let row = `  ${name.padEnd(14)} tsbpf ${ours.ms.toFixed(0).padStart(4)} ms ${mb(ours.rssKb)} MB (now ${mb(ours.nowKb)})`;
    if (peer) {
      const theirs = await median('bpftrace', ['-e', prog], runs);
      row += ` | bpftrace ${theirs.ms.toFixed(0).padStart(4)} ms ${mb(theirs.rssKb)} MB`;
      row += ` | time ratio ${(ours.ms / theirs.ms).toFixed(2)}, RSS ratio ${(ours.rssKb / theirs.rssKb).toFixed(2)}`;
    }
    lines.push(row);
  }
  return lines.join('\n');
}
