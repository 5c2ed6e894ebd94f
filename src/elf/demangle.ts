// Symbol demangling for stack traces and probe listings: the Itanium C++ ABI (what GCC and
// Clang emit) and both Rust schemes (legacy `_ZN...17h<hash>E` and v0 `_R...`). Output
// follows c++filt's spelling for C++; Rust hashes and crate disambiguators are left out as
// rustfilt's short form does. Anything not understood comes back unchanged: a raw name in
// a stack is better than an exception in the middle of printing one.

export function demangle(name: string): string {
  try {
    if (name.startsWith('_R')) return demangleRustV0(name) ?? name;
    if (name.startsWith('_Z')) return demangleRustLegacy(name) ?? demangleItanium(name) ?? name;
  } catch {
    // Malformed or unsupported input: fall through to the raw name.
  }
  return name;
}

// ---------------------------------------------------------------- Itanium C++

type Node =
  | { k: 'name'; s: string }
  | { k: 'nested'; prefix: Node; name: Node }
  | { k: 'tmpl'; name: Node; args: Node[] }
  | { k: 'qual'; inner: Node; q: string }
  | { k: 'ptr' | 'ref' | 'rref'; inner: Node }
  | { k: 'func'; ret: Node | undefined; params: Node[]; cv: string }
  | { k: 'array'; inner: Node; dim: string }
  | { k: 'ptrmem'; cls: Node; member: Node }
  | { k: 'pack'; items: Node[] }
  | { k: 'expand'; inner: Node }
  | { k: 'special'; prefix: string; inner: Node }
  | { k: 'encoding'; name: Node; func?: Node & { k: 'func' } };

class Fail extends Error {}

const builtins: Record<string, string> = {
  v: 'void', w: 'wchar_t', b: 'bool', c: 'char', a: 'signed char', h: 'unsigned char', s: 'short',
  t: 'unsigned short', i: 'int', j: 'unsigned int', l: 'long', m: 'unsigned long', x: 'long long',
  y: 'unsigned long long', n: '__int128', o: 'unsigned __int128', f: 'float', d: 'double',
  e: 'long double', g: '__float128', z: '...',
};
const dBuiltins: Record<string, string> = {
  d: 'decimal64', e: 'decimal128', f: 'decimal32', h: 'half', i: 'char32_t', s: 'char16_t',
  u: 'char8_t', a: 'auto', c: 'decltype(auto)', n: 'decltype(nullptr)',
};
const literalSuffix: Record<string, string> = { i: '', j: 'u', l: 'l', m: 'ul', x: 'll', y: 'ull' };

const operators: Record<string, string> = {
  nw: 'new', na: 'new[]', dl: 'delete', da: 'delete[]', ps: '+', ng: '-', ad: '&', de: '*', co: '~',
  pl: '+', mi: '-', ml: '*', dv: '/', rm: '%', an: '&', or: '|', eo: '^', aS: '=', pL: '+=', mI: '-=',
  mL: '*=', dV: '/=', rM: '%=', aN: '&=', oR: '|=', eO: '^=', ls: '<<', rs: '>>', lS: '<<=', rS: '>>=',
  eq: '==', ne: '!=', lt: '<', gt: '>', le: '<=', ge: '>=', ss: '<=>', nt: '!', aa: '&&', oo: '||',
  pp: '++', mm: '--', cm: ',', pm: '->*', pt: '->', cl: '()', ix: '[]', qu: '?', aw: 'co_await',
};

// c++filt spells Ss/Si/So/Sd out in full rather than as the std::string-style typedefs.
const stdAbbrev: Record<string, { full: string; ctor: string }> = {
  a: { full: 'std::allocator', ctor: 'allocator' },
  b: { full: 'std::basic_string', ctor: 'basic_string' },
  s: { full: 'std::basic_string<char, std::char_traits<char>, std::allocator<char> >', ctor: 'basic_string' },
  i: { full: 'std::basic_istream<char, std::char_traits<char> >', ctor: 'basic_istream' },
  o: { full: 'std::basic_ostream<char, std::char_traits<char> >', ctor: 'basic_ostream' },
  d: { full: 'std::basic_iostream<char, std::char_traits<char> >', ctor: 'basic_iostream' },
};

const nameNode = (s: string): Node => ({ k: 'name', s });

