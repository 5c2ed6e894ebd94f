// Go arguments beyond the register basics: values the ABI put on the stack once the nine
// integer registers ran out, []byte as a string, goarg(N) without DWARF, what -v explains,
// and the errors for values a uprobe cannot read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGo } from './lib/fixtures.js';
import { runCli } from './lib/cli.js';

const abi = buildGo('go_abi');
const strippedAbi = buildGo('go_abi', ['-s', '-w']);

test('stack-passed arguments, []byte, nil map/func and a one-element array, with -v locations', async () => {
  const r = await runCli(['-v', '-c', `${abi} gopher 2024 7 1`, '-e',
    `uprobe:${abi}:main.manyArgs { printf("s=%s a=%d b=%d d=%d g=%d m=%d f=%d arr=%d\\n", args.s, args.a, args.b, args.d, args.g, args.m, args.f, args.arr); }`]);
  assert.equal(r.code, 0, r.stderr);
  // manyArgs([]byte(name), point{1,2,"t"}, nil, nil, nil, 1, [1]uint16{3}, [2]int{4,5}, 6, 7, 8, 9)
  assert.ok(r.stdout.split('\n').includes('s=gopher a=6 b=7 d=8 g=9 m=0 f=0 arr=3'), r.stdout);
  assert.match(r.stderr, /main\.manyArgs: Go register ABI \(go1\.\d+[^)]*\); args\.s \(\[\]uint8: RAX, RBX, RCX\); args\.a \(int: the stack at sp\+48 \(8 bytes\)\)/);
});

test('goarg(N) reads the register ABI on a stripped binary; retval there is RAX', async () => {
  const r = await runCli(['-c', `${strippedAbi} gopher 2024 7 2`, '-e',
    `uprobe:${strippedAbi}:main.prepareAnswer { printf("len=%d year=%d status=%d\\n", goarg(1), goarg(2), goarg(3)); }
     uretprobe:${strippedAbi}:main.prepareAnswer { printf("ret=%d\\n", retval); }`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines.filter((l) => l === 'len=6 year=2024 status=7').length, 2, r.stdout);
  assert.equal(lines.filter((l) => l === `ret=${6 + 2024 + 7}`).length, 2, r.stdout);
});

test('args by name on a stripped binary say why and point to goarg', async () => {
  const r = await runCli(['-c', `${strippedAbi} gopher 2024 7 1`, '-e', `uprobe:${strippedAbi}:main.prepareAnswer { printf("%d\\n", args.year); }`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /args\.year: .*no DWARF debug info/);
  assert.match(r.stderr, /goarg\(N\)/);
});

test('unknown parameters, out-of-range results and misplaced Go builtins are compile errors', async () => {
  const cases: Array<[string, RegExp]> = [
    [`uprobe:${abi}:main.prepareAnswer { print(args.nam); }`, /main\.prepareAnswer has no parameter named 'nam'[\s\S]*did you mean 'name'/],
    [`uretprobe:${abi}:main.prepareAnswer { print(retval.1); }`, /retval\.1: main\.prepareAnswer returns 1 value/],
    [`uretprobe:${abi}:main.prepareAnswer { print(args.name); }`, /args of a Go function are only known at its entry/],
    [`uprobe:${abi}:main.prepareAnswer { print(goarg(9)); }`, /goarg\(\) needs an integer literal from 0 to 8/],
    [`uprobe:libc:malloc { print(goarg(0)); }`, /only available in uprobes on Go binaries/],
    [`uprobe:${abi}:main.manyArgs { print(args.p); }`, /args\.p is a Go main\.point, which the language cannot represent[\s\S]*goarg\(3\)/],
  ];
  for (const [prog, want] of cases) {
    const r = await runCli(['-e', prog]);
    assert.equal(r.code, 1, prog);
    assert.match(r.stderr, want, prog);
  }
});
