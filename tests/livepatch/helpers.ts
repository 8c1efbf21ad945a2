import type { KernelVersion } from '../../src/kernel/kernel-version';
import { Machine, MachineOptions } from '../../src/coordinator/machine';
import { workerModule } from '../../src/coordinator/worker-entry';
import type { SimEvent } from '../../src/kernel/events';
import type { KlpOptions } from '../../src/livepatch/klp-state';
import { Livepatch } from '../../src/livepatch/livepatch';

export interface KlpRig {
  m: Machine;
  klp: Livepatch;
  events: SimEvent[];
  /** Loads a livepatch module whose replacements print `<func> from <mod>` and enables it. */
  patch(mod: string, funcs: string[], replace: boolean): Promise<number>;
  /** Lets simulated time pass until no transition is left (bounded). */
  settle(): Promise<void>;
}

const body = (msg: string): string => `push rbp\nmov rbp, rsp\nlea rdi, [rip + ${msg}]\ncall printk\npop rbp\nret`;

export async function withKlp<T>(
  opts: {
    cpus?: number;
    deterministic?: boolean;
    seed?: number;
    kernelVersion?: KernelVersion;
    klp?: Partial<KlpOptions>;
    eventsOff?: MachineOptions['eventsOff'];
    kernel: Record<string, string>;
  },
  fn: (rig: KlpRig) => Promise<T>,
): Promise<T> {
  const m = await Machine.create({
    cpus: opts.cpus ?? 2,
    deterministic: opts.deterministic ?? true,
    seed: opts.seed ?? 1,
    kernelVersion: opts.kernelVersion,
    eventsOff: opts.eventsOff,
    hooksModule: workerModule(`${__dirname}/../../src/livepatch`, 'klp-ftrace-handler'),
  });
  const events: SimEvent[] = [];
  const sub = m.events$.subscribe((e) => events.push(e));
  try {
    m.loader.load(
      'vmlinux',
      Object.entries(opts.kernel).map(([name, source]) => ({ name, source })),
    );
    const klp = new Livepatch(m, opts.klp);
    const rig: KlpRig = {
      m,
      klp,
      events,
      async patch(mod, funcs, replace) {
        m.loader.load(
          mod,
          funcs.flatMap((f) => [
            { name: `${mod}_${f}`, source: body(`${mod}_${f}_msg`) },
            { name: `${mod}_${f}_msg`, source: `.asciz "${f} from ${mod}\\n"` },
          ]),
        );
        return klp.enablePatch(
          { mod, replace, objs: [{ name: null, funcs: funcs.map((f) => ({ old_name: f, new_name: `${mod}_${f}` })) }] },
          { isLoaded: (n) => m.loader.objects.has(n) },
        );
      },
      async settle() {
        for (let i = 0; i < 10_000 && klp.inTransition(); i++) await m.sleep(1);
        if (klp.inTransition()) throw new Error('transition did not complete');
      },
    };
    return await fn(rig);
  } finally {
    await m.dispose();
    sub.unsubscribe();
  }
}

export const printkFunc = (name: string, text: string): Record<string, string> => ({
  [name]: body(`${name}_msg`),
  [`${name}_msg`]: `.asciz "${text}\\n"`,
});

/** A function that calls `callee` `n` times: keeps a CPU busy entering `callee`'s ftrace site. */
export const caller = (callee: string, n: number): string =>
  `push rbp\nmov rbp, rsp\npush rbx\nmov ebx, ${n}\nagain:\ncall ${callee}\ndec ebx\njnz again\npop rbx\npop rbp\nret`;