class ItaniumParser {
  private pos = 0;
  private subs: Node[] = [];
  private templateArgs: Node[] = [];

  constructor(private readonly s: string) {}

  parse(): string {
    this.expect('_Z');
    const enc = this.encoding();
    let out = printEncoding(enc);
    // GCC clones: foo.cold, foo.isra.0, foo.constprop.0 ...
    while (this.peek() === '.' && /[a-z_0-9]/.test(this.s[this.pos + 1] ?? '')) {
      const m = /^\.[a-z_]*(\.\d+)*|^\.\d+/.exec(this.s.slice(this.pos))!;
      out += ` [clone ${m[0]}]`;
      this.pos += m[0].length;
    }
    if (this.pos !== this.s.length) throw new Fail();
    return out;
  }

  private peek(o = 0): string {
    return this.s[this.pos + o] ?? '';
  }
  private eat(t: string): boolean {
    if (this.s.startsWith(t, this.pos)) {
      this.pos += t.length;
      return true;
    }
    return false;
  }
  private expect(t: string): void {
    if (!this.eat(t)) throw new Fail();
  }
  private atEnd(): boolean {
    return this.pos >= this.s.length || this.peek() === 'E' || this.peek() === '.';
  }

  private number(): number {
    const neg = this.eat('n');
    const m = /^\d+/.exec(this.s.slice(this.pos));
    if (!m) throw new Fail();
    this.pos += m[0].length;
    return neg ? -Number(m[0]) : Number(m[0]);
  }

  private encoding(): Node {
    const c = this.peek();
    if (c === 'T' || (c === 'G' && /[VRT]/.test(this.peek(1)))) return this.specialName();
    const saved = this.templateArgs;
    const { node, cv, ref, needsReturn } = this.name(true);
    if (this.atEnd()) {
      this.templateArgs = saved;
      return { k: 'encoding', name: node };
    }
    let ret: Node | undefined;
    if (needsReturn) ret = this.type();
    const params = this.paramList();
    this.templateArgs = saved;
    return { k: 'encoding', name: node, func: { k: 'func', ret, params, cv: cv + ref } };
  }

  private paramList(): Node[] {
    const params: Node[] = [];
    while (!this.atEnd()) params.push(this.type());
    if (params.length === 0) throw new Fail();
    if (params.length === 1 && params[0].k === 'name' && params[0].s === 'void') return [];
    return params;
  }

  private specialName(): Node {
    const two = this.s.slice(this.pos, this.pos + 2);
    this.pos += 2;
    switch (two) {
      case 'TV': return { k: 'special', prefix: 'vtable for ', inner: this.type() };
      case 'TT': return { k: 'special', prefix: 'VTT for ', inner: this.type() };
      case 'TI': return { k: 'special', prefix: 'typeinfo for ', inner: this.type() };
      case 'TS': return { k: 'special', prefix: 'typeinfo name for ', inner: this.type() };
      case 'TH': return { k: 'special', prefix: 'TLS init function for ', inner: this.name(false).node };
      case 'TW': return { k: 'special', prefix: 'TLS wrapper function for ', inner: this.name(false).node };
      case 'Th': this.number(); this.expect('_'); return { k: 'special', prefix: 'non-virtual thunk to ', inner: this.encoding() };
      case 'Tv': this.number(); this.expect('_'); this.number(); this.expect('_'); return { k: 'special', prefix: 'virtual thunk to ', inner: this.encoding() };
      case 'Tc': throw new Fail();
      case 'GV': return { k: 'special', prefix: 'guard variable for ', inner: this.name(false).node };
      case 'GR': {
        const inner = this.name(false).node;
        let n = 0;
        if (!this.eat('_')) {
          n = this.seqId() + 1;
          this.expect('_');
        }
        return { k: 'special', prefix: `reference temporary #${n} for `, inner };
      }
      case 'GT': this.expect('t'); return { k: 'special', prefix: 'transaction clone for ', inner: this.encoding() };
    }
    throw new Fail();
  }

