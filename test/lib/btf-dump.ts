// bpftool's raw BTF dump, and ours written in the same format, so tests can compare whole
// dumps of a BTF blob line by line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Btf } from '../../src/btf/reader.js';
import type { BtfType } from '../../src/btf/types.js';

export function bpftool(format: 'raw' | 'c', file = '/sys/kernel/btf/vmlinux', base?: string): string {
  const args = ['btf', ...(base ? ['-B', base] : []), 'dump', 'file', file, 'format', format];
  return execFileSync('bpftool', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
}

// bpftool's raw dump, one header line per type followed by tab-indented member lines.
export interface RawType { id: number; kind: string; name: string; rest: string; lines: string[] }
export function parseRaw(text: string): Map<number, RawType> {
  const out = new Map<number, RawType>();
  let cur: RawType | undefined;
  for (const line of text.split('\n')) {
    const m = /^\[(\d+)\] (\w+) '(.*?)' ?(.*)$/.exec(line);
    if (m) {
      cur = { id: Number(m[1]), kind: m[2], name: m[3], rest: m[4], lines: [] };
      out.set(cur.id, cur);
    } else if (line.startsWith('\t') && cur) {
      cur.lines.push(line.slice(1));
    }
  }
  return out;
}

// Our decoded types written in bpftool's raw format, so whole dumps can be compared.
export function rawLines(btf: Btf, t: BtfType): string[] {
  const n = (s: string) => `'${s || '(anon)'}'`;
  const head = `[${t.id}] ${t.kind.toUpperCase()} ${n(t.name)}`;
  switch (t.kind) {
    case 'void': return [];
    case 'int': {
      const flags = [t.signed && 'SIGNED', t.char && 'CHAR', t.bool && 'BOOL'].filter(Boolean);
      const enc = flags.length === 0 ? '(none)' : flags.length === 1 ? flags[0] : 'UNKN';
      return [`${head} size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${enc}`];
    }
    case 'ptr': case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag':
      return [`${head} type_id=${t.target}`];
    case 'array': return [`${head} type_id=${t.elem} index_type_id=${t.index} nr_elems=${t.len}`];
    case 'struct': case 'union':
      return [`${head} size=${t.size} vlen=${t.members.length}`, ...t.members.map((m) =>
        `\t${n(m.name)} type_id=${m.type} bits_offset=${m.bitOffset}${m.bitSize ? ` bitfield_size=${m.bitSize}` : ''}`)];
    case 'enum': case 'enum64':
      return [`${head} encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`,
        ...t.values.map((v) => `\t${n(v.name)} val=${v.value}${t.kind === 'enum64' ? (t.signed ? 'LL' : 'ULL') : ''}`)];
    case 'fwd': return [`${head} fwd_kind=${t.fwdKind}`];
    case 'func': return [`${head} type_id=${t.proto} linkage=${t.linkage}`];
    case 'func_proto': {
      const params = t.params.map((p) => `\t${n(p.name)} type_id=${p.type}`);
      if (t.variadic) params.push(`\t'(anon)' type_id=0`);
      return [`${head} ret_type_id=${t.ret} vlen=${params.length}`, ...params];
    }
    case 'var': return [`${head} type_id=${t.type}, linkage=${t.linkage}`];
    case 'datasec':
      return [`${head} size=${t.size} vlen=${t.vars.length}`, ...t.vars.map((v) =>
        `\ttype_id=${v.type} offset=${v.offset} size=${v.size} (VAR ${n(btf.nameOf(v.type))})`)];
    case 'float': return [`${head} size=${t.size}`];
    case 'decl_tag': return [`${head} type_id=${t.target} component_idx=${t.componentIdx}`];
  }
}

export function compareDumps(btf: Btf, expected: string): number {
  const want = expected.trimEnd().split('\n');
  let i = 0;
  for (let id = btf.firstId; id < btf.typeCount; id++) {
    for (const line of rawLines(btf, btf.type(id))) {
      if (line !== want[i]) assert.fail(`type ${id}, dump line ${i + 1}:\n  ours:    ${line}\n  bpftool: ${want[i]}`);
      i++;
    }
  }
  assert.equal(i, want.length, 'bpftool printed more lines than we have types for');
  return btf.typeCount - btf.firstId;
}

