// A running tsbpf killed by SIGINT or SIGTERM prints its maps, exits 0, and leaves no
// program, map or link of its own in the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listIds, ObjKind } from '../src/kernel/bpf.js';
import { startCli } from './lib/cli.js';

const kinds: ObjKind[] = ['prog', 'map', 'link'];
const snapshot = () => Object.fromEntries(kinds.map((k) => [k, new Set(listIds(k))])) as Record<ObjKind, Set<number>>;

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`${sig} detaches everything and prints the maps`, async () => {
    const before = snapshot();
    const { child, result } = await startCli(
      ['-e', 'tracepoint:syscalls:sys_enter_openat { @opens[pid] = count(); } interval:ms:50 { @ticks = count(); }'],
      'Attaching',
    );
    const during = snapshot();
    assert.ok([...during.prog].some((id) => !before.prog.has(id)), 'programs were loaded while running');
    await new Promise((r) => setTimeout(r, 200));
    child.kill(sig);
    const r = await result;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Attaching 2 probes\.\.\./);
    assert.match(r.stdout, /@ticks: \d+/);
    // The kernel frees objects of a closed fd asynchronously (after an RCU grace period).
    const leftovers = () => {
      const after = snapshot();
      return kinds.flatMap((k) => [...after[k]].filter((id) => during[k].has(id) && !before[k].has(id)).map((id) => `${k} ${id}`));
    };
    for (let i = 0; i < 50 && leftovers().length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(leftovers(), [], 'objects of the killed tsbpf are gone');
  });
}
