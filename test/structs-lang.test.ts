// Structs defined in scripts: C layout (nested structs, arrays, bitfields, unions, padding)
// checked against gcc's on a fixture traced through uprobe casts, user-space reads next to
// kernel (curtask) reads in one probe, script types shadowing kernel ones, and errors for
// unknown types and members and misused `->` / `.`, each positioned with its caret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildC, fixtureSrc } from './lib/fixtures.js';
import { runCli } from './lib/cli.js';
import { compile } from '../src/lang/compile.js';
import { parse } from '../src/lang/parser.js';
import { Diagnostics, LangError } from '../src/lang/diagnostics.js';
import { ScriptTypes } from '../src/lang/cstructs.js';
import { Btf } from '../src/btf/index.js';

const app = buildC('structs_app', ['-O2', '-g']);

const DEFS = `
struct inner { short tag; long long big; }
union word { uint32_t u; uint8_t b[4]; }
struct record {
  char kind;
  struct inner in;
  int vals[3];
  unsigned int flag : 1;
  int level : 5;
  unsigned int mode : 12;
  uint8_t small;
  const char *label;
  char name[16];
  union word w;
  double ratio;
  uint16_t port;
  struct inner *next;
}
`;

test('layouts match gcc: padding, bitfields across units, nested arrays, unions, long double', () => {
  const c = readFileSync(join(fixtureSrc, 'structs_layouts.c'), 'utf8');
  const defs = c.slice(c.indexOf('// BEGIN DEFINITIONS'), c.indexOf('// END DEFINITIONS'));
  const program = parse(`${defs}\nBEGIN { }`);
  const diags = new Diagnostics(program.source);
  const types = ScriptTypes.from(program.preamble.cDefinitions, diags);
  assert.deepEqual(diags.list, []);
  const oracle = execFileSync(buildC('structs_layouts', ['-O2']), { encoding: 'utf8' }).trim().split('\n');
  let checked = 0;
  for (const line of oracle) {
    const [kind, name, ...rest] = line.split(' ');
    const found = types.lookup('struct', name!) ?? types.lookup('union', name!);
    assert.ok(typeof found === 'object' && found.kind === 'script', `${name} is script-defined`);
    const def = found.def;
    if (kind === 'S') {
      assert.deepEqual([def.size, def.align], rest.map(Number), `sizeof/alignof ${name}`);
    } else {
      const m = def.members.find((x) => x.name === rest[0]);
      assert.deepEqual([m?.bitOffset, m?.bitSize], rest.slice(1).map(Number), `${name}.${rest[0]}`);
    }
    checked++;
  }
  assert.equal(checked, 32);
});

