// The demangler against known pairs (checked with c++filt when binutils is installed) and
// against every C++ symbol libstdc++ exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { demangle } from '../src/elf/demangle.js';
import { hasCommand } from './lib/fixtures.js';

const cxxfilt = hasCommand('c++filt');

function cxxFilt(names: string[]): string[] {
  return execFileSync('c++filt', { input: names.join('\n') + '\n', encoding: 'utf8', maxBuffer: 256 << 20 }).split('\n').slice(0, names.length);
}

const itanium: [string, string][] = [
  ['_Z3foov', 'foo()'],
  ['_Z3fooi', 'foo(int)'],
  ['_Z3fooPKcz', 'foo(char const*, ...)'],
  ['_Z3barRKSt6vectorIiSaIiEE', 'bar(std::vector<int, std::allocator<int> > const&)'],
  ['_ZN3Foo3barEv', 'Foo::bar()'],
  ['_ZNK3Foo3getEv', 'Foo::get() const'],
  ['_ZN2ns5Outer5InnerC1Ei', 'ns::Outer::Inner::Inner(int)'],
  ['_ZN2ns5Outer5InnerC2Ei', 'ns::Outer::Inner::Inner(int)'],
  ['_ZN3FooD0Ev', 'Foo::~Foo()'],
  ['_ZN3FooD2Ev', 'Foo::~Foo()'],
  ['_Z1fPFviE', 'f(void (*)(int))'],
  ['_Z1fM1AFviE', 'f(void (A::*)(int))'],
  ['_Z1fM1Ai', 'f(int A::*)'],
  ['_Z1fPA10_i', 'f(int (*) [10])'],
  ['_Z1fRA3_Kc', 'f(char const (&) [3])'],
  ['_Z1fOi', 'f(int&&)'],
  ['_Z1fPVKc', 'f(char const volatile*)'],
  ['_Z1fPKPc', 'f(char* const*)'],
  ['_Z3maxIiET_S0_S0_', 'int max<int>(int, int)'],
  ['_ZNSt6vectorIiSaIiEE9push_backERKi', 'std::vector<int, std::allocator<int> >::push_back(int const&)'],
  ['_ZNSsC1Ev', 'std::basic_string<char, std::char_traits<char>, std::allocator<char> >::basic_string()'],
  ['_ZNKSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE5c_strEv', 'std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::c_str() const'],
  ['_ZStlsISt11char_traitsIcEERSt13basic_ostreamIcT_ES5_PKc', 'std::basic_ostream<char, std::char_traits<char> >& std::operator<< <std::char_traits<char> >(std::basic_ostream<char, std::char_traits<char> >&, char const*)'],
  ['_ZN3FooplERKS_', 'Foo::operator+(Foo const&)'],
  ['_ZN3FooclEv', 'Foo::operator()()'],
  ['_ZN3FoocviEv', 'Foo::operator int()'],
  ['_Znwm', 'operator new(unsigned long)'],
  ['_ZdlPv', 'operator delete(void*)'],
  ['_ZN12_GLOBAL__N_13fooEv', '(anonymous namespace)::foo()'],
  ['_ZZ4mainE5count', 'main::count'],
  ['_ZZ3foovE1x', 'foo()::x'],
  ['_ZZ4mainENKUlvE_clEv', 'main::{lambda()#1}::operator()() const'],
  ['_ZTV3Foo', 'vtable for Foo'],
  ['_ZTI3Foo', 'typeinfo for Foo'],
  ['_ZTS3Foo', 'typeinfo name for Foo'],
  ['_ZGVZ4mainE1x', 'guard variable for main::x'],
  ['_ZThn8_N3Foo3barEv', 'non-virtual thunk to Foo::bar()'],
  ['_Z1fIJidEEvDpT_', 'void f<int, double>(int, double)'],
  ['_Z1fILi5EEvv', 'void f<5>()'],
  ['_Z1fILb1EEvv', 'void f<true>()'],
  ['_Z3foov.cold', 'foo() [clone .cold]'],
  ['_Z3fooi.constprop.0.isra.0', 'foo(int) [clone .constprop.0] [clone .isra.0]'],
  ['_ZN5Value3getB5cxx11Ev', 'Value::get[abi:cxx11]()'],
  ['_Z1fSt8functionIFviEE', 'f(std::function<void (int)>)'],
];

