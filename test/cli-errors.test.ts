// Bad programs through the CLI: positioned messages with a caret, exit 1, never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './lib/cli.js';

const cases: Array<{ args: string[]; where: RegExp; what: RegExp }> = [
  { args: ['-e', 'BEGIN { prnt("x"); }'], where: /^stdin:1:9-13: ERROR: /m, what: /did you mean 'print'/ },
  { args: ['-e', 'BEGIN { @a = count(); @a = 5; }'], where: /^stdin:1:23-25: ERROR: /m, what: /Type mismatch for @a/ },
  { args: ['-e', 'tracepoint:syscalls:sys_enter_opnat { }'], where: /^stdin:1:1-/m, what: /tracepoint not found/ },
  { args: ['-e', 'BEGIN { printf("%d\\n", "str"); }'], where: /^stdin:1:9-/m, what: /expects a value of type integer/ },
  { args: ['-e', 'BEGIN { $x = ; }'], where: /^stdin:1:14-/m, what: /expected an expression/ },
  { args: ['-e', 'BEGIN { system("ls"); }'], where: /^stdin:1:9-/m, what: /--unsafe/ },
  { args: ['-e', 'BEGIN { @x = $undefined; }'], where: /^stdin:1:14-/m, what: /\$undefined/ },
  { args: ['-e', 'nosuchprovider:foo { }'], where: /^stdin:1:1-/m, what: /nosuchprovider/ },
];

for (const c of cases) {
  test(`error: ${c.args[1]}`, async () => {
    const r = await runCli(c.args);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, c.where);
    assert.match(r.stderr, c.what);
    assert.match(r.stderr, /^\s*~+\s*$/m, 'a caret line under the source');
    assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
    assert.equal(r.stdout, '');
  });
}

test('errors in a script file name the file and line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-err-'));
  const file = join(dir, 'bad.bt');
  writeFileSync(file, 'BEGIN {\n  $x = 1 +;\n}\n');
  const r = await runCli([file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:11-12: ERROR: expected an expression`, 'm'));
});

test('a missing script file and bad options are one clear line', async () => {
  for (const args of [['/no/such/file.bt'], ['-f', 'xml', '-e', 'BEGIN {}'], ['-p', 'abc', '-e', 'BEGIN {}'], ['--bogus']]) {
    const r = await runCli(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /^ERROR: /);
    assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr);
  }
});
