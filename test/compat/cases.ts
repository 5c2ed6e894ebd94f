// bpftrace programs whose output under tsbpf must match bpftrace 0.17's on the same workload.
// `exact`: the whole stdout is deterministic and compared byte for byte (with bpftrace when it is
// installed, else with the expected text stored here where given). `shape`: numbers differ
// between runs, so lines are compared with every number replaced by N.
// Workload `opener`: the test runs `-c OPENER /etc/hostname 100`, a static binary that makes
// exactly 100 openat() calls; programs filter on `pid == cpid` to see only it.
export interface CompatCase {
  name: string;
  prog: string;
  compare: 'exact' | 'shape';
  workload?: 'opener';
  params?: string[];
  /** Expected tsbpf stdout when bpftrace is not installed (exact cases). */
  expect?: string;
}

const B = (body: string) => `BEGIN { ${body} exit(); }`;

export const CASES: CompatCase[] = [
  // printf and literals
  { name: 'hello', prog: B('printf("hello world\\n");'), compare: 'exact', expect: 'Attaching 1 probe...\nhello world\n\n\n' },
  { name: 'printf-ints', prog: B('printf("%d %u %x %X %o\\n", -5, 5, 255, 255, 8);'), compare: 'exact' },
  { name: 'printf-widths', prog: B('printf("[%5d] [%-5d] [%05d] [%10s] [%-10s]\\n", 42, 42, 42, "abc", "abc");'), compare: 'exact' },
  { name: 'printf-long', prog: B('printf("%lu %llu %ld %lld\\n", 1 << 40, 1 << 50, -(1 << 40), -1);'), compare: 'exact' },
  { name: 'printf-char', prog: B('printf("%c%c%c\\n", 104, 105, 33);'), compare: 'exact' },
  { name: 'printf-percent', prog: B('printf("100%% done %d\\n", 1);'), compare: 'exact' },
  { name: 'printf-escapes', prog: B('printf("tab\\there \\"quoted\\" back\\\\slash\\n");'), compare: 'exact' },
  { name: 'printf-many-args', prog: B('printf("%d %d %d %d %d %d %d\\n", 1, 2, 3, 4, 5, 6, 7);'), compare: 'exact' },
  // arithmetic and operators
  { name: 'arith', prog: B('printf("%d %d %d %d %d\\n", 7 + 3, 7 - 10, 6 * 7, 17 / 5, 17 % 5);'), compare: 'exact' },
  { name: 'bitwise', prog: B('printf("%d %d %d %d %d %d\\n", 12 & 10, 12 | 10, 12 ^ 10, 1 << 10, 1024 >> 3, ~0 & 255);'), compare: 'exact' },
  { name: 'compare', prog: B('printf("%d %d %d %d %d %d\\n", 1 < 2, 2 <= 1, 3 > 2, 3 >= 4, 5 == 5, 5 != 5);'), compare: 'exact' },
  { name: 'logical', prog: B('printf("%d %d %d\\n", 1 && 0, 1 || 0, !0);'), compare: 'exact' },
  { name: 'ternary', prog: B('$x = 5; printf("%s %d\\n", $x > 3 ? "big" : "small", $x < 3 ? 1 : 2);'), compare: 'exact' },
  { name: 'precedence', prog: B('printf("%d %d\\n", 2 + 3 * 4, (2 + 3) * 4);'), compare: 'exact' },
  { name: 'negative-div', prog: B('$a = -7; printf("%d\\n", $a * 3);'), compare: 'exact' },
  // variables and control flow
  { name: 'scratch-vars', prog: B('$a = 1; $b = $a + 41; printf("%d\\n", $b);'), compare: 'exact' },
  { name: 'if-else', prog: B('$x = 3; if ($x > 5) { printf("big\\n"); } else if ($x > 2) { printf("medium\\n"); } else { printf("small\\n"); }'), compare: 'exact' },
  { name: 'unroll', prog: B('$i = 0; unroll(5) { $i = $i + 2; } printf("%d\\n", $i);'), compare: 'exact' },
  { name: 'while', prog: B('$i = 0; $s = 0; while ($i < 10) { $s += $i; $i++; } printf("%d\\n", $s);'), compare: 'exact' },
  { name: 'while-break', prog: B('$i = 0; while ($i < 100) { if ($i == 7) { break; } $i++; } printf("%d\\n", $i);'), compare: 'exact' },
  { name: 'compound-assign', prog: B('$x = 10; $x += 5; $x -= 3; $x *= 2; $x /= 4; $x <<= 2; printf("%d\\n", $x);'), compare: 'exact' },
  { name: 'increment', prog: B('$x = 1; $x++; ++$x; $x--; printf("%d\\n", $x);'), compare: 'exact' },
  { name: 'return-early', prog: 'BEGIN { printf("a\\n"); exit(); return; printf("never\\n"); }', compare: 'exact' },
  { name: 'casts', prog: B('$x = (uint8)257; $y = (int8)255; printf("%d %d\\n", $x, $y);'), compare: 'exact' },
  // strings
  { name: 'string-var', prog: B('$s = "hello"; printf("%s world\\n", $s);'), compare: 'exact' },
  { name: 'string-compare', prog: B('$s = "abc"; if ($s == "abc") { printf("eq\\n"); } if ($s != "abd") { printf("ne\\n"); }'), compare: 'exact' },
  { name: 'comm', prog: B('printf("%d\\n", comm == "bpftrace" || comm == "node");'), compare: 'exact' },
  // maps: values and aggregations
  { name: 'map-int', prog: B('@x = 42;'), compare: 'exact' },
  { name: 'map-keyed', prog: B('@a[1] = 10; @a[2] = 20; @a[3] = 5;'), compare: 'exact' },
  { name: 'map-string-key', prog: B('@s["b"] = 2; @s["a"] = 1; @s["c"] = 3;'), compare: 'exact' },
  { name: 'map-multikey', prog: B('@m[1, "x"] = 1; @m[2, "y"] = 2;'), compare: 'exact' },
  { name: 'map-string-value', prog: B('@name = "tsbpf";'), compare: 'exact' },
  { name: 'count', prog: B('@c = count(); @c = count(); @c = count();'), compare: 'exact' },
  { name: 'count-keyed', prog: B('@c["a"] = count(); @c["b"] = count(); @c["b"] = count();'), compare: 'exact' },
  { name: 'sum', prog: B('@s = sum(5); @s = sum(10); @s = sum(-3);'), compare: 'exact' },
  { name: 'avg', prog: B('@a = avg(10); @a = avg(20); @a = avg(33);'), compare: 'exact' },
  { name: 'min-max', prog: B('@mn = min(5); @mn = min(-2); @mn = min(9); @mx = max(5); @mx = max(11); @mx = max(3);'), compare: 'exact' },
  { name: 'stats', prog: B('@s = stats(10); @s = stats(20); @s = stats(60);'), compare: 'exact' },
  { name: 'hist', prog: B('@h = hist(0); @h = hist(1); @h = hist(5); @h = hist(100); @h = hist(100); @h = hist(1000);'), compare: 'exact' },
  { name: 'hist-negative', prog: B('@h = hist(-1); @h = hist(3);'), compare: 'exact' },
  { name: 'hist-keyed', prog: B('@h["a"] = hist(2); @h["b"] = hist(2000);'), compare: 'exact' },
  { name: 'lhist', prog: B('@l = lhist(3, 0, 10, 2); @l = lhist(7, 0, 10, 2); @l = lhist(7, 0, 10, 2); @l = lhist(15, 0, 10, 2);'), compare: 'exact' },
  { name: 'lhist-below', prog: B('@l = lhist(-5, 0, 100, 10); @l = lhist(55, 0, 100, 10);'), compare: 'exact' },
  { name: 'map-increment', prog: B('@x++; @x++; @y[1]++; @y[1] += 5;'), compare: 'exact' },
  { name: 'map-read', prog: B('@a = 5; @b = @a * 2; printf("%d\\n", @b);'), compare: 'exact' },
  { name: 'map-missing-key', prog: B('@a[1] = 5; printf("%d\\n", @a[2]);'), compare: 'exact' },
  { name: 'delete', prog: B('@a[1] = 1; @a[2] = 2; delete(@a[1]);'), compare: 'exact' },
  { name: 'clear', prog: 'BEGIN { @a[1] = 1; @b = 2; clear(@a); exit(); }', compare: 'exact' },
  { name: 'zero', prog: 'BEGIN { @c = count(); @c = count(); zero(@c); exit(); }', compare: 'exact' },
  { name: 'print-map', prog: 'BEGIN { @a[1] = 10; @a[2] = 20; print(@a); clear(@a); exit(); }', compare: 'exact' },
  { name: 'print-top', prog: 'BEGIN { @a[1] = 10; @a[2] = 30; @a[3] = 20; print(@a, 2); clear(@a); exit(); }', compare: 'exact' },
  { name: 'print-div', prog: 'BEGIN { @a[1] = 1000; @a[2] = 3000; print(@a, 0, 10); clear(@a); exit(); }', compare: 'exact' },
  { name: 'print-value', prog: 'BEGIN { print(123); print("text"); exit(); }', compare: 'exact' },
  { name: 'tuple-value', prog: B('@t = (1, "two", 3);'), compare: 'exact' },
  { name: 'tuple-print', prog: 'BEGIN { $t = (5, "x"); print($t); printf("%d %s\\n", $t.0, $t.1); exit(); }', compare: 'exact' },
  { name: 'end-probe', prog: 'BEGIN { @x = 1; exit(); } END { printf("end %d\\n", @x); }', compare: 'exact' },
  { name: 'multiple-begin-maps-order', prog: B('@z = 1; @a = 2; @m = 3;'), compare: 'exact' },
  { name: 'positional', prog: 'BEGIN { printf("%d %s\\n", $1, str($2)); exit(); }', params: ['42', 'hi'], compare: 'exact' },
  { name: 'param-count', prog: 'BEGIN { printf("%d\\n", $#); exit(); }', params: ['a', 'b', 'c'], compare: 'exact' },
  { name: 'define', prog: '#define N 7\nBEGIN { printf("%d\\n", N * 2); exit(); }', compare: 'exact' },
  { name: 'comments', prog: '// line\n/* block */ BEGIN { /* inner */ printf("ok\\n"); exit(); }', compare: 'exact' },
  // builtins whose values differ per run
  { name: 'nsecs', prog: B('printf("%d\\n", nsecs > 0);'), compare: 'exact' },
  { name: 'elapsed', prog: B('printf("%d\\n", elapsed >= 0);'), compare: 'exact' },
  { name: 'pid-tid', prog: B('printf("%d\\n", pid == tid);'), compare: 'exact' },
  { name: 'uid', prog: B('printf("%d %d\\n", uid, gid);'), compare: 'exact' },
  { name: 'cpu', prog: B('printf("%d\\n", cpu < 1024);'), compare: 'exact' },
  { name: 'rand', prog: B('$r = rand; printf("%d\\n", $r >= 0);'), compare: 'exact' },
  { name: 'time', prog: 'BEGIN { time("%H:%M\\n"); exit(); }', compare: 'shape' },
  { name: 'strftime', prog: B('printf("%s\\n", strftime("%Y", nsecs));'), compare: 'shape' },
  { name: 'probe-builtin', prog: B('@[probe] = count();'), compare: 'exact' },
  { name: 'interval', prog: 'interval:ms:20 { @ticks = count(); } interval:ms:110 { exit(); }', compare: 'shape' },
  { name: 'interval-exit', prog: 'interval:ms:10 { @n++; if (@n == 5) { exit(); } }', compare: 'exact' },
  { name: 'profile', prog: 'profile:hz:99 { @samples = count(); } interval:ms:200 { exit(); }', compare: 'shape' },
  // tracepoints against a known workload
  { name: 'tp-count', prog: 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @opens = count(); }', workload: 'opener', compare: 'exact' },
  { name: 'tp-comm-key', prog: 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @[comm] = count(); }', workload: 'opener', compare: 'exact' },
  { name: 'tp-filename', prog: 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @[str(args->filename)] = count(); }', workload: 'opener', compare: 'exact' },
  { name: 'tp-flags-hist', prog: 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @flags = lhist(args->flags, 0, 4, 1); }', workload: 'opener', compare: 'exact' },
  { name: 'tp-exit-ret', prog: 'tracepoint:syscalls:sys_exit_openat /pid == cpid/ { @ret = hist(args->ret); }', workload: 'opener', compare: 'exact' },
  { name: 'tp-latency', prog: 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @s[tid] = nsecs; } tracepoint:syscalls:sys_exit_openat /@s[tid]/ { @n = count(); delete(@s[tid]); }', workload: 'opener', compare: 'exact' },
  { name: 'tp-wildcard', prog: 'tracepoint:syscalls:sys_enter_opena* /pid == cpid/ { @[probe] = count(); }', workload: 'opener', compare: 'exact' },
  // Distinct counts: the order of equal values follows kernel hash order, random in bpftrace too.
  { name: 'tp-multi-probe', prog: 'tracepoint:syscalls:sys_enter_openat, tracepoint:syscalls:sys_enter_exit_group /pid == cpid/ { @[probe] = count(); }', workload: 'opener', compare: 'exact' },
  { name: 'tp-printf', prog: 'tracepoint:syscalls:sys_enter_openat /pid == cpid && @n < 3/ { @n++; printf("%s\\n", str(args->filename)); }', workload: 'opener', compare: 'exact' },
  { name: 'tp-sum-ret', prog: 'tracepoint:syscalls:sys_exit_openat /pid == cpid/ { @fds = sum(args->ret > 0 ? 1 : 0); }', workload: 'opener', compare: 'exact' },
  { name: 'tp-exit-fn', prog: 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @n++; if (@n == 10) { exit(); } }', workload: 'opener', compare: 'shape' },
  { name: 'raw-syscalls', prog: 'tracepoint:raw_syscalls:sys_enter /pid == cpid && args->id == 257/ { @openat = count(); }', workload: 'opener', compare: 'exact' },
  { name: 'sched-exec', prog: 'tracepoint:sched:sched_process_exec /pid == cpid/ { @execs = count(); }', workload: 'opener', compare: 'exact' },
];