  /** A <name>; `top` marks the function name whose template args define T_ params. */
  private name(top: boolean): { node: Node; cv: string; ref: string; needsReturn: boolean } {
    const c = this.peek();
    if (c === 'N') return this.nestedName(top);
    if (c === 'Z') return this.localName(top);
    let node: Node;
    let isSub = false;
    if (c === 'S' && this.peek(1) !== 't') {
      node = this.substitution();
      isSub = true;
    } else {
      const std = this.eat('St');
      node = this.unqualifiedName();
      if (std) node = { k: 'nested', prefix: nameNode('std'), name: node };
    }
    if (this.peek() === 'I') {
      if (!isSub) this.subs.push(node);
      const args = this.templateArgList(top);
      return { node: { k: 'tmpl', name: node, args }, cv: '', ref: '', needsReturn: true };
    }
    return { node, cv: '', ref: '', needsReturn: false };
  }

  private nestedName(top: boolean): { node: Node; cv: string; ref: string; needsReturn: boolean } {
    this.expect('N');
    const cv = this.cvQualifiers();
    const ref = this.eat('R') ? ' &' : this.eat('O') ? ' &&' : '';
    let soFar: Node | undefined;
    let endsWithArgs = false;
    let ctorOrConv = false;
    const push = (n: Node): void => {
      soFar = soFar ? { k: 'nested', prefix: soFar, name: n } : n;
    };
    while (!this.eat('E')) {
      endsWithArgs = false;
      const c = this.peek();
      if (c !== 'I') ctorOrConv = false;
      if (c === 'I') {
        if (!soFar) throw new Fail();
        soFar = { k: 'tmpl', name: soFar, args: this.templateArgList(top) };
        endsWithArgs = true;
      } else if (c === 'T') {
        push(this.templateParam());
      } else if (c === 'S' && this.peek(1) === 't') {
        this.pos += 2;
        push(nameNode('std'));
        continue;
      } else if (c === 'S') {
        const sub = this.substitution();
        push(sub);
        if (soFar === sub) continue;
      } else if ((c === 'C' && /[1-5]/.test(this.peek(1))) || (c === 'D' && /[0-5]/.test(this.peek(1)))) {
        if (!soFar) throw new Fail();
        push(nameNode(ctorName(soFar, c === 'D')));
        this.pos += 2;
        ctorOrConv = true;
      } else if (c === 'L') {
        this.pos++;
        continue;
      } else {
        const before = this.pos;
        push(this.unqualifiedName());
        ctorOrConv = this.s.startsWith('cv', before);
      }
      this.subs.push(soFar!);
    }
    if (!soFar) throw new Fail();
    this.subs.pop();
    return { node: soFar, cv, ref, needsReturn: endsWithArgs && !ctorOrConv };
  }

  private localName(top: boolean): { node: Node; cv: string; ref: string; needsReturn: boolean } {
    this.expect('Z');
    const enc = this.encoding();
    this.expect('E');
    let entity: Node;
    let res = { cv: '', ref: '', needsReturn: false };
    if (this.eat('s')) entity = nameNode('string literal');
    else if (this.eat('d')) {
      if (this.peek() !== '_') this.number();
      this.expect('_');
      const inner = this.name(top);
      entity = inner.node;
      res = inner;
    } else {
      const inner = this.name(top);
      entity = inner.node;
      res = inner;
    }
    this.discriminator();
    return { node: { k: 'nested', prefix: nameNode(printEncoding(enc, false)), name: entity }, cv: res.cv, ref: res.ref, needsReturn: res.needsReturn };
  }

  private discriminator(): void {
    if (this.peek() !== '_') return;
    if (this.eat('__')) {
      this.number();
      this.expect('_');
    } else {
      this.pos++;
      this.number();
    }
  }

  private unqualifiedName(): Node {
    const c = this.peek();
    let node: Node;
    if (/\d/.test(c)) node = this.sourceName();
    else if (c === 'U') {
      node = this.unnamedType();
    } else if (/[a-z]/.test(c)) {
      node = this.operatorName();
    } else if (c === 'D' && this.peek(1) === 'C') {
      this.pos += 2;
      const parts: string[] = [];
      while (!this.eat('E')) parts.push(printNode(this.sourceName()));
      node = nameNode(`[${parts.join(', ')}]`);
    } else throw new Fail();
    return this.abiTags(node);
  }

  private abiTags(node: Node): Node {
    while (this.peek() === 'B') {
      this.pos++;
      const tag = printNode(this.sourceName());
      node = nameNode(`${printNode(node)}[abi:${tag}]`);
    }
    return node;
  }

