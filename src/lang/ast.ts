// The syntax tree of the tracing language (bpftrace 0.17's grammar). Every node has a `kind`
// to switch on and a `span` into the original source for diagnostics. Names keep their
// sigils (`$x`, `@m`, `@`) because that is how users wrote and will read them.
import type { SourceText, Span } from './diagnostics.js';

export type { Span } from './diagnostics.js';

export interface Program {
  readonly kind: 'Program';
  readonly file: string;
  /** The original text, for later passes' diagnostics (`new Diagnostics(program.source)`). */
  readonly source: SourceText;
  readonly preamble: Preamble;
  readonly probes: Probe[];
  readonly span: Span;
}

/** What comes before (or between) probes and is C rather than the tracing language. */
export interface Preamble {
  readonly includes: Include[];
  readonly defines: Define[];
  readonly cDefinitions: CDefinition[];
}

export interface Include {
  readonly kind: 'Include';
  /** As written between the brackets or quotes. */
  readonly path: string;
  /** `<...>` rather than `"..."`. */
  readonly system: boolean;
  readonly span: Span;
}

export interface Define {
  readonly kind: 'Define';
  readonly name: string;
  readonly value: string;
  readonly span: Span;
}

/** `struct X { ... };`, `union`, `enum`: kept as raw C text; struct/union fields parsed when simple. */
export interface CDefinition {
  readonly kind: 'CDefinition';
  readonly keyword: 'struct' | 'union' | 'enum';
  readonly name: string;
  readonly text: string;
  /** null when some member was not a simple declaration (function pointers, nested types, enums). */
  readonly fields: CField[] | null;
  readonly span: Span;
}

export interface CField {
  readonly name: string;
  /** The base type as written, e.g. `unsigned long`, `struct task_struct`, `u8`. */
  readonly type: string;
  readonly pointerDepth: number;
  /** Element counts of `[N]` suffixes, outermost first; empty for non-arrays. */
  readonly arrayDims: number[];
  /** Width of a `: N` bitfield, or null. */
  readonly bits: number | null;
}

export interface Probe {
  readonly kind: 'Probe';
  readonly attachPoints: AttachPoint[];
  readonly predicate: Expr | null;
  readonly body: Block;
  readonly span: Span;
}

/**
 * One attach point spec, e.g. `uprobe:/bin/bash:readline`: `provider` is normalised
 * (`t` -> `tracepoint`, `kfunc` -> `fentry`, ...), `parts` are the `:`-separated fields after
 * it with quotes removed (`$1` stays as written), `raw` is the source text.
 */
export interface AttachPoint {
  readonly kind: 'AttachPoint';
  readonly provider: string;
  /** The provider as written (`t`, `kfunc`, `BEGIN`). */
  readonly providerAlias: string;
  readonly parts: string[];
  /** Which of `parts` were written in double quotes (never wildcards, never numbers). */
  readonly quoted: boolean[];
  readonly raw: string;
  readonly span: Span;
}

export interface Block {
  readonly kind: 'Block';
  readonly statements: Stmt[];
  readonly span: Span;
}

export type Stmt = ExprStmt | AssignStmt | IfStmt | UnrollStmt | WhileStmt | JumpStmt | Block;

export interface ExprStmt {
  readonly kind: 'ExprStmt';
  readonly expr: Expr;
  readonly span: Span;
}

export type CompoundOp = '+=' | '-=' | '*=' | '/=' | '%=' | '&=' | '|=' | '^=' | '<<=' | '>>=';
export type AssignOp = '=' | CompoundOp;

/** `$x = e`, `@m[k] = e`, `@m += e`, ... The compound forms are not desugared. */
export interface AssignStmt {
  readonly kind: 'Assign';
  readonly target: Variable | MapRef;
  readonly op: AssignOp;
  readonly value: Expr;
  readonly span: Span;
}

export interface IfStmt {
  readonly kind: 'If';
  readonly cond: Expr;
  readonly then: Block;
  /** `else { }` is a Block, `else if` an IfStmt. */
  readonly else: Block | IfStmt | null;
  readonly span: Span;
}

