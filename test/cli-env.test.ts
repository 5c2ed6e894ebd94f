// bin/tsbpf runs Node without NODE_EXTRA_CA_CERTS (a start-up cost) but the command it
// traces still gets the user's environment unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './lib/fixtures.js';
import { collect } from './lib/cli.js';

test('the -c command inherits NODE_EXTRA_CA_CERTS; tsbpf itself ran without it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-env-'));
  const script = join(dir, 'show-env.sh');
  // Prints its own variable, and the environment its parent (tsbpf's Node) was started with.
  writeFileSync(script, '#!/bin/sh\necho "child: $NODE_EXTRA_CA_CERTS"\necho "parent: $(tr \'\\0\' \'\\n\' < /proc/$PPID/environ | grep -c \'^NODE_EXTRA_CA_CERTS=\')"\n');
  chmodSync(script, 0o755);
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/tmp/tsbpf-test-ca.pem' };
  const r = await collect(spawn(join(repoRoot, 'bin/tsbpf'), ['-c', script, '-e', 'BEGIN { }'], { env, stdio: ['ignore', 'pipe', 'pipe'] }), 30000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^child: \/tmp\/tsbpf-test-ca\.pem$/m);
  assert.match(r.stdout, /^parent: 0$/m);
});