  private sourceName(): Node {
    const len = this.number();
    if (len <= 0 || this.pos + len > this.s.length) throw new Fail();
    const id = this.s.slice(this.pos, this.pos + len);
    this.pos += len;
    return nameNode(id.startsWith('_GLOBAL__N') ? '(anonymous namespace)' : id);
  }

  private unnamedType(): Node {
    if (this.eat('Ut')) {
      const n = this.peek() === '_' ? 1 : this.number() + 2;
      this.expect('_');
      return nameNode(`{unnamed type#${n}}`);
    }
    if (this.eat('Ul')) {
      const params = this.paramList();
      this.expect('E');
      const n = this.peek() === '_' ? 1 : this.number() + 2;
      this.expect('_');
      return nameNode(`{lambda(${printParams(params)})#${n}}`);
    }
    throw new Fail();
  }

  private operatorName(): Node {
    const two = this.s.slice(this.pos, this.pos + 2);
    if (two === 'cv') {
      this.pos += 2;
      return nameNode(`operator ${printNode(this.type())}`);
    }
    if (two === 'li') {
      this.pos += 2;
      return nameNode(`operator"" ${printNode(this.sourceName())}`);
    }
    const op = operators[two];
    if (!op) throw new Fail();
    this.pos += 2;
    return nameNode(/^[a-z]/.test(op) ? `operator ${op}` : `operator${op}`);
  }

  /** Mangled r V K; c++filt prints them innermost first: const volatile restrict. */
  private cvQualifiers(): string {
    const r = this.eat('r') ? ' restrict' : '';
    const v = this.eat('V') ? ' volatile' : '';
    const k = this.eat('K') ? ' const' : '';
    return k + v + r;
  }

  private seqId(): number {
    const m = /^[0-9A-Z]+/.exec(this.s.slice(this.pos));
    if (!m) throw new Fail();
    this.pos += m[0].length;
    return parseInt(m[0], 36);
  }

  private substitution(): Node {
    this.expect('S');
    if (this.eat('_')) return this.sub(0);
    const c = this.peek();
    if (/[a-z]/.test(c)) {
      const a = stdAbbrev[c];
      if (!a) throw new Fail();
      this.pos++;
      return nameNode(a.full);
    }
    const n = this.seqId() + 1;
    this.expect('_');
    return this.sub(n);
  }

  private sub(i: number): Node {
    const n = this.subs[i];
    if (!n) throw new Fail();
    return n;
  }

  private templateParam(): Node {
    this.expect('T');
    let i = 0;
    if (!this.eat('_')) {
      i = this.number() + 1;
      this.expect('_');
    }
    const n = this.templateArgs[i];
    if (!n) throw new Fail();
    return n;
  }

  private templateArgList(top: boolean): Node[] {
    this.expect('I');
    const args: Node[] = [];
    while (!this.eat('E')) args.push(this.templateArg());
    if (top) this.templateArgs = args;
    return args;
  }

  private templateArg(): Node {
    const c = this.peek();
    if (c === 'L') return this.literal();
    // J is the ABI's pack; old GCC wrote packs as I...E.
    if (c === 'J' || c === 'I') {
      this.pos++;
      const items: Node[] = [];
      while (!this.eat('E')) items.push(this.templateArg());
      return { k: 'pack', items };
    }
    if (c === 'X') throw new Fail();
    return this.type();
  }

  private literal(): Node {
    this.expect('L');
    if (this.eat('_Z')) {
      const enc = this.encoding();
      this.expect('E');
      return nameNode(printEncoding(enc));
    }
    const c = this.peek();
    if (c === 'b' && /[01]/.test(this.peek(1)) && this.peek(2) === 'E') {
      this.pos += 3;
      return nameNode(this.s[this.pos - 2] === '1' ? 'true' : 'false');
    }
    const type = this.type();
    const neg = this.eat('n');
    const m = /^[0-9a-f]*/.exec(this.s.slice(this.pos))!;
    this.pos += m[0].length;
    this.expect('E');
    const value = (neg ? '-' : '') + m[0];
    if (type.k === 'name' && c in literalSuffix) return nameNode(value + literalSuffix[c]);
    return nameNode(`(${printNode(type)})${value}`);
  }

