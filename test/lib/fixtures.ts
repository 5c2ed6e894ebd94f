// Builds test fixtures (C with gcc, Go with the go tool) once per source change, into
// test/fixtures/bin/. Tests call these instead of shipping binaries.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixtureSrc = join(repoRoot, 'test/fixtures');
export const fixtureBin = join(fixtureSrc, 'bin');

function outPath(src: string, flags: string[], suffix = ''): string {
  const h = createHash('sha1').update(readFileSync(src)).update(flags.join('\0')).digest('hex').slice(0, 10);
  const base = src.split('/').pop()!.replace(/\.\w+$/, '');
  return join(fixtureBin, `${base}-${h}${suffix}`);
}

/** gcc test/fixtures/NAME.c with flags; returns the binary's absolute path. */
export function buildC(name: string, flags: string[] = ['-O2', '-g']): string {
  const src = join(fixtureSrc, name.endsWith('.c') ? name : `${name}.c`);
  const shared = flags.includes('-shared');
  const out = outPath(src, flags, shared ? '.so' : '');
  if (!existsSync(out)) {
    mkdirSync(fixtureBin, { recursive: true });
    execFileSync('gcc', [...flags, '-o', out, src], { stdio: 'pipe' });
  }
  return out;
}

/** go build of test/fixtures/go/NAME (a main package dir or a single file). */
export function buildGo(name: string, ldflags: string[] = []): string {
  const dir = join(fixtureSrc, 'go', name);
  const src = existsSync(join(dir, 'main.go')) ? join(dir, 'main.go') : `${dir}.go`;
  const out = outPath(src, ldflags, '-go');
  if (!existsSync(out)) {
    mkdirSync(fixtureBin, { recursive: true });
    const args = ['build', '-o', out];
    if (ldflags.length) args.push(`-ldflags=${ldflags.join(' ')}`);
    args.push(src);
    execFileSync('go', args, {
      stdio: 'pipe',
      env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'off', GOCACHE: join(fixtureBin, '.gocache'), HOME: process.env.HOME ?? '/root' },
    });
  }
  return out;
}

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
