// The two output formats behind one interface, returning the exact bytes bpftrace 0.17 writes
// to stdout for each event, so the runtime only decides when to write them.
import { byName, mapJson, mapText, type PrintOptions } from './maps.js';
import { jsonEscape, valueJson, valueText } from './render.js';
import type { MapSnapshot, Value } from './values.js';

/** Events that carry text: printf(), time(), cat(), join(), system(). */
export type MessageType = 'printf' | 'time' | 'cat' | 'join' | 'syscall';

export interface Output {
  readonly format: 'text' | 'json';
  /** `Attaching N probes...` once all probes are attached. */
  attachedProbes(count: number): string;
  lostEvents(count: number | bigint): string;
  /** `newline` is for join(), whose text form ends the line; JSON never adds one. */
  message(type: MessageType, text: string, newline?: boolean): string;
  /** print() of a non-map expression. */
  value(v: Value): string;
  /** print(@m, top, div). */
  map(m: MapSnapshot, opts?: PrintOptions): string;
  /** What bpftrace writes on exit: two newlines, then every map in name order. */
  exit(maps: readonly MapSnapshot[]): string;
}

const EXIT_SEPARATOR = '\n\n';

export const textOutput: Output = {
  format: 'text',
  attachedProbes: (n) => `Attaching ${n} ${n === 1 ? 'probe' : 'probes'}...\n`,
  lostEvents: (n) => `Lost ${n} events\n`,
  message: (_type, text, newline = false) => (newline ? text + '\n' : text),
  value: (v) => valueText(v) + '\n',
  map: (m, opts) => mapText(m, opts),
  exit: (maps) => EXIT_SEPARATOR + byName(maps).map((m) => mapText(m)).join(''),
};

export const jsonOutput: Output = {
  format: 'json',
  attachedProbes: (n) => `{"type": "attached_probes", "data": {"probes": ${n}}}\n`,
  lostEvents: (n) => `{"type": "lost_events", "data": {"events": ${n}}}\n`,
  message: (type, text) => `{"type": "${type}", "data": "${jsonEscape(text)}"}\n`,
  value: (v) => `{"type": "value", "data": ${valueJson(v)}}\n`,
  map: (m, opts) => mapJson(m, opts),
  // bpftrace 0.17 writes the bare blank lines in JSON mode too; consumers skip empty lines.
  exit: (maps) => EXIT_SEPARATOR + byName(maps).map((m) => mapJson(m)).join(''),
};

export function outputFor(format: 'text' | 'json'): Output {
  return format === 'json' ? jsonOutput : textOutput;
}
