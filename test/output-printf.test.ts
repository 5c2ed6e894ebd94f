// printf format parsing and checking (what the semantic pass relies on), strftime against the
// libc one behind date(1), and the value helpers.
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsbpfError } from '../src/kernel/errors.js';
import { checkFormatArgs, formatPrintf, FormatError, parseFormat } from '../src/output/printf.js';
import { jsonEscape, ntop } from '../src/output/render.js';
import { strftime } from '../src/output/strftime.js';
import { jsonOutput, textOutput } from '../src/output/output.js';
import {
  average, histBucket, int, lhistBucket, mergeAvg, mergeBuckets, mergeCount, mergeMax, mergeMin, mergeSum, str,
} from '../src/output/values.js';

test('parseFormat splits literals and verbs, %% is a literal', () => {
  const f = parseFormat('pid %-6d comm %s 100%% %lu\n');
  assert.deepEqual(f.segments.map((s) => (typeof s === 'string' ? s : s.text)), ['pid ', '%-6d', ' comm ', '%s', ' 100% ', '%lu', '\n']);
  assert.deepEqual(f.verbs.map((v) => [v.offset, v.conversion, v.length, v.arg, v.width, v.leftAlign]), [
    [4, 'd', '', 'int', 6, true], [14, 's', '', 'string', 0, false], [23, 'u', 'l', 'int', 0, false],
  ]);
  assert.deepEqual(parseFormat('%5.2rx %rh %r').verbs.map((v) => [v.conversion, v.arg, v.width, v.precision]),
    [['rx', 'buffer', 5, 2], ['rh', 'buffer', 0, -1], ['r', 'buffer', 0, -1]]);
});

test('parseFormat rejects bad verbs with their offset', () => {
  const bad: Array<[string, number, string]> = [
    ['abc %q', 4, '%q'], ['x %f y', 2, '%f'], ['%d %', 3, '%'], ['%*d', 0, '%*'], ['ok %lc', 3, '%lc'], ['%hs', 0, '%hs'],
  ];
  for (const [fmt, offset, text] of bad) {
    assert.throws(() => parseFormat(fmt), (e: unknown) => {
      assert.ok(e instanceof FormatError && e instanceof TsbpfError, fmt);
      assert.equal(e.offset, offset, fmt);
      assert.equal(e.length, text.length, fmt);
      assert.match(e.message, new RegExp(`'${text.replace(/[*%]/g, '\\$&')}' at offset ${offset}`));
      assert.ok(e.hint?.includes('%rx'));
      return true;
    });
  }
});

test('checkFormatArgs gives bpftrace 0.17 messages', () => {
  // These are the messages bpftrace 0.17 prints for the same mistakes.
  assert.equal(checkFormatArgs(parseFormat('%d %d\n'), ['int']),
    'printf: Not enough arguments for format string (1 supplied, 2 expected)');
  assert.equal(checkFormatArgs(parseFormat('%d\n'), ['int', 'int']),
    'printf: Too many arguments for format string (2 supplied, 1 expected)');
  assert.equal(checkFormatArgs(parseFormat('%s\n'), ['int']),
    'printf: %s specifier expects a value of type string (integer supplied)');
  assert.equal(checkFormatArgs(parseFormat('%d\n'), ['string']),
    'printf: %d specifier expects a value of type integer (string supplied)');
  assert.equal(checkFormatArgs(parseFormat('<%rx>'), ['int']),
    'printf: %rx specifier expects a value of type buffer (integer supplied)');
  assert.equal(checkFormatArgs(parseFormat('%-8s %5lu %r'), ['string', 'int', 'buffer']), undefined);
});

test('formatPrintf C semantics beyond bpftrace 0.17 (flags it accepts later)', () => {
  const p = (fmt: string, ...xs: number[]): string => formatPrintf(parseFormat(fmt), xs.map((x) => int(x)));
  assert.equal(p('%+d|% d|%+5d|%-+5d|', 7, 7, -7, 7), '+7| 7|   -7|+7   |');
  assert.equal(p('%#x|%#X|%#o|%#x|%#o', 255, 255, 8, 0, 0), '0xff|0XFF|010|0|0');
  assert.equal(p('%08x|%-8x|%i|%08.3d|%-08d|%05d', 255, 255, -3, 12, 12, -42), '000000ff|ff      |-3|     012|12      |-0042');
  assert.throws(() => formatPrintf(parseFormat('%d'), [str('x')]), TsbpfError);
});

