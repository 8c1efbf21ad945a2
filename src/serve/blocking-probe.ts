/**
 * Reads which tasks still block the transition, and where they sleep, from the machine itself
 * (Livepatch.blockingTasks(): the stack walker over each task's saved frame, as a `wait` step's timeout
 * report does). The events say which tasks switched, not the others' stacks; `--verbose` logs them only
 * per try and only by function. A reading becomes a `serve.blocking` note when it differs from the last.
 *
 * It runs from a timer on the coordinator's thread, between the coordinator's own awaits: the stack
 * walker takes each task's lock (a task being switched reads `(locked)`), and reading changes nothing in
 * the simulation, so a --deterministic run stays byte-for-byte the same.
 */
import type { Simulation } from '../scenario/simulation';
import type { BlockingNote } from './protocol';

export class BlockingProbe {
  private last = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sim: Simulation,
    private readonly emit: (note: BlockingNote) => void,
  ) {}

  start(intervalMs = 200): void {
    this.timer = setInterval(() => this.poll(), intervalMs);
    this.timer.unref();
  }

  poll(): void {
    const patch = this.sim.klp.transitionPatch();
    if (!patch) {
      this.last = '';
      return;
    }
    const tasks = this.sim.klp.blockingTasks();
    const key = JSON.stringify([patch.mod, tasks]);
    if (key === this.last) return;
    this.last = key;
    this.emit({ type: 'serve.blocking', t: this.sim.machine.now, patch: patch.mod, tasks });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
