import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parse } from '../src/lang/parser.js';
import { tokenize } from '../src/lang/lexer.js';
import { preprocess } from '../src/lang/preprocess.js';
import {
  Diagnostics, LangError, SourceText, didYouMean, editDistance, formatDiagnostic,
} from '../src/lang/diagnostics.js';
import { childrenOf, type Expr, type Node, type Probe, type Program, type Stmt } from '../src/lang/ast.js';
import { TsbpfError } from '../src/kernel/errors.js';
import { PROGRAMS } from './lang-programs.js';

const program = (name: string): Program => {
  const p = PROGRAMS.find((x) => x.name === name);
  assert.ok(p, `no sample program ${name}`);
  return parse(p.source, `${name}.bt`);
};

/** An expression as an S-expression, to check precedence and shape in one string. */
function sx(e: Node): string {
  switch (e.kind) {
    case 'Integer': return e.value.toString();
    case 'String': return JSON.stringify(e.value);
    case 'Identifier': return e.name;
    case 'Variable': return e.name;
    case 'Map': return e.keys.length ? `${e.name}[${e.keys.map(sx).join(' ')}]` : e.name;
    case 'Positional': return `$${e.index}`;
    case 'ParamCount': return '$#';
    case 'Binary': return `(${e.op} ${sx(e.left)} ${sx(e.right)})`;
    case 'Unary': return `(${e.op} ${sx(e.operand)})`;
    case 'Update': return e.prefix ? `(${e.op}pre ${sx(e.target)})` : `(${e.op}post ${sx(e.target)})`;
    case 'Ternary': return `(? ${sx(e.cond)} ${sx(e.then)} ${sx(e.else)})`;
    case 'Cast': return `(cast ${sx(e.type)} ${sx(e.expr)})`;
    case 'Type': return `${e.keyword ? e.keyword + ' ' : ''}${e.name}${'*'.repeat(e.pointerDepth)}`;
    case 'Field': return `(${e.arrow ? '->' : '.'} ${sx(e.expr)} ${e.field})`;
    case 'TupleIndex': return `(. ${sx(e.expr)} ${e.index})`;
    case 'Index': return `([] ${sx(e.expr)} ${sx(e.index)})`;
    case 'Call': return `(${e.name}${e.args.map((a) => ' ' + sx(a)).join('')})`;
    case 'Tuple': return `(tuple ${e.elements.map(sx).join(' ')})`;
    case 'Sizeof': return `(sizeof ${sx(e.arg)})`;
    case 'Assign': return `(${e.op} ${sx(e.target)} ${sx(e.value)})`;
    case 'ExprStmt': return sx(e.expr);
    case 'If': return `(if ${sx(e.cond)} ${sx(e.then)}${e.else ? ' ' + sx(e.else) : ''})`;
    case 'While': return `(while ${sx(e.cond)} ${sx(e.body)})`;
    case 'Unroll': return `(unroll ${sx(e.count)} ${sx(e.body)})`;
    case 'Jump': return e.value ? `(${e.jump} ${sx(e.value)})` : `(${e.jump})`;
    case 'Block': return `{${e.statements.map((s) => ' ' + sx(s)).join('')} }`;
    default: return `<${e.kind}>`;
  }
}

const exprOf = (code: string): string => {
  const p = parse(`BEGIN { $r = ${code}; }`);
  const s = p.probes[0]!.body.statements[0]!;
  assert.equal(s.kind, 'Assign');
  return sx(s.value);
};

const stmts = (p: Probe): string[] => p.body.statements.map(sx);

function* walk(n: Node): Generator<Node> {
  yield n;
  for (const c of childrenOf(n)) yield* walk(c);
}

const mapNames = (p: Program): string[] =>
  [...new Set([...walk(p)].filter((n): n is Extract<Expr, { kind: 'Map' }> => n.kind === 'Map').map((n) => n.name))].sort();

