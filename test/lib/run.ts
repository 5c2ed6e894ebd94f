// Runs a child to completion, resolving with its pid and exit code.
import { spawn } from 'node:child_process';

export function runChild(cmd: string, args: string[]): Promise<{ pid: number; code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ pid: c.pid!, code, stdout }));
  });
}
