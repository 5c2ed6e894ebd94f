// The BTF layer's public surface.
export { Btf, VMLINUX_BTF, type Arg, type ParseOptions } from './reader.js';
export * from './types.js';