test('every sample program parses', () => {
  assert.ok(PROGRAMS.length >= 60, `only ${PROGRAMS.length} programs`);
  for (const p of PROGRAMS) {
    const ast = parse(p.source, `${p.name}.bt`);
    assert.ok(ast.probes.length > 0, p.name);
    for (const n of walk(ast)) {
      // Every span lies inside the source and starts where its line/col say.
      assert.ok(n.span.offset >= 0 && n.span.offset + n.span.length <= p.source.length, `${p.name}: ${n.kind} span`);
      const src = ast.source;
      assert.equal(src.lineStarts[n.span.line - 1]! + n.span.col - 1, n.span.offset, `${p.name}: ${n.kind} line/col`);
    }
  }
});

test('operator precedence and associativity follow C', () => {
  const cases: [string, string][] = [
    ['1 + 2 * 3', '(+ 1 (* 2 3))'],
    ['1 * 2 + 3', '(+ (* 1 2) 3)'],
    ['10 - 4 - 3', '(- (- 10 4) 3)'],
    ['5 / 2 / 1', '(/ (/ 5 2) 1)'],
    ['1 << 2 + 3', '(<< 1 (+ 2 3))'],
    ['1 < 2 == 3 > 4', '(== (< 1 2) (> 3 4))'],
    ['1 | 2 ^ 3 & 4 == 5', '(| 1 (^ 2 (& 3 (== 4 5))))'],
    ['1 || 2 && 3', '(|| 1 (&& 2 3))'],
    ['$a && $b || $c && $d', '(|| (&& $a $b) (&& $c $d))'],
    ['!0 && ~0 || -1', '(|| (&& (! 0) (~ 0)) -1)'],
    ['1 ? 2 : 3 ? 4 : 5', '(? 1 2 (? 3 4 5))'],
    ['$x > 0 ? $x : - $x', '(? (> $x 0) $x (- $x))'],
    ['-5 * 2', '(* -5 2)'],
    ['- -1', '(- -1)'],
    ['1 - -1', '(- 1 -1)'],
    ['*$p + 1', '(+ (* $p) 1)'],
    ['**(uint64**)arg1', '(* (* (cast uint64** arg1)))'],
    ['&$x', '(& $x)'],
    ['(int32)$x * 2', '(* (cast int32 $x) 2)'],
    ['(struct task_struct *)curtask', '(cast struct task_struct* curtask)'],
    ['(sock *)arg0', '(cast sock* arg0)'],
    ['(mytype)$v', '(cast mytype $v)'],
    ['(pid) - 1', '(- pid 1)'],
    ['(arg0)', 'arg0'],
    ['$c->real_parent->tgid', '(-> (-> $c real_parent) tgid)'],
    ['args.filename', '(. args filename)'],
    ['args->argv[0]', '([] (-> args argv) 0)'],
    ['$t.0.1', '(. (. $t 0) 1)'],
    ['((1, 2), 3).0.1', '(. (. (tuple (tuple 1 2) 3) 0) 1)'],
    ['@m[1, "a"]', '@m[1 "a"]'],
    ['@[comm]', '@[comm]'],
    ['@a[1][2]', '([] @a[1] 2)'],
    ['@x++ + ++$y', '(+ (++post @x) (++pre $y))'],
    ['sizeof(struct task_struct)', '(sizeof struct task_struct)'],
    ['sizeof(uint32)', '(sizeof uint32)'],
    ['sizeof($x + 1)', '(sizeof (+ $x 1))'],
    ['str($1, $#)', '(str $1 $#)'],
    ['kstack(perf, 3)', '(kstack perf 3)'],
    ['count()', '(count)'],
    ['(1)', '1'],
    ['1 + (2 + 3)', '(+ 1 (+ 2 3))'],
    ['$a & 0xff >> 2', '(& $a (>> 255 2))'],
    ['!$a == 0', '(== (! $a) 0)'],
    ['-$a.b', '(- (. $a b))'],
  ];
  for (const [code, want] of cases) assert.equal(exprOf(code), want, code);
});

