/**
 * Does the scenario fit the machine? The limits of src/mem/layout.ts, kallsyms and the livepatch tables,
 * checked at `check` time with the position of the first thing that does not fit, instead of ending a
 * run with an error of the machine's own (`kallsyms: table full`, `?:1:1: out of text memory`).
 *
 * The worst case that can be known from the file is counted: vmlinux and every module loaded at once,
 * laid out as the loader lays them (each object from a fresh page; functions 16-byte aligned, data
 * 8-byte aligned). A module unloaded and loaded again takes fresh text, data and kallsyms records, as a
 * kernel's module allocator may hand out new space: when that runs out at run time, the load fails as
 * in the kernel, with -ENOMEM (`modprobe: ERROR: could not insert 'M': Cannot allocate memory`).
 */
import { FILTER_SLOTS } from '../livepatch/klp-records';
import { KSYM_NAME_MAX, KSYMS_CAPACITY } from '../mem/kallsyms';
import { DEFAULT_MACHINE, MachineConfig } from '../mem/layout';
import { SERVICE_NAMES } from '../kernel/services';
import { slabCapacity as slabRecords } from '../kernel/slab';
import { PAGE_SIZE } from '../x86/cpu-types';
import type { AssembledBlock } from './code-block';
import { describeBlock } from './code-block';
import { livepatchSymbol } from './module-ops';
import type { ScenarioDiagnostic } from './scenario-error';
import type { CodeBlock, ModuleDef, Pos, Scenario } from './scenario-types';
import { formatBytes } from '../util/read-capped';

const FUNC_ALIGN = 16;
const DATA_ALIGN = 8;
const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** One symbol as the loader will place it. */
interface Placed {
  name: string;
  kind: 'func' | 'data';
  size: number;
  pos: Pos;
  what: string;
}

function objectSymbols(
  blocks: Map<CodeBlock, AssembledBlock>,
  own: CodeBlock[],
  livepatchFuncs: CodeBlock[],
  params: { name: string; pos: Pos }[],
): Placed[] {
  const out: Placed[] = [];
  const add = (b: CodeBlock, name: string): void => {
    const a = blocks.get(b);
    out.push({ name, kind: b.kind, size: a?.ok ? a.size : 0, pos: b.pos, what: describeBlock(name, b.kind) });
  };
  for (const b of own) add(b, b.name);
  for (const b of livepatchFuncs) add(b, b.kind === 'func' ? livepatchSymbol(b.name) : b.name);
  for (const p of params) out.push({ name: p.name, kind: 'data', size: 8, pos: p.pos, what: `parameter ${p.name}` });
  return out;
}

export function checkMachineFit(
  s: Scenario,
  blocks: Map<CodeBlock, AssembledBlock>,
  paramPos: (m: ModuleDef, param: string) => Pos,
  config: MachineConfig = DEFAULT_MACHINE,
): ScenarioDiagnostic[] {
  const diags: ScenarioDiagnostic[] = [];
  const objects: { name: string; pos: Pos; symbols: Placed[] }[] = [
    { name: 'vmlinux', pos: { file: s.file, line: 1, col: 1 }, symbols: objectSymbols(blocks, s.functions, [], []) },
  ];
  for (const m of s.modules) {
    const lpFuncs = (m.livepatch?.objects ?? []).flatMap((o) => o.funcs);
    const params = Object.keys(m.params).map((name) => ({ name, pos: paramPos(m, name) }));
    objects.push({ name: m.name, pos: m.pos, symbols: objectSymbols(blocks, m.functions, lpFuncs, params) });
  }

  // Names: a kallsyms record holds names of up to KSYM_NAME_MAX bytes (module names: MODULE_NAME_LEN).
  for (const o of objects) {
    if (Buffer.byteLength(o.name, 'utf8') > KSYM_NAME_MAX)
      diags.push({ pos: o.pos, message: `module name '${o.name}' is longer than ${KSYM_NAME_MAX} bytes (MODULE_NAME_LEN)` });
    for (const p of o.symbols) {
      if (Buffer.byteLength(p.name, 'utf8') > KSYM_NAME_MAX)
        diags.push({ pos: p.pos, message: `symbol name '${p.name}' is longer than ${KSYM_NAME_MAX} bytes (the most kallsyms holds)` });
    }
  }

  // Memory and kallsyms, in load order; the first symbol past a limit is where it is reported.
  const textLimit = config.textSize;
  const dataLimit = config.dataSize;
  let text = 0;
  let data = 0;
  let ksyms = SERVICE_NAMES.length;
  let textReported = false;
  let dataReported = false;
  let ksymsReported = false;
  for (const o of objects) {
    text = align(text, PAGE_SIZE);
    data = align(data, PAGE_SIZE);
    for (const p of o.symbols) {
      if (p.kind === 'func') {
        text = align(text, FUNC_ALIGN) + p.size;
        if (text > textLimit && !textReported) {
          textReported = true;
          diags.push({
            pos: p.pos,
            message: `${p.what} does not fit in the machine's text memory (${formatBytes(textLimit)}): the code up to it takes ${text} bytes`,
          });
        }
      } else {
        data = align(data, DATA_ALIGN) + Math.max(p.size, 1);
        if (data > dataLimit && !dataReported) {
          dataReported = true;
          diags.push({
            pos: p.pos,
            message: `${p.what} does not fit in the machine's data memory (${formatBytes(dataLimit)}): the data up to it takes ${data} bytes`,
          });
        }
      }
      ksyms++;
      if (ksyms > KSYMS_CAPACITY && !ksymsReported) {
        ksymsReported = true;
        diags.push({
          pos: p.pos,
          message: `${p.what} does not fit in kallsyms: the machine holds ${KSYMS_CAPACITY} symbols (${SERVICE_NAMES.length} are its kernel services)`,
        });
      }
    }
  }

  // Livepatch tables: one ftrace filter entry (and klp_ops) per patched function, one klp_func per
  // func of each patch and per NOP; every livepatch module loaded at once is the most there can be.
  const patched = new Set<string>();
  let funcs = 0;
  const slabCapacity = slabRecords(config.ftraceSize) - 1;
  for (const m of s.modules) {
    for (const o of m.livepatch?.objects ?? []) {
      for (const b of o.funcs) {
        if (b.kind !== 'func') continue;
        funcs++;
        const key = `${o.name}\0${b.name}\0${b.sympos ?? 0}`;
        if (patched.has(key)) continue;
        patched.add(key);
        if (patched.size === FILTER_SLOTS + 1) {
          diags.push({
            pos: b.pos,
            message: `livepatch function ${b.name} does not fit: the machine's ftrace filter holds ${FILTER_SLOTS} patched functions`,
          });
        }
      }
    }
  }
  const records = funcs + 2 * Math.min(patched.size, FILTER_SLOTS);
  if (patched.size <= FILTER_SLOTS && records > slabCapacity) {
    const lastLp = [...s.modules].reverse().find((m) => m.livepatch);
    diags.push({
      pos: lastLp?.livepatch?.pos ?? lastLp?.pos ?? { file: s.file, line: 1, col: 1 },
      message: `the livepatch modules need up to ${records} klp records (funcs, NOPs, ops): the machine's slab holds ${slabCapacity}`,
    });
  }
  return diags;
}
