// Typed, user-facing errors. Each says what failed and, where we know it, what to do.
// The CLI prints `message` and `hint` and exits 1; a stack trace is only for real bugs.
import { constants } from 'node:os';

export class TsbpfError extends Error {
  readonly hint?: string;
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
  }
}

const errnoNames = new Map<number, string>(
  Object.entries(constants.errno).map(([name, no]) => [no, name]),
);

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** A failed system call: `op` names what we were doing, `errno` is positive. */
export class SyscallError extends TsbpfError {
  readonly errno: number;
  readonly code: string;
  constructor(op: string, errno: number, hint?: string) {
    const code = errnoName(errno);
    super(`${op}: ${code} (${describeErrno(errno)})`, { hint: hint ?? defaultHint(errno) });
    this.errno = errno;
    this.code = code;
  }
}

function describeErrno(errno: number): string {
  switch (errno) {
    case constants.errno.EPERM: return 'operation not permitted';
    case constants.errno.EACCES: return 'permission denied';
    case constants.errno.EINVAL: return 'invalid argument';
    case constants.errno.ENOENT: return 'no such file or object';
    case constants.errno.E2BIG: return 'argument too big';
    case constants.errno.ENOSPC: return 'no space left';
    case constants.errno.ENOMEM: return 'out of memory';
    case constants.errno.EBADF: return 'bad file descriptor';
    case constants.errno.EEXIST: return 'already exists';
    case constants.errno.EOPNOTSUPP: return 'not supported';
    case constants.errno.ESRCH: return 'no such process';
    case constants.errno.EBUSY: return 'busy';
    default: return 'system call failed';
  }
}

function defaultHint(errno: number): string | undefined {
  if (errno === constants.errno.EPERM || errno === constants.errno.EACCES) {
    return process.geteuid?.() === 0
      ? 'running as root but refused: kernel lockdown or a security module may forbid this'
      : 'needs root (or CAP_BPF + CAP_PERFMON); run with sudo';
  }
  return undefined;
}

/** The verifier refused a program; `log` is its full log. */
export class VerifierError extends TsbpfError {
  readonly errno: number;
  readonly log: string;
  constructor(progName: string, errno: number, log: string) {
    const lines = log.trimEnd().split('\n');
    const tail = lines.slice(-12).join('\n');
    super(`the BPF verifier rejected program '${progName}' (${errnoName(errno)}):\n${tail}`, {
      hint: 'run with -v to see the generated instructions next to the verifier log',
    });
    this.errno = errno;
    this.log = log;
  }
}

/** Throws SyscallError when a native call returned -errno; returns the value otherwise. */
export function check(op: string, ret: number, hint?: string): number {
  if (ret < 0) throw new SyscallError(op, -ret, hint);
  return ret;
}
