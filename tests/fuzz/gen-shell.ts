/**
 * Shell lines for a scenario's machine: built from the grammar SPEC section 4 supports, over the names the
 * machine has (its modules, parameters, patches, objects, functions, /proc files) and names it does not,
 * then mutated (quotes, redirections, unknown paths, very long arguments, unicode, sh syntax klpsim refuses).
 */
import { EDGE_NUMBERS, ODD_CHARS, ODD_STRINGS, oddText } from './edge-values';
import type { Rand } from './rand';
import type { Scenario } from '../../src/scenario';

/** What a shell line can name on one machine. */
export interface ShellVocabulary {
  modules: string[];
  params: [string, string][];
  patches: string[];
  objects: [string, string][];
  funcs: [string, string, string][];
  proc: string[];
}

export function vocabularyOf(s: Scenario): ShellVocabulary {
  const patches = s.modules.filter((m) => m.livepatch).map((m) => m.name);
  return {
    modules: s.modules.map((m) => m.name),
    params: s.modules.flatMap((m) => Object.keys(m.params).map((p) => [m.name, p] as [string, string])),
    patches,
    objects: s.modules.flatMap((m) => (m.livepatch?.objects ?? []).map((o) => [m.name, o.name] as [string, string])),
    funcs: s.modules.flatMap((m) =>
      (m.livepatch?.objects ?? []).flatMap((o) => o.funcs.map((f) => [m.name, o.name, f.name] as [string, string, string])),
    ),
    proc: Object.keys(s.proc),
  };
}

const LP = '/sys/kernel/livepatch';
const PATCH_ATTRS = ['enabled', 'transition', 'force', 'replace', 'signal', 'stack_order', 'nope', ''];

function name(r: Rand, known: string[]): string {
  return r.chance(0.8) && known.length > 0 ? r.pick(known) : r.pick(['nosuch', 'test_klp_livepatch', 'a-b', '', '..', oddText(r)]);
}

function path(r: Rand, v: ShellVocabulary): string {
  const p = name(r, v.patches);
  return r.weighted<() => string>([
    [3, () => `${LP}/${p}/${r.pick(PATCH_ATTRS)}`],
    [2, () => `/proc/${name(r, v.proc)}`],
    [
      2,
      () => {
        const [m, k] = v.params.length > 0 && r.chance(0.8) ? r.pick(v.params) : [name(r, v.modules), 'nosuch'];
        return `/sys/module/${m}/parameters/${k}`;
      },
    ],
    [
      1,
      () => {
        const [pp, o] = v.objects.length > 0 ? r.pick(v.objects) : [p, 'vmlinux'];
        return `${LP}/${pp}/${o}/${r.pick(['patched', '', 'x'])}`;
      },
    ],
    [
      1,
      () => {
        const [pp, o, f] = v.funcs.length > 0 ? r.pick(v.funcs) : [p, 'vmlinux', 'f'];
        return `${LP}/${pp}/${o}/${f},${r.pick(['0', '1', '2', '-1', 'x', ''])}`;
      },
    ],
    [
      1,
      () =>
        r.pick([
          LP,
          `${LP}/`,
          `${LP}//`,
          '/sys/module',
          '/proc',
          '/',
          '',
          '.',
          '..',
          '/dev/kmsg',
          '/dev/null',
          '/etc/passwd',
          `${LP}/../../..`,
          'relative/path',
          '~',
          '-',
        ]),
    ],
    [1, () => `/${Array.from({ length: r.int(1, 6) }, () => oddText(r).replace(/\//g, '')).join('/')}`],
  ])();
}

function value(r: Rand): string {
  return r.weighted<() => string>([
    [4, () => r.pick(['0', '1', 'Y', 'N', 'y', 'n', 'on', 'off', 'true', '-19', '0x10', '010', ' 1'])],
    [2, () => r.pick(EDGE_NUMBERS)],
    [1, () => oddText(r)],
  ])();
}