  private type(): Node {
    const c = this.peek();
    if (c in builtins) {
      this.pos++;
      return nameNode(builtins[c]);
    }
    let t: Node;
    switch (c) {
      case 'r': case 'V': case 'K': {
        const q = this.cvQualifiers();
        const inner = this.type();
        t = inner.k === 'func' ? { ...inner, cv: inner.cv + q } : { k: 'qual', inner, q };
        break;
      }
      case 'P': this.pos++; t = { k: 'ptr', inner: this.type() }; break;
      case 'R': this.pos++; t = { k: 'ref', inner: this.type() }; break;
      case 'O': this.pos++; t = { k: 'rref', inner: this.type() }; break;
      case 'F': t = this.functionType(''); break;
      case 'A': {
        this.pos++;
        let dim = '';
        if (/\d/.test(this.peek())) dim = String(this.number());
        this.expect('_');
        t = { k: 'array', inner: this.type(), dim };
        break;
      }
      case 'M': {
        this.pos++;
        const cls = this.type();
        t = { k: 'ptrmem', cls, member: this.type() };
        break;
      }
      case 'T': {
        t = this.templateParam();
        this.subs.push(t);
        if (this.peek() === 'I') {
          t = { k: 'tmpl', name: t, args: this.templateArgList(false) };
          this.subs.push(t);
        }
        return t;
      }
      case 'S': {
        if (this.peek(1) === 't') {
          t = this.name(false).node;
          break;
        }
        t = this.substitution();
        if (this.peek() === 'I') {
          t = { k: 'tmpl', name: t, args: this.templateArgList(false) };
          break;
        }
        return t;
      }
      case 'D': {
        const d = this.peek(1);
        if (d in dBuiltins) {
          this.pos += 2;
          return nameNode(dBuiltins[d]);
        }
        if (d === 'o' && this.peek(2) === 'F') {
          this.pos += 2;
          t = this.functionType(' noexcept');
          break;
        }
        if (d === 'p') {
          this.pos += 2;
          t = { k: 'expand', inner: this.type() };
          break;
        }
        if (d === 'F') {
          const m = /^DF(\d+)_/.exec(this.s.slice(this.pos));
          if (!m) throw new Fail();
          this.pos += m[0].length;
          return nameNode(`_Float${m[1]}`);
        }
        throw new Fail();
      }
      case 'u': {
        this.pos++;
        return this.sourceName();
      }
      case 'N': case 'Z': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        t = this.name(false).node;
        break;
      default:
        throw new Fail();
    }
    this.subs.push(t);
    return t;
  }

  private functionType(suffix: string): Node {
    this.expect('F');
    this.eat('Y');
    const ret = this.type();
    const params: Node[] = [];
    let ref = '';
    while (!this.eat('E')) {
      if (this.eat('RE')) { ref = ' &'; break; }
      if (this.eat('OE')) { ref = ' &&'; break; }
      params.push(this.type());
    }
    const p = params.length === 1 && params[0].k === 'name' && params[0].s === 'void' ? [] : params;
    return { k: 'func', ret, params: p, cv: ref + suffix };
  }
}

function ctorName(scope: Node, dtor: boolean): string {
  let n = scope;
  for (;;) {
    if (n.k === 'nested') n = n.name;
    else if (n.k === 'tmpl') n = n.name;
    else break;
  }
  if (n.k !== 'name') throw new Fail();
  const abbrev = Object.values(stdAbbrev).find((a) => a.full === n.s);
  const base = abbrev ? abbrev.ctor : n.s.replace(/\[abi:[^\]]*\]$/, '');
  return dtor ? `~${base}` : base;
}

/** c++filt leaves out a function's return type when it is the scope of a local name. */
function printEncoding(n: Node, withReturn = true): string {
  if (n.k === 'special') return n.prefix + printNode(n.inner);
  if (n.k !== 'encoding') return printNode(n);
  const name = printNode(n.name);
  if (!n.func) return name;
  const ret = n.func.ret && withReturn ? `${printNode(n.func.ret)} ` : '';
  return `${ret}${name}(${printParams(n.func.params)})${n.func.cv}`;
}

