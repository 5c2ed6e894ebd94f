// printf() format strings: parsed once (at compile time, to check arguments), rendered per event
// with C printf semantics, the way bpftrace 0.17 hands them to snprintf.
import { TsbpfError } from '../kernel/errors.js';
import { bufferText, valueText } from './render.js';
import type { Value } from './values.js';

export type ArgKind = 'int' | 'string' | 'buffer';
export type LengthModifier = '' | 'hh' | 'h' | 'l' | 'll' | 'j' | 'z' | 't';
export type Conversion = 'd' | 'i' | 'u' | 'x' | 'X' | 'o' | 'c' | 'p' | 's' | 'r' | 'rx' | 'rh';

export interface FormatVerb {
  /** Offset of the `%` in the (unescaped) format string, and the verb's full text. */
  offset: number;
  text: string;
  leftAlign: boolean;
  zeroPad: boolean;
  plus: boolean;
  space: boolean;
  alternate: boolean;
  width: number;
  /** -1 when absent. */
  precision: number;
  length: LengthModifier;
  conversion: Conversion;
  /** What the argument must be: the semantic pass checks this. */
  arg: ArgKind;
}

export interface ParsedFormat {
  source: string;
  /** Literal text and verbs in order; `%%` is already a literal `%`. */
  segments: Array<string | FormatVerb>;
  verbs: FormatVerb[];
}

/** A bad format string; `offset` is where the bad verb starts in the format string. */
export class FormatError extends TsbpfError {
  readonly offset: number;
  readonly length: number;
  constructor(message: string, offset: number, length: number, hint?: string) {
    super(message, { hint });
    this.offset = offset;
    this.length = length;
  }
}

const CONVERSION_HINT =
  'supported: %d %u %x %X %o %c %p (with h, hh, l, ll, j, z, t), %s, %r %rx %rh for buffers, %% for a percent sign; ' +
  'flags - 0 + space #, a width and a .precision';

const INT_CONVERSIONS = new Set(['d', 'i', 'u', 'x', 'X', 'o', 'p']);

export function parseFormat(fmt: string): ParsedFormat {
  const segments: Array<string | FormatVerb> = [];
  const verbs: FormatVerb[] = [];
  let literal = '';
  let i = 0;
  while (i < fmt.length) {
    const ch = fmt[i];
    if (ch !== '%') { literal += ch; i++; continue; }
    if (fmt[i + 1] === '%') { literal += '%'; i += 2; continue; }
    const verb = parseVerb(fmt, i);
    if (literal) segments.push(literal);
    literal = '';
    segments.push(verb);
    verbs.push(verb);
    i += verb.text.length;
  }
  if (literal) segments.push(literal);
  return { source: fmt, segments, verbs };
}

function parseVerb(fmt: string, start: number): FormatVerb {
  let i = start + 1;
  const flags = { leftAlign: false, zeroPad: false, plus: false, space: false, alternate: false };
  for (;; i++) {
    const c = fmt[i];
    if (c === '-') flags.leftAlign = true;
    else if (c === '0') flags.zeroPad = true;
    else if (c === '+') flags.plus = true;
    else if (c === ' ') flags.space = true;
    else if (c === '#') flags.alternate = true;
    else break;
  }
  const digits = (): string => {
    const m = /^[0-9]*/.exec(fmt.slice(i))![0];
    i += m.length;
    return m;
  };
  const starAt = (): boolean => fmt[i] === '*';
  let star = starAt();
  const width = Number(digits() || 0);
  let precision = -1;
  if (fmt[i] === '.') {
    i++;
    star ||= starAt();
    precision = Number(digits() || 0);
  }
  const lm = /^(hh|h|ll|l|j|z|t)?/.exec(fmt.slice(i))![0] as LengthModifier;
  i += lm.length;
  let conv = fmt[i] ?? '';
  if (conv === 'r' && (fmt[i + 1] === 'x' || fmt[i + 1] === 'h')) conv += fmt[++i];
  i++;
  const text = fmt.slice(start, Math.min(i, fmt.length));
  const bad = (why: string): never => {
    throw new FormatError(`printf: ${why} '${text}' at offset ${start} of the format string`, start, text.length, CONVERSION_HINT);
  };
  if (conv === '') bad('incomplete format verb');
  if (star) bad('a * width or precision is not supported in');
  if (!INT_CONVERSIONS.has(conv) && !['c', 's', 'r', 'rx', 'rh'].includes(conv)) bad('unknown format verb');
  if (lm && !INT_CONVERSIONS.has(conv)) bad(`length modifier '${lm}' is not allowed with %${conv} in`);
  const arg: ArgKind = conv.startsWith('r') ? 'buffer' : conv === 's' ? 'string' : 'int';
  return { offset: start, text, ...flags, width, precision, length: lm, conversion: conv as Conversion, arg };
}

const KIND_NAMES: Record<ArgKind, string> = { int: 'integer', string: 'string', buffer: 'buffer' };