test('statements: assignment forms, control flow, jumps', () => {
  const p = parse(`BEGIN {
    $x = 1; @m = 2; @m[1, 2] = 3; @ = count();
    $x += 1; $x <<= 2; @m[0] >>= 1; @m ^= 3;
    @c++; --$x;
    if ($x) { @a = 1 } else if ($x > 2) { @b = 1 } else { @c = 1 }
    while ($x < 10) { $x++; if ($x == 5) { continue; } if ($x == 8) { break; } }
    unroll(3) { @u++ }
    unroll($1) { @v++ }
    { $inner = 1; }
    ;;
    delete(@m[1, 2]);
    return
  }`);
  assert.deepEqual(stmts(p.probes[0]!), [
    '(= $x 1)', '(= @m 2)', '(= @m[1 2] 3)', '(= @ (count))',
    '(+= $x 1)', '(<<= $x 2)', '(>>= @m[0] 1)', '(^= @m 3)',
    '(++post @c)', '(--pre $x)',
    '(if $x { (= @a 1) } (if (> $x 2) { (= @b 1) } { (= @c 1) }))',
    '(while (< $x 10) { (++post $x) (if (== $x 5) { (continue) }) (if (== $x 8) { (break) }) })',
    '(unroll 3 { (++post @u) })',
    '(unroll $1 { (++post @v) })',
    '{ (= $inner 1) }',
    '(delete @m[1 2])',
    '(return)',
  ]);
});

test('attach points: providers normalised, parts split, quotes removed', () => {
  const cases: [string, string, string[]][] = [
    ['BEGIN', 'BEGIN', []],
    ['END', 'END', []],
    ['uprobe:/usr/lib/x86_64-linux-gnu/libc.so.6:malloc', 'uprobe', ['/usr/lib/x86_64-linux-gnu/libc.so.6', 'malloc']],
    ['uprobe:libc:malloc+8', 'uprobe', ['libc', 'malloc+8']],
    ['usdt:./app:prov:name', 'usdt', ['./app', 'prov', 'name']],
    ['tracepoint:syscalls:sys_enter_*', 'tracepoint', ['syscalls', 'sys_enter_*']],
    ['t:syscalls:*open*', 'tracepoint', ['syscalls', '*open*']],
    ['uprobe:"/path with space":fn', 'uprobe', ['/path with space', 'fn']],
    ['uprobe:./app:0x4011a0', 'uprobe', ['./app', '0x4011a0']],
    ['interval:s:1', 'interval', ['s', '1']],
    ['i:ms:100', 'interval', ['ms', '100']],
    ['profile:hz:99', 'profile', ['hz', '99']],
    ['p:hz:99', 'profile', ['hz', '99']],
    ['software:cpu-clock:1000', 'software', ['cpu-clock', '1000']],
    ['s:faults:1', 'software', ['faults', '1']],
    ['h:cache-misses:100', 'hardware', ['cache-misses', '100']],
    ['rawtracepoint:sched_switch', 'rawtracepoint', ['sched_switch']],
    ['rt:sched_switch', 'rawtracepoint', ['sched_switch']],
    ['kfunc:vfs_read', 'fentry', ['vfs_read']],
    ['f:vfs_read', 'fentry', ['vfs_read']],
    ['fentry:vfs_read', 'fentry', ['vfs_read']],
    ['kretfunc:vfs_read', 'fexit', ['vfs_read']],
    ['fr:vfs_read', 'fexit', ['vfs_read']],
    ['k:vfs_read', 'kprobe', ['vfs_read']],
    ['kr:vfs_read', 'kretprobe', ['vfs_read']],
    ['u:/bin/sh:main', 'uprobe', ['/bin/sh', 'main']],
    ['ur:/bin/sh:main', 'uretprobe', ['/bin/sh', 'main']],
    ['U:/bin/sh:prov:probe', 'usdt', ['/bin/sh', 'prov', 'probe']],
    ['uprobe:/bin/app:"main.(*T).Method"', 'uprobe', ['/bin/app', 'main.(*T).Method']],
    ['uprobe:$1:main', 'uprobe', ['$1', 'main']],
    ['kprobe:vfs_[rw]*', 'kprobe', ['vfs_[rw]*']],
  ];
  for (const [spec, provider, parts] of cases) {
    const ap = parse(`${spec} { }`).probes[0]!.attachPoints[0]!;
    assert.equal(ap.provider, provider, spec);
    assert.deepEqual(ap.parts, parts, spec);
    assert.equal(ap.raw, spec);
    assert.equal(ap.span.length, spec.length);
  }
  const quoted = parse('uprobe:"/path with space":fn { }').probes[0]!.attachPoints[0]!;
  assert.deepEqual(quoted.quoted, [true, false]);
  assert.equal(quoted.providerAlias, 'uprobe');
  assert.equal(parse('t:a:b { }').probes[0]!.attachPoints[0]!.providerAlias, 't');
});

