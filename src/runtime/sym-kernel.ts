// Kernel symbols from /proc/kallsyms, read once on first use and kept sorted by address so
// every lookup after that is a binary search. Addresses are bigints: kernel text lives
// above 2^63 and does not fit a double.
import { readFileSync } from 'node:fs';
import { TsbpfError } from '../kernel/errors.js';
import { lastAtOrBelow } from '../elf/search.js';

export interface KernelSymbol {
  name: string;
  /** Bytes from the symbol's start. */
  offset: number;
  /** Loadable module the symbol belongs to, undefined for the kernel image. */
  module?: string;
}

export class KernelSymbols {
  private addrs!: BigUint64Array;
  private names!: string[];
  private modules!: (string | undefined)[];
  private byName?: Map<string, bigint>;
  private loaded = false;

  constructor(private readonly path = '/proc/kallsyms') {}

  /** The symbol at or before `addr`, as bcc resolves it (each symbol runs to the next one). */
  lookup(addr: bigint): KernelSymbol | undefined {
    this.load();
    const a = this.addrs;
    let found = lastAtOrBelow(a.length, (i) => a[i], addr);
    // Below the lowest real symbol lies user space and per-CPU offsets, not code.
    if (found < 0 || a[found] === 0n) return undefined;
    while (found > 0 && a[found - 1] === a[found]) found--;
    return { name: this.names[found], offset: Number(addr - a[found]), module: this.modules[found] };
  }

  /** Address of the first symbol named `name`, or undefined. */
  address(name: string): bigint | undefined {
    this.load();
    if (!this.byName) {
      this.byName = new Map();
      for (let i = 0; i < this.names.length; i++) if (!this.byName.has(this.names[i])) this.byName.set(this.names[i], this.addrs[i]);
    }
    return this.byName.get(name);
  }

  get size(): number {
    this.load();
    return this.addrs.length;
  }

  private load(): void {
    if (this.loaded) return;
    let text: string;
    try {
      text = readFileSync(this.path, 'latin1');
    } catch (e) {
      throw new TsbpfError(`cannot read ${this.path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
        hint: 'kernel stacks need /proc/kallsyms; is /proc mounted?',
      });
    }
    // Addresses parsed as two 32-bit halves: a BigInt per line would cost most of the load time.
    const hi: number[] = [];
    const lo: number[] = [];
    const names: string[] = [];
    const modules: (string | undefined)[] = [];
    for (const line of text.split('\n')) {
      // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t foo\t[module]"
      const sp1 = line.indexOf(' ');
      if (sp1 <= 8) continue;
      const sp2 = line.indexOf(' ', sp1 + 1);
      if (sp2 < 0) continue;
      hi.push(parseInt(line.slice(0, sp1 - 8), 16));
      lo.push(parseInt(line.slice(sp1 - 8, sp1), 16));
      const tab = line.indexOf('\t', sp2 + 1);
      names.push(tab < 0 ? line.slice(sp2 + 1) : line.slice(sp2 + 1, tab));
      modules.push(tab < 0 ? undefined : line.slice(tab + 1).replace(/^\[|\]$/g, ''));
    }
    if (names.length > 0 && hi.every((h, i) => h === 0 && lo[i] === 0)) {
      throw new TsbpfError(`${this.path} shows every address as 0`, {
        hint: 'run as root, or set kernel.kptr_restrict=0 (sysctl) so kernel addresses are visible',
      });
    }
    // Ties keep kallsyms' own order, so of several names at one address the first listed wins.
    const order = names.map((_, i) => i).sort((x, y) => hi[x] - hi[y] || lo[x] - lo[y] || x - y);
    this.addrs = BigUint64Array.from(order, (i) => (BigInt(hi[i]) << 32n) | BigInt(lo[i]));
    this.names = order.map((i) => names[i]);
    this.modules = order.map((i) => modules[i]);
    this.loaded = true;
  }
}
