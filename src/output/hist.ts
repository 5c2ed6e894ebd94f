// hist() and lhist() tables in bpftrace 0.17's text and JSON shapes.

const BAR_WIDTH = 52;

/** `1<<power` with K/M/G/T suffixes, as bpftrace labels log2 buckets. */
function powerLabel(power: number): string {
  for (const [shift, suffix] of [[40, 'T'], [30, 'G'], [20, 'M'], [10, 'K']] as const) {
    if (power >= shift) return `${2 ** (power - shift)}${suffix}`;
  }
  return `${2 ** power}`;
}

function linearLabel(n: number): string {
  if (n === 0) return '0';
  if (n % 1048576 === 0) return `${n / 1048576}M`;
  if (n % 1024 === 0) return `${n / 1024}K`;
  return `${n}`;
}

/** bpftrace computes the bar in single-precision float; mirror it so rounding matches. */
function bar(count: bigint, maxCount: bigint): string {
  const ratio = Math.fround(Math.fround(Number(count)) / Math.fround(Number(maxCount)));
  return '@'.repeat(Math.trunc(Math.fround(ratio * BAR_WIDTH)));
}

function row(label: string, shown: bigint, count: bigint, maxCount: bigint): string {
  return label.padEnd(16) + shown.toString().padStart(8) + ' |' + bar(count, maxCount).padEnd(BAR_WIDTH) + '|\n';
}

function nonZeroRange(buckets: readonly bigint[], upTo = buckets.length - 1): [number, number] | undefined {
  let first = -1;
  let last = -1;
  for (let i = 0; i <= upTo && i < buckets.length; i++) {
    if (buckets[i] > 0n) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? undefined : [first, last];
}

const maxOf = (buckets: readonly bigint[]): bigint => buckets.reduce((a, b) => (b > a ? b : a), 0n);

function histLabel(i: number): string {
  if (i === 0) return '(..., 0)';
  if (i === 1) return '[0]';
  if (i === 2) return '[1]';
  return `[${powerLabel(i - 2)}, ${powerLabel(i - 1)})`;
}

/** Text rows from the first to the last non-empty bucket; counts divided by `div`, bars not. */
export function histText(buckets: readonly bigint[], div = 1n): string {
  const range = nonZeroRange(buckets);
  if (!range) return '';
  const max = maxOf(buckets);
  let out = '';
  for (let i = range[0]; i <= range[1]; i++) out += row(histLabel(i), (buckets[i] ?? 0n) / div, buckets[i] ?? 0n, max);
  return out;
}

export function histJson(buckets: readonly bigint[], div = 1n): string {
  const range = nonZeroRange(buckets);
  if (!range) return '[]';
  const items: string[] = [];
  for (let i = range[0]; i <= range[1]; i++) {
    let bounds: string;
    if (i === 0) bounds = '"max": -1, ';
    else if (i === 1) bounds = '"min": 0, "max": 0, ';
    else if (i === 2) bounds = '"min": 1, "max": 1, ';
    else bounds = `"min": ${1n << BigInt(i - 2)}, "max": ${(1n << BigInt(i - 1)) - 1n}, `;
    items.push(`{${bounds}"count": ${(buckets[i] ?? 0n) / div}}`);
  }
  return '[' + items.join(', ') + ']';
}

export interface LinearSpec {
  min: number;
  max: number;
  step: number;
}

const lastLinearBucket = (s: LinearSpec): number => Math.trunc((s.max - s.min) / s.step) + 1;

function lhistLabel(i: number, s: LinearSpec): string {
  if (i === 0) return `(..., ${linearLabel(s.min)})`;
  if (i === lastLinearBucket(s)) return `[${linearLabel(s.max)}, ...)`;
  return `[${linearLabel((i - 1) * s.step + s.min)}, ${linearLabel(i * s.step + s.min)})`;
}

/** lhist ignores print()'s divisor in bpftrace 0.17, so there is none here. */
export function lhistText(buckets: readonly bigint[], spec: LinearSpec): string {
  const range = nonZeroRange(buckets, lastLinearBucket(spec));
  if (!range) return '';
  const max = maxOf(buckets);
  let out = '';
  for (let i = range[0]; i <= range[1]; i++) out += row(lhistLabel(i, spec), buckets[i] ?? 0n, buckets[i] ?? 0n, max);
  return out;
}

export function lhistJson(buckets: readonly bigint[], spec: LinearSpec): string {
  const range = nonZeroRange(buckets, lastLinearBucket(spec));
  if (!range) return '[]';
  const items: string[] = [];
  for (let i = range[0]; i <= range[1]; i++) {
    let bounds: string;
    if (i === 0) bounds = `"max": ${spec.min - 1}, `;
    else if (i === lastLinearBucket(spec)) bounds = `"min": ${spec.max}, `;
    else bounds = `"min": ${(i - 1) * spec.step + spec.min}, "max": ${i * spec.step + spec.min - 1}, `;
    items.push(`{${bounds}"count": ${buckets[i] ?? 0n}}`);
  }
  return '[' + items.join(', ') + ']';
}