test('a slash after the attach points starts the predicate, inside a path it does not', () => {
  const p = parse('tracepoint:syscalls:sys_enter_openat/pid == 1/{ @ = count(); }').probes[0]!;
  assert.deepEqual(p.attachPoints[0]!.parts, ['syscalls', 'sys_enter_openat']);
  assert.equal(sx(p.predicate!), '(== pid 1)');
  const q = parse('uprobe:/bin/bash:readline /comm == "bash"/ { }').probes[0]!;
  assert.deepEqual(q.attachPoints[0]!.parts, ['/bin/bash', 'readline']);
  assert.equal(sx(q.predicate!), '(== comm "bash")');
  const d = parse('kprobe:vfs_read /arg2 / 2 > 10/ { }').probes[0]!;
  assert.equal(sx(d.predicate!), '(> (/ arg2 2) 10)');
  const c = parse('BEGIN /1/ // why\n/* more */ { }').probes[0]!;
  assert.equal(sx(c.predicate!), '1');
});

test('sample programs: probes, maps and statements', () => {
  const open = program('opensnoop');
  assert.deepEqual(open.probes.map((p) => p.attachPoints.map((a) => a.raw)), [
    ['BEGIN'],
    ['tracepoint:syscalls:sys_enter_open', 'tracepoint:syscalls:sys_enter_openat'],
    ['tracepoint:syscalls:sys_exit_open', 'tracepoint:syscalls:sys_exit_openat'],
    ['END'],
  ]);
  assert.equal(sx(open.probes[2]!.predicate!), '@filename[tid]');
  assert.deepEqual(stmts(open.probes[2]!).slice(0, 3), [
    '(= $ret (. args ret))',
    '(= $fd (? (>= $ret 0) $ret -1))',
    '(= $errno (? (>= $ret 0) 0 (- $ret)))',
  ]);
  assert.deepEqual(mapNames(open), ['@filename']);

  const bio = program('biolatency');
  assert.deepEqual(bio.preamble.includes.map((i) => [i.path, i.system]), [['linux/blkdev.h', true]]);
  assert.deepEqual(mapNames(bio), ['@start', '@usecs']);
  assert.equal(stmts(bio.probes[2]!)[0], '(= @usecs (hist (/ (- nsecs @start[(. args dev) (. args sector)]) 1000)))');

  const runq = program('runqlat');
  assert.deepEqual(runq.preamble.defines.map((d) => [d.name, d.value]), [['TASK_RUNNING', '0']]);
  assert.equal(stmts(runq.probes[2]!)[0], '(if (== (. args prev_state) 0) { (= @qtime[(. args prev_pid)] nsecs) })');

  const lat = program('read-latency');
  assert.deepEqual(lat.probes.map((p) => p.attachPoints[0]!.provider), ['kprobe', 'kretprobe']);
  assert.deepEqual(stmts(lat.probes[1]!), [
    '(= @ns[comm] (hist (- nsecs @start[tid])))',
    '(delete @start[tid])',
  ]);

  const vfs = program('vfsstat');
  assert.deepEqual(vfs.probes[0]!.attachPoints.map((a) => a.parts[0]), ['vfs_read*', 'vfs_write*', 'vfs_fsync', 'vfs_open', 'vfs_create']);
  assert.deepEqual(vfs.probes.map((p) => p.attachPoints[0]!.provider), ['kprobe', 'interval', 'END']);

  const tcp = program('tcpconnect-style');
  assert.deepEqual(tcp.preamble.includes.map((i) => i.path), ['linux/socket.h', 'net/sock.h']);
  assert.equal(stmts(tcp.probes[0]!)[0], '(= $sk (cast struct sock* arg0))');
  assert.equal(stmts(tcp.probes[0]!)[1], '(= $inet_family (. (-> $sk __sk_common) skc_family))');

  const withBtf = parse(PROGRAMS.find((p) => p.name === 'tcpconnect-style')!.source, 't.bt', { predefined: { BPFTRACE_HAVE_BTF: '1' } });
  assert.deepEqual(withBtf.preamble.includes.map((i) => i.path), ['sys/socket.h']);

  const st = program('struct-definition');
  const def = st.preamble.cDefinitions[0]!;
  assert.equal(def.keyword, 'struct');
  assert.equal(def.name, 'sockaddr_in6_x');
  assert.ok(def.text.startsWith('struct sockaddr_in6_x {') && def.text.endsWith('};'));
  assert.deepEqual(def.fields, [
    { name: 'sin6_family', type: 'unsigned short', pointerDepth: 0, arrayDims: [], bits: null },
    { name: 'sin6_port', type: 'u16', pointerDepth: 0, arrayDims: [], bits: null },
    { name: 'sin6_flowinfo', type: 'u32', pointerDepth: 0, arrayDims: [], bits: null },
    { name: 'sin6_addr', type: 'u8', pointerDepth: 0, arrayDims: [16], bits: null },
    { name: 'sin6_scope_id', type: 'u32', pointerDepth: 0, arrayDims: [], bits: null },
    { name: 'extra', type: 'u32', pointerDepth: 0, arrayDims: [], bits: null },
    { name: 'name', type: 'char', pointerDepth: 1, arrayDims: [], bits: null },
    { name: 'flag', type: 'int', pointerDepth: 0, arrayDims: [], bits: 3 },
  ]);
  assert.equal(st.probes.length, 1);

  const sys = program('timed-syscall-count');
  assert.deepEqual(sys.probes[1]!.attachPoints[0]!.parts, ['s', '1']);
  assert.deepEqual(stmts(sys.probes[1]!), ['(print @)', '(clear @)']);

  const tup = program('tuples');
  assert.deepEqual(stmts(tup.probes[0]!), [
    '(= $t (tuple 1 2 "string"))',
    '(printf "%d %d %s\\n" (. $t 0) (. $t 1) (. $t 2))',
    '(= @tup (tuple pid comm))',
  ]);

  const al = program('aliases-all');
  assert.deepEqual(al.probes[0]!.attachPoints.map((a) => a.provider), [
    'kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'usdt', 'profile', 'software', 'hardware', 'fentry', 'fexit', 'rawtracepoint',
  ]);

  const lits = program('integer-literals');
  assert.deepEqual(stmts(lits.probes[0]!).slice(0, 6), [
    '(= @a 1000000)', '(= @b 2147483647)', '(= @c 511)', '(= @d 1000000)', '(= @e 10)', '(= @f -42)',
  ]);

  const esc = program('string-escapes');
  const arg = (esc.probes[0]!.body.statements[0] as Extract<Stmt, { kind: 'ExprStmt' }>).expr;
  assert.equal(arg.kind, 'Call');
  const s = arg.kind === 'Call' ? arg.args[0]! : arg;
  assert.equal(s.kind === 'String' ? s.value : '', 'tab\there "quoted" back\\slash nulAA\n');

  const def2 = program('define-substitution');
  assert.deepEqual(stmts(def2.probes[0]!), ['(= @n 3)', '(= @limit (* 3 100))', '(exit)']);

  const ks = program('kstack-modes');
  assert.equal(stmts(ks.probes[0]!)[0], '(= @[(kstack perf 3) (ustack bpftrace 5)] (count))');

  const pp = program('positional-params');
  assert.equal(stmts(pp.probes[0]!)[0], '(printf "I got %d, %s (%d args)\\n" $1 (str $2) $#)');

  const deref = program('deref');
  assert.deepEqual(stmts(deref.probes[0]!), [
    '(= $p (cast uint64* arg0))',
    '(printf "%d\\n" (* $p))',
    '(= @[(* (* (cast uint64** arg1)))] (count))',
  ]);

  const go = program('go-method');
  assert.deepEqual(go.probes[0]!.attachPoints[0]!.parts, ['/bin/app', 'main.(*T).Method']);

  const cm = program('comments');
  assert.deepEqual(stmts(cm.probes[0]!), ['(= @x 1)']);
});

