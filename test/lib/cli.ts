// Runs the built `tsbpf` CLI as a child process.
import { spawn, ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './fixtures.js';

export const tsbpfBin = join(repoRoot, 'bin/tsbpf.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs tsbpf to completion (killing it by pid after `timeoutMs`). */
export function runCli(args: string[], opts: { timeoutMs?: number; uid?: number } = {}): Promise<CliResult> {
  return collect(spawn(process.execPath, [tsbpfBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], uid: opts.uid, gid: opts.uid }), opts.timeoutMs ?? 30000);
}

export function collect(c: ChildProcess, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '', stderr = '';
    c.stdout!.on('data', (d) => (stdout += d));
    c.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', reject);
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts tsbpf and resolves once its stdout contains `marker` (e.g. "Attaching"). */
export function startCli(args: string[], marker: string, timeoutMs = 20000): Promise<{ child: ChildProcess; result: Promise<CliResult> }> {
  const child = spawn(process.execPath, [tsbpfBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const result = collect(child, 60000);
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tsbpf did not print '${marker}' within ${timeoutMs} ms: ${seen}`));
    }, timeoutMs);
    child.stdout!.on('data', (d) => {
      seen += d;
      if (seen.includes(marker)) {
        clearTimeout(timer);
        resolve({ child, result });
      }
    });
    child.on('close', () => {
      clearTimeout(timer);
      if (!seen.includes(marker)) result.then((r) => reject(new Error(`tsbpf exited early: ${r.stderr}`)), reject);
    });
  });
}