test('uprobe casts to a script struct read every field exactly (gcc layout, user memory)', async () => {
  const rounds = 3;
  const r = await runCli(['-c', `${app} ${rounds} the-label`, '-e', `${DEFS}
BEGIN { printf("script size %d %d\\n", sizeof(struct record), sizeof(struct inner)); }
uprobe:${app}:consume {
  $r = (struct record *)arg0;
  printf("kind %c tag %d big %ld\\n", $r->kind, $r->in.tag, $r->in.big);
  printf("vals %d %d %d\\n", $r->vals[0], $r->vals[1], $r->vals[2]);
  printf("bits %d %d %d small %d\\n", $r->flag, $r->level, $r->mode, $r->small);
  printf("label %s name %s port %d\\n", str($r->label), $r->name, $r->port);
  printf("word %d b1 %d next %d %d\\n", $r->w.u, $r->w.b[1], $r->next->tag, $r->next->big);
  printf("kernel %d\\n", curtask->tgid == pid);
}`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const gcc = /^size (\d+) (\d+) port@80 next@88 /m.exec(r.stdout);
  assert.ok(gcc, `the fixture's own layout line: ${r.stdout}`);
  assert.ok(lines.includes(`script size ${gcc[1]} ${gcc[2]}`), r.stdout);
  for (let i = 1; i <= rounds; i++) {
    const word = (0x11223344 * i) % 2 ** 32;
    const expected = [
      `kind ${String.fromCharCode(65 + i)} tag ${-i} big ${10000000000 * i}`,
      `vals ${i} ${2 * i} ${3 * i}`,
      `bits ${i & 1} ${-i} ${4095 - i} small ${200 + i}`,
      `label the-label name rec-${i} port ${65000 + i}`,
      `word ${word} b1 ${(word >>> 8) & 0xff} next 99 -5`,
    ];
    for (const want of expected) assert.ok(lines.includes(want), `missing '${want}' in:\n${r.stdout}`);
  }
  assert.equal(lines.filter((l) => l === 'kernel 1').length, rounds);
});

test('script definitions shadow kernel types; other names fall back to BTF', async () => {
  const r = await runCli(['-e', `
struct task_struct { int a; long b; }
BEGIN { printf("%d %d\\n", sizeof(struct task_struct), sizeof(struct linux_binprm)); exit(); }`]);
  assert.equal(r.code, 0, r.stderr);
  const btf = Btf.vmlinux();
  const binprm = btf.type(btf.findType('struct', 'linux_binprm')!) as { size: number };
  assert.equal(r.stdout.trim().split('\n').pop(), `16 ${binprm.size}`);
});

interface ErrorCase {
  src: string;
  first: string;
  marked: string;
  hint?: RegExp;
}

const POINT = 'struct point { int x; int y; int depth; }\nstruct box { struct point corner; struct point *next; }\n';

const ERRORS: ErrorCase[] = [
  {
    src: `${POINT}BEGIN { $p = (struct pont *)0; }`,
    first: "stdin:3:15-28: ERROR: Unknown type: 'struct pont'", marked: 'struct pont *', hint: /did you mean 'struct point'/,
  },
  {
    src: `${POINT}BEGIN { $p = (struct point *)0; @ = $p->deth; }`,
    first: "stdin:3:41-45: ERROR: Struct/union of type 'struct point' does not contain a field named 'deth'", marked: 'deth',
    hint: /did you mean 'depth'/,
  },
  {
    src: `${POINT}BEGIN { $b = (struct box *)0; @ = $b->corner->x; }`,
    first: "stdin:3:35-48: ERROR: Can not use '->' on 'struct point': it is not a pointer", marked: '$b->corner->x', hint: /use '\.'/,
  },
  {
    src: `${POINT}BEGIN { $b = (struct box *)0; @ = $b.next; }`,
    first: "stdin:3:35-42: ERROR: Can not access field 'next' on type 'struct box *'. Try dereferencing it first, or using '->'", marked: '$b.next',
  },
  {
    src: 'struct bad { int ok; mystery_t what; }\nBEGIN { }',
    first: "stdin:1:32-36: ERROR: unknown type 'mystery_t' for member 'what'", marked: 'what',
  },
  {
    src: 'struct node { int v; struct node self; }\nBEGIN { }',
    first: "stdin:1:34-38: ERROR: member 'self' has incomplete type 'struct node'", marked: 'self', hint: /make the member a pointer/,
  },
  {
    src: 'struct cb { void (*fn)(int); }\nBEGIN { $c = (struct cb *)0; }',
    first: "stdin:2:15-26: ERROR: 'struct cb' is defined in the script with members tsbpf cannot lay out (function pointers, nested definitions or enums)",
    marked: 'struct cb *',
  },
];

test('errors in script structs are positioned with carets and suggest names', () => {
  for (const c of ERRORS) {
    let err: unknown;
    try {
      compile(c.src);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof LangError, `${c.src}: expected a LangError, got ${String(err)}`);
    const [first, , marks, hint] = err.message.split('\n');
    assert.equal(first, c.first, c.src);
    const d = err.diagnostics[0]!;
    assert.equal(c.src.slice(d.span.offset, d.span.offset + d.span.length), c.marked, c.src);
    assert.equal(marks!.trim(), '~'.repeat(c.marked.length));
    if (c.hint) assert.match(hint ?? '', c.hint, c.src);
  }
});

test('a self-referencing struct pointer can be stored and compared', () => {
  const script = compile(`struct node { int v; struct node *next; }
BEGIN { $n = (struct node *)0; @last = $n->next; @same = $n->next == $n; }`);
  assert.deepEqual(script.maps.map((m) => m.name).sort(), ['@last', '@same']);
});
