/**
 * Pause, resume and single-step for a --deterministic run. Simulation.run() awaits `pass()` before each
 * scenario step; while paused that promise stays pending, and with every CPU on the coordinator's thread
 * nothing else moves: the machine is frozen between two steps. (With worker CPUs the tasks would run on
 * while the coordinator waits, so the server offers this only with --deterministic.)
 *
 * `step` lets exactly one held step through and holds again before the next one.
 */
import type { Step } from '../scenario/scenario-types';

export interface GateStep {
  index: number;
  step: Step;
}

export type GateAnswer = { ok: true } | { ok: false; message: string };

export class StepGate {
  private release: (() => void) | null = null;
  private pausedFlag: boolean;
  private current: GateStep | null = null;
  private halted = false;

  /** `onChange` hears every change of `paused`, `held` or the current step. */
  constructor(
    startPaused: boolean,
    private readonly onChange: () => void = () => {},
  ) {
    this.pausedFlag = startPaused;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  /** The run is waiting here for resume or step. */
  get held(): boolean {
    return this.release !== null;
  }

  /** The step the run is about to execute (held) or executing. */
  get step(): GateStep | null {
    return this.current;
  }

  /** The hook for SimulationOptions.gate. */
  readonly pass = (next: GateStep): Promise<void> => {
    this.current = next;
    // Shutting down: the run stops at this boundary for good (the machine is being disposed under it).
    if (this.halted) return new Promise<void>(() => {});
    if (!this.pausedFlag) {
      this.onChange();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.release = () => {
        this.release = null;
        resolve();
      };
      this.onChange();
    });
  };

  pause(): GateAnswer {
    if (this.halted) return { ok: false, message: 'shutting down' };
    if (this.pausedFlag) return { ok: false, message: 'already paused' };
    this.pausedFlag = true;
    this.onChange();
    return { ok: true };
  }

  resume(): GateAnswer {
    if (this.halted) return { ok: false, message: 'shutting down' };
    if (!this.pausedFlag) return { ok: false, message: 'not paused' };
    this.pausedFlag = false;
    this.release?.();
    this.onChange();
    return { ok: true };
  }

  /** Runs the held step; the run holds again before the next one. */
  stepOnce(): GateAnswer {
    if (this.halted) return { ok: false, message: 'shutting down' };
    if (!this.release) return { ok: false, message: this.pausedFlag ? 'a step is still running' : 'not paused' };
    this.release();
    this.onChange();
    return { ok: true };
  }

  /** For shutting down: the run goes no further than the next step boundary. */
  halt(): void {
    this.halted = true;
  }
}
