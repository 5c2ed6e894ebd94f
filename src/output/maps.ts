// Whole maps as bpftrace 0.17 prints them: entry order, print(@m, top, div), text and JSON.
import { histJson, histText, lhistJson, lhistText } from './hist.js';
import { jsonEscape, KEY_STACK_INDENT, valueJson, valueText } from './render.js';
import { average, type EntryKey, type MapSnapshot, type Value } from './values.js';

export interface PrintOptions {
  /** Keep only the last `top` entries of the printed order (the largest); 0 keeps all. */
  top?: number;
  /** Divide printed counts by this; 0 means 1, as in bpftrace. */
  div?: number;
}

type Entry = MapSnapshot['entries'][number];

// --- ordering ---

function keyArgCompare(a: Value, b: Value): number {
  if (a.kind === 'int' && b.kind === 'int') {
    // bpftrace reads integer keys as unsigned, so -1 sorts after every positive key.
    const x = BigInt.asUintN(a.bits, a.value);
    const y = BigInt.asUintN(b.bits, b.value);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.kind === 'string' && b.kind === 'string') return Buffer.compare(Buffer.from(a.value), Buffer.from(b.value));
  return 0; // other key types keep their map iteration order
}

/** bpftrace's sort_by_key: by first key component, then the next; only ints and strings sort. */
function compareKeys(a: EntryKey, b: EntryKey): number {
  for (let i = 0; i < Math.min(a.key.length, b.key.length); i++) {
    const c = keyArgCompare(a.key[i], b.key[i]);
    if (c) return c;
  }
  return 0;
}

