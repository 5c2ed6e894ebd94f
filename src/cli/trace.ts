// `tsbpf [options] -e PROGRAM | FILE.bt [ARGS...]`: bpftrace's command line.
import { spawn, ChildProcess } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createWriteStream, readFileSync, readlinkSync, WriteStream } from 'node:fs';
import { TsbpfError } from '../kernel/errors.js';
import { assertRoot } from '../kernel/bpf.js';
import { outputFor } from '../output/output.js';
import { reportError } from './report.js';

export interface TraceArgs {
  program?: string;
  file?: string;
  params: string[];
  command?: string;
  pid?: number;
  list?: string;
  format: 'text' | 'json';
  outFile?: string;
  verbose: boolean;
  dump: boolean;
  unsafe: boolean;
  dryRun: boolean;
  retScan: boolean;
}

export function parseArgs(argv: string[]): TraceArgs {
  const a: TraceArgs = { params: [], format: 'text', verbose: false, dump: false, unsafe: false, dryRun: false, retScan: false };
  const need = (i: number, flag: string): string => {
    const v = argv[i];
    if (v === undefined) throw new TsbpfError(`option ${flag} needs a value`, { hint: 'run tsbpf --help' });
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '-e': a.program = need(++i, '-e'); break;
      case '-c': a.command = need(++i, '-c'); break;
      case '-p': {
        const v = need(++i, '-p');
        if (!/^\d+$/.test(v)) throw new TsbpfError(`-p needs a process id, got '${v}'`);
        a.pid = Number(v);
        break;
      }
      case '-l': a.list = argv[i + 1] !== undefined && !argv[i + 1].startsWith('-') ? argv[++i] : '*'; break;
      case '-lv': a.list = argv[i + 1] !== undefined && !argv[i + 1].startsWith('-') ? argv[++i] : '*'; a.verbose = true; break;
      case '-f': {
        const v = need(++i, '-f');
        if (v !== 'text' && v !== 'json') throw new TsbpfError(`unknown output format '${v}'`, { hint: 'use -f text or -f json' });
        a.format = v;
        break;
      }
      case '-o': a.outFile = need(++i, '-o'); break;
      case '-v': a.verbose = true; break;
      case '--dump': case '-d': a.dump = true; break;
      case '--unsafe': a.unsafe = true; break;
      case '--dry-run': a.dryRun = true; break;
      case '--ret-scan': a.retScan = true; break;
      case '--': a.params.push(...argv.slice(i + 1)); i = argv.length; break;
      default:
        if (arg.startsWith('-') && arg.length > 1 && a.program === undefined && a.file === undefined) {
          throw new TsbpfError(`unknown option '${arg}'`, { hint: 'run tsbpf --help' });
        }
        if (a.program === undefined && a.file === undefined && a.list === undefined) a.file = arg;
        else a.params.push(arg);
    }
  }
  return a;
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.list !== undefined) {
    const { listProbes } = await import('../probes/list.js');
    for (const line of listProbes(args.list, { pid: args.pid, verbose: args.verbose })) process.stdout.write(line + '\n');
    return 0;
  }
  let source: string;
  let file = 'stdin';
  if (args.program !== undefined) source = args.program;
  else if (args.file !== undefined) {
    file = args.file;
    try {
      source = readFileSync(args.file, 'utf8');
    } catch {
      throw new TsbpfError(`cannot read program file '${args.file}'`, { hint: 'give a .bt file that exists, or the program with -e' });
    }
  } else throw new TsbpfError('no program given', { hint: "use -e 'PROGRAM' or a FILE.bt" });

  if (args.pid !== undefined) {
    try {
      process.kill(args.pid, 0);
    } catch {
      throw new TsbpfError(`process ${args.pid} does not exist`, { hint: 'check the pid given to -p' });
    }
  }
  assertRoot();
  // The -c command starts stopped (a shell waiting on a pipe, then exec), so its pid is
  // known to the compiler (cpid) and nothing it does is missed before probes attach.
  const child = args.command ? startPaused(args.command) : undefined;
  try {
    return await trace(args, source, file, child);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}

