/**
 * What `klpsim serve` says to the page, over server-sent events (`GET /events`) and JSON (`GET /status`,
 * `POST /control`). Types only: the page (web/*.ts, compiled by tsconfig.web.json) imports them too, so
 * both ends are checked against one definition and against the simulation's own event types.
 *
 * The stream is the simulation's events (the same objects as the ndjson lines of `klpsim run`), in `seq`
 * order, interleaved with the server's own notes (type `serve.*`), in arrival order.
 */
import type { SimEvent } from '../kernel/events';

/**
 * Who is holding the transition open, with their stacks: read from the machine while a transition is in
 * progress (the events carry which tasks have switched, not where the others are sleeping). Sent when it
 * changes. Live runs only: a recorded ndjson stream has no such notes.
 */
export interface BlockingNote {
  type: 'serve.blocking';
  /** Simulated time of the reading, ns. */
  t: number;
  patch: string;
  tasks: BlockingTask[];
}

export interface BlockingTask {
  pid: number;
  comm: string;
  /** Innermost first, symbolised (`demo_target_show+0x14/0x27 [klp_demo_target]`); `(running)` for a task on a CPU. */
  frames: string[];
}

export type ServeNote = BlockingNote;
export type ServeItem = SimEvent | ServeNote;

/** The scenario step the run is about to execute (held at the gate) or is executing. */
export interface StepInfo {
  /** 0-based. */
  index: number;
  total: number;
  /** `sh: modprobe klp_patch_c`, `wait: transition`, `expect: nops`. */
  text: string;
  line: number;
}

export interface FinishedInfo {
  /** The run's exit code (0 or 1, as `klpsim run`); null for a replay, whose outcome is not recorded. */
  exitCode: number | null;
  /** `FILE:LINE:COL: message` of each failed step, and internal errors. */
  failures: string[];
  violations: number;
}

export interface ServeStatus {
  /** Differs for every `klpsim serve` process: a page that reconnects to a new one starts over. */
  session: string;
  mode: 'live' | 'replay';
  /** The scenario's name, or the replayed file's name. */
  title: string;
  source: string;
  cpus: number;
  deterministic: boolean;
  /** Pause, resume and step are offered (a live --deterministic run that has not finished). */
  canPause: boolean;
  /** Why they are not, for the page to say. */
  pauseNote: string | null;
  /** Pausing was asked for: the run holds at the next step boundary. */
  paused: boolean;
  /** The run is waiting at a step boundary for resume or step. */
  held: boolean;
  step: StepInfo | null;
  finished: FinishedInfo | null;
  /** Items in the stream so far. */
  items: number;
}

export type ControlAction = 'pause' | 'resume' | 'step';
