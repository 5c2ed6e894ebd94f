// Tokens of the tracing language. The parser pulls tokens one at a time because probe
// headers (`uprobe:/usr/lib/libc.so.6:malloc+8`) are not made of ordinary tokens: at the
// start of a probe it asks for a whole attach point spec with `scanAttachPoint` instead.
// Object-like macros from `#define` are expanded here, with the use site's span.
import type { Define } from './ast.js';
import { Diagnostics, SourceText, type Diagnostic, type Span } from './diagnostics.js';

export type TokenKind = 'int' | 'string' | 'ident' | 'var' | 'map' | 'param' | 'paramcount' | 'op' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** ident: the name; var/map: with sigil; op: the operator; int/string: the source text. */
  readonly text: string;
  readonly span: Span;
  /** int: the value (always non-negative here). */
  readonly int?: bigint;
  /** int: the C suffix, lower-cased, or ''. */
  readonly suffix?: string;
  /** string: the decoded value and its bytes. */
  readonly str?: string;
  readonly bytes?: Uint8Array;
  /** param: the position (`$3` -> 3). */
  readonly index?: number;
  /** op `/` followed (after blanks and comments) by `{`: closes a predicate, not a division. */
  readonly endsPredicate?: boolean;
}

/** An attach point spec as scanned, before the parser splits off and normalises the provider. */
export interface RawAttachPoint {
  readonly raw: string;
  readonly parts: string[];
  readonly quoted: boolean[];
  readonly span: Span;
}

const OPERATORS = [
  '<<=', '>>=',
  '->', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '==', '!=', '<=', '>=', '<<', '>>', '&&', '||',
  '+', '-', '*', '/', '%', '&', '|', '^', '!', '~', '<', '>', '=', '?', ':', ';', ',', '.', '(', ')', '[', ']', '{', '}',
];

const MAX_U64 = (1n << 64n) - 1n;
const MAX_MACRO_DEPTH = 32;

const isIdentStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

/** Characters that end an attach point spec (besides blanks, and `/` outside a path segment). */
const AP_STOP = new Set([',', '{', '}', ';', '(', ')']);

export class Lexer {
  pos = 0;
  private pending: Token[] = [];

  /**
   * @param text the preprocessed source (same offsets as the original)
   * @param expanding macro names being expanded around this lexer, to stop self-reference
   */
  constructor(
    readonly text: string,
    private readonly diags: Diagnostics,
    private readonly macros: ReadonlyMap<string, Define> = new Map(),
    private readonly expanding: readonly string[] = [],
    private readonly useSite?: Span,
  ) {}

  /** Continue lexing at `offset`, dropping any expanded-macro tokens not yet returned. */
  rewind(offset: number): void {
    this.pos = offset;
    this.pending = [];
  }

  get atEnd(): boolean {
    return this.pending.length === 0 && this.pos >= this.text.length;
  }

  /** The next character after blanks and comments, without consuming anything but them. */
  peekChar(): string | undefined {
    this.skipTrivia();
    return this.text[this.pos];
  }