function paramArgs(r: Rand, v: ShellVocabulary, mod: string): string[] {
  const mine = v.params.filter(([m]) => m === mod).map(([, p]) => p);
  return Array.from({ length: r.small(3) }, () => {
    const k = r.chance(0.8) && mine.length > 0 ? r.pick(mine) : r.pick(['replace', 'nosuch', '1bad', '', 'a-b']);
    return r.chance(0.9) ? `${k}=${value(r)}` : k;
  });
}

/** A command from the supported grammar. */
function command(r: Rand, v: ShellVocabulary): string[] {
  return r.weighted<() => string[]>([
    [
      3,
      () => {
        const m = name(r, v.modules);
        return [r.pick(['modprobe', 'insmod']), r.chance(0.1) ? `/lib/modules/${m}.ko` : m, ...paramArgs(r, v, m)];
      },
    ],
    [2, () => ['rmmod', name(r, v.modules), ...(r.chance(0.1) ? [name(r, v.modules)] : [])]],
    [1, () => ['lsmod', ...(r.chance(0.1) ? ['-x'] : [])]],
    [4, () => ['echo', ...(r.chance(0.1) ? ['-n'] : []), value(r), '>', path(r, v)]],
    [1, () => ['echo', ...Array.from({ length: r.small(4) }, () => value(r))]],
    [4, () => ['cat', path(r, v)]],
    [2, () => ['ls', r.chance(0.5) ? path(r, v).replace(/\/[^/]*$/, '') || '/' : path(r, v)]],
    [
      2,
      () => [
        'grep',
        ...(r.chance(0.5) ? [`-${r.chars('ivcqEFwxz', r.int(1, 3))}`] : []),
        r.pick(['livepatch', 'x', '^a.*$', '[', '\\(', 'a\\{2\\}', '', '*', '.*']),
        path(r, v),
      ],
    ],
  ])();
}

/** Quotes a word the way a user might, or breaks the quoting. */
function quote(r: Rand, w: string): string {
  return r.weighted<() => string>([
    [10, () => w],
    [2, () => `"${w}"`],
    [2, () => `'${w}'`],
    [1, () => `"${w}`],
    [1, () => `'${w}`],
    [1, () => w.replace(/(.)/, '$1\\')],
    [1, () => `"${w}"'${w}'`],
  ])();
}

const SH_NOISE = [
  '|',
  ';',
  '&&',
  '&',
  '<',
  '2>',
  '>>',
  '>&2',
  '$(ls)',
  '`ls`',
  '$HOME',
  '${x}',
  '\\',
  '#',
  '( x )',
  '*',
  '?',
  '~',
  '>',
  '> >',
];

export function shellLine(r: Rand, v: ShellVocabulary): string {
  let words = command(r, v).map((w) => quote(r, w));
  const n = r.weighted([
    [6, 0],
    [3, 1],
    [1, 2],
  ] as const);
  for (let k = 0; k < n; k++) {
    words = r.weighted<() => string[]>([
      [3, () => [...words, r.pick(SH_NOISE), ...(r.chance(0.5) ? [path(r, v)] : [])]],
      [2, () => [...words, '>', r.pick(['/dev/kmsg', '/dev/kmsg', path(r, v)])]],
      [2, () => words.map((w, i) => (i === words.length - 1 ? w + 'x'.repeat(r.pick([100, 5000, 100_000])) : w))],
      [
        2,
        () => {
          const i = r.int(0, words.length - 1);
          return words.map((w, j) => (j === i ? w + r.pick(ODD_CHARS) : w));
        },
      ],
      [1, () => words.slice(1)],
      [1, () => [r.pick(['sudo', 'insmod', 'modprobe', 'echo', 'cat', 'MODPROBE', 'kill', 'sh', '']), ...words]],
      [1, () => [...words, ...Array.from({ length: r.pick([10, 1000]) }, () => value(r))]],
      [1, () => [r.pick(ODD_STRINGS), ...words]],
    ])();
  }
  const sep = r.chance(0.9) ? ' ' : r.pick(['  ', '\t', ' \t ', '\n', '\r\n']);
  return (r.chance(0.05) ? ' ' : '') + words.join(sep) + (r.chance(0.05) ? r.pick([' ', '\n', ' # comment', '\\']) : '');
}