/**
 * One full GC right after compiling, so the ~7 MB of kernel BTF the compiler read is
 * returned before tracing starts rather than whenever V8 next gets to it.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

function rememberAfterExec(pid: number, before: string | undefined, remember: (pid: number) => void): void {
  const started = Date.now();
  const timer = setInterval(() => {
    const now = exeOf(pid);
    if (now === undefined || Date.now() - started > 2000) clearInterval(timer);
    else if (now !== before) {
      clearInterval(timer);
      remember(pid);
    }
  }, 2);
  timer.unref();
}

interface PausedChild {
  proc: ChildProcess;
  release(): void;
  exitCode: number | null;
  signalCode: string | null;
  kill(sig: NodeJS.Signals): void;
}

function startPaused(command: string): PausedChild {
  const words = command.trim().split(/\s+/);
  const proc = spawn('/bin/sh', ['-c', 'read _ <&3; exec "$0" "$@" 3<&-', ...words], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
  const gate = proc.stdio[3] as NodeJS.WritableStream;
  return {
    proc,
    release: () => gate.end('go\n'),
    get exitCode() { return proc.exitCode; },
    get signalCode() { return proc.signalCode; },
    kill: (sig) => proc.kill(sig),
  };
}

async function trace(args: TraceArgs, source: string, file: string, child: PausedChild | undefined): Promise<number> {
  const { compile } = await import('../lang/compile.js');
  const script = compile(source, {
    file, pid: args.pid, unsafe: args.unsafe, params: args.params, cpid: child?.proc.pid, retScan: args.retScan,
    ...(args.verbose ? { explain: (line: string) => process.stderr.write(`${line}\n`) } : {}),
  });
  if (args.dump || args.verbose) {
    const { disassemble } = await import('../isa/disasm.js');
    for (const p of script.probes) process.stderr.write(`${p.name}:\n${disassemble(p.insns)}\n\n`);
  }
  for (const w of script.warnings) process.stderr.write(`WARNING: ${w}\n`);
  // Compilation was the last user of kernel BTF: let it go before the long run.
  const { Btf } = await import('../btf/reader.js');
  if (Btf.release()) collectGarbage();
  const { ScriptRun } = await import('../runtime/run.js');
  const { createSymbolizer } = await import('../runtime/symbolize.js');
  let out: WriteStream | undefined;
  const write = args.outFile
    ? (s: string) => (out ??= createWriteStream(args.outFile!)).write(s)
    : (s: string) => process.stdout.write(s);
  const symbolizer = createSymbolizer();
  if (args.pid !== undefined) symbolizer.remember(args.pid);
  if (child) {
    // A command may exit before its maps are read: its executable stands in for them.
    const { resolveBinary } = await import('../probes/target.js');
    try {
      symbolizer.expectExec(child.proc.pid!, resolveBinary(args.command!.trim().split(/\s+/)[0]));
    } catch {
      // not an ELF executable (a script): nothing to stand in
    }
  }
  const run = new ScriptRun(script, {
    output: outputFor(args.format), write, symbolizer,
    log: args.verbose ? (line) => process.stderr.write(line + '\n') : undefined,
    onStarted: () => {
      if (!child) return;
      const shell = exeOf(child.proc.pid!);
      child.release();
      // Capture the command's address space once it has exec'd, so its stacks still
      // symbolize after it exits.
      rememberAfterExec(child.proc.pid!, shell, (pid) => symbolizer.remember(pid));
    },
  });
  try {
    run.load();
    if (args.dryRun) {
      run.session.close();
      return 0;
    }
    run.start();
  } catch (e) {
    run.session.close();
    throw e;
  }
  const onSignal = () => run.finish();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  child?.proc.on('exit', () => run.finish());
  // An error inside an event handler must still detach and print, then report.
  let failure: unknown;
  const onError = (e: unknown) => {
    failure ??= e;
    run.finish();
  };
  process.on('uncaughtException', onError);
  await run.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('uncaughtException', onError);
  run.stop();
  if (out) await new Promise((r) => out!.end(r));
  if (failure !== undefined) return reportError(failure);
  return 0;
}
