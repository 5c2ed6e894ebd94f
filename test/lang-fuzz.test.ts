// Seeded fuzzing of the language front end: random token soups and mutated real programs.
// The parser must return or throw LangError, never anything else, and never take long.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../src/lang/parser.js';
import { LangError } from '../src/lang/diagnostics.js';
import { PROGRAMS } from './lang-programs.js';

/** mulberry32: tiny, fast, good enough to spread cases; fixed seeds keep failures reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCAB = [
  'BEGIN', 'END', 'kprobe:f', 'uprobe:/bin/sh:main', 'tracepoint:a:b', 't:x:*', 'interval:s:1', 'usdt:./a:p:n',
  'uprobe:"/a b":"c(*d)"', 'if', 'else', 'while', 'unroll', 'break', 'continue', 'return', 'sizeof', 'struct', 'union',
  'enum', 'int32', 'uint8', 'pid', 'comm', 'args', 'arg0', 'retval', 'printf', 'count', 'hist', 'str', 'delete',
  '$x', '$y', '$1', '$#', '@', '@m', '@count', '0', '1', '42', '0x10', '017', '1e3', '10ull', '1_000',
  '"s"', '"%d\\n"', '"\\x41"', '"', "'", '\\', '{', '}', '(', ')', '[', ']', ';', ',', ':', '?', '.', '->',
  '+', '-', '*', '/', '%', '&', '|', '^', '!', '~', '<', '>', '=', '==', '!=', '<=', '>=', '<<', '>>',
  '&&', '||', '++', '--', '+=', '-=', '<<=', '>>=', '//', '/*', '*/', '#include <a.h>', '#define N 1', '#if 1',
  '#endif', '#', '\n', ' ', '\t', 'é', '\u0000', '@x[1,2]', '$t.0', '(struct task_struct *)', 'x',
];

const CHARS = '{}()[];,:?./*-+%&|^!~<>="\'\\$@#_ \n\tax09';

function tokenSoup(r: () => number): string {
  const n = 1 + Math.floor(r() * 60);
  let out = '';
  for (let i = 0; i < n; i++) out += VOCAB[Math.floor(r() * VOCAB.length)]! + (r() < 0.7 ? ' ' : '');
  return out;
}

function mutate(src: string, r: () => number): string {
  let s = src;
  const rounds = 1 + Math.floor(r() * 4);
  for (let k = 0; k < rounds; k++) {
    const i = Math.floor(r() * (s.length + 1));
    const j = Math.min(s.length, i + 1 + Math.floor(r() * 8));
    switch (Math.floor(r() * 7)) {
      case 0: s = s.slice(0, i) + s.slice(j); break; // delete a run
      case 1: s = s.slice(0, i) + CHARS[Math.floor(r() * CHARS.length)]! + s.slice(i); break; // insert a char
      case 2: s = s.slice(0, i) + VOCAB[Math.floor(r() * VOCAB.length)]! + s.slice(i); break; // insert a token
      case 3: { // swap two chars
        const a = Math.floor(r() * s.length);
        const b = Math.floor(r() * s.length);
        if (a < b) s = s.slice(0, a) + s[b] + s.slice(a + 1, b) + s[a] + s.slice(b + 1);
        break;
      }
      case 4: s = s.slice(0, i) + s.slice(i, j) + s.slice(i); break; // duplicate a run
      case 5: s = s.slice(0, i); break; // truncate
      case 6: s = s.slice(0, i) + s.slice(j).replace(/[;{}()]/, ''); break; // drop one delimiter
    }
  }
  return s;
}

function check(src: string, label: string): 'ok' | 'error' {
  const t0 = performance.now();
  let outcome: 'ok' | 'error' = 'ok';
  try {
    parse(src, 'fuzz.bt');
  } catch (e) {
    if (!(e instanceof LangError)) {
      assert.fail(`${label}: ${e instanceof Error ? e.stack : String(e)}\ninput: ${JSON.stringify(src)}`);
    }
    assert.ok(e.diagnostics.length > 0 && e.message.length > 0, `${label}: empty LangError`);
    for (const d of e.diagnostics) {
      assert.ok(d.span.line >= 1 && d.span.col >= 1 && d.span.offset <= src.length, `${label}: bad span ${JSON.stringify(d.span)}`);
    }
    outcome = 'error';
  }
  const ms = performance.now() - t0;
  assert.ok(ms < 100, `${label}: ${ms.toFixed(1)} ms for ${JSON.stringify(src.slice(0, 200))}`);
  return outcome;
}

test('fuzz: random token soups', () => {
  const r = rng(0x5eed);
  const seen = { ok: 0, error: 0 };
  for (let i = 0; i < 1500; i++) seen[check(tokenSoup(r), `soup ${i}`)]++;
  assert.ok(seen.error > 0);
});

test('fuzz: mutations of the sample programs', () => {
  const r = rng(0xbadc0de);
  const seen = { ok: 0, error: 0 };
  for (let i = 0; i < 2500; i++) {
    const p = PROGRAMS[i % PROGRAMS.length]!;
    seen[check(mutate(p.source, r), `mutation ${i} of ${p.name}`)]++;
  }
  // Both outcomes occur: mutations are neither all harmless nor all fatal.
  assert.ok(seen.ok > 50 && seen.error > 500, JSON.stringify(seen));
});

test('fuzz: random bytes and pathological shapes', () => {
  const r = rng(42);
  for (let i = 0; i < 300; i++) {
    const n = Math.floor(r() * 200);
    let s = '';
    for (let k = 0; k < n; k++) s += String.fromCharCode(Math.floor(r() * 128));
    check(s, `bytes ${i}`);
  }
  const shapes = [
    '"'.repeat(10000), '/*'.repeat(10000), '{'.repeat(20000), '}'.repeat(20000), '('.repeat(20000),
    `BEGIN { ${'$x = 1; '.repeat(5000)} }`, `BEGIN { ${'@m[1,'.repeat(3000)} }`, '#if 1\n'.repeat(2000),
    `${'kprobe:f,'.repeat(3000)}kprobe:g { }`, `BEGIN { $x = ${'a.'.repeat(5000)}b; }`, ':'.repeat(10000),
    `BEGIN { ${'unroll(1) { '.repeat(400)} }`, '#define A B\n#define B A\nBEGIN { $x = A; }',
    `BEGIN { $x = ${'(int32)'.repeat(3000)}1; }`, "'".repeat(20000), `BEGIN { ${'$x = 08; '.repeat(3000)} }`, `BEGIN { $x = ${'sizeof('.repeat(3000)}1; }`,
  ];
  for (const [i, s] of shapes.entries()) check(s, `shape ${i}`);
});