export interface UnrollStmt {
  readonly kind: 'Unroll';
  readonly count: IntegerLiteral | PositionalParam;
  readonly body: Block;
  readonly span: Span;
}

export interface WhileStmt {
  readonly kind: 'While';
  readonly cond: Expr;
  readonly body: Block;
  readonly span: Span;
}

export interface JumpStmt {
  readonly kind: 'Jump';
  readonly jump: 'break' | 'continue' | 'return';
  readonly value: Expr | null;
  readonly span: Span;
}

export type Expr =
  | IntegerLiteral
  | StringLiteral
  | Identifier
  | Variable
  | MapRef
  | PositionalParam
  | ParamCount
  | Binary
  | Unary
  | Update
  | Ternary
  | Cast
  | FieldAccess
  | TupleIndex
  | Index
  | Call
  | Tuple
  | Sizeof;

export interface IntegerLiteral {
  readonly kind: 'Integer';
  /** Exact value; `-5` in the source is one literal with value -5n. Unsigned 64-bit values stay positive. */
  readonly value: bigint;
  /** The C suffix as written (`u`, `ul`, `ll`, ...), lower-cased; '' when none. */
  readonly suffix: string;
  readonly span: Span;
}

export interface StringLiteral {
  readonly kind: 'String';
  /** Decoded text (escapes applied; `\xNN` above 0x7f as the code point NN). */
  readonly value: string;
  /** The exact bytes to store: UTF-8 for source characters, raw bytes for escapes. No trailing NUL. */
  readonly bytes: Uint8Array;
  readonly span: Span;
}

/** A bare name: builtins (`pid`, `comm`, `args`, `arg0`), stack modes (`perf`), enum values, ... */
export interface Identifier {
  readonly kind: 'Identifier';
  readonly name: string;
  readonly span: Span;
}

export interface Variable {
  readonly kind: 'Variable';
  /** With the sigil: `$x`. */
  readonly name: string;
  readonly span: Span;
}

/** `@m`, `@`, `@m[k]`, `@m[k1, k2]` (keys empty when there is no subscript). */
export interface MapRef {
  readonly kind: 'Map';
  readonly name: string;
  readonly keys: Expr[];
  readonly span: Span;
}

/** `$1`, `$2`, ... */
export interface PositionalParam {
  readonly kind: 'Positional';
  readonly index: number;
  readonly span: Span;
}

/** `$#` */
export interface ParamCount {
  readonly kind: 'ParamCount';
  readonly span: Span;
}

export type BinaryOp =
  | '||' | '&&' | '|' | '^' | '&' | '==' | '!=' | '<' | '<=' | '>' | '>='
  | '<<' | '>>' | '+' | '-' | '*' | '/' | '%';

export interface Binary {
  readonly kind: 'Binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  /** The operator token, where bpftrace points its type errors. */
  readonly opSpan: Span;
  readonly span: Span;
}

/** `*` is a dereference, `&` takes an address. */
export type UnaryOp = '!' | '~' | '-' | '*' | '&';

export interface Unary {
  readonly kind: 'Unary';
  readonly op: UnaryOp;
  readonly operand: Expr;
  readonly span: Span;
}

/** `++$x`, `$x++`, `--@m[k]`, `@m[k]--`. */
export interface Update {
  readonly kind: 'Update';
  readonly op: '++' | '--';
  readonly prefix: boolean;
  readonly target: Variable | MapRef;
  readonly span: Span;
}

export interface Ternary {
  readonly kind: 'Ternary';
  readonly cond: Expr;
  readonly then: Expr;
  readonly else: Expr;
  readonly span: Span;
}

/**
 * A type written in a cast or sizeof: `int32`, `struct task_struct *`, `sk_buff *` (a typedef
 * or a struct named without `struct`, as bpftrace allows).
 */
export interface TypeRef {
  readonly kind: 'Type';
  readonly name: string;
  readonly keyword: 'struct' | 'union' | 'enum' | null;
  readonly pointerDepth: number;
  readonly span: Span;
}

