// Diagnostics for the tracing language: source positions, bpftrace-style formatting
// (file:line:col-endcol, the source line, `~` under the span, then a hint), and the
// error type that carries every diagnostic of a run so users fix them all at once.
import { TsbpfError } from '../kernel/errors.js';

/** A range of source text. `line` and `col` are 1-based; `col` counts UTF-16 units as editors do. */
export interface Span {
  readonly offset: number;
  readonly length: number;
  readonly line: number;
  readonly col: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  readonly hint?: string;
}

/** The text being compiled, with a line index for turning offsets into line:col. */
export class SourceText {
  readonly lineStarts: number[] = [0];
  constructor(readonly text: string, readonly file = 'stdin') {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  spanAt(offset: number, length: number): Span {
    const start = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= start) lo = mid;
      else hi = mid - 1;
    }
    return { offset: start, length: Math.max(0, length), line: lo + 1, col: start - this.lineStarts[lo]! + 1 };
  }

  /** Line `line` (1-based) without its newline. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1] ?? this.text.length;
    const next = this.lineStarts[line];
    const end = next === undefined ? this.text.length : next - 1;
    return this.text.slice(start, end).replace(/\r$/, '');
  }
}

/** The smallest span covering both `a` and `b` (`b` may come first). */
export function joinSpans(a: Span, b: Span): Span {
  const [first, last] = a.offset <= b.offset ? [a, b] : [b, a];
  const end = Math.max(first.offset + first.length, last.offset + last.length);
  return { offset: first.offset, length: end - first.offset, line: first.line, col: first.col };
}

/**
 * One diagnostic as bpftrace prints it, but with the hint on its own line:
 *   script.bt:3:15-20: ERROR: unknown function 'prnt'
 *   kprobe:f { prnt("x"); }
 *              ~~~~
 *   hint: did you mean 'printf'?
 */
export function formatDiagnostic(d: Diagnostic, src: SourceText): string {
  const { line, col } = d.span;
  const lineText = src.lineText(line);
  const onLine = Math.max(1, Math.min(d.span.length, lineText.length - col + 1));
  const where = `${src.file}:${line}:${col}-${col + onLine}`;
  const out = [`${where}: ${d.severity === 'error' ? 'ERROR' : 'WARNING'}: ${d.message}`];
  if (line <= src.lineStarts.length) {
    // Keep tabs in the indent so the marks stay under the right characters.
    const indent = lineText.slice(0, col - 1).replace(/[^\t]/g, ' ');
    out.push(lineText, indent + '~'.repeat(onLine));
  }
  if (d.hint) out.push(`hint: ${d.hint}`);
  return out.join('\n');
}

/** Collects diagnostics during a pass; `throwIfErrors` ends the pass with a LangError. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  constructor(readonly source: SourceText) {}

  error(span: Span, message: string, hint?: string): void {
    this.list.push(hint === undefined ? { severity: 'error', message, span } : { severity: 'error', message, span, hint });
  }

  warning(span: Span, message: string, hint?: string): void {
    this.list.push(hint === undefined ? { severity: 'warning', message, span } : { severity: 'warning', message, span, hint });
  }

  get errorCount(): number {
    return this.list.filter((d) => d.severity === 'error').length;
  }

  throwIfErrors(): void {
    if (this.errorCount > 0) throw new LangError(this.list.filter((d) => d.severity === 'error'), this.source);
  }
}

/** How many diagnostics a LangError message shows; past that they are noise. */
const MAX_SHOWN = 20;

/** A program the language front end refused; `message` is its diagnostics, formatted. */
export class LangError extends TsbpfError {
  constructor(readonly diagnostics: readonly Diagnostic[], readonly source: SourceText) {
    const shown = diagnostics.slice(0, MAX_SHOWN).map((d) => formatDiagnostic(d, source));
    if (diagnostics.length > MAX_SHOWN) shown.push(`(${diagnostics.length - MAX_SHOWN} more errors not shown)`);
    super(shown.join('\n\n'));
  }
}

/** Levenshtein distance; small inputs only (names), so the O(n*m) table is fine. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `name`, if close enough to be a plausible typo: at most a third of
 * the name's length in edits (at least 1, at most 3). Ties go to the earlier candidate.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    if (c === name) continue;
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** "did you mean 'printf'?" or undefined, for a diagnostic's hint. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const best = closestName(name, candidates);
  return best === undefined ? undefined : `did you mean '${best}'?`;
}
