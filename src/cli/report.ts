// How failures reach the user: one clear line (plus a hint) for every TsbpfError,
// a stack trace only for what is a bug in tsbpf itself.
import { TsbpfError } from '../kernel/errors.js';

export function reportError(e: unknown): number {
  if (e instanceof TsbpfError) {
    process.stderr.write(`${e.message.startsWith('stdin:') || /^\S+:\d+:\d+/.test(e.message) ? '' : 'ERROR: '}${e.message}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    return 1;
  }
  process.stderr.write(`tsbpf: internal error (please report): ${e instanceof Error ? e.stack : String(e)}\n`);
  return 2;
}