  /** The identifier-like word at the current position (after trivia), or ''. */
  peekWord(): string {
    this.skipTrivia();
    return /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos, this.pos + 64))?.[0] ?? '';
  }

  span(offset: number, length: number): Span {
    return this.useSite ?? this.diags.source.spanAt(offset, length);
  }

  skipTrivia(): void {
    const t = this.text;
    for (;;) {
      const c = t[this.pos];
      if (isSpace(c)) {
        this.pos++;
      } else if (c === '/' && t[this.pos + 1] === '/') {
        const nl = t.indexOf('\n', this.pos);
        this.pos = nl < 0 ? t.length : nl;
      } else if (c === '/' && t[this.pos + 1] === '*') {
        const end = t.indexOf('*/', this.pos + 2);
        if (end < 0) {
          this.diags.error(this.span(this.pos, 2), 'unterminated comment', "close it with '*/'");
          this.pos = t.length;
        } else {
          this.pos = end + 2;
        }
      } else {
        return;
      }
    }
  }

  next(): Token {
    const queued = this.pending.shift();
    if (queued) return queued;
    for (;;) {
      this.skipTrivia();
      const start = this.pos;
      const t = this.text;
      const c = t[start];
      if (c === undefined) return { kind: 'eof', text: '', span: this.span(t.length, 0) };
      if (isDigit(c)) return this.number();
      if (c === '"') return this.string();
      if (isIdentStart(c)) {
        while (isIdentChar(t[this.pos])) this.pos++;
        const name = t.slice(start, this.pos);
        const tok: Token = { kind: 'ident', text: name, span: this.span(start, name.length) };
        const macro = this.macros.get(name);
        if (macro && !this.expanding.includes(name)) return this.expand(macro, tok);
        return tok;
      }
      if (c === '$') {
        this.pos++;
        if (t[this.pos] === '#') {
          this.pos++;
          return { kind: 'paramcount', text: '$#', span: this.span(start, 2) };
        }
        if (isDigit(t[this.pos])) {
          while (isDigit(t[this.pos])) this.pos++;
          const text = t.slice(start, this.pos);
          const index = Number(text.slice(1));
          if (index < 1 || !Number.isSafeInteger(index)) {
            this.diags.error(this.span(start, text.length), `invalid positional parameter '${text}'`, 'positional parameters start at $1');
          }
          return { kind: 'param', text, index, span: this.span(start, text.length) };
        }
        if (isIdentStart(t[this.pos])) {
          while (isIdentChar(t[this.pos])) this.pos++;
          return { kind: 'var', text: t.slice(start, this.pos), span: this.span(start, this.pos - start) };
        }
        this.diags.error(this.span(start, 1), "'$' must be followed by a variable name, a parameter number or '#'",
          'write $name for a variable, $1 for the first positional parameter, $# for their count');
        continue;
      }
      if (c === '@') {
        this.pos++;
        while (isIdentChar(t[this.pos])) this.pos++;
        const text = t.slice(start, this.pos);
        if (text.length > 1 && isDigit(text[1])) {
          this.diags.error(this.span(start, text.length), `invalid map name '${text}'`, 'map names start with a letter or _');
        }
        return { kind: 'map', text, span: this.span(start, text.length) };
      }
      const op = OPERATORS.find((o) => t.startsWith(o, start));
      if (op) {
        this.pos += op.length;
        if (op === '/' && this.followedByBrace()) {
          return { kind: 'op', text: op, span: this.span(start, 1), endsPredicate: true };
        }
        return { kind: 'op', text: op, span: this.span(start, op.length) };
      }
      const cp = t.codePointAt(start)!;
      const ch = String.fromCodePoint(cp);
      this.pos += ch.length;
      this.diags.error(this.span(start, ch.length), `invalid character '${printable(ch)}'`,
        ch === "'" ? 'strings are written in double quotes' : undefined);
    }
  }

  private followedByBrace(): boolean {
    const save = this.pos;
    const saveCount = this.diags.list.length;
    this.skipTrivia();
    const brace = this.text[this.pos] === '{';
    this.pos = save;
    this.diags.list.length = saveCount;
    return brace;
  }

  private expand(macro: Define, use: Token): Token {
    if (this.expanding.length >= MAX_MACRO_DEPTH) {
      this.diags.error(use.span, `macro '${macro.name}' expands too deeply`);
      return use;
    }
    const sub = new Lexer(macro.value, this.diags, this.macros, [...this.expanding, macro.name], use.span);
    const body: Token[] = [];
    for (let tok = sub.next(); tok.kind !== 'eof'; tok = sub.next()) body.push(tok);
    if (body.length === 0) return this.next();
    this.pending.unshift(...body.slice(1));
    return body[0]!;
  }

  private number(): Token {
    const t = this.text;
    const start = this.pos;
    let value: bigint | undefined;
    let bad = false;
    if (t[start] === '0' && (t[start + 1] === 'x' || t[start + 1] === 'X')) {
      this.pos += 2;
      const digitsAt = this.pos;
      while (/[0-9a-fA-F_]/.test(t[this.pos] ?? '')) this.pos++;
      const digits = t.slice(digitsAt, this.pos);
      if (!/^[0-9a-fA-F](_?[0-9a-fA-F])*$/.test(digits)) bad = true;
      else value = BigInt('0x' + digits.replaceAll('_', ''));
    } else {
      while (isDigit(t[this.pos]) || t[this.pos] === '_') this.pos++;
      const digits = t.slice(start, this.pos);
      if (!/^\d(_?\d)*$/.test(digits)) {
        bad = true;
      } else if ((t[this.pos] === 'e' || t[this.pos] === 'E') && isDigit(t[this.pos + 1])) {
        this.pos++;
        const expAt = this.pos;
        while (isDigit(t[this.pos])) this.pos++;
        const exp = Number(t.slice(expAt, this.pos));
        value = exp > 20 ? MAX_U64 + 1n : BigInt(digits.replaceAll('_', '')) * 10n ** BigInt(exp);
      } else if (digits.length > 1 && digits[0] === '0') {
        if (/[89]/.test(digits)) bad = true;
        else value = BigInt('0o' + digits.slice(1).replaceAll('_', ''));
      } else {
        value = BigInt(digits.replaceAll('_', ''));
      }
    }
    const suffix = /^(?:ull|llu|ul|lu|ll|u|l)(?![A-Za-z0-9_])/i.exec(t.slice(this.pos, this.pos + 4))?.[0] ?? '';
    this.pos += suffix.length;
    if (isIdentChar(t[this.pos])) {
      bad = true;
      while (isIdentChar(t[this.pos])) this.pos++;
    }
    const text = t.slice(start, this.pos);
    const span = this.span(start, text.length);
    if (bad || value === undefined) {
      this.diags.error(span, `invalid integer literal '${text}'`,
        'integers are decimal (1_000, 1e6), hex (0x1f) or octal (017), optionally with a u/l suffix; there are no unit suffixes');
      return { kind: 'int', text, int: 0n, suffix: '', span };
    }
    if (value > MAX_U64) {
      this.diags.error(span, `integer literal '${text}' does not fit in 64 bits`);
      value = 0n;
    }
    return { kind: 'int', text, int: value, suffix: suffix.toLowerCase(), span };
  }

  private string(): Token {
    const t = this.text;
    const start = this.pos++;
    const bytes: number[] = [];
    let value = '';
    const enc = new TextEncoder();
    for (;;) {
      const c = t[this.pos];
      if (c === undefined || c === '\n') {
        this.diags.error(this.span(start, this.pos - start), 'unterminated string', 'close the string with " on the same line');
        break;
      }
      if (c === '"') {
        this.pos++;
        break;
      }
      if (c !== '\\') {
        const ch = String.fromCodePoint(t.codePointAt(this.pos)!);
        value += ch;
        bytes.push(...enc.encode(ch));
        this.pos += ch.length;
        continue;
      }
      const e = t[this.pos + 1];
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, "'": 39, a: 7, b: 8, f: 12, v: 11, '?': 63 };
      if (e !== undefined && e in simple) {
        bytes.push(simple[e]!);
        value += String.fromCharCode(simple[e]!);
        this.pos += 2;
        continue;
      }
      const oct = /^[0-7]{1,3}/.exec(t.slice(this.pos + 1, this.pos + 4))?.[0];
      const hex = e === 'x' ? /^[0-9a-fA-F]{1,2}/.exec(t.slice(this.pos + 2, this.pos + 4))?.[0] : undefined;
      if (oct || hex) {
        const n = oct ? parseInt(oct, 8) : parseInt(hex!, 16);
        if (n > 255) this.diags.error(this.span(this.pos, oct!.length + 1), `octal escape '\\${oct}' is out of range`);
        bytes.push(n & 255);
        value += String.fromCharCode(n & 255);
        this.pos += oct ? oct.length + 1 : hex!.length + 2;
        continue;
      }
      if (e === undefined || e === '\n') {
        this.pos++;
        continue;
      }
      this.diags.error(this.span(this.pos, 2), `invalid escape character '\\${e}'`,
        'supported escapes: \\n \\t \\r \\\\ \\" \\xHH \\NNN (octal)');
      this.pos += 2;
    }
    const text = t.slice(start, this.pos);
    return { kind: 'string', text, str: value, bytes: Uint8Array.from(bytes), span: this.span(start, text.length) };
  }

  /**
   * One attach point spec starting here (after trivia), e.g. `uprobe:/bin/bash:readline` or
   * `uprobe:"/my app":"main.(*T).Run"`. A segment between two colons may hold `/` (paths);
   * in the last segment a `/` starts the predicate, as in bpftrace.
   */
  scanAttachPoint(): RawAttachPoint | null {
    this.pending = [];
    this.skipTrivia();
    const t = this.text;
    const start = this.pos;
    const parts: string[] = [];
    const quoted: boolean[] = [];
    let cur = '';
    let curQuoted = false;
    let pathSegment = false;
    for (;;) {
      const c = t[this.pos];
      if (c === undefined || isSpace(c) || AP_STOP.has(c) || (c === '/' && !pathSegment)) break;
      if (c === '"') {
        const tok = this.string();
        cur += tok.str;
        curQuoted = true;
        continue;
      }
      this.pos++;
      if (c === ':') {
        parts.push(cur);
        quoted.push(curQuoted);
        cur = '';
        curQuoted = false;
        pathSegment = this.segmentEndsInColon();
        continue;
      }
      cur += c;
    }
    if (this.pos === start) return null;
    parts.push(cur);
    quoted.push(curQuoted);
    return { raw: t.slice(start, this.pos), parts, quoted, span: this.span(start, this.pos - start) };
  }

  private segmentEndsInColon(): boolean {
    const t = this.text;
    for (let i = this.pos; i < t.length; i++) {
      const c = t[i]!;
      if (c === ':') return true;
      if (isSpace(c) || AP_STOP.has(c) || c === '"') return false;
    }
    return false;
  }

  /**
   * A top-level C definition `struct X { ... };` (or union/enum) starting here: returns its
   * text, keyword and name, or null (nothing consumed) when the input is not one.
   */
  scanCDefinition(): { keyword: 'struct' | 'union' | 'enum'; name: string; text: string; body: string; span: Span } | null {
    this.pending = [];
    this.skipTrivia();
    const t = this.text;
    const start = this.pos;
    const head = /^(struct|union|enum)\s+([A-Za-z_][A-Za-z0-9_]*)?\s*\{/.exec(t.slice(start, start + 300));
    if (!head) return null;
    let i = start + head[0].length;
    const bodyStart = i;
    let depth = 1;
    while (i < t.length && depth > 0) {
      if (t.startsWith('//', i)) { const nl = t.indexOf('\n', i); i = nl < 0 ? t.length : nl; continue; }
      if (t.startsWith('/*', i)) { const end = t.indexOf('*/', i + 2); i = end < 0 ? t.length : end + 2; continue; }
      if (t[i] === '{') depth++;
      else if (t[i] === '}') depth--;
      i++;
    }
    if (depth > 0) {
      this.diags.error(this.span(start, head[0].length), `unterminated ${head[1]} definition`, "close it with '};'");
      this.pos = t.length;
      return null;
    }
    const body = t.slice(bodyStart, i - 1);
    this.pos = i;
    this.skipTrivia();
    if (t[this.pos] === ';') this.pos++;
    return {
      keyword: head[1] as 'struct' | 'union' | 'enum',
      name: head[2] ?? '',
      text: t.slice(start, this.pos),
      body,
      span: this.span(start, this.pos - start),
    };
  }
}

function printable(ch: string): string {
  const cp = ch.codePointAt(0)!;
  return cp < 32 || cp === 127 ? `\\x${cp.toString(16).padStart(2, '0')}` : ch;
}

/** Every token of `text` (no preprocessing, no attach point scanning), ending with 'eof'. */
export function tokenize(text: string, file = 'stdin'): { tokens: Token[]; diagnostics: Diagnostic[] } {
  const diags = new Diagnostics(new SourceText(text, file));
  const lexer = new Lexer(text, diags);
  const tokens: Token[] = [];
  for (let tok = lexer.next(); ; tok = lexer.next()) {
    tokens.push(tok);
    if (tok.kind === 'eof') return { tokens, diagnostics: diags.list };
  }
}