test('lexer: integers, strings, operators and spans', () => {
  const { tokens: toks, diagnostics } = tokenize('0x1F 017 1_000 1e3 10ull 42U $x @m @ $3 $# <<= >>= -> ++ -- != "a\\x41\\101\\n\\"é"');
  assert.equal(diagnostics.length, 0);
  assert.deepEqual(toks.slice(0, 5).map((t) => [t.int, t.suffix]), [[31n, ''], [15n, ''], [1000n, ''], [1000n, ''], [10n, 'ull']]);
  assert.deepEqual(toks[5]!.int, 42n);
  assert.deepEqual(toks.slice(6, 16).map((t) => `${t.kind}:${t.text}`), [
    'var:$x', 'map:@m', 'map:@', 'param:$3', 'paramcount:$#', 'op:<<=', 'op:>>=', 'op:->', 'op:++', 'op:--',
  ]);
  assert.equal(toks[9]!.index, 3);
  const str = toks[17]!;
  assert.equal(str.kind, 'string');
  assert.equal(str.str, 'aAA\n"é');
  assert.deepEqual([...str.bytes!], [0x61, 0x41, 0x41, 0x0a, 0x22, 0xc3, 0xa9]);
  assert.equal(toks[toks.length - 1]!.kind, 'eof');
  const max = tokenize('0xffffffffffffffff').tokens[0]!;
  assert.equal(max.int, (1n << 64n) - 1n);
  const spans = tokenize('a\n  bb').tokens;
  assert.deepEqual(spans.slice(0, 2).map((t) => [t.span.line, t.span.col, t.span.offset, t.span.length]), [[1, 1, 0, 1], [2, 3, 4, 2]]);
  const bad = tokenize('x = 1ms + `;', 'bad.bt').diagnostics;
  assert.deepEqual(bad.map((d) => [d.message, d.span.col, d.span.length]), [["invalid integer literal '1ms'", 5, 3], ["invalid character '`'", 11, 1]]);
});

