// `tsbpf prog|map list` and `prog dump` see objects another process loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Asm } from '../src/isa/asm.js';
import { R0, R1, R2, FP } from '../src/isa/insn.js';
import { Session } from '../src/runtime/session.js';
import { runCli } from './lib/cli.js';

test('prog and map listings show a loaded program and its map; dump disassembles it', async () => {
  const s = new Session();
  try {
    s.createMap({ name: 'inspect_map', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16 });
    const a = new Asm().storeImm(FP, -4, 0, 'u32').ldMap(R1, 'inspect_map').mov(R2, FP).alu64('add', R2, { imm: -4 })
      .call('map_lookup_elem').movImm(R0, 0).exit();
    s.loadProgram({ name: 'inspect_prog', type: 'tracepoint', insns: a });
    const progs = JSON.parse((await runCli(['prog', 'list', '--json'])).stdout) as Array<{ id: number; name: string; type: string; map_ids: number[] }>;
    const mine = progs.find((p) => p.name === 'inspect_prog');
    assert.ok(mine, 'our program is listed');
    assert.equal(mine.type, 'tracepoint');
    const maps = JSON.parse((await runCli(['map', 'list', '--json'])).stdout) as Array<{ id: number; name: string; bytes_key: number; bytes_value: number }>;
    const map = maps.find((m) => m.name === 'inspect_map');
    assert.ok(map && mine.map_ids.includes(map.id), 'the program references our map');
    assert.equal(map.bytes_key, 4);
    const dump = await runCli(['prog', 'dump', String(mine.id)]);
    assert.equal(dump.code, 0, dump.stderr);
    // The kernel may inline the lookup into a direct call in its translated code.
    assert.match(dump.stdout, /call (bpf_map_lookup_elem#1|kernel_func#\d+)/);
    assert.match(dump.stdout, /\(95\) exit$/m);
    const bad = await runCli(['prog', 'dump', '999999999']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no program with id 999999999/);
  } finally {
    s.close();
  }
});
