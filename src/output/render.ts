// Single values to text and JSON, with bpftrace 0.17's spellings: stacks as indented frame
// lines, inet via inet_ntop rules, buffers with non-printable bytes as \xNN.
import type { Value } from './values.js';

/** Stacks inside map keys are indented 4, stacks as values and printf args 8 (bpftrace does so). */
export const KEY_STACK_INDENT = 4;
export const VALUE_STACK_INDENT = 8;

export function stackText(frames: readonly string[], indent: number, perf = false): string {
  if (frames.length === 0) return ''; // bpftrace prints an empty stack key as `@k[]`
  const pad = perf ? '\t' : ' '.repeat(indent);
  return '\n' + frames.map((f) => pad + f + '\n').join('');
}

/** Printable ASCII stays, anything else becomes \xNN (bpftrace's hex_format_buffer). */
export function bufferText(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '\\x' + b.toString(16).padStart(2, '0');
  return out;
}

/** inet_ntop: 4 bytes dotted quad, 16 bytes RFC 5952 with glibc's IPv4-mapped/compatible forms. */
export function ntop(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return '';
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  // The longest run of two or more zero words collapses to '::' (first run wins ties).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLen) {
      if (i === best) out += '::';
      continue;
    }
    if (out && !out.endsWith(':')) out += ':';
    // glibc prints the last 32 bits as IPv4 for ::ffff:a.b.c.d and ::a.b.c.d (not ::1).
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
      break;
    }
    out += words[i].toString(16);
  }
  return out;
}

function intText(v: Extract<Value, { kind: 'int' }>): string {
  return (v.signed ? BigInt.asIntN(v.bits, v.value) : BigInt.asUintN(v.bits, v.value)).toString();
}

/** Text form; `stackIndent` depends on where the value sits (key or value). */
export function valueText(v: Value, stackIndent = VALUE_STACK_INDENT): string {
  switch (v.kind) {
    case 'int': return intText(v);
    case 'string': case 'ksym': case 'usym': case 'probe': case 'username': return v.value;
    case 'stack': return stackText(v.frames, stackIndent, v.perf);
    case 'tuple': return '(' + v.elems.map((e) => valueText(e, stackIndent)).join(', ') + ')';
    case 'inet': return ntop(v.bytes);
    case 'buffer': return bufferText(v.bytes);
    case 'pointer': return '0x' + BigInt.asUintN(64, v.value).toString(16);
  }
}

/**
 * bpftrace 0.17's json_escape, except that bytes >= 0x80 pass through as UTF-8: 0.17 prints
 * them as `\uffffffc3`, which is not JSON.
 */
export function jsonEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c <= 0x1f) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out;
}

/** JSON form: text-like values quoted, tuples as arrays without spaces (as bpftrace prints). */
export function valueJson(v: Value, stackIndent = VALUE_STACK_INDENT): string {
  switch (v.kind) {
    case 'int': return intText(v);
    // bpftrace prints pointer values as plain numbers in JSON (hex text would not be JSON).
    case 'pointer': return BigInt.asUintN(64, v.value).toString();
    case 'tuple': return '[' + v.elems.map((e) => valueJson(e, stackIndent)).join(',') + ']';
    default: return '"' + jsonEscape(valueText(v, stackIndent)) + '"';
  }
}
