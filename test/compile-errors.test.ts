// Bad programs give every problem at once, each as `file:line:col-end: ERROR: message`, the
// source line and `~` under the culprit (bpftrace's format), with a hint where one helps;
// never a stack trace or a raw errno.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../src/lang/compile.js';
import { LangError } from '../src/lang/diagnostics.js';

interface Case {
  src: string;
  /** The first diagnostic line, exactly. */
  first: string;
  /** The marked source text under the first diagnostic. */
  marked: string;
  hint?: RegExp;
  unsafe?: boolean;
}

const CASES: Case[] = [
  { src: 'BEGIN { prnt("x"); }', first: "stdin:1:9-13: ERROR: Unknown function: prnt", marked: 'prnt', hint: /did you mean 'print'/ },
  { src: 'BEGIN { @x = foo; }', first: "stdin:1:14-17: ERROR: Unknown identifier: 'foo'", marked: 'foo' },
  {
    src: 'BEGIN { $x = 1; $x = "a"; }', marked: '$x',
    first: "stdin:1:17-19: ERROR: Type mismatch for $x: trying to assign value of type 'string[2]' when variable already contains a value of type 'int64'",
  },
  {
    src: 'BEGIN { @x = 1; @x = "a"; }', marked: '@x',
    first: "stdin:1:17-19: ERROR: Type mismatch for @x: trying to assign value of type 'string[2]' when map already contains a value of type 'int64'",
  },
  { src: 'BEGIN { if (comm == 1) {} }', first: "stdin:1:13-22: ERROR: Type mismatch for '==': comparing 'string[16]' with 'int64'", marked: 'comm == 1' },
  {
    src: 'BEGIN { @x = count(); @x = 1; }', marked: '@x',
    first: "stdin:1:23-25: ERROR: Type mismatch for @x: trying to assign value of type 'int64' when map already contains a value of type 'count'",
  },
  { src: 'BEGIN { print($y); }', first: 'stdin:1:15-17: ERROR: Undefined or undeclared variable: $y', marked: '$y' },
  { src: 'END { clear(@start); }', first: 'stdin:1:13-19: ERROR: Undefined map: @start', marked: '@start' },
  {
    src: 'BEGIN { printf("%d %s\\n", 1); }', marked: 'printf("%d %s\\n", 1)',
    first: 'stdin:1:9-29: ERROR: printf: Not enough arguments for format string (1 supplied, 2 expected)',
  },
  {
    src: 'BEGIN { printf("%s\\n", 5); }', marked: 'printf("%s\\n", 5)',
    first: 'stdin:1:9-26: ERROR: printf: %s specifier expects a value of type string (integer supplied)',
  },
  { src: 'BEGIN { printf("%q\\n", 5); }', first: "stdin:1:16-22: ERROR: printf: unknown format verb '%q' at offset 0 of the format string", marked: '"%q\\n"', hint: /supported/ },
  { src: 'BEGIN { system("ls"); }', first: 'stdin:1:9-15: ERROR: system() is an unsafe function being used in safe mode', marked: 'system', hint: /--unsafe/ },
  {
    src: 'tracepoint:syscalls:sys_enter_openat { @ = retval; }', marked: 'retval',
    first: "stdin:1:44-50: ERROR: The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes",
  },
  {
    src: 'tracepoint:syscalls:sys_enter_openat { @ = args->filenme; }', marked: 'filenme',
    first: "stdin:1:50-57: ERROR: Can't find field 'filenme' in tracepoint tracepoint:syscalls:sys_enter_openat", hint: /did you mean 'filename'/,
  },
  {
    src: 'tracepoint:syscalls:sys_enter_opnat { @ = count(); }', marked: 'tracepoint:syscalls:sys_enter_opnat',
    first: 'stdin:1:1-36: ERROR: tracepoint not found: syscalls:sys_enter_opnat', hint: /tsbpf -l/,
  },
  {
    src: 'BEGIN { @m[1] = 1; @m["a"] = 2; }', marked: '@m["a"]', hint: /first given at line 1:9/,
    first: 'stdin:1:20-27: ERROR: Argument mismatch for @m: trying to access with arguments: [string[2]] when map expects arguments: [int64]',
  },
  { src: 'BEGIN { $x = count(); }', first: 'stdin:1:14-21: ERROR: count() should be directly assigned to a map', marked: 'count()' },
  { src: 'BEGIN { @x = lhist(1, 10, 0, 1); }', first: 'stdin:1:27-28: ERROR: lhist() max must be greater than min', marked: '0' },
  { src: 'BEGIN { break; }', first: 'stdin:1:9-14: ERROR: break used outside of a loop', marked: 'break' },
  {
    src: 'BEGIN { @x = curtask->pidd; }', marked: 'pidd', hint: /did you mean 'pid'/,
    first: "stdin:1:23-27: ERROR: Struct/union of type 'struct task_struct' does not contain a field named 'pidd'",
  },
  { src: 'BEGIN { @x = (struct task_strct *)0; }', first: "stdin:1:15-34: ERROR: Unknown type: 'struct task_strct'", marked: 'struct task_strct *' },
  { src: 'kprobe:f { @x = reg("axx"); }', first: "stdin:1:21-26: ERROR: 'axx' is not a valid register", marked: '"axx"', hint: /did you mean 'ax'/ },
  { src: 'BEGIN { @x = str(1, 2, 3); }', first: 'stdin:1:14-26: ERROR: str() requires 1 to 2 arguments (3 provided)', marked: 'str(1, 2, 3)' },
  { src: 'kprobe:f { signal("SIGFOO"); }', unsafe: true, first: "stdin:1:19-27: ERROR: signal(): unknown signal 'SIGFOO'", marked: '"SIGFOO"', hint: /SIGFPE/ },
  { src: 'BEGIN { @x = "a" < "b"; }', first: 'stdin:1:14-23: ERROR: The < operator can not be used on expressions of types string[2], string[2]', marked: '"a" < "b"' },
  { src: 'BEGIN { $t = (1, 2); @x = $t.5; }', first: 'stdin:1:27-31: ERROR: Invalid tuple index: 5. Found 2 elements in tuple.', marked: '$t.5' },
  { src: 'BEGIN { @h = hist(1); @y = @h; }', first: 'stdin:1:28-30: ERROR: @h holds a hist() and cannot be read as a value', marked: '@h', hint: /print\(@h\)/ },
  { src: "BEGIN { @x = arg0; }", first: "stdin:1:14-18: ERROR: The arg0 builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes", marked: 'arg0' },
  { src: 'interval:xs:1 { }', first: "stdin:1:1-14: ERROR: invalid interval 'interval:xs:1'", marked: 'interval:xs:1', hint: /interval:s:N/ },
  { src: 'uprobe:/nonexistent/bin:main { }', first: 'stdin:1:1-29: ERROR: binary not found: /nonexistent/bin', marked: 'uprobe:/nonexistent/bin:main' },
];

