// uaddr() and usym() on data addresses, traced through the CLI on a fixture whose globals change
// a known way before each tick(i) call: exact values from non-PIE (checked against bpftrace
// 0.17 when it is installed) and PIE executables (load bias learnt at run time under ASLR).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { buildC, hasCommand } from './lib/fixtures.js';
import { runCli } from './lib/cli.js';
import { ElfFile } from '../src/elf/reader.js';
import { SymbolTable } from '../src/elf/symbols.js';

const nopie = buildC('uaddr_counter', ['-O2', '-g', '-no-pie']);
const pie = buildC('uaddr_counter', ['-O2', '-g', '-fPIE', '-pie']);

function linkAddress(bin: string, name: string): number {
  const s = SymbolTable.read(ElfFile.open(bin), { data: true }).byName(name)[0];
  assert.ok(s, `${name} in ${bin}`);
  return s.address;
}

test('data symbols are read only on request', () => {
  const elf = ElfFile.open(nopie);
  assert.deepEqual(SymbolTable.read(elf).byName('counter'), []);
  const [counter] = SymbolTable.read(elf, { data: true }).byName('counter');
  assert.deepEqual([counter.kind, counter.size, counter.binding], ['object', 8, 'global']);
  assert.equal(SymbolTable.read(elf, { data: true }).byName('tick')[0].kind, 'func');
});

const NOPIE_PROG = `uprobe:${nopie}:tick { printf("%d %d %d %d %d %p\\n", arg0, *uaddr("counter"), *uaddr("small"), *uaddr("tiny"), *uaddr("flag"), uaddr("counter")); @q[uaddr("tiny")] = count(); @z = *(uaddr("zeroed") + 1); }
uretprobe:${nopie}:tick { @r = *uaddr("counter"); }`;

test('uaddr in a non-PIE executable: typed pointers read exact values', async () => {
  const r = await runCli(['-c', `${nopie} 3`, '-e', NOPIE_PROG]);
  assert.equal(r.code, 0, r.stderr);
  const counter = linkAddress(nopie, 'counter').toString(16);
  const tiny = linkAddress(nopie, 'tiny').toString(16);
  assert.equal(r.stdout, [
    'Attaching 2 probes...',
    `0 1001 -8 3 120 0x${counter}`, `1 1002 -9 3 120 0x${counter}`, `2 1003 -10 3 120 0x${counter}`,
    '', '', `@q[0x${tiny}]: 3`, '@r: 1003', '@z: 6', '',
  ].join('\n'));
  if (hasCommand('bpftrace')) {
    const bt = execFileSync('bpftrace', ['-c', `${nopie} 3`, '-e', NOPIE_PROG], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.equal(r.stdout, bt);
  }
});

test('uaddr in a PIE executable follows ASLR in uprobes and uretprobes', async () => {
  const N = 40;
  const prog = `uprobe:${pie}:tick { printf("%d %d %d %d %d\\n", arg0, *uaddr("counter"), *(uaddr("zeroed") + 1), (uint64)uaddr("tick") - reg("ip"), (uint64)uaddr("counter") - (uint64)uaddr("tick")); @at = uaddr("tick"); }
uretprobe:${pie}:tick { @r = *uaddr("counter"); @n = *uaddr("small"); }`;
  const r = await runCli(['-f', 'json', '-c', `${pie} ${N}`, '-e', prog]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; data: unknown });
  const printed = lines.filter((l) => l.type === 'printf').map((l) => l.data as string).join('').trimEnd().split('\n');
  const delta = linkAddress(pie, 'counter') - linkAddress(pie, 'tick');
  assert.deepEqual(printed, Array.from({ length: N }, (_, i) => `${i} ${1001 + i} ${3 * i} 0 ${delta}`));
  const maps = Object.assign({}, ...lines.filter((l) => l.type === 'map').map((l) => l.data)) as Record<string, unknown>;
  assert.deepEqual([maps['@r'], maps['@n']], [1000 + N, -7 - N]);
  // Loaded away from its link-time address, so a bias was really applied.
  assert.notEqual(BigInt(maps['@at'] as string | number), BigInt(linkAddress(pie, 'tick')));
});

test('usym names data addresses; uaddr round-trips through it', async () => {
  for (const bin of [nopie, pie]) {
    const r = await runCli(['-c', `${bin} 2 300`, '-e',
      `uprobe:${bin}:tick { printf("%s %s %s %s %s\\n", usym(uaddr("counter")), usym(uaddr("small")), usym(uaddr("zeroed") + 1), usym(uaddr("tick")), usym(reg("ip"))); }`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l === 'counter small zeroed tick tick').length, 2, r.stdout);
  }
});

test('uaddr misuse is a positioned compile error', async () => {
  const cases: Array<[string, RegExp]> = [
    ['tracepoint:syscalls:sys_enter_read { @ = *uaddr("counter"); }', /uaddr\(\) can not be used with tracepoint probes/],
    [`uprobe:${pie}:tick { @ = *uaddr("countr"); }`, /no symbol 'countr' in .*\n[^]*did you mean 'counter'\?/],
    [`uprobe:${pie}:tick { $s = "counter"; @ = *uaddr($s); }`, /uaddr\(\) symbol must be a string literal/],
  ];
  for (const [prog, what] of cases) {
    const r = await runCli(['-e', prog]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^stdin:1:\d+-\d+: ERROR: /);
    assert.match(r.stderr, what);
  }
});