export interface Cast {
  readonly kind: 'Cast';
  readonly type: TypeRef;
  readonly expr: Expr;
  readonly span: Span;
}

/** `a.b` or `a->b` (`arrow`). */
export interface FieldAccess {
  readonly kind: 'Field';
  readonly expr: Expr;
  readonly field: string;
  readonly arrow: boolean;
  readonly fieldSpan: Span;
  readonly span: Span;
}

/** `t.0` */
export interface TupleIndex {
  readonly kind: 'TupleIndex';
  readonly expr: Expr;
  readonly index: number;
  readonly span: Span;
}

/** `a[i]` on anything but a map name (a map subscript is part of MapRef). */
export interface Index {
  readonly kind: 'Index';
  readonly expr: Expr;
  readonly index: Expr;
  readonly span: Span;
}

export interface Call {
  readonly kind: 'Call';
  readonly name: string;
  readonly nameSpan: Span;
  readonly args: Expr[];
  readonly span: Span;
}

/** `(a, b, ...)`: at least two elements. */
export interface Tuple {
  readonly kind: 'Tuple';
  readonly elements: Expr[];
  readonly span: Span;
}

export interface Sizeof {
  readonly kind: 'Sizeof';
  readonly arg: TypeRef | Expr;
  readonly span: Span;
}

export type Node = Program | Probe | AttachPoint | Block | Stmt | Expr | TypeRef;

/** The direct children of a node, in source order; for passes that only need to visit. */
export function childrenOf(node: Node): Node[] {
  switch (node.kind) {
    case 'Program': return node.probes;
    case 'Probe': return [...node.attachPoints, ...(node.predicate ? [node.predicate] : []), node.body];
    case 'Block': return node.statements;
    case 'ExprStmt': return [node.expr];
    case 'Assign': return [node.target, node.value];
    case 'If': return [node.cond, node.then, ...(node.else ? [node.else] : [])];
    case 'Unroll': return [node.count, node.body];
    case 'While': return [node.cond, node.body];
    case 'Jump': return node.value ? [node.value] : [];
    case 'Map': return node.keys;
    case 'Binary': return [node.left, node.right];
    case 'Unary': return [node.operand];
    case 'Update': return [node.target];
    case 'Ternary': return [node.cond, node.then, node.else];
    case 'Cast': return [node.type, node.expr];
    case 'Field':
    case 'TupleIndex': return [node.expr];
    case 'Index': return [node.expr, node.index];
    case 'Call': return node.args;
    case 'Tuple': return node.elements;
    case 'Sizeof': return [node.arg];
    case 'AttachPoint':
    case 'Integer':
    case 'String':
    case 'Identifier':
    case 'Variable':
    case 'Positional':
    case 'ParamCount':
    case 'Type':
      return [];
  }
}

/** Builtin variable names of bpftrace 0.17 (`arg0`..`arg9`, `sarg0`..`sarg9` included). */
export const BUILTIN_VARIABLES: readonly string[] = [
  'pid', 'tid', 'uid', 'gid', 'nsecs', 'elapsed', 'numaid', 'cpu', 'comm', 'kstack', 'ustack',
  'func', 'probe', 'curtask', 'rand', 'cgroup', 'cpid', 'args', 'ctx', 'retval', 'username', 'jiffies',
  ...Array.from({ length: 10 }, (_, i) => `arg${i}`),
  ...Array.from({ length: 10 }, (_, i) => `sarg${i}`),
];

/** Provider aliases bpftrace accepts, mapped to the canonical provider name. */
export const PROVIDER_ALIASES: Readonly<Record<string, string>> = {
  t: 'tracepoint',
  k: 'kprobe',
  kr: 'kretprobe',
  u: 'uprobe',
  ur: 'uretprobe',
  U: 'usdt',
  p: 'profile',
  i: 'interval',
  s: 'software',
  h: 'hardware',
  f: 'fentry',
  kfunc: 'fentry',
  fr: 'fexit',
  kretfunc: 'fexit',
  rt: 'rawtracepoint',
  w: 'watchpoint',
  aw: 'asyncwatchpoint',
  it: 'iter',
};