/**
 * Checks argument kinds against the verbs; returns bpftrace's message for the first problem, or
 * undefined. Symbols, stacks, addresses and user names count as 'string'.
 */
export function checkFormatArgs(f: ParsedFormat, args: readonly ArgKind[]): string | undefined {
  if (args.length < f.verbs.length) {
    return `printf: Not enough arguments for format string (${args.length} supplied, ${f.verbs.length} expected)`;
  }
  if (args.length > f.verbs.length) {
    return `printf: Too many arguments for format string (${args.length} supplied, ${f.verbs.length} expected)`;
  }
  for (let i = 0; i < args.length; i++) {
    const v = f.verbs[i];
    if (args[i] !== v.arg) {
      return `printf: %${v.length}${v.conversion} specifier expects a value of type ${KIND_NAMES[v.arg]} (${KIND_NAMES[args[i]]} supplied)`;
    }
  }
  return undefined;
}

/** The C integer type the value is passed as: plain %d is an int, %ld a long, and so on. */
function cInteger(v: bigint, verb: FormatVerb): bigint {
  const bits = verb.length === 'hh' ? 8 : verb.length === 'h' ? 16 : verb.length === '' ? 32 : 64;
  const signed = verb.conversion === 'd' || verb.conversion === 'i';
  return signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
}

/** Width counts bytes, as C does; padding is spaces (integers zero-fill themselves). */
function pad(body: string, verb: FormatVerb): string {
  const fill = verb.width - Buffer.byteLength(body);
  if (fill <= 0) return body;
  return verb.leftAlign ? body + ' '.repeat(fill) : ' '.repeat(fill) + body;
}

function formatInteger(raw: bigint, verb: FormatVerb): string {
  if (verb.conversion === 'p') {
    const p = BigInt.asUintN(64, raw);
    return pad(p === 0n ? '(nil)' : '0x' + p.toString(16), verb);
  }
  const n = cInteger(raw, verb);
  const neg = n < 0n;
  const mag = neg ? -n : n;
  const radix = verb.conversion === 'o' ? 8 : verb.conversion === 'x' || verb.conversion === 'X' ? 16 : 10;
  let digits = verb.precision === 0 && mag === 0n ? '' : mag.toString(radix);
  if (verb.conversion === 'X') digits = digits.toUpperCase();
  if (verb.precision > digits.length) digits = digits.padStart(verb.precision, '0');
  let prefix = '';
  if (verb.conversion === 'd' || verb.conversion === 'i') prefix = neg ? '-' : verb.plus ? '+' : verb.space ? ' ' : '';
  else if (verb.alternate && verb.conversion === 'o' && !digits.startsWith('0')) digits = '0' + digits;
  else if (verb.alternate && mag !== 0n && verb.conversion === 'x') prefix = '0x';
  else if (verb.alternate && mag !== 0n && verb.conversion === 'X') prefix = '0X';
  // The 0 flag pads between sign and digits, unless left-aligned or a precision is given.
  if (verb.zeroPad && !verb.leftAlign && verb.precision < 0) {
    digits = digits.padStart(verb.width - prefix.length, '0');
  }
  return pad(prefix + digits, verb);
}

function formatString(s: string, verb: FormatVerb): string {
  if (verb.precision >= 0) s = Buffer.from(s).subarray(0, verb.precision).toString();
  return pad(s, verb);
}

function argBytes(v: Value): Uint8Array {
  if (v.kind === 'buffer') return v.bytes;
  return new Uint8Array(Buffer.from(valueText(v)));
}

function formatArg(verb: FormatVerb, v: Value): string {
  switch (verb.conversion) {
    case 's': return formatString(valueText(v), verb);
    case 'r': return formatString(v.kind === 'buffer' ? bufferText(v.bytes) : valueText(v), verb);
    case 'rx': return formatString(Array.from(argBytes(v), (b) => '\\x' + b.toString(16).padStart(2, '0')).join(''), verb);
    case 'rh': return formatString(Array.from(argBytes(v), (b) => b.toString(16).padStart(2, '0')).join(' '), verb);
    case 'c': {
      if (v.kind !== 'int') break;
      return pad(String.fromCharCode(Number(BigInt.asUintN(8, v.value))), verb);
    }
    default:
      if (v.kind === 'int' || v.kind === 'pointer') return formatInteger(v.value, verb);
  }
  throw new TsbpfError(`printf: ${verb.text} got a ${v.kind} argument`, {
    hint: 'this is a bug in the semantic pass: printf arguments are checked at compile time',
  });
}

/** Renders one printf event. `args` must match the verbs (checkFormatArgs ran at compile time). */
export function formatPrintf(f: ParsedFormat, args: readonly Value[]): string {
  if (args.length !== f.verbs.length) {
    throw new TsbpfError(`printf: ${args.length} arguments for ${f.verbs.length} verbs in "${f.source}"`);
  }
  let out = '';
  let next = 0;
  for (const seg of f.segments) out += typeof seg === 'string' ? seg : formatArg(seg, args[next++]);
  return out;
}
