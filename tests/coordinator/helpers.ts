import { Machine, MachineOptions } from '../../src/coordinator/machine';
import type { SimEvent } from '../../src/kernel/events';

export async function withMachine<T>(
  opts: MachineOptions,
  kernel: Record<string, string>,
  fn: (m: Machine, events: SimEvent[]) => Promise<T>,
): Promise<T> {
  const m = await Machine.create(opts);
  const events: SimEvent[] = [];
  const sub = m.events$.subscribe((e) => events.push(e));
  try {
    m.loader.load(
      'vmlinux',
      Object.entries(kernel).map(([name, source]) => ({ name, source })),
    );
    return await fn(m, events);
  } finally {
    await m.dispose();
    sub.unsubscribe();
  }
}

export const logs = (events: SimEvent[]): string[] => events.flatMap((e) => (e.type === 'log' ? [e.text] : []));