test('strftime matches libc strftime (date +FORMAT) in several time zones', () => {
  const fmt = '%a|%A|%b|%B|%c|%C|%d|%D|%e|%F|%g|%G|%h|%H|%I|%j|%k|%l|%m|%M|%n|%p|%P|%r|%R|%s|%S|%t|%T|%u|%U|%V|%w|%W|%x|%X|%y|%Y|%z|%Q|%%';
  const saved = process.env.TZ;
  try {
    for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
      process.env.TZ = tz;
      // New Year edges exercise the week numbers, July the DST offset, 1700000000 the usual case.
      for (const t of [1700000000, 1704067199, 1704067200, 1735603200, 1720000000, 946684800]) {
        const want = execFileSync('date', ['-d', `@${t}`, `+${fmt}`], { env: { ...process.env, TZ: tz, LC_ALL: 'C' } }).toString().replace(/\n$/, '');
        assert.equal(strftime(fmt, new Date(t * 1000)), want, `${tz} @${t}`);
      }
    }
    process.env.TZ = 'America/New_York';
    assert.equal(strftime('%Z', new Date(1720000000 * 1000)), 'EDT');
    process.env.TZ = 'UTC';
    assert.equal(strftime('%Z %H:%M:%S\n', new Date(1700000000 * 1000)), 'UTC 22:13:20\n');
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});

test('ntop follows glibc inet_ntop', () => {
  const v6 = (s: string): Uint8Array => {
    const [head, tail] = s.split('::');
    const words = (x: string | undefined): number[] => (x ? x.split(':').map((w) => parseInt(w, 16)) : []);
    const h = words(head);
    const t = tail === undefined ? [] : words(tail);
    const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
    return Uint8Array.from(all.flatMap((w) => [w >> 8, w & 0xff]));
  };
  // Expected strings are what glibc's inet_ntop printed for the same addresses.
  const cases: Array<[string, string]> = [
    ['::2', '::2'], ['::1', '::1'], ['::', '::'], ['::ffff:102:304', '::ffff:1.2.3.4'], ['::102:304', '::1.2.3.4'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'], ['2001:db8::1', '2001:db8::1'],
    ['fe80::1:0:0:1', 'fe80::1:0:0:1'],
  ];
  for (const [input, want] of cases) assert.equal(ntop(v6(input)), want, input);
  assert.equal(ntop(Uint8Array.from([10, 0, 0, 255])), '10.0.0.255');
});

test('per-CPU merges and bucket indexes', () => {
  assert.equal(mergeCount([3n, 4n, 0n]), 7n);
  assert.equal(mergeCount([0xffffffffffffffffn, 2n]), 1n);
  assert.equal(mergeSum([-5n, 2n]), -3n);
  assert.equal(mergeMin([undefined, 4n, -2n]), -2n);
  assert.equal(mergeMax([undefined, 4n, -2n]), 4n);
  assert.equal(mergeMin([undefined, undefined]), 0n);
  const a = mergeAvg([{ count: 2n, total: 7n }, { count: 1n, total: 4n }]);
  assert.deepEqual(a, { count: 3n, total: 11n });
  assert.equal(average(a.count, a.total), 3n);
  assert.equal(average(0n, 0n), 0n);
  assert.equal(average(2n, -5n), -2n); // C division truncates toward zero
  assert.deepEqual(mergeBuckets([[1n, 0n, 2n], [0n, 5n]]), [1n, 5n, 2n]);
  assert.deepEqual([-9n, 0n, 1n, 2n, 3n, 4n, 1023n, 1024n, (1n << 62n)].map(histBucket), [0, 1, 2, 3, 3, 4, 11, 12, 64]);
  assert.deepEqual([-1n, 0n, 2n, 3n, 8n, 9n, 10n, 11n].map((v) => lhistBucket(v, 0, 10, 3)), [0, 1, 1, 2, 3, 4, 4, 4]);
});

test('JSON stays valid for non-ASCII text (bpftrace 0.17 prints \\uffffffc3 here)', () => {
  assert.equal(jsonEscape('h\u00e9\u0001"\\\n\r\t'), 'h\u00e9\\u0001\\"\\\\\\n\\r\\t');
  const line = jsonOutput.message('printf', 'caf\u00e9\n');
  assert.deepEqual(JSON.parse(line), { type: 'printf', data: 'caf\u00e9\n' });
});

test('fixed lines', () => {
  assert.equal(textOutput.attachedProbes(1), 'Attaching 1 probe...\n');
  assert.equal(textOutput.attachedProbes(3), 'Attaching 3 probes...\n');
  assert.equal(textOutput.lostEvents(12), 'Lost 12 events\n');
  assert.equal(jsonOutput.lostEvents(12n), '{"type": "lost_events", "data": {"events": 12}}\n');
  assert.equal(textOutput.message('join', 'a b c', true), 'a b c\n');
  assert.equal(jsonOutput.message('join', 'a b c', true), '{"type": "join", "data": "a b c"}\n');
  assert.equal(jsonOutput.message('time', '07:32:20\n'), '{"type": "time", "data": "07:32:20\\n"}\n');
});
