/**
 * The wire format of a CPU thread's event batches (cpu-thread.ts → worker-cpus.ts).
 *
 * `task.state` is nearly the whole stream (two per wake-up: 343 000 events in the 512-task transition
 * benchmark's simulated second), and posted as objects each one was structured-cloned twice — written by
 * the CPU thread, read back by the coordinator's thread — which cost the coordinator ~1.1 µs an event and
 * the 512-task transition 45 % of its real time. So a batch carries them as records of plain numbers in a
 * Float64Array (cloned as one block of bytes), with their strings (comm, state, function) interned: a
 * string crosses the port once per thread, in the batch that first uses it, and the reader keeps the
 * table (batches on one port arrive in the order they were posted). Every other event travels as an
 * object, in order, a record marking its place.
 *
 * The records are copied, not transferred. Transferring an ArrayBuffer detaches it, and the first detach
 * in an isolate invalidates V8's array-buffer-detaching protector: from then on every optimised
 * typed-array access in that isolate checks for a detached buffer — and the emulator is typed-array
 * accesses (registers, guest memory). Measured with transfers: the 4-CPU all-busy benchmark's compiled
 * x86 blocks took twice the time, and the worker threads 15-20 % more CPU.
 *
 * Only the thread that writes a batch touches the writer; the reader owns the copy it received.
 */
import { RawEvent, taskStateEvent } from './events';

/** Numbers per record: t, cpu, pid (OBJECT: the next object of `objects`), state, comm, func (NONE). */
const RECORD = 6;
const OBJECT = -1;
const NONE = -1;

export interface PackedEventBatch {
  records: Float64Array;
  /** How many records are used. */
  count: number;
  /** The events that are not `task.state`, in order. */
  objects: RawEvent[];
  /** Strings interned since the previous batch of this thread, in the order of their indices. */
  strings: string[];
}

export class EventBatchWriter {
  private readonly records: Float64Array;
  private count = 0;
  private objects: RawEvent[] = [];
  private strings: string[] = [];
  private readonly interned = new Map<string, number>();

  constructor(private readonly capacity: number) {
    this.records = new Float64Array(capacity * RECORD);
  }

  get length(): number {
    return this.count;
  }

  push(ev: RawEvent): void {
    const r = this.count++ * RECORD;
    this.records[r + 2] = OBJECT;
    this.objects.push(ev);
  }

  /** A `task.state` event (TaskStateEvent's fields; `func` only while the task is inside a call). */
  pushTaskState(t: number, cpu: number, pid: number, comm: string, state: string, func: string | undefined): void {
    const r = this.count++ * RECORD;
    const rec = this.records;
    rec[r] = t;
    rec[r + 1] = cpu;
    rec[r + 2] = pid;
    rec[r + 3] = this.intern(state);
    rec[r + 4] = this.intern(comm);
    rec[r + 5] = func === undefined ? NONE : this.intern(func);
  }

  /** Whether the batch is full (the caller posts it: a batch never grows). */
  full(): boolean {
    return this.count >= this.capacity;
  }

  /** The batch so far, its records copied out (see above); the writer starts an empty one in its buffer. */
  take(): PackedEventBatch {
    const batch: PackedEventBatch = {
      records: this.records.slice(0, this.count * RECORD),
      count: this.count,
      objects: this.objects,
      strings: this.strings,
    };
    this.count = 0;
    this.objects = [];
    this.strings = [];
    return batch;
  }

  private intern(s: string): number {
    let i = this.interned.get(s);
    if (i === undefined) {
      i = this.interned.size;
      this.interned.set(s, i);
      this.strings.push(s);
    }
    return i;
  }
}

/** The coordinator's side of one thread's port. */
export class EventBatchReader {
  private readonly strings: string[] = [];

  read(batch: PackedEventBatch): RawEvent[] {
    for (const s of batch.strings) this.strings.push(s);
    const out: RawEvent[] = new Array<RawEvent>(batch.count);
    const rec = batch.records;
    const str = this.strings;
    let o = 0;
    for (let i = 0; i < batch.count; i++) {
      const r = i * RECORD;
      const pid = rec[r + 2];
      if (pid === OBJECT) {
        out[i] = batch.objects[o++];
        continue;
      }
      const f = rec[r + 5];
      out[i] = taskStateEvent(rec[r], rec[r + 1], pid, str[rec[r + 4]], str[rec[r + 3]], f === NONE ? undefined : str[f]);
    }
    return out;
  }
}