function printParams(params: Node[]): string {
  const parts: string[] = [];
  for (const p of params) {
    if (p.k === 'expand') parts.push(...expandPack(p.inner));
    else parts.push(printNode(p));
  }
  return parts.join(', ');
}

function resolvePack(n: Node, pi: number | undefined): Node {
  return n.k === 'pack' && pi !== undefined && n.items[pi] ? n.items[pi] : n;
}

function findPack(n: Node): (Node & { k: 'pack' }) | undefined {
  switch (n.k) {
    case 'pack': return n;
    case 'qual': case 'ptr': case 'ref': case 'rref': case 'array': case 'expand': return findPack(n.inner);
    case 'tmpl': for (const a of n.args) { const p = findPack(a); if (p) return p; } return undefined;
    default: return undefined;
  }
}

function expandPack(inner: Node): string[] {
  const pack = findPack(inner);
  if (!pack) return [`${printNode(inner)}...`];
  return pack.items.map((_, i) => printNode(inner, i));
}

/** Prints a name or type; `packIndex` picks one element of a pack being expanded. */
function printNode(n: Node, packIndex?: number): string {
  return declare(n, '', packIndex);
}

// C declarator syntax is inside-out: the text for "what is being declared" (`*`, `(*)`,
// `A::*`) is threaded inward until it reaches the base type.
function declare(n: Node, inner: string, pi: number | undefined): string {
  switch (n.k) {
    case 'name': return n.s + inner;
    case 'nested': return `${declare(n.prefix, '', pi)}::${declare(n.name, '', pi)}${inner}`;
    case 'tmpl': {
      const args: string[] = [];
      for (const a of n.args) {
        // An expansion of an empty pack leaves no argument behind.
        if (a.k === 'pack' && pi === undefined) args.push(...a.items.map((x) => declare(x, '', pi)).filter((x) => x !== ''));
        else args.push(declare(a, '', pi));
      }
      const list = args.join(', ');
      const name = declare(n.name, '', pi);
      const open = name.endsWith('<') ? `${name} <` : `${name}<`;
      return `${open}${list}${list.endsWith('>') ? ' >' : '>'}${inner}`;
    }
    case 'qual': {
      const target = resolvePack(n.inner, pi);
      // cv on an array qualifies its elements; cv on an already-cv type adds nothing new.
      if (target.k === 'array') return declare({ k: 'array', inner: { k: 'qual', inner: target.inner, q: n.q }, dim: target.dim }, inner, pi);
      if (target.k === 'qual' && target.q.includes(n.q)) return declare(target, inner, pi);
      return declare(target, n.q + inner, pi);
    }
    case 'ptr': case 'ref': case 'rref': {
      let target = resolvePack(n.inner, pi);
      if (target.k === 'qual') {
        const q = resolvePack(target.inner, pi);
        if (q.k === 'array') target = { k: 'array', inner: { k: 'qual', inner: q.inner, q: target.q }, dim: q.dim };
      }
      // Reference collapsing, as when T = int& is substituted into T&&.
      if (n.k !== 'ptr' && (target.k === 'ref' || target.k === 'rref')) {
        return declare(n.k === 'ref' ? { k: 'ref', inner: target.inner } : target, inner, pi);
      }
      const sym = n.k === 'ptr' ? '*' : n.k === 'ref' ? '&' : '&&';
      const wrap = target.k === 'func' || target.k === 'array';
      return declare(target, wrap ? `(${sym}${inner})` : sym + inner, pi);
    }
    case 'func': {
      const ret = n.ret ? declare(n.ret, '', pi) : '';
      return `${ret} ${inner}(${printParams(n.params)})${n.cv}`;
    }
    case 'array': {
      let dims = '';
      let base: Node = n;
      for (; base.k === 'array'; base = base.inner) dims += `[${base.dim}]`;
      return `${declare(base, '', pi)} ${inner ? `${inner} ` : ''}${dims}`;
    }
    case 'ptrmem': {
      const cls = declare(n.cls, '', pi);
      return n.member.k === 'func' ? declare(n.member, `(${cls}::*${inner})`, pi) : declare(n.member, ` ${cls}::*${inner}`, pi);
    }
    case 'pack': return pi !== undefined && n.items[pi] ? declare(n.items[pi], inner, pi) : n.items.map((x) => declare(x, '', pi)).join(', ') + inner;
    case 'expand': return expandPack(n.inner).join(', ') + inner;
    case 'special': return n.prefix + declare(n.inner, '', pi) + inner;
    case 'encoding': return printEncoding(n) + inner;
  }
}

