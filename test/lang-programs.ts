// Real bpftrace programs (one-liners from the bpftrace tutorial and reference, and tools in
// the style of bpftrace's tools/), for parser tests and for later passes' tests.
export interface SampleProgram {
  readonly name: string;
  readonly source: string;
}

export const PROGRAMS: readonly SampleProgram[] = [
  { name: 'hello', source: 'BEGIN { printf("hello world\\n"); }' },
  { name: 'openat-files', source: 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args.filename)); }' },
  { name: 'syscall-count-by-process', source: 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }' },
  { name: 'read-bytes-by-process', source: 'tracepoint:syscalls:sys_exit_read /args.ret/ { @[comm] = sum(args.ret); }' },
  { name: 'read-size-distribution', source: 'tracepoint:syscalls:sys_exit_read { @[comm] = hist(args.ret); }' },
  { name: 'timed-syscall-count', source: 'tracepoint:raw_syscalls:sys_enter { @ = count(); } interval:s:1 { print(@); clear(@); }' },
  { name: 'profile-kernel-stacks', source: 'profile:hz:99 /pid == 189/ { @[ustack] = count(); }' },
  { name: 'scheduler-tracing', source: 'tracepoint:sched:sched_switch { @[kstack] = count(); }' },
  { name: 'block-io', source: 'tracepoint:block:block_rq_issue { @ = hist(args.bytes); }' },
  { name: 'kernel-struct-tracing', source: 'kprobe:vfs_open { printf("open path: %s\\n", str(((struct path *)arg0)->dentry->d_name.name)); }' },
  { name: 'list-sleeps', source: 'kprobe:do_nanosleep { printf("PID %d sleeping...\\n", pid); }' },
  { name: 'count-syscalls-by-program', source: 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }' },
  { name: 'read-latency', source: 'kprobe:vfs_read { @start[tid] = nsecs; } kretprobe:vfs_read /@start[tid]/ { @ns[comm] = hist(nsecs - @start[tid]); delete(@start[tid]); }' },
  { name: 'count-process-level-events', source: 'tracepoint:sched:sched* { @[probe] = count(); } interval:s:5 { exit(); }' },
  { name: 'profile-on-cpu-kernel-stacks', source: 'profile:hz:99 { @[kstack] = count(); }' },
  { name: 'page-faults', source: 'software:faults:1 { @[comm] = count(); }' },
  { name: 'cpu-clock', source: 'software:cpu-clock:1000 { @[cpu] = count(); }' },
  { name: 'bash-readline', source: 'uretprobe:/bin/bash:readline { printf("read a line\\n"); }' },
  { name: 'libc-malloc', source: 'uprobe:/usr/lib/x86_64-linux-gnu/libc.so.6:malloc { @bytes[comm] = sum(arg0); }' },
  { name: 'malloc-offset', source: 'uprobe:libc:malloc+8 { @[ustack(perf)] = count(); }' },
  { name: 'usdt-relative', source: 'usdt:./app:prov:name { printf("%d\\n", arg0); }' },
  { name: 'wildcard-tracepoints', source: 't:syscalls:*open* { @[probe] = count(); }' },
  { name: 'quoted-path', source: 'uprobe:"/path with space":fn { @calls = count(); }' },
  { name: 'address-probe', source: 'uprobe:./app:0x4011a0 { printf("hit at %x\\n", reg("ip")); }' },
  { name: 'go-method', source: 'uprobe:/bin/app:"main.(*T).Method" { @[func] = count(); }' },
  { name: 'interval-ms', source: 'interval:ms:100 { @ticks++; } i:s:1 { printf("%d\\n", @ticks); @ticks = 0; }' },
  { name: 'rawtracepoint', source: 'rawtracepoint:sched_switch { @[cpu] = count(); }' },
  { name: 'kfunc', source: 'kfunc:vfs_read { @bytes = hist(args->count); }' },
  { name: 'fentry-fexit', source: 'fentry:vfs_read { @s[tid] = nsecs; } fexit:vfs_read /@s[tid]/ { @us = hist((nsecs - @s[tid]) / 1000); delete(@s[tid]); }' },
  { name: 'begin-end', source: 'BEGIN { printf("Tracing... Hit Ctrl-C to end.\\n"); } END { clear(@start); }' },
  {
    name: 'opensnoop',
    source: `#!/usr/bin/env bpftrace
/*
 * opensnoop	Trace open() syscalls.
 */
BEGIN
{
	printf("Tracing open syscalls... Hit Ctrl-C to end.\\n");
	printf("%-6s %-16s %4s %3s %s\\n", "PID", "COMM", "FD", "ERR", "PATH");
}

tracepoint:syscalls:sys_enter_open,
tracepoint:syscalls:sys_enter_openat
{
	@filename[tid] = args.filename;
}

tracepoint:syscalls:sys_exit_open,
tracepoint:syscalls:sys_exit_openat
/@filename[tid]/
{
	$ret = args.ret;
	$fd = $ret >= 0 ? $ret : -1;
	$errno = $ret >= 0 ? 0 : - $ret;

	printf("%-6d %-16s %4d %3d %s\\n", pid, comm, $fd, $errno,
	    str(@filename[tid]));
	delete(@filename[tid]);
}

END
{
	clear(@filename);
}
`,
  },
  {
    name: 'execsnoop',
    source: `BEGIN
{
	printf("%-10s %-5s %s\\n", "TIME(ms)", "PID", "ARGS");
}

tracepoint:syscalls:sys_enter_exec*
{
	printf("%-10u %-5d ", elapsed / 1e6, pid);
	join(args.argv);
}
`,
  },
  {
    name: 'biolatency',
    source: `#include <linux/blkdev.h>

BEGIN
{
	printf("Tracing block device I/O... Hit Ctrl-C to end.\\n");
}

tracepoint:block:block_rq_issue
{
	@start[args.dev, args.sector] = nsecs;
}

tracepoint:block:block_rq_complete
/@start[args.dev, args.sector]/
{
	@usecs = hist((nsecs - @start[args.dev, args.sector]) / 1000);
	delete(@start[args.dev, args.sector]);
}

END
{
	clear(@start);
}
`,
  },
  {
    name: 'runqlat',
    source: `#include <linux/sched.h>

#define TASK_RUNNING	0

BEGIN
{
	printf("Tracing CPU scheduler... Hit Ctrl-C to end.\\n");
}

tracepoint:sched:sched_wakeup,
tracepoint:sched:sched_wakeup_new
{
	@qtime[args.pid] = nsecs;
}

tracepoint:sched:sched_switch
{
	if (args.prev_state == TASK_RUNNING) {
		@qtime[args.prev_pid] = nsecs;
	}

	$ns = @qtime[args.next_pid];
	if ($ns) {
		@usecs = hist((nsecs - $ns) / 1000);
	}
	delete(@qtime[args.next_pid]);
}

END
{
	clear(@qtime);
}
`,
  },
  {
    name: 'syscount',
    source: `BEGIN
{
	printf("Counting syscalls... Hit Ctrl-C to end.\\n");
}

tracepoint:raw_syscalls:sys_enter
{
	@syscall[args.id] = count();
	@process[comm] = count();
}

END
{
	printf("\\nTop 10 syscalls IDs:\\n");
	print(@syscall, 10);
	clear(@syscall);

	printf("\\nTop 10 processes:\\n");
	print(@process, 10);
	clear(@process);
}
`,
  },
  {
    name: 'bashreadline',
    source: `BEGIN
{
	printf("Tracing bash commands... Hit Ctrl-C to end.\\n");
	printf("%-9s %-6s %s\\n", "TIME", "PID", "COMMAND");
}

uretprobe:/bin/bash:readline
{
	time("%H:%M:%S  ");
	printf("%-6d %s\\n", pid, str(retval));
}
`,
  },
  {
    name: 'killsnoop',
    source: `tracepoint:syscalls:sys_enter_kill
{
	@tpid[tid] = args.pid;
	@tsig[tid] = args.sig;
}

tracepoint:syscalls:sys_exit_kill
/@tpid[tid]/
{
	time("%H:%M:%S ");
	printf("%-6d %-16s %-4d %-6d %d\\n", pid, comm, @tsig[tid], @tpid[tid],
	    args.ret);
	delete(@tpid[tid]);
	delete(@tsig[tid]);
}
`,
  },
  {
    name: 'vfsstat',
    source: `kprobe:vfs_read*,
kprobe:vfs_write*,
kprobe:vfs_fsync,
kprobe:vfs_open,
kprobe:vfs_create
{
	@[func] = count();
}

interval:s:1
{
	time();
	print(@);
	clear(@);
}

END
{
	clear(@);
}
`,
  },
  {
    name: 'tcpconnect-style',
    source: `#ifndef BPFTRACE_HAVE_BTF
#include <linux/socket.h>
#include <net/sock.h>
#else
#include <sys/socket.h>
#endif

kprobe:tcp_connect
{
	$sk = ((struct sock *) arg0);
	$inet_family = $sk->__sk_common.skc_family;

	if ($inet_family == AF_INET || $inet_family == AF_INET6) {
		if ($inet_family == AF_INET) {
			$daddr = ntop($sk->__sk_common.skc_daddr);
			$saddr = ntop($sk->__sk_common.skc_rcv_saddr);
		} else {
			$daddr = ntop($sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8);
			$saddr = ntop($sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		}
		$lport = $sk->__sk_common.skc_num;
		$dport = $sk->__sk_common.skc_dport;

		// Destination port is big endian, it must be flipped
		$dport = ($dport >> 8) | (($dport << 8) & 0x00FF00);

		time("%H:%M:%S ");
		printf("%-8d %-16s ", pid, comm);
		printf("%-39s %-6d %-39s %-6d\\n", $saddr, $lport, $daddr, $dport);
	}
}
`,
  },
  {
    name: 'struct-definition',
    source: `struct sockaddr_in6_x {
	unsigned short sin6_family;
	u16 sin6_port;
	u32 sin6_flowinfo;
	u8 sin6_addr[16];
	u32 sin6_scope_id, extra;
	char *name;
	int flag : 3;
};

uprobe:/bin/app:connect
{
	$sa = (struct sockaddr_in6_x *)arg1;
	printf("%d\\n", $sa->sin6_port);
}
`,
  },
  {
    name: 'bitesize',
    source: `BEGIN
{
	printf("Tracing block device I/O... Hit Ctrl-C to end.\\n");
}

tracepoint:block:block_rq_issue
{
	@[args.comm] = hist(args.bytes);
}

END
{
	printf("\\nI/O size (bytes) histograms by process name:");
}
`,
  },
  {
    name: 'lhist',
    source: 'tracepoint:syscalls:sys_exit_read /args.ret >= 0/ { @bytes = lhist(args.ret, 0, 1000, 100); }',
  },
  { name: 'stats-min-max-avg', source: 'tracepoint:syscalls:sys_exit_read { @min = min(args.ret); @max = max(args.ret); @avg = avg(args.ret); @st = stats(args.ret); }' },
  { name: 'positional-params', source: 'BEGIN { printf("I got %d, %s (%d args)\\n", $1, str($2), $#); }' },
  { name: 'positional-in-probe', source: 'uprobe:$1:main { @[$2] = count(); }' },
  { name: 'tuples', source: 'BEGIN { $t = (1, 2, "string"); printf("%d %d %s\\n", $t.0, $t.1, $t.2); @tup = (pid, comm); }' },
  { name: 'ternary', source: 'tracepoint:syscalls:sys_exit_read { @error[args.ret < 0 ? "error" : "ok"] = count(); }' },
  { name: 'while-loop', source: 'i:ms:100 { $i = 0; while ($i <= 100) { printf("%d ", $i); if ($i > 5) { break; } $i++; } printf("\\n"); exit(); }' },
  { name: 'unroll', source: 'kprobe:do_nanosleep { $i = 1; unroll(5) { printf("i: %d\\n", $i); $i = $i + 1; } }' },
  { name: 'if-else-chain', source: 'kprobe:vfs_read { if (arg2 > 1000) { @big++; } else if (arg2 > 100) { @medium++; } else { @small++; } }' },
  { name: 'compound-assign', source: 'BEGIN { $x = 1; $x += 2; $x -= 1; $x *= 10; $x /= 2; $x %= 7; $x &= 0xff; $x |= 0x100; $x ^= 3; $x <<= 2; $x >>= 1; @m[1] += $x; exit(); }' },
  { name: 'bitwise-precedence', source: 'BEGIN { $a = 1 | 2 ^ 3 & 4 == 5; $b = 1 << 2 + 3; $c = !0 && ~0 || -1; exit(); }' },
  { name: 'cast-integers', source: 'kretprobe:vfs_read { $r = (int32)retval; @[(uint8)$r] = count(); }' },
  { name: 'ksym-usym', source: 'kprobe:vfs_* { @[ksym(reg("ip"))] = count(); } uprobe:/bin/bash:main { printf("%s\\n", usym(reg("ip"))); }' },
  { name: 'curtask', source: 'tracepoint:sched:sched_process_exec { $task = (struct task_struct *)curtask; printf("%d -> %d\\n", $task->real_parent->tgid, pid); }' },
  { name: 'sizeof', source: 'BEGIN { printf("%d %d %d\\n", sizeof(struct task_struct), sizeof(uint32), sizeof(@x)); exit(); }' },
  { name: 'signal-and-system', source: 'tracepoint:syscalls:sys_enter_kill /args.sig == 9/ { signal("SIGSTOP"); system("echo %d", pid); }' },
  { name: 'printf-formats', source: 'BEGIN { printf("%-16s %5d %x %llu %c %%\\n", "abc", 42, 255, 1000000, 65); exit(); }' },
  { name: 'cgroup', source: 'tracepoint:syscalls:sys_enter_openat /cgroup == cgroupid("/sys/fs/cgroup/unified/mycg")/ { printf("%s\\n", str(args.filename)); }' },
  { name: 'kstack-modes', source: 'profile:hz:49 { @[kstack(perf, 3), ustack(bpftrace, 5)] = count(); }' },
  { name: 'multi-key-map', source: 'tracepoint:syscalls:sys_enter_write { @w[pid, comm, args.fd] = sum(args.count); }' },
  { name: 'strncmp-predicate', source: 'tracepoint:syscalls:sys_enter_openat /strncmp(comm, "bash", 4) == 0/ { @[str(args.filename, 32)] = count(); }' },
  { name: 'buf-and-macaddr', source: 'tracepoint:syscalls:sys_enter_write /args.count > 8/ { printf("%r\\n", buf(args.buf, 8)); }' },
  { name: 'hardware-events', source: 'hardware:cache-misses:1000000 { @[comm] = count(); }' },
  { name: 'aliases-all', source: 'k:f1, kr:f2, u:/bin/sh:main, ur:/bin/sh:main, U:/bin/sh:p:n, p:hz:99, s:faults:1, h:cycles:100, f:vfs_read, fr:vfs_read, rt:sys_enter { @[probe] = count(); }' },
  { name: 'integer-literals', source: 'BEGIN { @a = 1_000_000; @b = 0x7fffffff; @c = 0777; @d = 1e6; @e = 10ul; @f = -42; exit(); }' },
  { name: 'string-escapes', source: 'BEGIN { printf("tab\\there \\"quoted\\" back\\\\slash nul\\x41\\101\\n"); exit(); }' },
  { name: 'comments', source: '// a line comment\nBEGIN /* block */ { /* inside */ @x = 1; // trailing\n}\n' },
  { name: 'predicate-division', source: 'kprobe:vfs_read /arg2 / 2 > 10/ { @ = count(); }' },
  { name: 'predicate-with-comment', source: 'kprobe:vfs_read /pid != 1/ // only user pids\n{ @ = count(); }' },
  { name: 'increments', source: 'BEGIN { @x++; ++@x; @y[1]--; --@y[1]; $z = 0; $z++; ++$z; exit(); }' },
  { name: 'return-and-continue', source: 'BEGIN { $i = 0; while ($i < 10) { $i++; if ($i % 2) { continue; } printf("%d\\n", $i); } if ($i) { return; } exit(); }' },
  { name: 'anonymous-map', source: 'tracepoint:sched:sched_process_fork { @ = count(); @[args.parent_pid] = count(); }' },
  { name: 'oomkill-style', source: 'kprobe:oom_kill_process { $oc = (struct oom_control *)arg0; time("%H:%M:%S "); printf("Triggered by PID %d (\\"%s\\"), OOM kill of PID %d (\\"%s\\"), %d pages\\n", pid, comm, $oc->chosen->pid, $oc->chosen->comm, $oc->totalpages); }' },
  { name: 'array-index', source: 'tracepoint:syscalls:sys_enter_execve { printf("%s\\n", str(args.argv[0])); @a = args.argv[1]; }' },
  { name: 'deref', source: 'uprobe:/bin/app:f { $p = (uint64 *)arg0; printf("%d\\n", *$p); @[**(uint64**)arg1] = count(); }' },
  { name: 'typedef-cast', source: 'kprobe:tcp_sendmsg { $sk = (sock *)arg0; @[$sk->__sk_common.skc_family] = count(); }' },
  { name: 'nested-ternary', source: 'BEGIN { $x = 3; $s = $x == 1 ? "one" : $x == 2 ? "two" : "many"; printf("%s\\n", $s); exit(); }' },
  { name: 'multiline-args', source: 'BEGIN\n{\n\tprintf("%d %d\\n",\n\t    1,\n\t    2);\n}\n' },
  { name: 'define-substitution', source: '#define N 3\n#define LIMIT (N * 100)\nBEGIN { @n = N; @limit = LIMIT; exit(); }' },
];
