// Output compatibility with bpftrace 0.17: each case in test/compat/cases.ts runs under
// tsbpf and (when installed) bpftrace on the same workload, and stdout must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CASES, CompatCase } from './compat/cases.js';
import { buildC, hasCommand } from './lib/fixtures.js';
import { collect, tsbpfBin } from './lib/cli.js';

const haveBpftrace = hasCommand('bpftrace');
const opener = buildC('opener', ['-O2', '-static']);

function args(c: CompatCase): string[] {
  const a: string[] = [];
  if (c.workload === 'opener') a.push('-c', `${opener} /etc/hostname 100`);
  a.push('-e', c.prog);
  if (c.params) a.push(...c.params);
  return a;
}

async function run(cmd: string, argv: string[]) {
  return collect(spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BPFTRACE_NO_CPP_DEMANGLE: '0' } }), 30000);
}

/** Numbers vary between runs in `shape` cases: compare the lines with numbers masked. */
const shape = (s: string) => s.replace(/\d+/g, 'N');

for (const c of CASES) {
  const skip = !haveBpftrace && c.expect === undefined ? 'bpftrace is not installed and the case has no stored output' : false;
  test(`compat: ${c.name}`, { skip }, async () => {
    const ours = await run(process.execPath, [tsbpfBin, ...args(c)]);
    assert.equal(ours.code, 0, `tsbpf failed:\n${ours.stderr}`);
    assert.doesNotMatch(ours.stderr, /internal error|\n\s+at /, 'no stack trace');
    let want = c.expect;
    if (haveBpftrace) {
      const theirs = await run('bpftrace', args(c));
      assert.equal(theirs.code, 0, `bpftrace failed on this case (fix the case):\n${theirs.stderr}`);
      want = theirs.stdout;
    }
    if (c.compare === 'exact') assert.equal(ours.stdout, want);
    else assert.equal(shape(ours.stdout), shape(want!));
  });
}
