// Go binaries: build info and the pclntab function table, on a fixture built normally and
// with -ldflags="-s -w", and on a copy with its section headers removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfFile } from '../src/elf/reader.js';
import { SymbolTable } from '../src/elf/symbols.js';
import { isGoBinary, readGoBuildInfo } from '../src/elf/gobuildinfo.js';
import { goFuncAt, readGoPclntab } from '../src/elf/gopclntab.js';
import { buildC, buildGo } from './lib/fixtures.js';

const full = buildGo('elf_demo');
const stripped = buildGo('elf_demo', ['-s', '-w']);
const demoFuncs = ['main.(*answerBox).bump', 'main.prepareAnswer', 'main.ebpfDemo', 'main.main'];

/** The same binary with e_shoff/e_shnum/e_shstrndx zeroed, as sstrip-style tools leave it. */
function withoutSectionHeaders(path: string): string {
  const out = `${path}.noshdr`;
  if (!existsSync(out)) {
    const b = Buffer.from(readFileSync(path));
    b.writeBigUInt64LE(0n, 40);
    b.writeUInt16LE(0, 60);
    b.writeUInt16LE(0, 62);
    writeFileSync(out, b, { mode: 0o755 });
  }
  return out;
}

/** Text symbols by name, as go tool nm lists them (a name can repeat at two addresses). */
function goToolNm(path: string): Map<string, number[]> {
  const out = execFileSync('go', ['tool', 'nm', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = new Map<string, number[]>();
  for (const line of out.split('\n')) {
    const f = /^\s*([0-9a-f]+) T (.+)$/.exec(line);
    if (f) m.set(f[2], [...(m.get(f[2]) ?? []), parseInt(f[1], 16)]);
  }
  return m;
}

test('go: version and main package path agree with the go tool', () => {
  const goVersion = /go version (go\S+)/.exec(execFileSync('go', ['version'], { encoding: 'utf8' }))![1];
  for (const path of [full, stripped, withoutSectionHeaders(stripped)]) {
    const elf = ElfFile.open(path);
    assert.ok(isGoBinary(elf));
    const info = readGoBuildInfo(elf)!;
    assert.equal(info.goVersion, goVersion, path);
    assert.equal(info.format, 'inline');
    assert.equal(info.path, 'command-line-arguments');
    assert.equal(info.settings.GOARCH, 'amd64');
    // `go version -m` prints the same settings.
    const m = execFileSync('go', ['version', '-m', path], { encoding: 'utf8' });
    for (const [k, v] of Object.entries(info.settings)) assert.ok(m.includes(`build\t${k}=${v}`), `${k}=${v}`);
  }
  assert.equal(readGoBuildInfo(ElfFile.open(stripped))!.settings['-ldflags'], '"-s -w"');
  const c = ElfFile.open(buildC('elf_demo', ['-O2', '-g']));
  assert.equal(isGoBinary(c), false);
  assert.equal(readGoBuildInfo(c), undefined);
  assert.equal(readGoPclntab(c), undefined);
});

test('go: pclntab lists every function at the addresses go tool nm reports', () => {
  const nm = goToolNm(full);
  const tab = readGoPclntab(ElfFile.open(full))!;
  assert.equal(tab.version, '1.18'); // Go 1.18 and 1.19 share the 0xfffffff0 layout
  assert.equal(tab.source, 'section');
  const byName = new Map(tab.funcs.map((f) => [f.name, f]));
  for (const name of demoFuncs) {
    assert.deepEqual([byName.get(name)?.entry], nm.get(name), name);
  }
  // Every function pclntab lists is a text symbol of go tool nm at the same address; the
  // symbol table marks assembly (ABI0) bodies with .abi0, pclntab names them plainly.
  let compared = 0;
  for (const f of tab.funcs) {
    const a = [...(nm.get(f.name) ?? []), ...(nm.get(`${f.name}.abi0`) ?? [])];
    if (a.length > 0) {
      assert.ok(a.includes(f.entry), f.name);
      compared++;
    }
  }
  assert.ok(compared > 1000, `compared ${compared}`);
  // Ends are the next function's entry; the table is sorted and gap-free.
  for (let i = 1; i < tab.funcs.length; i++) assert.equal(tab.funcs[i - 1].end, tab.funcs[i].entry);
  // ELF symbols in the unstripped build agree too.
  const syms = SymbolTable.read(ElfFile.open(full));
  assert.equal(syms.byName('main.ebpfDemo')[0].address, byName.get('main.ebpfDemo')!.entry);
  // The args size as the compiler records it: two int arguments are 16 bytes.
  assert.equal(byName.get('main.prepareAnswer')!.argsSize, 16);
  const mid = byName.get('main.ebpfDemo')!;
  assert.equal(goFuncAt(tab, mid.entry + 3), mid);
  assert.equal(goFuncAt(tab, mid.end), tab.funcs[tab.funcs.indexOf(mid) + 1]);
});

test('go: stripped (-s -w) and section-less binaries yield the same function list', () => {
  const ref = readGoPclntab(ElfFile.open(full))!.funcs;
  const s = readGoPclntab(ElfFile.open(stripped))!;
  assert.equal(SymbolTable.read(ElfFile.open(stripped)).size, 0, 'no ELF symbols left');
  assert.deepEqual(s.funcs.map((f) => f.name), ref.map((f) => f.name));
  for (const name of demoFuncs) assert.ok(s.funcs.some((f) => f.name === name), name);
  const noshdr = ElfFile.open(withoutSectionHeaders(stripped));
  assert.equal(noshdr.sections.length, 0);
  const scanned = readGoPclntab(noshdr)!;
  assert.equal(scanned.source, 'scan');
  assert.equal(scanned.address, s.address);
  assert.deepEqual(scanned.funcs, s.funcs);
});

test('go: the pre-1.18 pointer build-info layout is decoded from the data segment', () => {
  // A minimal ELF with one RW segment holding an old-style header and its string headers.
  const base = 0x400000;
  const img = Buffer.alloc(0x400);
  img.write('\x7fELF', 0, 'latin1');
  img[4] = 2; img[5] = 1; img[6] = 1;
  img.writeUInt16LE(2, 16); img.writeUInt16LE(62, 18); img.writeUInt32LE(1, 20);
  img.writeBigUInt64LE(64n, 32); img.writeUInt16LE(64, 52); img.writeUInt16LE(56, 54); img.writeUInt16LE(1, 56);
  img.writeUInt32LE(1, 64); img.writeUInt32LE(6, 68);
  img.writeBigUInt64LE(0n, 72); img.writeBigUInt64LE(BigInt(base), 80); img.writeBigUInt64LE(BigInt(base), 88);
  img.writeBigUInt64LE(BigInt(img.length), 96); img.writeBigUInt64LE(BigInt(img.length), 104); img.writeBigUInt64LE(0x1000n, 112);
  const hdr = 0x100;
  img.write('\xff Go buildinf:', hdr, 'latin1');
  img[hdr + 14] = 8; img[hdr + 15] = 0;
  const version = 'go1.16.15';
  const modinfo = `${'0'.repeat(16)}path\texample.com/tool\nmod\texample.com/tool\tv1.2.3\th1:abc=\ndep\tgolang.org/x/sys\tv0.1.0\th1:def=\n${'1'.repeat(16)}`;
  const strHdr = (at: number, dataAt: number, len: number): void => {
    img.writeBigUInt64LE(BigInt(base + dataAt), at);
    img.writeBigUInt64LE(BigInt(len), at + 8);
  };
  img.writeBigUInt64LE(BigInt(base + 0x180), hdr + 16);
  img.writeBigUInt64LE(BigInt(base + 0x190), hdr + 24);
  strHdr(0x180, 0x1a0, version.length);
  strHdr(0x190, 0x1c0, modinfo.length);
  img.write(version, 0x1a0, 'latin1');
  img.write(modinfo, 0x1c0, 'latin1');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-go-'));
  try {
    writeFileSync(join(dir, 'old'), img);
    const info = readGoBuildInfo(ElfFile.open(join(dir, 'old')))!;
    assert.deepEqual(info, {
      goVersion: 'go1.16.15', format: 'pointer', path: 'example.com/tool',
      main: { path: 'example.com/tool', version: 'v1.2.3', sum: 'h1:abc=' },
      deps: [{ path: 'golang.org/x/sys', version: 'v0.1.0', sum: 'h1:def=' }], settings: {},
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
