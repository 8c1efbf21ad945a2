/**
 * `--format pretty` as a stream: one line per event, except the scheduler's churn. Busy tasks wake and sleep
 * thousands of times a simulated second (the flagship: ~48 000 `task.state` events against ~400 others), which
 * would bury the livepatch story a terminal user ran the scenario to see. So a run of more than
 * `FOLD_AFTER` consecutive `task.state` events becomes one line, printed when the run ends (the next other
 * event, or the end of the stream): how many, of how many tasks on which CPUs, and each task the run left
 * asleep inside a function (one that may hold a transition open). `--format ndjson` keeps every event.
 */
import { isSchedulerChurn, type SimEvent, type TaskStateEvent } from '../kernel/events';
import { dmesgTime, formatEvent } from './format-event';

/** Runs up to this long are printed event by event: one task going to sleep in a patched function reads better so. */
export const FOLD_AFTER = 4;

export class PrettyStream {
  private readonly run: TaskStateEvent[] = [];

  constructor(private readonly write: (line: string) => void) {}

  push(ev: SimEvent): void {
    if (isSchedulerChurn(ev)) {
      this.run.push(ev);
      return;
    }
    this.flush();
    this.write(formatEvent(ev, 'pretty') as string);
  }

  /** Prints what is held back; call at the end of the stream. */
  flush(): void {
    if (this.run.length === 0) return;
    if (this.run.length <= FOLD_AFTER) for (const ev of this.run) this.write(formatEvent(ev, 'pretty') as string);
    else this.write(foldLine(this.run));
    this.run.length = 0;
  }
}

function foldLine(run: readonly TaskStateEvent[]): string {
  const cpus = new Set<number>();
  const last = new Map<number, TaskStateEvent>();
  for (const ev of run) {
    if (ev.cpu !== null) cpus.add(ev.cpu);
    last.set(ev.pid, ev);
  }
  const where = cpus.size === 1 ? `cpu${[...cpus][0]}` : 'cpu*';
  const inFunc = [...last.values()]
    .filter((ev) => ev.func !== undefined && ev.state !== 'running')
    .map((ev) => `${ev.comm}:${ev.pid} ${ev.state} in ${ev.func}`);
  const end = run[run.length - 1];
  const head = `${dmesgTime(end.t)} ${where.padEnd(5)} ${'task.state'.padEnd(16)}`;
  const tail = inFunc.length > 0 ? `; ${inFunc.join(', ')}` : '';
  return `${head} ×${run.length} state changes of ${plural(last.size, 'task')} on ${plural(cpus.size, 'CPU')}${tail} (--format ndjson shows each)`;
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
