// The part of the C preprocessor bpftrace scripts use without needing clang: `#include`
// lines are remembered (types come from BTF, not headers), object-like `#define`s are
// recorded for the lexer to expand, and #if/#ifdef/#ifndef/#else/#endif select lines.
// Directive lines and skipped lines are blanked with spaces so every offset still points
// at the user's source.
import type { Define, Include } from './ast.js';
import type { Diagnostics } from './diagnostics.js';

export interface Preprocessed {
  /** Same length and line structure as the input, directives blanked. */
  readonly text: string;
  readonly includes: Include[];
  /** Every `#define` seen, in order (a later one with the same name wins). */
  readonly defines: Define[];
  /** The definitions in force at the end, by name, for macro expansion. */
  readonly macros: ReadonlyMap<string, Define>;
}

export interface PreprocessOptions {
  /** Names defined before the script, like `-D` (e.g. BPFTRACE_HAVE_BTF). */
  readonly predefined?: Readonly<Record<string, string>>;
}

interface Cond {
  /** This branch's lines are kept. */
  active: boolean;
  /** Some branch of this #if chain was already taken. */
  taken: boolean;
  /** The enclosing region is active. */
  parentActive: boolean;
  sawElse: boolean;
  offset: number;
}

const directiveRe = /^[ \t]*#[ \t]*([A-Za-z_]*)/;

export function preprocess(source: string, diags: Diagnostics, options: PreprocessOptions = {}): Preprocessed {
  const chars = source.split('');
  const includes: Include[] = [];
  const defines: Define[] = [];
  const macros = new Map<string, Define>();
  const src = diags.source;
  for (const [name, value] of Object.entries(options.predefined ?? {})) {
    macros.set(name, { kind: 'Define', name, value, span: src.spanAt(0, 0) });
  }
  const conds: Cond[] = [];
  const active = (): boolean => conds.length === 0 || conds[conds.length - 1]!.active;
  const blank = (from: number, to: number): void => {
    for (let i = from; i < to; i++) if (chars[i] !== '\n') chars[i] = ' ';
  };

  let lineStart = 0;
  let inComment = false;
  while (lineStart < source.length) {
    // A directive may continue over lines ending in a backslash.
    let lineEnd = source.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = source.length;
    const first = source.slice(lineStart, lineEnd);
    const m = inComment ? null : directiveRe.exec(first);
    if (!m || (lineStart === 0 && first.startsWith('#!'))) {
      if (m || !active()) blank(lineStart, lineEnd);
      else inComment = endsInComment(first, inComment);
      lineStart = lineEnd + 1;
      continue;
    }
    while (lineEnd < source.length && /\\\r?$/.test(source.slice(lineStart, lineEnd))) {
      const next = source.indexOf('\n', lineEnd + 1);
      lineEnd = next < 0 ? source.length : next;
    }
    const text = source.slice(lineStart, lineEnd).replace(/\\\r?\n/g, ' ').replace(/\r$/, '');
    const name = m[1]!;
    const rest = stripComments(text.slice(m[0].length)).trim();
    const hashAt = lineStart + first.indexOf('#');
    const span = src.spanAt(hashAt, lineStart + first.trimEnd().length - hashAt);
    blank(lineStart, lineEnd);
    lineStart = lineEnd + 1;

    switch (name) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const parentActive = active();
        let value = false;
        if (parentActive) {
          if (name === 'if') value = evalCondition(rest, macros, span, diags);
          else value = macros.has(rest.split(/\s+/)[0] ?? '') === (name === 'ifdef');
        }
        conds.push({ active: parentActive && value, taken: value, parentActive, sawElse: false, offset: span.offset });
        continue;
      }
      case 'elif':
      case 'else':
      case 'endif': {
        const top = conds[conds.length - 1];
        if (!top) {
          diags.error(span, `#${name} without a matching #if`);
          continue;
        }
        if (name === 'endif') {
          conds.pop();
        } else if (top.sawElse) {
          diags.error(span, `#${name} after #else`);
        } else {
          const value = name === 'else' || (top.parentActive && !top.taken && evalCondition(rest, macros, span, diags));
          top.active = top.parentActive && !top.taken && value;
          top.taken ||= value;
          top.sawElse = name === 'else';
        }
        continue;
      }
    }
    if (!active()) continue;

    switch (name) {
      case 'include': {
        const inc = /^(?:<([^>]*)>|"([^"]*)")$/.exec(rest);
        if (!inc) {
          diags.error(span, 'malformed #include', 'write #include <file.h> or #include "file.h"');
          break;
        }
        includes.push({ kind: 'Include', path: inc[1] ?? inc[2]!, system: inc[1] !== undefined, span });
        break;
      }
      case 'define': {
        const def = /^([A-Za-z_][A-Za-z0-9_]*)(\(?)\s*(.*)$/.exec(rest);
        if (!def) {
          diags.error(span, 'malformed #define', 'write #define NAME value');
        } else if (def[2]) {
          diags.error(span, `function-like macro '${def[1]}' is not supported`,
            'only object-like macros (#define NAME value) are expanded; write the expression out instead');
        } else {
          const d: Define = { kind: 'Define', name: def[1]!, value: def[3]!, span };
          defines.push(d);
          macros.set(d.name, d);
        }
        break;
      }
      case 'undef':
        macros.delete(rest);
        break;
      case 'pragma':
        break;
      case 'error':
        diags.error(span, `#error ${rest}`);
        break;
      default:
        diags.error(span, name ? `unknown preprocessor directive '#${name}'` : 'stray \'#\'',
          'supported: #include, #define, #undef, #if, #ifdef, #ifndef, #elif, #else, #endif');
    }
  }
  for (const c of conds) diags.error(src.spanAt(c.offset, 1), 'unterminated #if', 'add a matching #endif');
  return { text: chars.join(''), includes, defines, macros };
}

