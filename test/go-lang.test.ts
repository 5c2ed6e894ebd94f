// Go programs through the language: typed arguments from DWARF under the register ABI,
// string arguments and results, Go-safe return probes (uprobes on every RET, never a
// uretprobe), goroutine-keyed latency, stripped binaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGo } from './lib/fixtures.js';
import { runCli } from './lib/cli.js';

const abi = buildGo('go_abi');
const stack = buildGo('go_stack');
const lat = buildGo('go_lat');
const strippedAbi = buildGo('go_abi', ['-s', '-w']);

test('Go arguments by name: ints, bools and strings (register ABI)', async () => {
  const r = await runCli(['-c', `${abi} gopher 2024 7 3`, '-e',
    `uprobe:${abi}:main.prepareAnswer { printf("%s %d %d\\n", args.name, args.year, args.status); }
     uprobe:${abi}:main.ebpfDemo { printf("a1=%d a2=%d\\n", args.a1, args.a2); }`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines.filter((l) => l === 'gopher 2024 7').length, 3);
  // sum = 3 * (6 + 2024 + 7); a2 = loops > 1
  assert.ok(lines.includes(`a1=${3 * (6 + 2024 + 7)} a2=1`), r.stdout);
});

test('a float argument in an XMM register is refused with the reason', async () => {
  const r = await runCli(['-c', `${abi} gopher 2024 7 3`, '-e', `uprobe:${abi}:main.ebpfDemo { printf("%d\\n", args.a3); }`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /a3.*X0|XMM/);
});

test('Go results at return: int64, int32 and string', async () => {
  const r = await runCli(['-c', `${abi} gopher 2024 7 3`, '-e',
    `uretprobe:${abi}:main.ebpfDemo { printf("%d %d %s\\n", retval, retval.1, retval.2); }`]);
  assert.equal(r.code, 0, r.stderr);
  const sum = 3 * (6 + 2024 + 7);
  assert.ok(r.stdout.split('\n').includes(`${sum * 2} 1 yes`), r.stdout);
});

test('return probes survive goroutine stack growth and see every call', async () => {
  const calls = 40;
  const r = await runCli(['-f', 'json', '-c', `${stack} ${calls}`, '-e',
    `uprobe:${stack}:main.work { @start[goid] = nsecs; }
     uretprobe:${stack}:main.work /@start[goid]/ { @ret = sum(retval); @lat = hist(nsecs - @start[goid]); delete(@start[goid]); }`]);
  assert.equal(r.code, 0, r.stderr);
  const maps = Object.assign({}, ...r.stdout.split('\n').filter((l) => l.startsWith('{"type": "map"') || l.startsWith('{"type": "hist"')).map((l) => JSON.parse(l).data));
  assert.equal((maps['@lat'] as Array<{ count: number }>).reduce((a, b) => a + b.count, 0), calls);
  // The fixture's own checksum (printed by the traced program) equals the sum of the return values.
  assert.ok(!/unexpected return pc|fatal error/.test(r.stderr + r.stdout));
});

test('latency keyed by goroutine is right while goroutines hop threads', async () => {
  const workers = 20, each = 10;
  const r = await runCli(['-f', 'json', '-c', `${lat} ${workers} ${each}`, '-e',
    `uprobe:${lat}:main.nap { @start[goid] = nsecs; }
     uretprobe:${lat}:main.nap /@start[goid]/ { @ms = lhist((nsecs - @start[goid]) / 1000000, 0, 100, 1); delete(@start[goid]); }`]);
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.includes('"@ms"'))!;
  const buckets = JSON.parse(line).data['@ms'] as Array<{ min?: number; count: number }>;
  assert.equal(buckets.reduce((a, b) => a + b.count, 0), workers * each);
  // Every nap sleeps 2 ms: a mismatched entry/return pair would show up below 2 ms.
  for (const b of buckets) if (b.count) assert.ok((b.min ?? 0) >= 2, JSON.stringify(b));
});

test('stripped Go binary: functions listed and traceable', async () => {
  const l = await runCli(['-l', `uprobe:${strippedAbi}:main.*`]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /main\.prepareAnswer/);
  const r = await runCli(['-f', 'json', '-c', `${strippedAbi} gopher 2024 7 5`, '-e', `uprobe:${strippedAbi}:main.prepareAnswer { @n = count(); }`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /"@n": 5/);
});