test('preprocess: includes remembered, defines expanded, conditionals, offsets kept', () => {
  const text = '#include <linux/sched.h>\n#include "local.h"\n#define A 7\n#ifdef A\n#define B (A + 1)\n#else\n#define B 0\n#endif\n#if 0\nbroken {\n#endif\nBEGIN { @x = B; }\n';
  const diags = new Diagnostics(new SourceText(text));
  const pre = preprocess(text, diags);
  assert.equal(diags.list.length, 0);
  assert.equal(pre.text.length, text.length);
  assert.equal(pre.text.split('\n').length, text.split('\n').length);
  assert.deepEqual(pre.includes.map((i) => [i.path, i.system, i.span.line]), [['linux/sched.h', true, 1], ['local.h', false, 2]]);
  assert.deepEqual(pre.defines.map((d) => [d.name, d.value]), [['A', '7'], ['B', '(A + 1)']]);
  assert.ok(!pre.text.includes('broken'));
  const ast = parse(text);
  assert.equal(sx(ast.probes[0]!.body.statements[0]!), '(= @x (+ 7 1))');
  // The expanded tokens point at the macro's use.
  const value = ast.probes[0]!.body.statements[0]!;
  assert.equal(value.kind === 'Assign' ? value.value.span.col : 0, text.split('\n')[11]!.lastIndexOf('B') + 1);
  // A self-referencing macro stops instead of looping.
  assert.equal(sx(parse('#define X X\nBEGIN { @a = X; }').probes[0]!.body.statements[0]!), '(= @a X)');
  // `#` inside a block comment is not a directive.
  assert.equal(parse('/*\n # not a directive\n*/\nBEGIN { }').probes.length, 1);
});

