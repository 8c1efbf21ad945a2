/** What the fuzz test and its worker process (fuzz-worker.ts) tell each other. */

/** Given to the worker in its environment (KLPSIM_FUZZ_WORKER, as JSON). */
export interface WorkerData {
  seed: number;
  /** Inputs [from, to) of the seed. */
  from: number;
  to: number;
  /** More heap than this kept after one input is a failure of that input. */
  heapPerInputMb: number;
}

export interface FuzzFailure {
  index: number;
  kind: string;
  /** What went wrong, in a sentence (and the output or stack that shows it). */
  problem: string;
  /** The input as the report prints it. */
  input: string;
  /** For a shell line: what the machine was given before it, since it was built. */
  history: string[];
  /** The first input to replay to reproduce this one (a shell line needs its machine's history). */
  machineStart: number;
}

export type WorkerMessage =
  /** Input `index` starts now. */
  | { type: 'at'; index: number }
  /** The shell's machine was built at input `start` (-1: dropped). */
  | { type: 'machine'; start: number }
  | { type: 'failure'; failure: FuzzFailure }
  /** Every input has run: the heap after each 1000 (MB, after a collection), and time per kind. */
  | { type: 'done'; heapMb: number[]; stats: string };
