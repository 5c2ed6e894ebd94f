// The names the language knows: builtin variables, functions with their argument counts,
// aggregation functions, signals; and which probe kinds may use what.
import { BUILTIN_VARIABLES } from './ast.js';

/** Functions with [min, max] argument counts (bpftrace 0.17). */
export const FUNCTIONS: Readonly<Record<string, readonly [number, number]>> = {
  printf: [1, 64], print: [1, 3], time: [0, 1], strftime: [2, 2], exit: [0, 0], join: [1, 2],
  str: [1, 2], buf: [1, 2], ksym: [1, 1], usym: [1, 1], kaddr: [1, 1], uaddr: [1, 1], ntop: [1, 2],
  sizeof: [1, 1], signal: [1, 1], system: [1, 64], cat: [1, 64], kstack: [0, 2], ustack: [0, 2],
  reg: [1, 1], delete: [1, 1], clear: [1, 1], zero: [1, 1], strncmp: [3, 3], cgroupid: [1, 1],
  kptr: [1, 1], uptr: [1, 1], override: [1, 1], macaddr: [1, 1], cgroup_path: [1, 2], path: [1, 1],
  count: [0, 0], sum: [1, 1], avg: [1, 1], min: [1, 1], max: [1, 1], stats: [1, 1], hist: [1, 1], lhist: [4, 4],
};

export const AGGREGATIONS = new Set(['count', 'sum', 'avg', 'min', 'max', 'stats', 'hist', 'lhist']);

/** Functions that need --unsafe because they act outside the traced program's memory. */
export const UNSAFE_FUNCTIONS = new Set(['system', 'signal', 'override']);

/** Functions that only make sense as statements (bpftrace: "should only be used as a statement"). */
export const STATEMENT_FUNCTIONS = new Set(['printf', 'print', 'time', 'exit', 'join', 'signal', 'system', 'cat', 'delete', 'clear', 'zero', 'override']);

export const BUILTIN_NAMES = new Set(BUILTIN_VARIABLES);

export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17,
  SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25,
  SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

/** pt_regs slot offsets on x86-64 for reg("name"). */
export const PT_REGS: Readonly<Record<string, number>> = {
  r15: 0, r14: 8, r13: 16, r12: 24, bp: 32, bx: 40, r11: 48, r10: 56, r9: 64, r8: 72, ax: 80, cx: 88,
  dx: 96, si: 104, di: 112, orig_ax: 120, ip: 128, cs: 136, flags: 144, sp: 152, ss: 160,
};

/** System V argument registers, as pt_regs offsets: arg0..arg5. */
export const ARG_REGS = [112, 104, 96, 88, 72, 64] as const;
export const PT_REGS_IP = 128;
export const PT_REGS_SP = 152;
export const PT_REGS_AX = 80;

/** Default stack depth for kstack/ustack (bpftrace's max_stack). */
export const STACK_LIMIT = 127;
