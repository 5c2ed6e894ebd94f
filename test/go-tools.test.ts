// The Go tools (`tsbpf tools gonewproc | golatency`) against a program that starts one
// goroutine per call: every goroutine start is seen and named through the Go pclntab, and
// the latency histogram of a function counts every call once, under one function name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGo } from './lib/fixtures.js';
import { runCli } from './lib/cli.js';

const stack = buildGo('go_stack');
const calls = 25;

test('gonewproc names the function each new goroutine runs and who started it', async () => {
  const r = await runCli(['tools', 'gonewproc', stack, '-c', `${stack} ${calls}`]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((w) => w.length === 4 && /^\d+$/.test(w[0]));
  // Go 1.17+ compiles `go func(i int){...}(i)` into the closure main.main.func1 plus an
  // argument-less wrapper main.main.func2 that calls it: the wrapper is what newproc1 starts.
  const mine = rows.filter((w) => w[2] === 'main.main.func2');
  assert.equal(mine.length, calls, r.stdout);
  assert.ok(mine.every((w) => w[3] === 'main.main'), r.stdout);
  // The runtime's own goroutines are named too, never left as raw addresses.
  assert.ok(rows.some((w) => w[2] === 'runtime.main'), r.stdout);
  assert.ok(!rows.some((w) => /^0x/.test(w[2])), r.stdout);
  assert.match(r.stdout, /^PID +COMM +STARTS +CREATED BY$/m);
});

test('golatency: one histogram for the function, one sample per call, the program unharmed', async () => {
  const r = await runCli(['tools', 'golatency', '-f', 'json', '-c', `${stack} ${calls}`, stack, 'main.work']);
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{"type": "hist"'));
  assert.ok(line, r.stdout);
  const hists = JSON.parse(line).data['@usecs'] as Record<string, Array<{ count: number }>>;
  // Every RET of main.work reports the function's address, so all returns share one key.
  assert.deepEqual(Object.keys(hists), ['main.work']);
  assert.equal(hists['main.work'].reduce((a, b) => a + b.count, 0), calls);
  assert.match(r.stdout, /checksum \d+/);
  assert.ok(!/unexpected return pc|fatal error/.test(r.stdout + r.stderr));
});
