import { runDemo } from '../../src/cli/demo';
import type { SimEvent } from '../../src/kernel/events';

async function stream(seed: number): Promise<string[]> {
  const out: SimEvent[] = [];
  await runDemo({ cpus: 4, deterministic: true, seed, pokes: 4, onEvent: (e) => out.push(e) });
  return out.map((e) => JSON.stringify(e));
}

describe('deterministic mode', () => {
  it('reproduces the same event stream byte for byte from the same seed', async () => {
    const a = await stream(7);
    const b = await stream(7);
    expect(a.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
  });

  it('a different seed gives a different interleaving', async () => {
    const a = await stream(7);
    const c = await stream(8);
    expect(c).not.toEqual(a);
  });
});