export function demangleItanium(name: string): string | undefined {
  try {
    return new ItaniumParser(name).parse();
  } catch (e) {
    if (e instanceof Fail || e instanceof RangeError) return undefined;
    throw e;
  }
}

// ---------------------------------------------------------------- Rust legacy

const rustEscapes: Record<string, string> = {
  SP: '@', BP: '*', RF: '&', LT: '<', GT: '>', LP: '(', RP: ')', C: ',',
};

/** `_ZN4core3fmt5write17h0123456789abcdefE` -> `core::fmt::write`; undefined if not Rust. */
export function demangleRustLegacy(sym: string): string | undefined {
  const m = /^_ZN(.*)E(\.llvm\.[0-9A-F@]+)?$/.exec(sym);
  if (!m) return undefined;
  const body = m[1];
  const parts: string[] = [];
  let p = 0;
  while (p < body.length) {
    const d = /^\d+/.exec(body.slice(p));
    if (!d) return undefined;
    p += d[0].length;
    const len = Number(d[0]);
    if (len === 0 || p + len > body.length) return undefined;
    parts.push(body.slice(p, p + len));
    p += len;
  }
  const hash = parts.pop();
  if (!hash || !/^h[0-9a-f]{16}$/.test(hash) || parts.length === 0) return undefined;
  const out: string[] = [];
  for (const part of parts) {
    const un = unescapeRust(part);
    if (un === undefined) return undefined;
    out.push(un);
  }
  return out.join('::');
}

function unescapeRust(part: string): string | undefined {
  let s = part.startsWith('_$') ? part.slice(1) : part;
  let out = '';
  while (s.length) {
    if (s.startsWith('..')) {
      out += '::';
      s = s.slice(2);
    } else if (s[0] === '$') {
      const end = s.indexOf('$', 1);
      if (end < 0) return undefined;
      const code = s.slice(1, end);
      if (code in rustEscapes) out += rustEscapes[code];
      else if (/^u[0-9a-f]+$/.test(code)) out += String.fromCodePoint(parseInt(code.slice(1), 16));
      else return undefined;
      s = s.slice(end + 1);
    } else {
      out += s[0];
      s = s.slice(1);
    }
  }
  return out;
}

// ---------------------------------------------------------------- Rust v0

const rustBasic: Record<string, string> = {
  a: 'i8', b: 'bool', c: 'char', d: 'f64', e: 'str', f: 'f32', h: 'u8', i: 'isize', j: 'usize', l: 'i32',
  m: 'u32', n: 'i128', o: 'u128', s: 'i16', t: 'u16', u: '()', v: '...', x: 'i64', y: 'u64', z: '!', p: '_',
};

class RustV0Parser {
  private pos: number;
  private depth = 0;
  constructor(private readonly s: string, start: number) {
    this.pos = start;
  }

  private peek(): string {
    return this.s[this.pos] ?? '';
  }
  private eat(c: string): boolean {
    if (this.peek() === c) {
      this.pos++;
      return true;
    }
    return false;
  }

  private base62(): number {
    if (this.eat('_')) return 0;
    let n = 0;
    for (;;) {
      const c = this.s[this.pos++];
      if (c === undefined) throw new Fail();
      if (c === '_') return n + 1;
      const d = /[0-9]/.test(c) ? c.charCodeAt(0) - 48 : /[a-z]/.test(c) ? c.charCodeAt(0) - 87 : /[A-Z]/.test(c) ? c.charCodeAt(0) - 29 : -1;
      if (d < 0) throw new Fail();
      n = n * 62 + d;
    }
  }

  private disambiguator(): number {
    return this.eat('s') ? this.base62() + 1 : 0;
  }

  private ident(): { name: string; dis: number } {
    const dis = this.disambiguator();
    if (this.eat('u')) throw new Fail(); // punycode identifiers are rare; show the raw symbol
    const m = /^\d+/.exec(this.s.slice(this.pos));
    if (!m) throw new Fail();
    this.pos += m[0].length;
    this.eat('_');
    const len = Number(m[0]);
    const name = this.s.slice(this.pos, this.pos + len);
    if (name.length !== len) throw new Fail();
    this.pos += len;
    return { name, dis };
  }

