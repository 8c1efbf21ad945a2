/**
 * The import graph's rules (eslint-rules/import-graph.mjs, also part of `npm run lint`): no import cycle,
 * type-only imports included, and imports point down the layers. Run without type information through
 * eslint-rules/check-import-graph.mjs, on the tree and on small fixture trees that show each rule fires.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const CHECKER = join(ROOT, 'eslint-rules/check-import-graph.mjs');

interface Problem {
  file: string;
  line: number;
  rule: string | null;
  message: string;
}

function checkGraph(dir: string): Promise<{ code: number; problems: Problem[]; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CHECKER, dir], { cwd: ROOT, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const problems = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Problem)
        .map((p) => ({ ...p, file: relative(dir, p.file) }));
      done({ code: err ? Number(err.code ?? 1) : 0, problems, stderr });
    });
  });
}

function writeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'klpsim-import-graph-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('the import graph', () => {
  let fixture: string;
  beforeAll(() => {
    fixture = writeTree({
      'tsconfig.json': JSON.stringify({
        compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true },
        include: ['src', 'tests'],
      }),
      // A circle of type-only imports: import-x/no-cycle would let it pass.
      'src/x86/insn.ts': "import type { Block } from './block';\nexport interface Insn { blk: Block | null }\n",
      'src/x86/block.ts': "import type { Insn } from './insn';\nexport interface Block { insns: Insn[] }\n",
      // Upward, even type-only: the kernel naming the coordinator's machine.
      'src/kernel/rcu.ts': "import type { Machine } from '../coordinator/machine';\nexport const f = (m: Machine): number => m.now;\n",
      'src/coordinator/machine.ts': 'export interface Machine { now: number }\n',
      // Peers of one layer do not import each other.
      'src/serve/history.ts': "import { trace } from '../stress/trace';\nexport const h = trace;\n",
      'src/stress/trace.ts': 'export const trace = 1;\n',
      // A command may not import the benchmarks; the binary's entry may.
      'src/bench/run.ts': "import { watch } from '../cli/watch';\nexport const run = watch;\n",
      'src/cli/watch.ts': 'export const watch = 1;\n',
      'src/cli/run-command.ts': "import { run } from '../bench/run';\nexport const r = run;\n",
      'src/cli/main.ts': "import { run } from '../bench/run';\nimport { r } from './run-command';\nexport const m = run + r;\n",
      // Down the layers is fine, and so are tests importing anything.
      'src/livepatch/core.ts': "import { f } from '../kernel/rcu';\nexport const c = f;\n",
      'tests/t.test.ts': "import { m } from '../src/cli/main';\nexport const t = m;\n",
    });
  });
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));

  it('has no cycle and no upward import in this tree', async () => {
    const r = await checkGraph(ROOT);
    expect(r.stderr).toBe('');
    expect(r.problems.map((p) => `${p.file}:${p.line} ${p.rule}: ${p.message}`)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('finds type-only cycles, upward and peer imports, and lets the entry and tests import anything', async () => {
    const r = await checkGraph(fixture);
    expect(r.stderr).toBe('');
    const found = r.problems.map((p) => `${p.file}:${p.line} ${p.rule}`).sort();
    expect(found).toEqual([
      'src/cli/run-command.ts:1 import-x/no-restricted-paths',
      'src/kernel/rcu.ts:1 import-x/no-restricted-paths',
      'src/serve/history.ts:1 import-x/no-restricted-paths',
      'src/x86/block.ts:1 klpsim/no-import-cycle',
      'src/x86/insn.ts:1 klpsim/no-import-cycle',
    ]);
    const cycle = r.problems.find((p) => p.file === 'src/x86/insn.ts');
    expect(cycle?.message).toBe('import cycle: src/x86/insn.ts -> src/x86/block.ts -> src/x86/insn.ts');
    const up = r.problems.find((p) => p.file === 'src/kernel/rcu.ts');
    expect(up?.message).toContain(
      'src/kernel is below it: imports point down the layers (util < x86 < c < mem < kernel < livepatch < coordinator',
    );
    expect(r.code).toBe(1);
  });
});
