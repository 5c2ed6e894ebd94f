// The README's quick-start command: `tsbpf demo` traces the workload it starts itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './lib/cli.js';

test('tsbpf demo traces its own workload exactly', async () => {
  const r = await runCli(['demo'], { timeoutMs: 60000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Attaching 5 probes\.\.\.$/m);
  assert.match(r.stdout, /^@execs\[cat\]: 200$/m);
  assert.match(r.stdout, /^@opens\[\/etc\/hostname\]: 200$/m);
  assert.match(r.stdout, /^@read_bytes: $/m);
  assert.match(r.stdout, /^workload finished$/m);
});