  private backref<T>(f: () => T): T {
    const target = this.base62() + 2;
    if (target >= this.pos || ++this.depth > 64) throw new Fail();
    const saved = this.pos;
    this.pos = target;
    const r = f();
    this.pos = saved;
    this.depth--;
    return r;
  }

  path(inValue = true): string {
    const c = this.s[this.pos++];
    switch (c) {
      case 'C': return this.ident().name;
      case 'N': {
        const ns = this.s[this.pos++];
        const parent = this.path(inValue);
        const { name, dis } = this.ident();
        if (/[A-Z]/.test(ns)) {
          const kind = ns === 'C' ? 'closure' : ns === 'S' ? 'shim' : ns;
          return `${parent}::{${kind}${name ? `:${name}` : ''}#${dis}}`;
        }
        return name ? `${parent}::${name}` : parent;
      }
      case 'M': {
        this.disambiguator();
        this.path();
        return `<${this.type()}>`;
      }
      case 'X': {
        this.disambiguator();
        this.path();
        const self = this.type();
        return `<${self} as ${this.path(false)}>`;
      }
      case 'Y': {
        const self = this.type();
        return `<${self} as ${this.path(false)}>`;
      }
      case 'I': {
        const base = this.path(inValue);
        const args: string[] = [];
        while (!this.eat('E')) {
          const a = this.genericArg();
          if (a !== undefined) args.push(a);
        }
        return `${base}${inValue ? '::' : ''}<${args.join(', ')}>`;
      }
      case 'B': return this.backref(() => this.path(inValue));
    }
    throw new Fail();
  }

  private genericArg(): string | undefined {
    if (this.eat('L')) {
      this.base62();
      return undefined;
    }
    if (this.eat('K')) return this.constValue();
    return this.type();
  }

  private constValue(): string {
    if (this.eat('B')) return this.backref(() => this.constValue());
    const t = this.s[this.pos++];
    if (t === 'p') return '_';
    const neg = this.eat('n');
    const m = /^[0-9a-f]*_/.exec(this.s.slice(this.pos));
    if (!m) throw new Fail();
    this.pos += m[0].length;
    const hex = m[0].slice(0, -1) || '0';
    if (t === 'b') return hex === '1' ? 'true' : 'false';
    if (t === 'c') return `'${String.fromCodePoint(parseInt(hex, 16))}'`;
    return (neg ? '-' : '') + BigInt(`0x${hex}`).toString();
  }

  type(): string {
    const c = this.peek();
    if (c in rustBasic) {
      this.pos++;
      return rustBasic[c];
    }
    this.pos++;
    switch (c) {
      case 'R': case 'Q': {
        if (this.eat('L')) this.base62();
        return `&${c === 'Q' ? 'mut ' : ''}${this.type()}`;
      }
      case 'P': return `*const ${this.type()}`;
      case 'O': return `*mut ${this.type()}`;
      case 'A': {
        const t = this.type();
        this.expect('K');
        return `[${t}; ${this.constValue()}]`;
      }
      case 'S': return `[${this.type()}]`;
      case 'T': {
        const items: string[] = [];
        while (!this.eat('E')) items.push(this.type());
        return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
      }
      case 'B': return this.backref(() => this.type());
      default:
        this.pos--;
        return this.path(false);
    }
  }

  private expect(c: string): void {
    if (!this.eat(c)) throw new Fail();
  }

  get position(): number {
    return this.pos;
  }
}

/** `_RNvCs15kBYyAo9fc_7mycrate7example` -> `mycrate::example`; undefined if not v0. */
export function demangleRustV0(sym: string): string | undefined {
  try {
    // Backrefs count from just after `_R`, so a version number would shift them; none is in use.
    if (/^_R\d/.test(sym)) return undefined;
    const p = new RustV0Parser(sym, 2);
    const out = p.path();
    // Whatever follows is the instantiating crate or a vendor suffix; neither is shown.
    if (p.position < sym.length && !/^[A-Z.]/.test(sym.slice(p.position))) return undefined;
    return out;
  } catch (e) {
    if (e instanceof Fail || e instanceof RangeError) return undefined;
    throw e;
  }
}