/** The little-endian bytes of an integer key, as the kernel holds it. */
function intKeyBytes(v: Extract<Value, { kind: 'int' }>): Buffer {
  const out = Buffer.alloc(v.bits / 8);
  let n = BigInt.asUintN(v.bits, v.value);
  for (let i = 0; i < out.length; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

/**
 * Raw key byte order (std::map order in bpftrace), used to break ties among hist/avg/stats
 * entries. Uses the real key bytes when the runtime supplied them.
 */
function compareRawKeys(a: EntryKey, b: EntryKey): number {
  if (a.rawKey && b.rawKey) return Buffer.compare(a.rawKey, b.rawKey);
  for (let i = 0; i < Math.min(a.key.length, b.key.length); i++) {
    const x = a.key[i];
    const y = b.key[i];
    let c = 0;
    if (x.kind === 'int' && y.kind === 'int') c = Buffer.compare(intKeyBytes(x), intKeyBytes(y));
    else if (x.kind === 'string' && y.kind === 'string') c = Buffer.compare(Buffer.from(x.value), Buffer.from(y.value));
    if (c) return c;
  }
  return 0;
}

const cmpBig = (x: bigint, y: bigint): number => (x < y ? -1 : x > y ? 1 : 0);
const bucketTotal = (buckets: readonly bigint[]): bigint => buckets.reduce((a, b) => a + b, 0n);

/**
 * Entries in the order bpftrace prints them: ascending by value for count/sum/min/max and
 * integer values, by total count for hist/lhist, by average for avg/stats, otherwise by key.
 * Ties keep their input order (bpftrace's std::sort is stable for up to 16 entries).
 */
export function orderEntries(m: MapSnapshot): Entry[] {
  const entries = [...m.entries] as Entry[];
  switch (m.kind) {
    case 'count': case 'sum': case 'min': case 'max':
      return (entries as Array<EntryKey & { value: bigint }>).sort((a, b) => cmpBig(a.value, b.value));
    case 'avg': case 'stats':
      return (entries as Array<EntryKey & { count: bigint; total: bigint }>)
        .sort(compareRawKeys)
        .sort((a, b) => cmpBig(average(a.count, a.total), average(b.count, b.total)));
    case 'hist': case 'lhist':
      return (entries as Array<EntryKey & { buckets: bigint[] }>)
        .sort(compareRawKeys)
        .sort((a, b) => cmpBig(bucketTotal(a.buckets), bucketTotal(b.buckets)));
    case 'value': {
      const vs = entries as Array<EntryKey & { value: Value }>;
      if (vs.every((e) => e.value.kind === 'int')) {
        const num = (v: Value): bigint => (v.kind === 'int' ? (v.signed ? BigInt.asIntN(v.bits, v.value) : BigInt.asUintN(v.bits, v.value)) : 0n);
        return vs.sort((a, b) => cmpBig(num(a.value), num(b.value)));
      }
      return vs.sort(compareKeys);
    }
  }
}

function applyTop<T>(sorted: T[], top: number): T[] {
  return top > 0 && sorted.length > top ? sorted.slice(sorted.length - top) : sorted;
}

// --- one entry's value ---

function divided(v: Value, div: bigint): Value {
  return v.kind === 'int' && div !== 1n ? { ...v, value: (v.signed ? BigInt.asIntN(v.bits, v.value) : BigInt.asUintN(v.bits, v.value)) / div } : v;
}

function entryValue(m: MapSnapshot, e: Entry, div: bigint, json: boolean): string {
  switch (m.kind) {
    case 'count': case 'sum': case 'min': case 'max':
      return ((e as { value: bigint }).value / div).toString();
    case 'avg': {
      const s = e as { count: bigint; total: bigint };
      return (average(s.count, s.total) / div).toString();
    }
    case 'stats': {
      const s = e as { count: bigint; total: bigint };
      const avg = average(s.count, s.total);
      return json
        ? `{"count": ${s.count}, "average": ${avg}, "total": ${s.total}}`
        : `count ${s.count}, average ${avg}, total ${s.total}`;
    }
    case 'hist': {
      const b = (e as { buckets: bigint[] }).buckets;
      return json ? histJson(b, div) : histText(b, div);
    }
    case 'lhist': {
      const b = (e as { buckets: bigint[] }).buckets;
      return json ? lhistJson(b, m) : lhistText(b, m);
    }
    case 'value': {
      const v = divided((e as { value: Value }).value, div);
      // bpftrace 0.17 prints pointers as hex in keys but as plain numbers as map values.
      if (v.kind === 'pointer') return BigInt.asUintN(64, v.value).toString();
      return json ? valueJson(v) : valueText(v);
    }
  }
}

/** Stack, symbol and address values end their own lines (or run on): bpftrace adds no newline. */
function entryDelimiter(m: MapSnapshot): string {
  if (m.kind !== 'value' || m.entries.length === 0) return '\n';
  const kind = m.entries[0].value.kind;
  return kind === 'stack' || kind === 'ksym' || kind === 'usym' || kind === 'inet' ? '' : '\n';
}

const keyParts = (key: readonly Value[]): string[] => key.map((k) => valueText(k, KEY_STACK_INDENT));

function printed(m: MapSnapshot, opts: PrintOptions): { entries: Entry[]; div: bigint } {
  // bpftrace 0.17 ignores top and div for stats() maps and div for lhist maps.
  const top = m.kind === 'stats' ? 0 : opts.top ?? 0;
  const div = m.kind === 'stats' || m.kind === 'lhist' || !opts.div ? 1n : BigInt(opts.div);
  return { entries: applyTop(orderEntries(m), top), div };
}

/** The text bpftrace prints for print(@m, top, div) or at exit, including trailing newlines. */
export function mapText(m: MapSnapshot, opts: PrintOptions = {}): string {
  const { entries, div } = printed(m, opts);
  const tables = m.kind === 'hist' || m.kind === 'lhist';
  const lines = entries.map((e) => {
    const key = e.key.length ? `${m.name}[${keyParts(e.key).join(', ')}]` : m.name;
    return `${key}: ${tables ? '\n' : ''}${entryValue(m, e, div, false)}`;
  });
  const trailer = m.kind === 'avg' || m.kind === 'stats' ? '\n\n' : '\n';
  return lines.join(entryDelimiter(m)) + trailer;
}

const jsonType = (m: MapSnapshot): string =>
  m.kind === 'hist' || m.kind === 'lhist' ? 'hist' : m.kind === 'avg' || m.kind === 'stats' ? 'stats' : 'map';

/** One JSON line (with newline), or '' for an empty map: bpftrace prints nothing then. */
export function mapJson(m: MapSnapshot, opts: PrintOptions = {}): string {
  const { entries, div } = printed(m, opts);
  if (entries.length === 0) return '';
  const keyed = entries[0].key.length > 0;
  const items = entries.map((e) => {
    const v = entryValue(m, e, div, true);
    return keyed ? `"${jsonEscape(keyParts(e.key).join(','))}": ${v}` : v;
  });
  const body = keyed ? `{${items.join(', ')}}` : items.join(', ');
  return `{"type": "${jsonType(m)}", "data": {"${jsonEscape(m.name)}": ${body}}}\n`;
}

/** bpftrace prints maps at exit in name order (byte order: `@` before `@a`). */
export function byName(maps: readonly MapSnapshot[]): MapSnapshot[] {
  return [...maps].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}