function diagnose(src: string, unsafe = false): LangError {
  try {
    compile(src, { unsafe });
  } catch (e) {
    assert.ok(e instanceof LangError, `expected a LangError, got ${String(e)}`);
    return e;
  }
  assert.fail(`compiled without error: ${src}`);
}

for (const c of CASES) {
  test(`error: ${c.src}`, () => {
    const e = diagnose(c.src, c.unsafe);
    const lines = e.message.split('\n');
    assert.equal(lines[0], c.first);
    assert.equal(lines[1], c.src.split('\n')[0]);
    // The tildes sit exactly under the culprit.
    const start = lines[2].indexOf('~');
    assert.equal(c.src.slice(start, start + lines[2].trim().length), c.marked);
    if (c.hint) assert.match(lines[3] ?? '', c.hint);
    assert.doesNotMatch(e.message, /\n\s+at /, 'no stack trace in the message');
  });
}

test('several errors in one program are all reported, in order, across probes', () => {
  const e = diagnose('BEGIN { @x = 1 }\nEND { @y = pidd; @z = prinf(1); }\ntracepoint:syscalls:sys_enter_openat { @x = "s"; }');
  const firsts = e.message.split('\n').filter((l) => l.startsWith('stdin:'));
  assert.deepEqual(firsts, [
    "stdin:2:12-16: ERROR: Unknown identifier: 'pidd'",
    'stdin:2:23-28: ERROR: Unknown function: prinf',
    "stdin:3:40-42: ERROR: Type mismatch for @x: trying to assign value of type 'string[2]' when map already contains a value of type 'int64'",
  ]);
  assert.equal(e.diagnostics.length, 3);
});

test('a map read before the assignment that defines it (in source order) is fine', () => {
  const script = compile('END { printf("%d\\n", @late); } BEGIN { @late = 5; }');
  assert.deepEqual(script.maps.map((m) => m.name), ['@late']);
});

test('errors in a wildcard probe are reported once, not once per matching tracepoint', () => {
  const e = diagnose('tracepoint:syscalls:sys_enter_open* { @ = nope; }');
  assert.equal(e.diagnostics.length, 1);
});
