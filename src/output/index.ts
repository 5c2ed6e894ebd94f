// bpftrace-compatible output: the value model, text and JSON formatting, printf and strftime.
export * from './values.js';
export * from './render.js';
export * from './hist.js';
export * from './maps.js';
export * from './printf.js';
export * from './strftime.js';
export * from './output.js';