const rust: [string, string][] = [
  ['_ZN4core3fmt5write17h0123456789abcdefE', 'core::fmt::write'],
  ['_ZN3std2rt10lang_start17h3b6e2fd7c0f16a3bE', 'std::rt::lang_start'],
  ['_ZN70_$LT$alloc..vec..Vec$LT$T$C$A$GT$$u20$as$u20$core..ops..drop..Drop$GT$4drop17h1a2b3c4d5e6f7081E', '<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop'],
  ['_RNvCs15kBYyAo9fc_7mycrate7example', 'mycrate::example'],
  ['_RNvNtCs1234_7mycrate3foo3bar', 'mycrate::foo::bar'],
  ['_RNCNvCsgStHSCytQ6I_7mycrate4main0B3_', 'mycrate::main::{closure#0}'],
  ['_RINvCs1234_7mycrate4testmEB2_', 'mycrate::test::<u32>'],
];

test('demangle: Itanium C++ pairs', () => {
  for (const [m, d] of itanium) assert.equal(demangle(m), d, m);
});

test('demangle: the Itanium pairs are what c++filt prints', { skip: !cxxfilt && 'c++filt not installed' }, () => {
  assert.deepEqual(cxxFilt(itanium.map(([m]) => m)), itanium.map(([, d]) => d));
});

test('demangle: Rust legacy and v0 names, without hashes and crate disambiguators', () => {
  for (const [m, d] of rust) assert.equal(demangle(m), d, m);
});

test('demangle: Rust names agree with c++filt once its hashes and disambiguators are dropped', { skip: !cxxfilt && 'c++filt not installed' }, () => {
  const theirs = cxxFilt(rust.map(([m]) => m)).map((s) => s.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]+\]/g, ''));
  assert.deepEqual(rust.map(([m]) => demangle(m)), theirs);
});

test('demangle: unknown or malformed names come back unchanged, never throw', () => {
  for (const raw of ['main', 'malloc', '_Z', '_ZN', '_ZN3foo', '_Z3fo', '_ZX', '_R', '_RNv', '_ZN4core3fmt5write17hxyzE', '_Z1fIXadL_Z1gvEEEvv', '__cxa_finalize', '_ZZZZ']) {
    assert.equal(demangle(raw), raw);
  }
  // Every prefix of real names: any answer is fine as long as it is a string.
  for (const [m] of [...itanium, ...rust]) for (let i = 0; i <= m.length; i++) assert.equal(typeof demangle(m.slice(0, i)), 'string');
});

const libstdcxx = readdirSyncSafe('/usr/lib/x86_64-linux-gnu').find((f) => /^libstdc\+\+\.so\.6\.\d/.test(f));

test('demangle: agrees with c++filt on 99% of libstdc++ exports', { skip: (!cxxfilt || !libstdcxx) && 'needs c++filt and libstdc++' }, () => {
  const path = `/usr/lib/x86_64-linux-gnu/${libstdcxx}`;
  const names = execFileSync('nm', ['-D', '--defined-only', path], { encoding: 'utf8' }).split('\n')
    .map((l) => l.split(' ')[2]?.replace(/@.*/, '')).filter((n): n is string => !!n && n.startsWith('_Z'));
  const want = cxxFilt(names);
  let same = 0;
  names.forEach((n, i) => (demangle(n) === want[i] ? same++ : 0));
  assert.ok(names.length > 3000, `${names.length} names`);
  assert.ok(same / names.length >= 0.99, `${same} of ${names.length} agree`);
});

function readdirSyncSafe(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
