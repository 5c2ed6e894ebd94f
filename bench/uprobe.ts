// Per-hit cost of uprobes: the same fixture loop untraced, under tsbpf and under bpftrace,
// for a counting uprobe and for a uprobe+uretprobe latency histogram (ns/hit, ratio).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildC, hasCommand, repoRoot } from '../test/lib/fixtures.js';

const N = 200_000;

function loopNs(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120000 });
  const m = /loop_ns (\d+)/.exec(r.stdout);
  if (!m) throw new Error(`${cmd} ${args.slice(0, 2).join(' ')}: no loop time (exit ${r.status}): ${r.stderr.slice(0, 300)}`);
  return Number(m[1]);
}

export async function uprobeBench(): Promise<string> {
  const fix = buildC('bench_loop', ['-O2']);
  const tsbpf = join(repoRoot, 'bin/tsbpf');
  const progs: Array<[string, string]> = [
    ['count', `uprobe:${fix}:hit { @c = count(); }`],
    ['latency hist', `uprobe:${fix}:hit { @s[tid] = nsecs; } uretprobe:${fix}:hit /@s[tid]/ { @ns = hist(nsecs - @s[tid]); delete(@s[tid]); }`],
  ];
  const base = Math.min(...[0, 1, 2].map(() => loopNs(fix, [String(N)])));
  const lines = [`uprobe per-hit overhead (${N} hits; untraced loop ${(base / N).toFixed(1)} ns/call):`];
  for (const [name, prog] of progs) {
    const ours = (loopNs(tsbpf, ['-c', `${fix} ${N}`, '-e', prog]) - base) / N;
    let row = `  ${name.padEnd(13)} tsbpf ${ours.toFixed(0)} ns/hit`;
    if (hasCommand('bpftrace')) {
      const theirs = (loopNs('bpftrace', ['-c', `${fix} ${N}`, '-e', prog]) - base) / N;
      row += ` | bpftrace ${theirs.toFixed(0)} ns/hit | ratio ${(ours / theirs).toFixed(2)}`;
    }
    lines.push(row);
  }
  return lines.join('\n');
}
