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
BEGIN {
  printf("Tracing open syscalls... Hit Ctrl-C to end.\\n");
  printf("%-6s %-16s %4s %3s %s\\n", "PID", "COMM", "FD", "ERR", "PATH");
}
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
    summary: 'trace new processes via exec(): time, pid, parent pid, arguments',
    script: `
BEGIN { printf("%-10s %-6s %-6s %s\\n", "TIME(ms)", "PID", "PPID", "ARGS"); }
tracepoint:syscalls:sys_enter_exec* {
  printf("%-10u %-6d %-6d ", elapsed / 1e6, pid, curtask->real_parent->tgid);
  join(args->argv);
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
BEGIN {
  printf("Tracing kill() signals... Hit Ctrl-C to end.\\n");
  printf("%-9s %-6s %-16s %-4s %-6s %s\\n", "TIME", "PID", "COMM", "SIG", "TPID", "RESULT");
}
tracepoint:syscalls:sys_enter_kill { @tpid[tid] = args->pid; @tsig[tid] = args->sig; }
tracepoint:syscalls:sys_exit_kill /@tpid[tid]/ {
  time("%H:%M:%S  ");
  printf("%-6d %-16s %-4d %-6d %d\\n", pid, comm, @tsig[tid], @tpid[tid], args->ret);
  delete(@tpid[tid]); delete(@tsig[tid]);
}
`,
  },
  {
    name: 'tcplife',
    summary: 'TCP sessions when they close: pid, comm, addresses, ports, KB sent/received, lifetime',
    script: `
BEGIN {
  printf("%-5s %-10s %-15s %-5s %-15s %-5s ", "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT");
  printf("%5s %5s %s\\n", "TX_KB", "RX_KB", "MS");
}
// bpftrace's tcplife.bt hooks kprobe:tcp_set_state; sock:inet_sock_set_state is the stable
// tracepoint inside it and carries the addresses. States: 2 SYN_SENT, 4 FIN_WAIT1, 7 CLOSE,
// 9 LAST_ACK; protocol 6 is TCP; family 10 is AF_INET6.
tracepoint:sock:inet_sock_set_state /args->protocol == 6/ {
  $sk = args->skaddr;
  $newstate = args->newstate;
  // The birth is the first state seen; the task is known on connect (client) or on the
  // close from the peer (server), otherwise the current one is the best guess.
  if ($newstate < 4 && @birth[$sk] == 0) { @birth[$sk] = nsecs; }
  if ($newstate == 2 || $newstate == 9) { @skpid[$sk] = pid; @skcomm[$sk] = comm; }
  if ($newstate == 7 && @birth[$sk]) {
    $delta_ms = (nsecs - @birth[$sk]) / 1e6;
    $tp = (struct tcp_sock *)$sk;
    $pid = @skpid[$sk];
    $comm = @skcomm[$sk];
    if ($comm == "") { $pid = pid; $comm = comm; }
    $saddr = ntop(2, args->saddr);
    $daddr = ntop(2, args->daddr);
    if (args->family == 10) { $saddr = ntop(10, args->saddr_v6); $daddr = ntop(10, args->daddr_v6); }
    printf("%-5d %-10.10s %-15s %-5d %-15s %-6d ", $pid, $comm, $saddr, args->sport, $daddr, args->dport);
    printf("%5d %5d %d\\n", $tp->bytes_acked / 1024, $tp->bytes_received / 1024, $delta_ms);
    delete(@birth[$sk]); delete(@skpid[$sk]); delete(@skcomm[$sk]);
  }
}
END { clear(@birth); clear(@skpid); clear(@skcomm); }
`,
  },
  {
    name: 'gethostlatency',
    summary: 'latency of host name lookups (getaddrinfo, gethostbyname) in libc, with the name',
    script: `
BEGIN {
  printf("Tracing getaddr/gethost calls... Hit Ctrl-C to end.\\n");
  printf("%-9s %-6s %-16s %6s %s\\n", "TIME", "PID", "COMM", "LATms", "HOST");
}
uprobe:libc:getaddrinfo, uprobe:libc:gethostbyname, uprobe:libc:gethostbyname2 {
  @start[tid] = nsecs;
  @name[tid] = arg0;
}
uretprobe:libc:getaddrinfo, uretprobe:libc:gethostbyname, uretprobe:libc:gethostbyname2 /@start[tid]/ {
  $latms = (nsecs - @start[tid]) / 1e6;
  time("%H:%M:%S  ");
  printf("%-6d %-16s %6d %s\\n", pid, comm, $latms, str(@name[tid]));
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