test('diagnostics: format, did-you-mean, LangError', () => {
  const src = new SourceText('kprobe:f {\n\tprnt("x");\n}', 'script.bt');
  const text = formatDiagnostic({ severity: 'error', message: "unknown function 'prnt'", span: src.spanAt(12, 4), hint: didYouMean('prnt', ['print', 'printf', 'count']) }, src);
  assert.equal(text, "script.bt:2:2-6: ERROR: unknown function 'prnt'\n\tprnt(\"x\");\n\t~~~~\nhint: did you mean 'print'?");
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(didYouMean('printff', ['printf', 'print']), "did you mean 'printf'?");
  assert.equal(didYouMean('zzzz', ['printf', 'print']), undefined);
  assert.equal(didYouMean('cmm', ['comm', 'cpu']), "did you mean 'comm'?");
  const err = new LangError([{ severity: 'error', message: 'x', span: src.spanAt(0, 6) }], src);
  assert.ok(err instanceof TsbpfError);
  assert.equal(err.name, 'LangError');
  assert.equal(err.message, 'script.bt:1:1-7: ERROR: x\nkprobe:f {\n~~~~~~');
  // Dozens of errors: all kept on the error, the message shows the first 20.
  try {
    parse(`BEGIN { ${'$x = 08; '.repeat(30)}}`);
    assert.fail('no error');
  } catch (e) {
    assert.ok(e instanceof LangError);
    assert.equal(e.diagnostics.length, 30);
    assert.match(e.message, /\n\n\(10 more errors not shown\)$/);
  }
});

// [source, line:col of each diagnostic, text of the first message]
const MALFORMED: [string, string[], string][] = [
  ['BEGIN { prnt("x") $x = 1; }', ['1:19'], "expected ';' or '}' after the statement, found variable '$x'"],
  ['BEGIN { $x = 1 +; }', ['1:17'], "expected an expression, found ';'"],
  ['BEGIN { $x = "abc; }', ['1:14'], 'unterminated string'],
  ['BEGIN { $x = 10ms; }', ['1:14'], "invalid integer literal '10ms'"],
  ['BEGIN { $x = 08; }', ['1:14'], "invalid integer literal '08'"],
  ["BEGIN { $x = 'a'; }", ['1:14', '1:16'], "invalid character '''"],
  ['BEGIN {\n  $x = 1;\n', ['3:1'], "unexpected end of input: missing '}'"],
  ['kprobe:f /pid { }', ['1:15'], "expected '/' to end the predicate, found '{'"],
  ['BEGIN { if ($x) $y = 1; }', ['1:17'], "expected '{' to start a block, found variable '$y'"],
  ['BEGIN { $t = (1, 2); $t.0 = 3; }', ['1:22'], 'tuples are immutable once created'],
  ['BEGIN { @x[] = 1; }', ['1:12'], "empty key in '@x[]'"],
  ['BEGIN { $x = 1 } garbage', ['1:25'], "expected '{' to start the probe's block, found end of input"],
  ['BEGIN { else { } }', ['1:9'], "'else' without a matching 'if'"],
  ['BEGIN { $x = "\\q"; }', ['1:15'], "invalid escape character '\\q'"],
  [':foo { }', ['1:1'], "invalid probe type '' in ':foo'"],
  ['BEGIN { $x = (1 + 2; }', ['1:20'], "expected ')' to match '(', found ';'"],
  ['BEGIN { 5++; }', ['1:10'], 'the ++ operator must be applied to a map or variable, not a literal'],
  ['BEGIN {\n  $a = ;\n  $b = 1 +;\n}\nEND { @ = }', ['2:8', '3:11', '5:11'], "expected an expression, found ';'"],
  ['BEGIN { $x = 1 ? 2; }', ['1:19'], "expected ':' in the conditional expression 'c ? a : b', found ';'"],
  ['BEGIN { $x = @a[1; }', ['1:18'], "expected ',' or ']' after map key, found ';'"],
  ['uprobe:./app:main.(*T).Run { }', ['1:19'], "expected '{' to start the probe's block, found '('"],
  ['BEGIN { $x.y = 1; }', ['1:9'], "cannot assign to field 'y'"],
  ['BEGIN { printf("%d\\n", 1 2); }', ['1:26'], "expected ',' or ')' after argument, found integer '2'"],
  ['\tBEGIN { $x = = 1; }', ['1:15'], "expected an expression, found '='"],
  ['BEGIN { $x = 99999999999999999999999; }', ['1:14'], "integer literal '99999999999999999999999' does not fit in 64 bits"],
];

