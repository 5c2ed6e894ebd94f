// Recursive-descent parser for bpftrace 0.17's language. Errors are collected, not thrown
// one at a time: after a bad statement the parser skips to the next `;` or `}`, after a bad
// probe header to the end of that probe, so one run reports every mistake it can. Nesting
// is capped so hostile input cannot exhaust the stack.
import {
  BUILTIN_VARIABLES, PROVIDER_ALIASES,
  type AssignOp, type AttachPoint, type BinaryOp, type Block, type CDefinition, type CField, type Expr,
  type IfStmt, type IntegerLiteral, type MapRef, type PositionalParam, type Probe, type Program, type Stmt,
  type TypeRef, type UnaryOp, type Variable,
} from './ast.js';
import { Diagnostics, SourceText, joinSpans, type Span } from './diagnostics.js';
import { Lexer, type RawAttachPoint, type Token } from './lexer.js';
import { preprocess, type PreprocessOptions } from './preprocess.js';

export type ParseOptions = PreprocessOptions;

/** Parses a whole program; throws LangError listing every diagnostic when it has errors. */
export function parse(source: string, file = 'stdin', options: ParseOptions = {}): Program {
  const src = new SourceText(source, file);
  const diags = new Diagnostics(src);
  const program = parseInto(src, diags, options);
  diags.throwIfErrors();
  return program;
}

/** Parses into `diags` without throwing, for callers that continue with more passes. */
export function parseInto(src: SourceText, diags: Diagnostics, options: ParseOptions = {}): Program {
  const pre = preprocess(src.text, diags, options);
  const parser = new Parser(new Lexer(pre.text, diags, pre.macros), diags, src);
  const { probes, cDefinitions } = parser.program();
  return {
    kind: 'Program',
    file: src.file,
    source: src,
    preamble: { includes: pre.includes, defines: pre.defines, cDefinitions },
    probes,
    span: src.spanAt(0, src.text.length),
  };
}

/** Unwinds to the nearest recovery point; the diagnostic is already recorded. */
class SyntaxFailure extends Error {}
/** Unwinds all the way out: too many errors to be useful. */
class TooManyErrors extends Error {}

const MAX_DEPTH = 200;
const MAX_ERRORS = 30;

const BINARY_PRECEDENCE: Readonly<Record<string, number>> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6,
  '<': 7, '<=': 7, '>': 7, '>=': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=']);
