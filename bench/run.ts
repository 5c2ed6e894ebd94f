// npm run bench: tsbpf measured side by side with its peers where they apply.
import { ringbufThroughput } from './ringbuf.js';
import { startupBench } from './startup.js';
import { uprobeBench } from './uprobe.js';

const sections: Array<[string, () => Promise<string>]> = [
  ['ringbuf', () => ringbufThroughput()],
  ['startup', () => startupBench()],
  ['uprobe', () => uprobeBench()],
];

const only = process.argv.slice(2);
for (const [name, run] of sections) {
  if (only.length && !only.includes(name)) continue;
  try {
    console.log(await run());
  } catch (e) {
    console.log(`${name}: failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