test('malformed programs: every diagnostic with its line:col and a caret line', () => {
  assert.ok(MALFORMED.length >= 15);
  for (const [source, where, first] of MALFORMED) {
    let caught: unknown;
    try {
      parse(source, 'bad.bt');
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof LangError, `${source}: ${String(caught)}`);
    assert.deepEqual(caught.diagnostics.map((d) => `${d.span.line}:${d.span.col}`), where, source);
    assert.equal(caught.diagnostics[0]!.message, first, source);
    const lines = caught.message.split('\n');
    const d = caught.diagnostics[0]!;
    assert.ok(lines[0]!.startsWith(`bad.bt:${d.span.line}:${d.span.col}-`), lines[0]);
    assert.equal(lines[1], source.split('\n')[d.span.line - 1] ?? '');
    // The caret line marks the span's columns.
    assert.match(lines[2]!, new RegExp(`^[ \\t]{${d.span.col - 1}}~+$`));
  }
});

test('multi-error recovery keeps parsing later probes', () => {
  try {
    parse('BEGIN { $x = ; }\nkprobe:f { @a = 1 }\nEND { @b = (1 + ; }', 'multi.bt');
    assert.fail('no error');
  } catch (e) {
    assert.ok(e instanceof LangError);
    assert.deepEqual(e.diagnostics.map((d) => d.span.line), [1, 3]);
    assert.equal(e.message.split('\n\n').length, 2);
  }
});

test('hostile nesting fails cleanly', () => {
  for (const src of [
    `BEGIN { $x = ${'('.repeat(5000)}1${')'.repeat(5000)}; }`,
    `BEGIN { $x = ${'- '.repeat(5000)}1; }`,
    `BEGIN ${'{ '.repeat(5000)}${'} '.repeat(5000)}`,
    `BEGIN { $x = ${'!'.repeat(5000)}1; }`,
    `BEGIN { $x = ${'1 ? '.repeat(3000)}1${' : 1'.repeat(3000)}; }`,
    `BEGIN { ${'if (1) { '.repeat(3000)}${'} '.repeat(3000)} }`,
  ]) {
    assert.throws(() => parse(src), (e: unknown) => e instanceof LangError && /nested too deeply/.test(e.message));
  }
  // Deep but legal nesting is fine, and long flat chains need no stack at all.
  assert.equal(exprOf(`${'('.repeat(50)}1${')'.repeat(50)}`), '1');
  assert.doesNotThrow(() => parse(`BEGIN { $x = ${Array.from({ length: 20000 }, () => '1').join(' + ')}; }`));
});

test('the bpftrace tools installed here parse', { skip: !existsSync('/usr/sbin/opensnoop.bt') && 'bpftrace tools not installed' }, () => {
  const tools = readdirSync('/usr/sbin').filter((f) => f.endsWith('.bt'));
  assert.ok(tools.length > 10);
  for (const f of tools) {
    const ast = parse(readFileSync(`/usr/sbin/${f}`, 'utf8'), f);
    assert.ok(ast.probes.length > 0, f);
  }
});

const bpftrace = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' });
const haveBpftrace = bpftrace.status === 0 && process.geteuid?.() === 0;

test('bpftrace agrees: samples have no syntax errors, malformed ones do', { skip: !haveBpftrace && 'bpftrace not installed or not root' }, () => {
  const syntaxError = /syntax error|invalid character|unterminated|invalid escape|Coefficient|unexpected end/;
  const run = (src: string): string => {
    const r = spawnSync('bpftrace', ['-d', '-e', src], { encoding: 'utf8', timeout: 10_000 });
    return r.stdout + r.stderr;
  };
  for (const p of PROGRAMS) {
    const out = run(p.source);
    assert.ok(!syntaxError.test(out), `${p.name}: ${out.split('\n').find((l) => syntaxError.test(l))}`);
  }
  for (const [source] of MALFORMED) {
    if (source.startsWith('uprobe:./app:main.(')) continue; // bpftrace fails later, on the missing binary
    assert.ok(!run(source).includes('AST after: parser'), `bpftrace accepted: ${source}`);
  }
});
