// objdump as ground truth for the x86 decoder tests: where .text is and what objdump decodes there.
// Deliberately minimal ELF handling (objdump -h does the parsing); src/elf/ is the real reader.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Text {
  code: Uint8Array;
  vma: number;
}

/** The bytes and load address of a binary's .text, located with `objdump -h`. */
export function readText(path: string): Text {
  const headers = execFileSync('objdump', ['-h', '-w', path], { encoding: 'utf8' });
  const m = /^\s*\d+\s+\.text\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/m.exec(headers);
  assert.ok(m, `no .text in ${path}`);
  const [size, vma, off] = [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
  return { code: new Uint8Array(readFileSync(path).subarray(off, off + size)), vma };
}

export interface Disassembled {
  addr: number;
  length: number;
  text: string;
}

/** Every instruction objdump finds in .text, with its length from the raw bytes it prints. */
export function objdumpText(path: string): Disassembled[] {
  const out = execFileSync('objdump', ['-d', '-w', '-j', '.text', path], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const insns: Disassembled[] = [];
  const line = /^\s*([0-9a-f]+):\t([0-9a-f]{2}(?: [0-9a-f]{2})*)\s*(?:\t(.*))?$/;
  for (const l of out.split('\n')) {
    const m = line.exec(l);
    if (!m) continue;
    insns.push({ addr: parseInt(m[1]!, 16), length: m[2]!.split(' ').length, text: (m[3] ?? '').trim() });
  }
  return insns;
}

export interface FunctionSymbol {
  name: string;
  addr: number;
  size: number;
}

/** Defined code symbols with a size, from `nm -S` (`dynamic` reads .dynsym, for stripped libraries). */
export function functionSymbols(path: string, dynamic = false): FunctionSymbol[] {
  const args = ['-S', '--defined-only', ...(dynamic ? ['-D'] : []), path];
  const out = execFileSync('nm', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const syms: FunctionSymbol[] = [];
  for (const l of out.split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) [Tt] (\S+)$/.exec(l);
    if (m && parseInt(m[2]!, 16) > 0) syms.push({ name: m[3]!, addr: parseInt(m[1]!, 16), size: parseInt(m[2]!, 16) });
  }
  return syms;
}
