// `tsbpf demo`: traces a workload it starts itself, so the quick start needs nothing else.
// The workload is a shell loop of short `cat` processes; the script counts their opens by
// file and their exec'd commands, and draws a histogram of the bytes each read() returned.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as trace } from './trace.js';

export const demoScript = `
BEGIN { printf("Tracing a demo workload (200 short cat processes)...\\n"); }
tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { @opens[str(args->filename)] = count(); }
tracepoint:syscalls:sys_exit_read /comm == "cat" && args->ret >= 0/ { @read_bytes = hist(args->ret); }
tracepoint:sched:sched_process_exec { @execs[comm] = count(); }
END { printf("workload finished\\n"); }
`;

const workload = `export LC_ALL=C  # no locale files: the opens shown are the workload's own
i=0
while [ $i -lt 200 ]; do
  cat /etc/hostname /etc/os-release /proc/self/status > /dev/null
  i=$((i+1))
done
`;

export async function main(argv: string[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-demo-'));
  try {
    const sh = join(dir, 'workload.sh');
    writeFileSync(sh, workload);
    return await trace(['-c', `/bin/sh ${sh}`, ...argv, '-e', demoScript]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
