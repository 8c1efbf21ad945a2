/**
 * Inputs that used to hang, exhaust memory or overflow the stack (issue 11, items 6 and 9): each is bad
 * input now, `FILE:LINE:COL: message` in the user's terms and exit 2, quickly.
 */
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/run-cli';
import { readRecording } from '../../src/serve/replay-reader';

const dir = mkdtempSync(join(tmpdir(), 'klpsim-limits-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

async function check(path: string): Promise<{ code: number; err: string; out: string }> {
  const r = await runCli(['check', path]);
  // Never a stack trace, never an internal error, never the engine's own words.
  expect(r.err).not.toMatch(/\n\s+at |internal error|Maximum call stack|resource exhaustion/);
  return r;
}

describe('input size (item 6)', () => {
  it('refuses an endless device at the limit instead of reading it to the end', async () => {
    const r = await check('/dev/zero');
    expect(r.code).toBe(2);
    expect(r.err).toBe('/dev/zero:1:1: scenario too large: more than 16 MiB (the most klpsim reads)\n');
  }, 20_000);

  it('refuses a regular file over the limit by its size, before reading it', async () => {
    const p = join(dir, 'huge.yaml');
    writeFileSync(p, '');
    truncateSync(p, (16 << 20) + 1);
    const r = await check(p);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${p}:1:1: scenario too large: more than 16 MiB (the most klpsim reads)\n`);
  });

  it('`serve --replay` reads a recording the same way', () => {
    expect(() => readRecording('/dev/zero')).toThrow(/^\/dev\/zero:1:1: recording too large: more than 256 MiB \(the most klpsim reads\)$/);
  }, 20_000);

  it('says a directory is one', async () => {
    const r = await check(dir);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${dir}:1:1: cannot read file: it is a directory\n`);
  });
});

describe('YAML resource limits (item 9)', () => {
  it('an alias bomb is bad input at the alias that expands past the limit', async () => {
    const lines = ['name: bomb', 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${new Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const p = file('bomb.yaml', lines.join('\n') + '\n');
    const r = await check(p);
    expect(r.code).toBe(2);
    // Every alias counts: a1..a4's add 12 340 nodes, so a5's aliases of a4 (11 111 nodes each) pass
    // 100 000 at the 8th, column 45.
    expect(r.err).toBe(`${p}:6:45: YAML: aliases expand to more than 100000 nodes (the most a scenario may hold)\n`);
  });

  it('deep flow and block nesting are refused with the limit, at the first level past it', async () => {
    const flow = file('deep-flow.yaml', `name: deep\nx: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
    let r = await check(flow);
    expect(r.code).toBe(2);
    // Level 1 is the top-level map; the 100th '[' is level 101, at column 3 + 99.
    expect(r.err).toBe(`${flow}:2:103: YAML: nested deeper than 100 levels (the most a scenario may nest)\n`);
    const block = file(
      'deep-block.yaml',
      'name: deep\nx:\n' + Array.from({ length: 3000 }, (_, i) => `${' '.repeat(2 * i + 2)}a:\n`).join(''),
    );
    r = await check(block);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^${block}:\\d+:\\d+: YAML: nested deeper than 100 levels \\(the most a scenario may nest\\)\\n$`));
  });

  it("a structure that runs yaml's own parser out of stack is refused where the parser got to (fuzz seed 777, input 3094)", async () => {
    // Map entries and sequence items interleaved at one indentation: yaml's parser recurses per entry
    // before it yields any syntax tree, so the nesting check on the tree never saw it.
    const p = join(__dirname, 'fixtures', 'yaml-parser-recursion.yaml');
    const r = await check(p);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^${p}:\\d+:1: YAML: this structure nests too deeply for the YAML parser to follow`));
  });

  it('nesting reached through aliases counts as nesting', async () => {
    const p = file('deep-alias.yaml', `name: x\na: &a ${'['.repeat(60)}${']'.repeat(60)}\nb: ${'['.repeat(50)}*a${']'.repeat(50)}\n`);
    const r = await check(p);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${p}:3:54: YAML: nested deeper than 100 levels (the most a scenario may nest) with aliases expanded\n`);
  });

  it('an alias without its anchor, or inside it, is a positioned error', async () => {
    const unknown = file('unknown-alias.yaml', 'name: *nope\n');
    let r = await check(unknown);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${unknown}:1:7: YAML: alias '*nope' has no anchor '&nope' before it\n`);
    const circular = file('circular-alias.yaml', 'name: x\ntasks: &t [ { name: a, run: *t } ]\n');
    r = await check(circular);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${circular}:2:29: YAML: alias '*t' is inside its own anchor (a circular structure)\n`);
  });

  it("duplicate keys are still found (yaml's quadratic check is off: a 100 000-function file took minutes)", async () => {
    const p = file('dup.yaml', 'name: x\nseed: 1\nname: y\n');
    const r = await check(p);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${p}:3:1: YAML: Map keys must be unique\n`);
  });

  it("a long string assembles (it was spread into one call's arguments: a stack overflow past ~120 000 bytes)", async () => {
    const p = file('asciz.yaml', `name: s\nkernel:\n  functions:\n    msg: '.asciz "${'a'.repeat(400_000)}"'\n`);
    const r = await check(p);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  }, 30_000);
});
