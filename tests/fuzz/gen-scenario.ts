/**
 * Scenario texts for the loader: shipped scenarios and fixtures mutated (bytes, lines, values, numbers,
 * repetitions, unicode, YAML features), scenario-shaped YAML built from the schema's own keys with
 * random values, plain random YAML, and the pathological shapes (alias bombs, deep nesting, huge scalars).
 * Each text comes with a note of what was done to it, for the failure report.
 */
import { readdirSync, readFileSync } from 'fs';
import { join, resolve } from 'path';
import { stringify } from 'yaml';
import { EDGE_NUMBERS, ODD_CHARS, ODD_STRINGS, oddText } from './edge-values';
import type { Rand } from './rand';

export interface ScenarioText {
  text: string;
  /** What the generator did, e.g. "test-force.yaml: delete line 12; number 4 -> 1e300". */
  note: string;
}

const ROOT = resolve(__dirname, '../..');

/** The shipped scenarios and the loader's fixtures, by name, in a fixed order (the same on every run). */
export function loadCorpus(): { name: string; text: string }[] {
  const dirs = ['scenarios', 'tests/scenario/fixtures', 'tests/scenarios/fixtures'];
  const out: { name: string; text: string }[] = [];
  for (const d of dirs) {
    for (const f of readdirSync(join(ROOT, d))
      .filter((x) => x.endsWith('.yaml'))
      .sort()) {
      out.push({ name: `${d}/${f}`, text: readFileSync(join(ROOT, d, f), 'utf8') });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Mutations of a text

type Mutation = (r: Rand, text: string) => [string, string];

const lines = (t: string): string[] => t.split('\n');
const VALUE_LINE = /^(\s*(?:- )?[\w.${}-]+:\s+)(\S.*)$/;
const NUMBER = /(?<![\w.])-?\d+(?![\w.])/g;

const YAML_TAGS = [
  '!!binary',
  '!!str',
  '!!int',
  '!!float',
  '!!null',
  '!!bool',
  '!!set',
  '!!omap',
  '!!pairs',
  '!!map',
  '!!seq',
  '!!timestamp',
  '!custom',
  '!<tag:yaml.org,2002:str>',
  '!',
];

const mutations: readonly (readonly [number, string, Mutation])[] = [
  [
    4,
    'byte flip',
    (r, t) => {
      if (t.length === 0) return [r.pick(ODD_CHARS), 'insert into empty'];
      const i = r.int(0, t.length - 1);
      const c = r.chance(0.7) ? r.pick(ODD_CHARS) : String.fromCharCode(r.int(0, 255));
      return [t.slice(0, i) + c + t.slice(i + (r.chance(0.5) ? 1 : 0)), `char ${i} -> ${JSON.stringify(c)}`];
    },
  ],
  [
    3,
    'delete lines',
    (r, t) => {
      const ls = lines(t);
      const i = r.int(0, ls.length - 1);
      const n = r.int(1, 3);
      ls.splice(i, n);
      return [ls.join('\n'), `delete lines ${i + 1}-${i + n}`];
    },
  ],
  [
    3,
    'duplicate lines',
    (r, t) => {
      const ls = lines(t);
      const i = r.int(0, ls.length - 1);
      const n = r.int(1, 4);
      ls.splice(i, 0, ...ls.slice(i, i + n));
      return [ls.join('\n'), `duplicate lines ${i + 1}-${i + n}`];
    },
  ],
  [
    3,
    'swap values',
    (r, t) => {
      const ls = lines(t);
      const idx = ls.map((l, i) => (VALUE_LINE.test(l) ? i : -1)).filter((i) => i >= 0);
      if (idx.length < 2) return [t, 'swap values (none)'];
      const a = r.pick(idx);
      const b = r.pick(idx);
      const ma = VALUE_LINE.exec(ls[a]) as RegExpExecArray;
      const mb = VALUE_LINE.exec(ls[b]) as RegExpExecArray;
      ls[a] = ma[1] + mb[2];
      ls[b] = mb[1] + ma[2];
      return [ls.join('\n'), `swap values of lines ${a + 1} and ${b + 1}`];
    },
  ],
  [
    4,
    'number edge',
    (r, t) => {
      const hits = [...t.matchAll(NUMBER)];
      if (hits.length === 0) return [t, 'number edge (none)'];
      const h = r.pick(hits);
      const v = r.pick(EDGE_NUMBERS);
      return [t.slice(0, h.index) + v + t.slice(h.index + h[0].length), `number ${h[0]} at ${h.index} -> ${v}`];
    },
  ],
  [
    3,
    'value swap-in',
    (r, t) => {
      const ls = lines(t);
      const idx = ls.map((l, i) => (VALUE_LINE.test(l) ? i : -1)).filter((i) => i >= 0);
      if (idx.length === 0) return [t, 'value swap-in (none)'];
      const a = r.pick(idx);
      const m = VALUE_LINE.exec(ls[a]) as RegExpExecArray;
      const v = r.pick([
        '[]',
        '{}',
        'null',
        '~',
        'true',
        'no',
        '"str"',
        "''",
        '-1',
        '[1, [2]]',
        '{ a: 1 }',
        '|',
        '>-',
        JSON.stringify(oddText(r)),
        oddText(r).replace(/\n/g, ' '),
      ]);
      ls[a] = m[1] + v;
      return [ls.join('\n'), `line ${a + 1} value -> ${JSON.stringify(v)}`];
    },
  ],
  [
    2,
    'key rename',
    (r, t) => {
      const ls = lines(t);
      const idx = ls.map((l, i) => (/^\s*(- )?[\w.]+:/.test(l) ? i : -1)).filter((i) => i >= 0);
      if (idx.length === 0) return [t, 'key rename (none)'];
      const a = r.pick(idx);
      const key = r.pick([
        'nme',
        'name',
        'cpus',
        'run',
        'steps',
        'tasks',
        'code',
        'sympos',
        'funcs',
        'objects',
        'vmlinux',
        'params',
        'kind',
        '<<',
        '? x',
        '"quoted key"',
        '1',
        'true',
        '',
        oddText(r),
      ]);
      ls[a] = ls[a].replace(/[\w.]+:/, `${key}:`);
      return [ls.join('\n'), `line ${a + 1} key -> ${JSON.stringify(key)}`];
    },
  ],
  [
    2,
    'indentation',
    (r, t) => {
      const ls = lines(t);
      const a = r.int(0, ls.length - 1);
      const d = r.pick([-4, -2, -1, 1, 2, 4]);
      ls[a] = d > 0 ? ' '.repeat(d) + ls[a] : ls[a].replace(new RegExp(`^ {0,${-d}}`), '');
      if (r.chance(0.2)) ls[a] = '\t' + ls[a];
      return [ls.join('\n'), `line ${a + 1} indent ${d}`];
    },
  ],
  [
    2,
    'unicode',
    (r, t) => {
      const i = r.int(0, t.length);
      const u = r.pick(ODD_STRINGS) + r.chars('\u00e9\u0301\u200b\u202e\u{1f600}\ud800\udc00\uffff', r.int(1, 4));
      return [t.slice(0, i) + u + t.slice(i), `unicode ${JSON.stringify(u)} at ${i}`];
    },
  ],
  [
    2,
    'yaml tag',
    (r, t) => {
      const ls = lines(t);
      const idx = ls.map((l, i) => (VALUE_LINE.test(l) ? i : -1)).filter((i) => i >= 0);
      if (idx.length === 0) return [t, 'yaml tag (none)'];
      const a = r.pick(idx);
      const tag = r.pick(YAML_TAGS);
      const m = VALUE_LINE.exec(ls[a]) as RegExpExecArray;
      ls[a] = `${m[1]}${tag} ${m[2]}`;
      return [ls.join('\n'), `line ${a + 1} tagged ${tag}`];
    },
  ],
  [
    2,
    'anchor and alias',
    (r, t) => {
      const ls = lines(t);
      const idx = ls.map((l, i) => (VALUE_LINE.test(l) ? i : -1)).filter((i) => i >= 0);
      if (idx.length < 2) return [t, 'anchor (none)'];
      const a = r.pick(idx);
      const b = r.pick(idx);
      const ma = VALUE_LINE.exec(ls[a]) as RegExpExecArray;
      const mb = VALUE_LINE.exec(ls[b]) as RegExpExecArray;
      const name = r.pick(['a', 'x1', 'anchor']);
      ls[a] = `${ma[1]}&${name} ${ma[2]}`;
      ls[b] = `${mb[1]}*${r.chance(0.8) ? name : 'undefined_anchor'}`;
      return [ls.join('\n'), `anchor at line ${a + 1}, alias at line ${b + 1}`];
    },
  ],
  [
    2,
    'merge key',
    (r, t) => {
      const ls = lines(t);
      const idx = ls.map((l, i) => (/^(\s*)[\w.]+:\s*$/.test(l) ? i : -1)).filter((i) => i >= 0);
      if (idx.length < 2) return [t, 'merge key (none)'];
      const a = r.pick(idx);
      const b = r.pick(idx);
      const ind = (/^(\s*)/.exec(ls[b + 1] ?? '') as RegExpExecArray)[1];
      ls[a] = `${ls[a]} &m`;
      ls.splice(b + 1, 0, `${ind || '  '}<<: *m`);
      return [ls.join('\n'), `merge key at line ${b + 2} from line ${a + 1}`];
    },
  ],
  [
    1,
    'multi-doc',
    (r, t) => {
      const ls = lines(t);
      const i = r.int(0, ls.length);
      ls.splice(i, 0, r.pick(['---', '...', '--- !!map', '%YAML 1.2', '%TAG ! tag:x,2000:']));
      return [ls.join('\n'), `document marker at line ${i + 1}`];
    },
  ],
  [
    2,
    'flow/block mix',
    (r, t) => {
      const ls = lines(t);
      const i = r.int(0, ls.length - 1);
      const frag = r.pick([
        '{ a: [1, 2',
        '[ { x: 1 }, ]',
        '- [',
        '? complex key',
        ': value',
        '{',
        ']',
        '- { sh: "a", quiet: true, }',
        '!!set { a, b }',
        '[a, b]: c',
      ]);
      ls.splice(i, 0, (/^(\s*)/.exec(ls[i] ?? '') as RegExpExecArray)[1] + frag);
      return [ls.join('\n'), `fragment ${JSON.stringify(frag)} at line ${i + 1}`];
    },
  ],
  [
    1,
    'repeat',
    (r, t) => {
      const ls = lines(t);
      const i = r.int(0, ls.length - 1);
      const n = r.pick([2, 10, 100, 1000, 3000]);
      const block = ls.slice(i, i + r.int(1, 5));
      ls.splice(i, 0, ...Array.from({ length: n }, () => block).flat());
      return [ls.join('\n'), `repeat lines ${i + 1}.. x${n}`];
    },
  ],
  [
    1,
    'truncate',
    (r, t) => {
      const i = r.int(0, t.length);
      return [t.slice(0, i), `truncate at ${i}`];
    },
  ],
];

export function mutate(r: Rand, base: { name: string; text: string }): ScenarioText {
  let text = base.text;
  const notes: string[] = [];
  const n = r.weighted([
    [5, 1],
    [3, 2],
    [2, 3],
    [1, 6],
  ] as const);
  for (let k = 0; k < n; k++) {
    const [, , m] = r.weighted(mutations.map((x) => [x[0], x] as const));
    const [t, note] = m(r, text);
    text = t;
    notes.push(note);
  }
  return { text, note: `${base.name}: ${notes.join('; ')}` };
}

// ---------------------------------------------------------------------------------------------------
// Scenario-shaped YAML from the schema's keys

const MODULES = ['mod_a', 'lp_b', 'test_klp_x', 'vmlinux', 'bad-name', ''];
const FUNCS = ['f1', 'f2', 'show', 'data_msg', 'printk', 'msleep', 'missing_fn', '.loop', '1bad'];

const ASM_LINES = [
  'push rbp',
  'mov rbp, rsp',
  'pop rbp',
  'ret',
  'xor eax, eax',
  'mov edi, 1',
  'mov rdi, 2',
  'call msleep',
  'call schedule',
  'call cond_resched',
  'lea rdi, [rip + data_msg]',
  'call printk',
  'lea rsi, [rip + data_msg]',
  'call seq_puts',
  'call current_pid',
  'nop',
  'add rax, 1',
  'inc rcx',
  'mov rax, [rip + p0]',
  'call f2',
  'call missing_fn',
  'int3',
  'ud2',
  'cmp rax, 3',
  'jne 1f',
  'mov',
  'jmp nowhere',
  'movabs rax, 0x1122334455667788',
  'mov rax, [rbx + rcx*8 + 0x10]',
  'mov qword ptr [0], 1',
  'shl rax, 64',
  '.byte 0x90',
  '.quad 1',
  'label:',
  '1:',
  'f1:',
];

function asm(r: Rand, runnable: boolean): string {
  if (r.chance(0.15)) return r.pick([`.asciz "${oddText(r).replace(/["\\\n]/g, '')}\\n"`, '.quad 0', '.byte 1, 2', '.asciz "unterminated']);
  const pool = runnable ? ASM_LINES.filter((l) => !/^(jne|jmp|1:|label:|f1:|call f2|int3|ud2)/.test(l)) : ASM_LINES;
  const body = Array.from({ length: r.int(0, 8) }, () => r.pick(pool));
  return (
    [
      ...(runnable || r.chance(0.8) ? ['push rbp', 'mov rbp, rsp'] : []),
      ...body,
      ...(runnable || r.chance(0.8) ? ['pop rbp', 'ret'] : []),
    ].join('\n') + '\n'
  );
}

function num(r: Rand, lo: number, hi: number): unknown {
  return r.weighted<() => unknown>([
    [6, () => r.int(lo, hi)],
    [1, () => Number(r.pick(EDGE_NUMBERS.filter((x) => !Number.isNaN(Number(x)))))],
    [1, () => r.pick(EDGE_NUMBERS)],
    [1, () => oddText(r)],
  ])();
}

function action(r: Rand, depth: number, runnable: boolean, names: string[]): unknown {
  const kinds: [number, () => unknown][] = [
    [3, () => ({ printk: r.chance(0.7) ? `mod: ${oddText(r)}` : '${p0} ${object} ${module_state}' })],
    [
      3,
      () => ({
        sleep_ms: runnable
          ? r.weighted([
              [6, r.int(1, 5)],
              [1, 0],
            ])
          : num(r, 0, 10),
      }),
    ],
    [
      3,
      () => ({
        call: r.chance(0.5) ? r.pick(FUNCS) : { func: r.pick(FUNCS), args: Array.from({ length: r.int(0, 7) }, () => num(r, -5, 5)) },
      }),
    ],
    [1, () => ({ return: r.pick([0, -19, -22, '${p0}', 'abc', 1e300]) })],
    [1, () => ({ stop_task: r.pick(names) })],
  ];
  if (depth < 3) {
    kinds.push([
      1,
      () => {
        const name = `t${r.int(0, 3)}`;
        names.push(name);
        return {
          start_task: {
            name,
            run: actions(r, depth + 1, runnable, names, 1),
            ...(r.chance(0.3) ? { cpu: num(r, 0, 3) } : {}),
            ...(r.chance(0.5) ? { once: r.chance(0.7) } : {}),
          },
        };
      },
    ]);
  }
  if (!runnable && r.chance(0.1))
    return r.pick([{}, { printk: 1 }, { sleep_ms: -1 }, 'printk: x', null, { printk: 'a', sleep_ms: 1 }, { unknown_action: 1 }]);
  return r.weighted(kinds)();
}

function actions(r: Rand, depth: number, runnable: boolean, names: string[], min = 0): unknown[] {
  return Array.from({ length: r.int(min, 4) }, () => action(r, depth, runnable, names));
}

function shellLine(r: Rand): string {
  return r.pick([
    'modprobe lp_b',
    'modprobe mod_a',
    'modprobe lp_b replace=1',
    'modprobe lp_b p0=y',
    'insmod mod_a.ko',
    'rmmod lp_b',
    'rmmod mod_a',
    'lsmod',
    'echo 0 > /sys/kernel/livepatch/lp_b/enabled',
    'echo 1 > /sys/kernel/livepatch/lp_b/force',
    'cat /sys/kernel/livepatch/lp_b/transition',
    'cat /proc/p',
    'ls /sys/kernel/livepatch',
    'grep -c x /proc/p',
    'echo hi > /dev/kmsg',
    'echo 5 > /sys/module/lp_b/parameters/p0',
    'bogus',
    '',
  ]);
}

function step(r: Rand, runnable: boolean): unknown {
  return r.weighted<() => unknown>([
    [4, () => (r.chance(0.7) ? { sh: shellLine(r) } : { sh: shellLine(r), quiet: r.chance(0.5) })],
    [
      2,
      () =>
        r.chance(0.5)
          ? { wait: 'transition' }
          : { wait: r.chance(0.9) ? 'transition' : 'forever', timeout_ms: runnable ? r.int(1, 300) : num(r, 1, 1000) },
    ],
    [2, () => ({ sleep_ms: runnable ? r.int(0, 50) : num(r, 0, 100) })],
    [
      2,
      () => ({
        expect: {
          ...(r.chance(0.5) ? { sh: shellLine(r), stdout: oddText(r) } : {}),
          ...(r.chance(0.3) ? { exit: num(r, 0, 2) } : {}),
          ...(r.chance(0.4) ? { dmesg: r.chance(0.5) ? 'livepatch' : ['a', 'b'] } : {}),
          ...(r.chance(0.3) ? { patched: { [r.pick(FUNCS)]: r.chance(0.5) } } : {}),
          ...(r.chance(0.3) ? { nops: num(r, 0, 3), ftrace_ops: num(r, 0, 3) } : {}),
        },
      }),
    ],
  ])();
}

/** A scenario-shaped object: the schema's keys with values from tame to hostile. `runnable` keeps time bounded. */
function randomScenario(r: Rand, runnable: boolean): Record<string, unknown> {
  const names: string[] = ['reader', 't0'];
  const fns = (n: number): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++)
      o[r.pick(FUNCS)] = r.chance(0.9) ? asm(r, runnable) : r.pick([{ sympos: 1, code: 'ret' }, { code: 'ret' }, 1, null, []]);
    return o;
  };
  const sc: Record<string, unknown> = { name: r.chance(0.95) ? `fuzz ${r.int(0, 99)}` : r.pick(['', 1, null, ['x']]) };
  if (r.chance(0.6)) sc.cpus = runnable ? r.int(1, 3) : num(r, 1, 8);
  if (r.chance(0.4)) sc.seed = runnable ? r.int(0, 1000) : num(r, 0, 1000);
  if (r.chance(0.1)) sc.nop_removal = r.chance(0.5);
  if (r.chance(0.8))
    sc.kernel = {
      functions: { data_msg: '.asciz "hello\\n"', ...fns(r.int(0, 3)) },
      ...(r.chance(0.6) ? { proc: { [r.pick(['p', 'cmdline', 'a/b', ''])]: r.pick(FUNCS) } } : {}),
    };
  if (r.chance(0.8)) {
    const mods: Record<string, unknown> = {};
    for (let i = r.int(0, 3); i > 0; i--) {
      const m: Record<string, unknown> = {};
      if (r.chance(0.6))
        m.params = {
          p0: r.pick<unknown>([0, 1, true, false, 'str', -1, 2147483648, 1.5, null, [], 'y']),
          ...(r.chance(0.3) ? { replace: r.pick([0, 1, true]) } : {}),
        };
      if (r.chance(0.5)) m.functions = fns(r.int(1, 3));
      if (r.chance(0.5)) m.init = actions(r, 0, runnable, names);
      if (r.chance(0.3)) m.exit = actions(r, 0, runnable, names);
      if (r.chance(0.5)) {
        m.livepatch = {
          ...(r.chance(0.5) ? { replace: r.pick<unknown>(['${replace}', '${p0}', 0, 1, true, 'maybe', 2]) } : {}),
          objects: {
            [r.pick(MODULES)]: {
              ...(r.chance(0.8) ? { funcs: fns(r.int(0, 2)) } : {}),
              ...(r.chance(0.4)
                ? {
                    callbacks: {
                      [r.pick(['pre_patch', 'post_patch', 'pre_unpatch', 'post_unpatch', 'bogus'])]: actions(r, 0, runnable, names),
                    },
                  }
                : {}),
            },
          },
        };
      }
      mods[r.pick(MODULES)] = m;
    }
    sc.modules = mods;
  }
  if (r.chance(0.7)) {
    sc.tasks = Array.from({ length: r.int(0, 3) }, () => ({
      name: r.pick(names),
      ...(r.chance(0.3) ? { count: runnable ? r.int(1, 4) : num(r, 1, 300) } : {}),
      ...(r.chance(0.2) ? { cpu: num(r, 0, 4) } : {}),
      run: actions(r, 0, runnable, names, 1),
    }));
  }
  if (r.chance(0.9)) sc.steps = Array.from({ length: r.int(0, 6) }, () => step(r, runnable));
  return sc;
}

function emit(r: Rand, value: unknown): string {
  return stringify(value, {
    collectionStyle: r.pick(['any', 'any', 'flow', 'block'] as const),
    defaultStringType: r.pick(['PLAIN', 'PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL'] as const),
    indent: r.pick([2, 2, 4, 1]),
    lineWidth: 0,
  });
}

/** A scenario-shaped text from the schema's keys, names mostly not matching: most fail `check`. */
export function structured(r: Rand, runnable: boolean): ScenarioText {
  const sc = randomScenario(r, runnable);
  return { text: emit(r, sc), note: runnable ? 'generated (runnable)' : 'generated' };
}

/**
 * A scenario that mostly passes `check` and runs for little simulated time: a fixed cast (vmlinux
 * functions f1 and f2, a module with a function and parameters of each type, a livepatch of f1 and of the
 * module's function) with random tasks, actions and steps among them — including the task passes that
 * take no time (issue 11 item 4) and sleeps past the clock's range (item 5).
 */
export function runnable(r: Rand): ScenarioText {
  const fn = (): string =>
    r.weighted([
      [5, 'f1'],
      [3, 'f2'],
      [2, 'mod_fn'],
      [1, 'printk'],
    ] as const);
  // `inTask`: only a task may sleep for ever; an init or a callback that does holds modprobe for ever,
  // as it would hold the kernel's, and that is no defect.
  const act = (depth: number, inTask = true): unknown =>
    r.weighted<() => unknown>([
      [
        4,
        () => ({
          sleep_ms: inTask
            ? r.weighted([
                [8, r.int(1, 20)],
                [1, 0],
                [1, r.pick([2 ** 32, 9_000_000_000_000])],
              ] as const)
            : r.int(0, 5),
        }),
      ],
      [
        4,
        () =>
          r.chance(0.6)
            ? { call: fn() }
            : { call: { func: fn(), args: Array.from({ length: r.int(0, 6) }, () => r.pick([0, 1, -1, 2 ** 31, 5])) } },
      ],
      [2, () => ({ printk: r.pick(['hello', 'p=${p_int} b=${p_bool} s=${p_str}', '${object}', `x${'y'.repeat(r.pick([1, 300]))}`]) })],
      [
        depth < 2 ? 1 : 0,
        () => ({
          start_task: {
            name: `kt${r.int(0, 2)}`,
            run: Array.from({ length: r.int(1, 3) }, () => act(depth + 1)),
            ...(r.chance(0.5) ? { once: r.chance(0.5) } : {}),
            ...(r.chance(0.2) ? { cpu: r.int(0, 1) } : {}),
          },
        }),
      ],
      [1, () => ({ stop_task: r.pick(['kt0', 'kt1', 't0']) })],
    ])();
  const acts = (min: number, inTask = false): unknown[] => Array.from({ length: r.int(min, 3) }, () => act(0, inTask));
  const sh = (): string =>
    r.pick([
      'modprobe mod_a',
      'modprobe mod_a p_int=7 p_bool=n p_str=x',
      'modprobe lp',
      'modprobe lp replace=1',
      'rmmod lp',
      'rmmod mod_a',
      'lsmod',
      'echo 0 > /sys/kernel/livepatch/lp/enabled',
      'echo 1 > /sys/kernel/livepatch/lp/force',
      'cat /sys/kernel/livepatch/lp/transition',
      'cat /proc/f',
      'ls /sys/kernel/livepatch/lp',
      'echo 3 > /sys/module/mod_a/parameters/p_int',
      'grep -c f /proc/f',
      'echo hi > /dev/kmsg',
    ]);
  const body = `push rbp\nmov rbp, rsp\n${r.pick(['', 'mov edi, 1\ncall msleep\n', 'lea rsi, [rip + msg]\ncall seq_puts\n', 'mov qword ptr [0], 1\n', 'call f1\n', 'ud2\n'])}xor eax, eax\npop rbp\nret\n`;
  const sc: Record<string, unknown> = {
    name: 'fuzz run',
    cpus: r.int(1, 3),
    seed: r.int(0, 1000),
    kernel: {
      functions: {
        f1: 'push rbp\nmov rbp, rsp\nlea rsi, [rip + msg]\ncall seq_puts\nxor eax, eax\npop rbp\nret\n',
        f2: body,
        msg: '.asciz "f\\n"',
      },
      proc: { f: 'f1' },
    },
    modules: {
      mod_a: {
        params: { p_int: r.pick([0, -1, 2147483647]), p_bool: r.chance(0.5), p_str: r.pick(['s', '']) },
        functions: { mod_fn: body.replace('call f1', 'call f2') },
        init: acts(0),
        exit: acts(0),
      },
      lp: {
        params: { replace: r.pick([0, 1, true, false]) },
        init: r.chance(0.3) ? acts(0) : [],
        livepatch: {
          replace: '${replace}',
          objects: {
            vmlinux: {
              funcs: { f1: 'xor eax, eax\nret\n' },
              ...(r.chance(0.4) ? { callbacks: { [r.pick(['pre_patch', 'post_patch', 'pre_unpatch', 'post_unpatch'])]: acts(1) } } : {}),
            },
            ...(r.chance(0.5) ? { mod_a: { funcs: { mod_fn: 'ret\n' } } } : {}),
          },
        },
      },
    },
    tasks: Array.from({ length: r.int(0, 2) }, (_, i) => ({
      name: `t${i}`,
      ...(r.chance(0.3) ? { count: r.int(1, 3) } : {}),
      ...(r.chance(0.2) ? { cpu: r.int(0, 2) } : {}),
      run: acts(1, true),
    })),
    // Simulated time stays under ~0.1 s: a task that never sleeps makes it pass at emulation speed.
    steps: Array.from({ length: r.int(1, 5) }, () =>
      r.weighted<() => unknown>([
        [5, () => ({ sh: sh() })],
        [2, () => ({ wait: 'transition', timeout_ms: r.int(1, 20) })],
        [2, () => ({ sleep_ms: r.int(0, 10) })],
        [1, () => ({ expect: { sh: sh(), stdout: 'f' } })],
        [1, () => ({ expect: { dmesg: ['livepatch'], nops: 0 } })],
      ])(),
    ),
  };
  return { text: emit(r, sc), note: 'generated to run' };
}

// ---------------------------------------------------------------------------------------------------
// Plain random YAML and the pathological shapes

function randomValue(r: Rand, depth: number): unknown {
  if (depth > 4 || r.chance(0.4))
    return r.pick<() => unknown>([
      () => oddText(r),
      () => r.int(-5, 5),
      () => null,
      () => r.chance(0.5),
      () => Number(r.pick(EDGE_NUMBERS)),
    ])();
  if (r.chance(0.5)) return Array.from({ length: r.int(0, 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = r.int(0, 4); i > 0; i--)
    o[r.chance(0.5) ? r.pick(['name', 'steps', 'tasks', 'modules', 'kernel', 'run', 'sh', 'cpus']) : oddText(r)] = randomValue(
      r,
      depth + 1,
    );
  return o;
}

const SOUP = [
  'a',
  ':',
  ' ',
  '\n',
  '- ',
  '{',
  '}',
  '[',
  ']',
  ',',
  '&a',
  '*a',
  '!!str',
  '"',
  "'",
  '|',
  '>',
  '#',
  '? ',
  '---',
  '...',
  '%YAML 1.2',
  '  ',
  '\t',
  'name',
  'steps',
  '1',
  '<<',
  '@',
  '`',
];

export function randomYaml(r: Rand): ScenarioText {
  if (r.chance(0.5)) return { text: emit(r, randomValue(r, 0)), note: 'random value' };
  return { text: Array.from({ length: r.int(1, 60) }, () => r.pick(SOUP)).join(''), note: 'token soup' };
}

/** The shapes that exhaust a naive loader: what items 6, 9 and 10 of issue 11 are about. */
export function pathological(r: Rand): ScenarioText {
  return r.pick<() => ScenarioText>([
    () => {
      // "billion laughs": each level aliases the one before it nine times.
      const ls = ['a0: &a0 [lol]'];
      const levels = r.int(4, 9);
      for (let i = 1; i <= levels; i++) ls.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
      return { text: `name: bomb\n${ls.join('\n')}\n`, note: `alias bomb, ${levels} levels` };
    },
    () => {
      const d = r.pick([100, 1000, 5000, 20_000]);
      return { text: `name: deep\nsteps: ${'['.repeat(d)}${']'.repeat(d)}\n`, note: `flow nesting ${d} deep` };
    },
    () => {
      const d = r.pick([200, 2000]);
      return {
        text: `name: deep\nkernel:\n${Array.from({ length: d }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`,
        note: `block nesting ${d} deep`,
      };
    },
    () => {
      const n = r.pick([100_000, 1_000_000, 2_000_000]);
      return { text: `name: big\nkernel:\n  functions:\n    msg: '.asciz "${'A'.repeat(n)}"'\n`, note: `.asciz of ${n} bytes` };
    },
    () => {
      const n = r.pick([1000, 20_000]);
      const fs = Array.from({ length: n }, (_, i) => `    f${i}: "ret"`).join('\n');
      return { text: `name: many\nkernel:\n  functions:\n${fs}\n`, note: `${n} functions` };
    },
    () => {
      const n = r.pick([10_000, 200_000]);
      return {
        text: `name: long\nkernel:\n  functions:\n    f: |\n${'      nop\n'.repeat(n)}      ret\n`,
        note: `a function of ${n} instructions`,
      };
    },
    () => {
      const n = r.pick([1000, 20_000]);
      return { text: `name: steps\nsteps:\n${'  - sh: lsmod\n'.repeat(n)}`, note: `${n} steps` };
    },
    () => ({
      text: `name: tasks\ntasks:\n${Array.from({ length: 300 }, (_, i) => `  - { name: t${i}, run: [ { sleep_ms: 1 } ] }`).join('\n')}\n`,
      note: '300 tasks',
    }),
  ])();
}
