// Ready-made tools in the spirit of BCC's tools/ and bpftrace's tools/*.bt: each is a script
// in the tracing language; `tsbpf tools NAME [ARGS]` runs it (ARGS become $1, $2, ...).

export interface Tool {
  name: string;
  summary: string;
  /** Positional arguments the script reads, for the usage line. */
  args?: string;
  script: string;
}

export const TOOLS: Tool[] = [
  {
    name: 'opensnoop',
    summary: 'trace open() calls: pid, command, fd or error, path',
    script: `
BEGIN { printf("%-6s %-16s %4s %3s %s\\n", "PID", "COMM", "FD", "ERR", "PATH"); }
tracepoint:syscalls:sys_enter_open, tracepoint:syscalls:sys_enter_openat { @filename[tid] = args->filename; }
tracepoint:syscalls:sys_exit_open, tracepoint:syscalls:sys_exit_openat /@filename[tid]/ {
  $ret = args->ret;
  $fd = $ret >= 0 ? $ret : -1;
  $errno = $ret >= 0 ? 0 : - $ret;
  printf("%-6d %-16s %4d %3d %s\\n", pid, comm, $fd, $errno, str(@filename[tid]));
  delete(@filename[tid]);
}
END { clear(@filename); }
`,
  },
  {
    name: 'execsnoop',
    summary: 'trace new processes via exec(): time, pid, parent pid, filename',
    script: `
BEGIN { printf("%-10s %-6s %-6s %s\\n", "TIME(ms)", "PID", "PPID", "FILENAME"); }
tracepoint:syscalls:sys_enter_execve {
  printf("%-10u %-6d %-6d %s\\n", elapsed / 1000000, pid, curtask->real_parent->tgid, str(args->filename));
}
`,
  },
  {
    name: 'syscount',
    summary: 'count system calls by syscall id and by process name; top 10 of each at exit',
    script: `
BEGIN { printf("Counting syscalls... Hit Ctrl-C to end.\\n"); }
tracepoint:raw_syscalls:sys_enter { @syscall[args->id] = count(); @process[comm] = count(); }
END { printf("\\nTop 10 syscalls IDs:\\n"); print(@syscall, 10); clear(@syscall);
      printf("\\nTop 10 processes:\\n"); print(@process, 10); clear(@process); }
`,
  },
  {
    name: 'biolatency',
    summary: 'block I/O latency as a histogram (microseconds)',
    script: `
BEGIN { printf("Tracing block device I/O... Hit Ctrl-C to end.\\n"); }
tracepoint:block:block_rq_issue { @start[args->dev, args->sector] = nsecs; }
tracepoint:block:block_rq_complete /@start[args->dev, args->sector]/ {
  @usecs = hist((nsecs - @start[args->dev, args->sector]) / 1000);
  delete(@start[args->dev, args->sector]);
}
END { clear(@start); }
`,
  },
  {
    name: 'runqlat',
    summary: 'CPU run-queue latency as a histogram (microseconds)',
    script: `
BEGIN { printf("Tracing CPU scheduler... Hit Ctrl-C to end.\\n"); }
tracepoint:sched:sched_wakeup, tracepoint:sched:sched_wakeup_new { @qtime[args->pid] = nsecs; }
tracepoint:sched:sched_switch {
  if (args->prev_state == 0) { @qtime[args->prev_pid] = nsecs; }
  $ns = @qtime[args->next_pid];
  if ($ns) { @usecs = hist((nsecs - $ns) / 1000); }
  delete(@qtime[args->next_pid]);
}
END { clear(@qtime); }
`,
  },
  {
    name: 'killsnoop',
    summary: 'trace signals sent with kill(): sender, target, signal, result',
    script: `
BEGIN { printf("%-6s %-16s %-4s %-6s %s\\n", "PID", "COMM", "SIG", "TPID", "RESULT"); }
tracepoint:syscalls:sys_enter_kill { @tpid[tid] = args->pid; @tsig[tid] = args->sig; }
tracepoint:syscalls:sys_exit_kill /@tpid[tid]/ {
  printf("%-6d %-16s %-4d %-6d %d\\n", pid, comm, @tsig[tid], @tpid[tid], args->ret);
  delete(@tpid[tid]); delete(@tsig[tid]);
}
`,
  },
  {
    name: 'tcplife',
    summary: 'TCP state changes to CLOSE with ports (sock:inet_sock_set_state)',
    script: `
tracepoint:sock:inet_sock_set_state /args->newstate == 7/ {
  printf("%-6d %-16s %-5d %-5d\\n", pid, comm, args->sport, args->dport);
}
`,
  },
  {
    name: 'gethostlatency',
    summary: 'latency of host name lookups (getaddrinfo) in libc, with the name',
    script: `
BEGIN { printf("%-9s %-6s %-16s %6s %s\\n", "TIME", "PID", "COMM", "LATms", "HOST"); }
uprobe:libc:getaddrinfo { @start[tid] = nsecs; @name[tid] = arg0; }
uretprobe:libc:getaddrinfo /@start[tid]/ {
  $lat = (nsecs - @start[tid]) / 1000000;
  time("%H:%M:%S  ");
  printf("%-6d %-16s %6d %s\\n", pid, comm, $lat, str(@name[tid]));
  delete(@start[tid]); delete(@name[tid]);
}
`,
  },
  {
    name: 'profile',
    summary: 'sample stacks at 99 Hz (user and kernel) and count them',
    script: `
profile:hz:99 { @[kstack, ustack, comm] = count(); }
`,
  },
  {
    name: 'gonewproc',
    summary: 'Go: goroutine creations (runtime.newproc1) with the started function; $1 = Go binary',
    args: 'GO_BINARY',
    script: `
BEGIN { printf("%-6s %-16s %-32s %s\\n", "PID", "COMM", "STARTS", "CREATED BY"); }
// newproc1(fn *funcval, callergp *g, callerpc uintptr) runs on the system stack (goid 0 there);
// fn->fn is the code the new goroutine runs; Go 1.17+ wraps \`go f(x)\` in a closure funcN.
uprobe:$1:runtime.newproc1 { printf("%-6d %-16s %-32s %s\\n", pid, comm, usym(*(uint64 *)goarg(0)), usym(goarg(2))); }
`,
  },
  {
    name: 'golatency',
    summary: 'Go: latency histogram of one function, Go-safe return probes; $1 = binary, $2 = function',
    args: 'GO_BINARY FUNCTION',
    script: `
uprobe:$1:$2 { @start[goid] = nsecs; }
uretprobe:$1:$2 /@start[goid]/ { @usecs[func] = hist((nsecs - @start[goid]) / 1000); delete(@start[goid]); }
END { clear(@start); }
`,
  },
];

export function findTool(name: string): Tool | undefined {
  return TOOLS.find((t) => t.name === name);
}