/** Whether a `/* ... *\/` comment is still open at the end of `line`. */
function endsInComment(line: string, inComment: boolean): boolean {
  for (let i = 0; i < line.length; i++) {
    if (inComment) {
      if (line.startsWith('*/', i)) { inComment = false; i++; }
    } else if (line.startsWith('/*', i)) {
      inComment = true;
      i++;
    } else if (line.startsWith('//', i)) {
      return false;
    } else if (line[i] === '"') {
      for (i++; i < line.length && line[i] !== '"'; i++) if (line[i] === '\\') i++;
    }
  }
  return inComment;
}

function stripComments(s: string): string {
  return s.replace(/\/\*.*?\*\//g, ' ').replace(/\/\/.*$/, '');
}

/** `#if` expressions: integers, `defined(X)`, `defined X`, macro names, `!`, `&&`, `||`. */
function evalCondition(expr: string, macros: ReadonlyMap<string, Define>, span: Define['span'], diags: Diagnostics): boolean {
  const tokens = expr.match(/defined|[A-Za-z_][A-Za-z0-9_]*|\d+|&&|\|\||[!()]/g) ?? [];
  if (tokens.join('').length !== expr.replace(/\s+/g, '').length || tokens.length === 0) {
    diags.error(span, `unsupported #if expression '${expr}'`,
      'use integers, defined(NAME), !, && and || in #if without clang');
    return false;
  }
  let i = 0;
  let failed = false;
  const primary = (depth: number): boolean => {
    const t = tokens[i++];
    if (t === undefined || depth > 50) { failed = true; return false; }
    if (t === '!') return !primary(depth + 1);
    if (t === '(') {
      const v = or(depth + 1);
      if (tokens[i++] !== ')') failed = true;
      return v;
    }
    if (t === 'defined') {
      const paren = tokens[i] === '(';
      if (paren) i++;
      const name = tokens[i++] ?? '';
      if (paren && tokens[i++] !== ')') failed = true;
      return macros.has(name);
    }
    if (/^\d/.test(t)) return Number(t) !== 0;
    if (/^[A-Za-z_]/.test(t)) {
      const v = macros.get(t)?.value.trim() ?? '0';
      return /^\d+$/.test(v) ? Number(v) !== 0 : v !== '';
    }
    failed = true;
    return false;
  };
  const and = (depth: number): boolean => {
    let v = primary(depth);
    while (tokens[i] === '&&') { i++; v = primary(depth) && v; }
    return v;
  };
  const or = (depth: number): boolean => {
    let v = and(depth);
    while (tokens[i] === '||') { i++; v = and(depth) || v; }
    return v;
  };
  const result = or(0);
  if (failed || i !== tokens.length) {
    diags.error(span, `unsupported #if expression '${expr}'`,
      'use integers, defined(NAME), !, && and || in #if without clang');
    return false;
  }
  return result;
}