const UNARY_OPS = new Set(['!', '~', '-', '*', '&']);
const KEYWORDS = new Set(['if', 'else', 'unroll', 'while', 'break', 'continue', 'return']);
const INT_TYPES = new Set(['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);
const TAG_KEYWORDS = new Set(['struct', 'union', 'enum']);
const BUILTINS = new Set(BUILTIN_VARIABLES);

class Parser {
  private buf: Token[] = [];
  private depth = 0;

  constructor(private readonly lx: Lexer, private readonly diags: Diagnostics, private readonly src: SourceText) {}

  program(): { probes: Probe[]; cDefinitions: CDefinition[] } {
    const probes: Probe[] = [];
    const cDefinitions: CDefinition[] = [];
    try {
      for (;;) {
        this.resync();
        this.lx.skipTrivia();
        if (this.lx.atEnd) break;
        if (TAG_KEYWORDS.has(this.lx.peekWord())) {
          const def = this.lx.scanCDefinition();
          if (def) {
            cDefinitions.push({
              kind: 'CDefinition', keyword: def.keyword, name: def.name, text: def.text,
              fields: def.keyword === 'enum' ? null : parseCFields(def.body), span: def.span,
            });
            continue;
          }
        }
        const before = this.lx.pos;
        try {
          probes.push(this.probe());
        } catch (e) {
          if (!(e instanceof SyntaxFailure)) throw e;
          this.skipProbe();
          if (this.buf.length === 0 && this.lx.pos === before) this.lx.pos++;
        }
      }
    } catch (e) {
      if (!(e instanceof TooManyErrors)) throw e;
    }
    if (probes.length === 0 && this.diags.errorCount === 0) {
      this.diags.error(this.src.spanAt(this.src.text.length, 0), 'no probes in program',
        "add a probe, e.g. BEGIN { printf(\"hello\\n\"); }");
    }
    return { probes, cDefinitions };
  }

  // ---- tokens ----

  private peek(n = 0): Token {
    while (this.buf.length <= n) this.buf.push(this.lx.next());
    return this.buf[n]!;
  }

  private take(): Token {
    const t = this.peek();
    this.buf.shift();
    return t;
  }

  private atOp(text: string, n = 0): boolean {
    const t = this.peek(n);
    return t.kind === 'op' && t.text === text;
  }

  private eatOp(text: string): Token | null {
    return this.atOp(text) ? this.take() : null;
  }

  private expectOp(text: string, context: string): Token {
    const t = this.peek();
    if (t.kind === 'op' && t.text === text) return this.take();
    const hint = t.kind === 'op' && t.text === '=' && text === ')' ? "to compare, write '=='; assignments are statements, not expressions" : undefined;
    return this.fail(t.span, `expected '${text}' ${context}, found ${describe(t)}`, hint);
  }

  /** Hand the position back to the lexer, for scanning that is not token based. */
  private resync(): void {
    if (this.buf.length > 0) this.lx.rewind(this.buf[0]!.span.offset);
    this.buf = [];
  }

  private fail(span: Span, message: string, hint?: string): never {
    this.report(span, message, hint);
    throw new SyntaxFailure(message);
  }

  private report(span: Span, message: string, hint?: string): void {
    // A second error at the same place, or at the end after an earlier error, is a consequence.
    const last = this.diags.list[this.diags.list.length - 1];
    const consequence = last && (last.span.offset === span.offset || span.offset >= this.lx.text.length);
    if (!consequence) this.diags.error(span, message, hint);
    if (this.diags.errorCount >= MAX_ERRORS) throw new TooManyErrors();
  }

  private nest<T>(span: Span, f: () => T): T {
    if (this.depth >= MAX_DEPTH) {
      this.report(span, `nested too deeply (more than ${MAX_DEPTH} levels)`, 'split the expression or block into smaller parts');
      throw new TooManyErrors();
    }
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  // ---- probes ----

  private probe(): Probe {
    const attachPoints: AttachPoint[] = [];
    for (;;) {
      const raw = this.lx.scanAttachPoint();
      if (!raw) {
        const t = this.peek();
        this.fail(t.span, attachPoints.length ? `expected an attach point after ',', found ${describe(t)}` : `expected a probe, found ${describe(t)}`,
          attachPoints.length ? undefined : 'a probe is an attach point and a block, e.g. kprobe:do_nanosleep { printf("sleep\\n"); }');
      }
      attachPoints.push(this.attachPoint(raw));
      if (this.lx.peekChar() !== ',') break;
      this.lx.pos++;
    }
    let predicate: Expr | null = null;
    const slash = this.eatOp('/');
    if (slash) {
      if (this.atOp('/')) this.fail(this.peek().span, 'empty predicate', 'write a condition between the slashes, e.g. /pid == 42/');
      predicate = this.expr(true);
      const close = this.peek();
      if (!(close.kind === 'op' && close.text === '/')) {
        this.fail(close.span, `expected '/' to end the predicate, found ${describe(close)}`,
          `the predicate started at ${slash.span.line}:${slash.span.col}`);
      }
      this.take();
    }
    const next = this.peek();
    if (!(next.kind === 'op' && next.text === '{')) {
      const what = next.kind === 'op' && next.text === '(' ? 'quote attach point parts that contain parentheses, e.g. uprobe:./app:"main.(*T).Run"' : undefined;
      this.fail(next.span, `expected '{' to start the probe's block, found ${describe(next)}`, what);
    }
    const body = this.block();
    return { kind: 'Probe', attachPoints, predicate, body, span: joinSpans(attachPoints[0]!.span, body.span) };
  }

  private attachPoint(raw: RawAttachPoint): AttachPoint {
    const alias = raw.parts[0]!;
    if (raw.quoted[0] || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(alias)) {
      this.report(raw.span, `invalid probe type '${alias}' in '${raw.raw}'`,
        'an attach point starts with its type, e.g. tracepoint:syscalls:sys_enter_openat or uprobe:/bin/bash:readline');
    }
    return {
      kind: 'AttachPoint',
      provider: PROVIDER_ALIASES[alias] ?? alias,
      providerAlias: alias,
      parts: raw.parts.slice(1),
      quoted: raw.quoted.slice(1),
      raw: raw.raw,
      span: raw.span,
    };
  }

  /** After a bad probe header or an unclosed block: skip through the end of this probe's block. */
  private skipProbe(): void {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      this.take();
      if (t.kind !== 'op') continue;
      if (t.text === '{') depth++;
      else if (t.text === '}' && --depth <= 0) return;
    }
  }

  // ---- statements ----

  private block(): Block {
    const open = this.expectOp('{', 'to start a block');
    return this.nest(open.span, () => {
      const statements: Stmt[] = [];
      for (;;) {
        const t = this.peek();
        if (t.kind === 'op' && t.text === '}') {
          this.take();
          return { kind: 'Block', statements, span: joinSpans(open.span, t.span) } satisfies Block;
        }
        if (t.kind === 'eof') {
          this.fail(t.span, "unexpected end of input: missing '}'", `the block opened at line ${open.span.line}, column ${open.span.col} is not closed`);
        }
        if (this.eatOp(';')) continue;
        try {
          const stmt = this.statement();
          statements.push(stmt);
          if (stmt.kind === 'If' || stmt.kind === 'While' || stmt.kind === 'Unroll' || stmt.kind === 'Block') continue;
          if (this.eatOp(';') || this.atOp('}')) continue;
          const bad = this.peek();
          const end = stmt.span.offset + stmt.span.length;
          const endLine = this.src.spanAt(end, 0).line;
          this.fail(bad.span, `expected ';' or '}' after the statement, found ${describe(bad)}`,
            bad.kind === 'eof' ? undefined : endLine < bad.span.line ? `missing ';' at the end of line ${endLine}?` : 'separate statements with ;');
        } catch (e) {
          if (!(e instanceof SyntaxFailure)) throw e;
          this.skipStatement();
        }
      }
    });
  }

  /** After a bad statement: skip to just past the next `;`, or to the `}` closing this block. */
  private skipStatement(): void {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      if (t.kind === 'op') {
        if (t.text === ';' && depth === 0) { this.take(); return; }
        if (t.text === '}' && depth === 0) return;
        if (t.text === '{') depth++;
        if (t.text === '}') depth--;
      }
      this.take();
    }
  }

  private statement(): Stmt {
    const t = this.peek();
    if (t.kind === 'op' && t.text === '{') return this.block();
    if (t.kind === 'ident') {
      switch (t.text) {
        case 'if': return this.ifStmt();
        case 'while': {
          this.take();
          this.expectOp('(', "after 'while'");
          const cond = this.expr();
          this.expectOp(')', 'after the while condition');
          const body = this.block();
          return { kind: 'While', cond, body, span: joinSpans(t.span, body.span) };
        }
        case 'unroll': {
          this.take();
          this.expectOp('(', "after 'unroll'");
          const n = this.peek();
          let count: IntegerLiteral | PositionalParam;
          if (n.kind === 'int') count = { kind: 'Integer', value: n.int!, suffix: n.suffix!, span: n.span };
          else if (n.kind === 'param') count = { kind: 'Positional', index: n.index!, span: n.span };
          else this.fail(n.span, `expected an integer count in unroll(), found ${describe(n)}`, 'write unroll(N) { ... } with N from 1 to 100');
          this.take();
          this.expectOp(')', 'after the unroll count');
          const body = this.block();
          return { kind: 'Unroll', count, body, span: joinSpans(t.span, body.span) };
        }
        case 'break':
        case 'continue':
          this.take();
          return { kind: 'Jump', jump: t.text, value: null, span: t.span };
        case 'return': {
          this.take();
          const value = this.atOp(';') || this.atOp('}') ? null : this.expr();
          return { kind: 'Jump', jump: 'return', value, span: value ? joinSpans(t.span, value.span) : t.span };
        }
        case 'else':
          this.fail(t.span, "'else' without a matching 'if'");
      }
    }
    const expr = this.expr();
    const op = this.peek();
    if (op.kind === 'op' && ASSIGN_OPS.has(op.text)) {
      if (expr.kind !== 'Variable' && expr.kind !== 'Map') {
        const msg = expr.kind === 'TupleIndex'
          ? 'tuples are immutable once created'
          : `cannot assign to ${describeExpr(expr)}`;
        this.fail(expr.span, msg, expr.kind === 'TupleIndex'
          ? 'build a new tuple and assign it instead'
          : 'only variables ($x) and maps (@m, @m[key]) can be assigned');
      }
      this.take();
      const value = this.expr();
      return { kind: 'Assign', target: expr, op: op.text as AssignOp, value, span: joinSpans(expr.span, value.span) };
    }
    return { kind: 'ExprStmt', expr, span: expr.span };
  }

  private ifStmt(): IfStmt {
    const kw = this.take();
    return this.nest(kw.span, () => {
      this.expectOp('(', "after 'if'");
      const cond = this.expr();
      this.expectOp(')', 'after the if condition');
      const then = this.block();
      let otherwise: Block | IfStmt | null = null;
      const next = this.peek();
      if (next.kind === 'ident' && next.text === 'else') {
        this.take();
        const after = this.peek();
        if (after.kind === 'ident' && after.text === 'if') otherwise = this.ifStmt();
        else if (after.kind === 'op' && after.text === '{') otherwise = this.block();
        else this.fail(after.span, `expected '{' or 'if' after 'else', found ${describe(after)}`, 'blocks need braces: else { ... }');
      }
      const end = otherwise ? otherwise.span : then.span;
      return { kind: 'If', cond, then, else: otherwise, span: joinSpans(kw.span, end) } satisfies IfStmt;
    });
  }

  // ---- expressions ----

  /** `inPredicate`: a `/` that is followed by `{` closes the predicate instead of dividing. */
  private expr(inPredicate = false): Expr {
    return this.nest(this.peek().span, () => this.ternary(inPredicate));
  }

  private ternary(inPredicate: boolean): Expr {
    const cond = this.binary(1, inPredicate);
    if (!this.eatOp('?')) return cond;
    const then = this.expr(inPredicate);
    this.expectOp(':', "in the conditional expression 'c ? a : b'");
    const otherwise = this.nest(cond.span, () => this.ternary(inPredicate));
    return { kind: 'Ternary', cond, then, else: otherwise, span: joinSpans(cond.span, otherwise.span) };
  }

  /** Precedence climbing over the left-associative binary operators. */
  private binary(minPrec: number, inPredicate: boolean): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op') return left;
      const prec = BINARY_PRECEDENCE[t.text];
      if (prec === undefined || prec < minPrec) return left;
      if (t.text === '/' && inPredicate && t.endsPredicate) return left;
      this.take();
      const right = this.binary(prec + 1, inPredicate);
      left = { kind: 'Binary', op: t.text as BinaryOp, left, right, opSpan: t.span, span: joinSpans(left.span, right.span) };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind !== 'op') return this.postfix();
    if (UNARY_OPS.has(t.text)) {
      this.take();
      const next = this.peek();
      if (t.text === '-' && next.kind === 'int') {
        this.take();
        return { kind: 'Integer', value: -next.int!, suffix: next.suffix!, span: joinSpans(t.span, next.span) };
      }
      const operand = this.nest(t.span, () => this.unary());
      return { kind: 'Unary', op: t.text as UnaryOp, operand, span: joinSpans(t.span, operand.span) };
    }
    if (t.text === '++' || t.text === '--') {
      this.take();
      const target = this.nest(t.span, () => this.postfix());
      if (target.kind !== 'Variable' && target.kind !== 'Map') {
        this.fail(target.span, `the ${t.text} operator must be applied to a map or variable, not ${describeExpr(target)}`);
      }
      return { kind: 'Update', op: t.text, prefix: true, target, span: joinSpans(t.span, target.span) };
    }
    if (t.text === '(' && this.castAhead()) {
      this.take();
      const type = this.type();
      this.expectOp(')', 'after the type in a cast');
      const expr = this.nest(t.span, () => this.unary());
      return { kind: 'Cast', type, expr, span: joinSpans(t.span, expr.span) };
    }
    return this.postfix();
  }

  /** At `(`: does a cast `(type)` follow? Mirrors bpftrace, where a bare `(name)` is a type. */
  private castAhead(): boolean {
    const first = this.peek(1);
    if (first.kind !== 'ident') return false;
    if (INT_TYPES.has(first.text) || TAG_KEYWORDS.has(first.text)) return true;
    if (BUILTINS.has(first.text) || KEYWORDS.has(first.text) || first.text === 'sizeof') return false;
    let i = 2;
    while (this.atOp('*', i)) i++;
    if (!this.atOp(')', i)) return false;
    if (i > 2) return true;
    const after = this.peek(i + 1);
    return after.kind === 'op' ? ['(', '!', '~'].includes(after.text) : after.kind !== 'eof';
  }

  private type(): TypeRef {
    const first = this.peek();
    if (first.kind !== 'ident') this.fail(first.span, `expected a type, found ${describe(first)}`);
    this.take();
    let keyword: TypeRef['keyword'] = null;
    let name = first.text;
    let span = first.span;
    if (TAG_KEYWORDS.has(first.text)) {
      const id = this.peek();
      if (id.kind !== 'ident') this.fail(id.span, `expected a name after '${first.text}', found ${describe(id)}`);
      this.take();
      keyword = first.text as TypeRef['keyword'];
      name = id.text;
      span = joinSpans(span, id.span);
    }
    let pointerDepth = 0;
    for (let star = this.eatOp('*'); star; star = this.eatOp('*')) {
      pointerDepth++;
      span = joinSpans(span, star.span);
    }
    return { kind: 'Type', name, keyword, pointerDepth, span };
  }

  private postfix(): Expr {
    let e = this.primary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op') return e;
      if (t.text === '.' || t.text === '->') {
        this.take();
        const name = this.peek();
        if (name.kind === 'int' || name.kind === 'ident') this.take();
        if (t.text === '.' && name.kind === 'int') {
          if (name.int! > 1_000_000n || name.suffix || !/^\d+$/.test(name.text)) this.fail(name.span, `invalid tuple index '${name.text}'`);
          e = { kind: 'TupleIndex', expr: e, index: Number(name.int!), span: joinSpans(e.span, name.span) };
        } else if (name.kind === 'ident') {
          e = { kind: 'Field', expr: e, field: name.text, arrow: t.text === '->', fieldSpan: name.span, span: joinSpans(e.span, name.span) };
        } else {
          this.fail(name.span, `expected a field name after '${t.text}', found ${describe(name)}`);
        }
      } else if (t.text === '[') {
        this.take();
        const index = this.expr();
        const close = this.expectOp(']', 'to close the subscript');
        e = { kind: 'Index', expr: e, index, span: joinSpans(e.span, close.span) };
      } else if (t.text === '++' || t.text === '--') {
        if (e.kind !== 'Variable' && e.kind !== 'Map') {
          this.fail(t.span, `the ${t.text} operator must be applied to a map or variable, not ${describeExpr(e)}`);
        }
        this.take();
        e = { kind: 'Update', op: t.text, prefix: false, target: e, span: joinSpans(e.span, t.span) };
      } else {
        return e;
      }
    }
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.kind === 'eof' || t.kind === 'op' && t.text !== '(') return this.fail(t.span, `expected an expression, found ${describe(t)}`);
    this.take();
    switch (t.kind) {
      case 'int':
        return { kind: 'Integer', value: t.int!, suffix: t.suffix!, span: t.span };
      case 'string':
        return { kind: 'String', value: t.str!, bytes: t.bytes!, span: t.span };
      case 'param':
        return { kind: 'Positional', index: t.index!, span: t.span };
      case 'paramcount':
        return { kind: 'ParamCount', span: t.span };
      case 'var':
        return { kind: 'Variable', name: t.text, span: t.span } satisfies Variable;
      case 'map': {
        if (!this.atOp('[')) return { kind: 'Map', name: t.text, keys: [], span: t.span } satisfies MapRef;
        this.take();
        if (this.atOp(']')) this.fail(this.peek().span, `empty key in '${t.text}[]'`, `index the map with a key, e.g. ${t.text}[pid], or use ${t.text} for a map without keys`);
        const { args, close } = this.args(']', 'map key');
        return { kind: 'Map', name: t.text, keys: args, span: joinSpans(t.span, close.span) } satisfies MapRef;
      }
      case 'ident': {
        if (KEYWORDS.has(t.text)) {
          this.fail(t.span, `unexpected '${t.text}' in an expression`,
            t.text === 'if' ? "bpftrace has no if-expression; use 'c ? a : b'" : undefined);
        }
        if (!this.atOp('(')) return { kind: 'Identifier', name: t.text, span: t.span };
        this.take();
        if (t.text === 'sizeof') {
          const arg = this.sizeofTypeAhead() ? this.type() : this.expr();
          const close = this.expectOp(')', 'to close sizeof(');
          return { kind: 'Sizeof', arg, span: joinSpans(t.span, close.span) };
        }
        const close = this.eatOp(')');
        if (close) return { kind: 'Call', name: t.text, nameSpan: t.span, args: [], span: joinSpans(t.span, close.span) };
        const { args, close: end } = this.args(')', 'argument');
        return { kind: 'Call', name: t.text, nameSpan: t.span, args, span: joinSpans(t.span, end.span) };
      }
      default: {
        const first = this.expr();
        if (this.atOp(',')) {
          const elements = [first];
          while (this.eatOp(',')) elements.push(this.expr());
          const close = this.expectOp(')', 'to close the tuple');
          return { kind: 'Tuple', elements, span: joinSpans(t.span, close.span) };
        }
        this.expectOp(')', "to match '('");
        return first;
      }
    }
  }

  private sizeofTypeAhead(): boolean {
    const first = this.peek();
    if (first.kind !== 'ident') return false;
    if (INT_TYPES.has(first.text) || TAG_KEYWORDS.has(first.text)) return true;
    if (BUILTINS.has(first.text)) return false;
    let i = 1;
    while (this.atOp('*', i)) i++;
    return this.atOp(')', i);
  }

  private args(closer: string, what: string): { args: Expr[]; close: Token } {
    const args = [this.expr()];
    while (this.eatOp(',')) args.push(this.expr());
    const close = this.peek();
    if (close.kind === 'op' && close.text === closer) return { args, close: this.take() };
    return this.fail(close.span, `expected ',' or '${closer}' after ${what}, found ${describe(close)}`);
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of input';
    case 'op': return `'${t.text}'`;
    case 'ident': return `'${t.text}'`;
    case 'var': return `variable '${t.text}'`;
    case 'map': return `map '${t.text}'`;
    case 'int': return `integer '${t.text}'`;
    case 'string': return 'a string';
    case 'param':
    case 'paramcount': return `'${t.text}'`;
  }
}

