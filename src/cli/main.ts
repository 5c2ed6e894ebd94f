// The `tsbpf` command. Subcommands load lazily so `tsbpf -e` pays only for what it uses.
import { TsbpfError } from '../kernel/errors.js';
import { reportError } from './report.js';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  feature: async () => (await import('./feature.js')).main,
  demo: async () => (await import('./demo.js')).main,
  tools: async () => (await import('./tools.js')).main,
  trace: async () => (await import('./trace.js')).main,
  prog: async () => (argv) => import('./inspect.js').then((m) => m.main(argv, 'prog')),
  map: async () => (argv) => import('./inspect.js').then((m) => m.main(argv, 'map')),
  link: async () => (argv) => import('./inspect.js').then((m) => m.main(argv, 'link')),
};

const usage = `usage: tsbpf [options] -e 'PROGRAM' | tsbpf [options] FILE.bt
       tsbpf -l [PATTERN]            list probes (tracepoint, rawtracepoint, uprobe, usdt, ...)
       tsbpf demo                    trace a built-in demo workload
       tsbpf tools [NAME [ARGS]]     list or run ready-made tools (opensnoop, execsnoop, ...)
       tsbpf feature [--json]        what this kernel supports
       tsbpf prog|map|link list [--json], tsbpf prog dump ID   inspect loaded BPF objects
options: -c CMD  -p PID  -f text|json  -o FILE  -v  --dry-run  --unsafe  --ret-scan  -h
`;

async function run(argv: string[]): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === '-h' || first === '--help') {
    process.stdout.write(usage);
    return first === undefined ? 1 : 0;
  }
  const load = commands[first];
  if (load) return (await load())(argv.slice(1));
  if (first.startsWith('-') || first.endsWith('.bt') || argv.length >= 1) return (await commands.trace())(argv);
  throw new TsbpfError(`unknown command '${first}'`, { hint: 'run tsbpf --help' });
}

// bin/tsbpf starts Node without NODE_EXTRA_CA_CERTS (it costs start-up time and tsbpf needs
// no TLS); children (-c, system()) get the environment the user gave.
if (process.env.TSBPF_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.TSBPF_NODE_EXTRA_CA_CERTS;
  delete process.env.TSBPF_NODE_EXTRA_CA_CERTS;
}

// `tsbpf -l | head` closes our stdout early: that is a normal end, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = reportError(e);
  },
);
