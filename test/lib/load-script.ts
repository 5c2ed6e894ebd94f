// Loads a CompiledScript into a Session the way the runtime does (maps, then programs),
// for compiler tests that attach and read maps themselves.
import type { CompiledMap, CompiledScript } from '../../src/lang/compiled.js';
import { Session, type Program } from '../../src/runtime/session.js';
import { splitPerCpu } from '../../src/runtime/maps.js';

export interface LoadedScript {
  s: Session;
  programs: Program[];
}

/** Creates every map and loads every program (except fentry/fexit ones when `skipTracing`). */
export function loadScript(script: CompiledScript, skipTracing = true): LoadedScript {
  const s = new Session();
  try {
    for (const m of script.maps) s.createMap({ name: m.bpfName, type: m.mapType, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries });
    for (const m of script.internalMaps) s.createMap({ name: m.bpfName, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries });
    const programs: Program[] = [];
    script.probes.forEach((p, i) => {
      if (skipTracing && p.progType === 'tracing') return;
      programs.push(s.loadProgram({
        name: `t${i}`, type: p.progType, insns: p.insns, expectedAttachType: p.expectedAttachType,
        attachBtfId: p.attach.kind === 'fentry' || p.attach.kind === 'fexit' ? p.attach.btfId : undefined,
      }));
    });
    return { s, programs };
  } catch (e) {
    s.close();
    throw e;
  }
}

export function mapOf(script: CompiledScript, name: string): CompiledMap {
  const m = script.maps.find((x) => x.name === name);
  if (!m) throw new Error(`no map ${name} in script (has ${script.maps.map((x) => x.name).join(' ')})`);
  return m;
}

/** Every entry of a compiled map as [key bytes, per-CPU value buffers]. */
export function rawEntries(l: LoadedScript, m: CompiledMap): Array<[Buffer, Buffer[]]> {
  const map = l.s.map(m.bpfName);
  return map.entries().map(([k, v]) => [k, map.perCpu ? splitPerCpu(v, m.valueSize) : [v]]);
}

/** Sum over CPUs of the u64 at `off` in each per-CPU value. */
export function sumU64(values: Buffer[], off = 0): bigint {
  return values.reduce((a, b) => a + b.readBigUInt64LE(off), 0n);
}
