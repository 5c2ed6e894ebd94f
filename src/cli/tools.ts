// `tsbpf tools` lists the ready-made tools; `tsbpf tools NAME [options] [ARGS]` runs one.
import { TsbpfError } from '../kernel/errors.js';
import { didYouMean } from '../lang/diagnostics.js';
import { TOOLS, findTool } from '../tools/index.js';
import { main as trace } from './trace.js';

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'list') {
    for (const t of TOOLS) process.stdout.write(`${t.name.padEnd(16)} ${t.args ? t.args + ': ' : ''}${t.summary}\n`);
    return 0;
  }
  const tool = findTool(name);
  if (!tool) {
    throw new TsbpfError(`no tool named '${name}'`, {
      hint: didYouMean(name, TOOLS.map((t) => t.name)) ?? 'list them with: tsbpf tools',
    });
  }
  // Options (-p, -c, -f, -o) pass through to the tracer; the rest become $1, $2, ...
  return trace(['-e', tool.script, ...rest]);
}