function describeExpr(e: Expr): string {
  switch (e.kind) {
    case 'Field': return `field '${e.field}'`;
    case 'Index': return 'an array element';
    case 'Call': return `the result of ${e.name}()`;
    case 'Identifier': return `'${e.name}'`;
    case 'Integer':
    case 'String': return 'a literal';
    default: return 'an expression';
  }
}

/** Members of a simple struct/union body; null when any member is beyond plain declarations. */
function parseCFields(body: string): CField[] | null {
  const clean = body.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, ' ');
  if (/[{}()#]/.test(clean)) return null;
  const fields: CField[] = [];
  for (const member of clean.split(';').map((m) => m.trim()).filter(Boolean)) {
    const decls = member.split(',').map((d) => d.trim());
    const first = /^(.*?[A-Za-z0-9_])[\s*]*?(\**)\s*([A-Za-z_]\w*)\s*((?:\[\s*\d+\s*\]\s*)*)(?::\s*(\d+))?$/.exec(decls[0]!);
    if (!first || !first[1]!.trim()) return null;
    const baseType = first[1]!.trim().replace(/\s+/g, ' ');
    for (const [i, d] of decls.entries()) {
      const m = i === 0
        ? [first[2]!, first[3]!, first[4]!, first[5]] as const
        : (/^(\**)\s*([A-Za-z_]\w*)\s*((?:\[\s*\d+\s*\]\s*)*)(?::\s*(\d+))?$/.exec(d)?.slice(1) as [string, string, string, string | undefined] | undefined);
      if (!m) return null;
      const [stars, name, dims, bits] = m;
      fields.push({
        name,
        type: baseType,
        pointerDepth: stars.length,
        arrayDims: [...dims.matchAll(/\d+/g)].map((x) => Number(x[0])),
        bits: bits === undefined ? null : Number(bits),
      });
    }
  }
  return fields;
}
