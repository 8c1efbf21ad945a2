/**
 * One `klpsim serve`: a stream (a live run of a scenario, or a recording read back) behind an HTTP server.
 *
 * Live: the run starts as soon as the server listens, its events go into the hub, and after run() ends
 * the server keeps serving the final state until close(). Replay: the recording is the whole stream from
 * the start. Either way a browser that connects at any time gets the full history, then the live tail.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { RunResult, ScenarioRunOptions, Simulation } from '../scenario/simulation';
import { BlockingProbe } from './blocking-probe';
import { ControlResult, createServeServer } from './http-server';
import { HubOptions, StreamHub } from './hub';
import type { ControlAction, FinishedInfo, ServeStatus } from './protocol';
import { readRecording } from './replay-reader';
import { StepGate } from './step-gate';
import { describeStep } from './step-text';
import { loadWebAssets, WebAsset } from './web-assets';

export interface ListenOptions {
  host: string;
  /** 0: any free port (the session's `url` says which). */
  port: number;
  /** The page's files; default: the package's (web/ and the compiled dist/web). */
  assets?: Map<string, WebAsset>;
  hub?: HubOptions;
}

export type LiveServeOptions = ListenOptions &
  ScenarioRunOptions & {
    file: string;
    /** Hold the run before its first step (needs deterministic). */
    paused: boolean;
  };

export interface ReplayServeOptions extends ListenOptions {
  replay: string;
}

/** How the stream ended: the run's result (live), or nothing to report (replay). */
export interface ServeOutcome {
  info: FinishedInfo;
  /** Live runs that ended normally. */
  result?: RunResult;
  /** Live runs that ended with an internal error. */
  error?: Error;
}

/** The server could not listen (port in use, address not available). */
export class ListenError extends Error {}

export class ServeSession {
  private closed = false;

  private constructor(
    readonly url: string,
    readonly hub: StreamHub,
    /** Resolves when the stream is complete: the run ended, or at once for a replay. */
    readonly done: Promise<ServeOutcome>,
    private readonly server: Server,
    private readonly stop: () => Promise<void>,
  ) {}

  /** Runs a scenario and serves it. Throws ScenarioError for a bad scenario, ListenError if it cannot listen. */
  static async live(o: LiveServeOptions): Promise<ServeSession> {
    const assets = o.assets ?? loadWebAssets();
    let finished: FinishedInfo | null = null;
    // The gate's changes (paused, held, next step) only come once run() has started, after the hub exists.
    const gate = new StepGate(o.paused && o.deterministic, () => liveHub.statusChanged());
    const sim = await Simulation.fromFile(o.file, {
      cpus: o.cpus,
      seed: o.seed,
      deterministic: o.deterministic,
      nopRemoval: o.nopRemoval,
      unwinder: o.unwinder,
      kernelVersion: o.kernelVersion,
      verbose: o.verbose,
      gate: gate.pass,
    });
    const steps = sim.scenario.steps.length;
    const session = randomUUID();
    const status = (): ServeStatus => {
      const s = gate.step;
      return {
        session,
        mode: 'live',
        title: sim.scenario.name,
        source: o.file,
        cpus: sim.machine.pcpus.length,
        deterministic: o.deterministic,
        canPause: o.deterministic && finished === null,
        pauseNote: !o.deterministic
          ? 'pause and step need --deterministic (worker CPUs run on by themselves)'
          : finished
            ? 'the run has finished'
            : null,
        paused: gate.paused,
        held: gate.held,
        step: finished || !s ? null : { index: s.index, total: steps, text: describeStep(s.step), line: s.step.pos.line },
        finished,
        items: liveHub.history.length,
      };
    };
    const liveHub = new StreamHub(status, o.hub);
    // Subscribe before run(): events$ is hot.
    sim.events$.subscribe((ev) => liveHub.add(ev));
    const probe = new BlockingProbe(sim, (note) => liveHub.add(note));

    const control = (action: ControlAction): ControlResult => {
      if (!o.deterministic) return { ok: false, message: 'pause and step need --deterministic' };
      if (finished) return { ok: false, message: 'the run has finished' };
      return action === 'pause' ? gate.pause() : action === 'resume' ? gate.resume() : gate.stepOnce();
    };
    let server: Server;
    try {
      server = await listen(
        createServeServer({ hub: liveHub, status, control, downloadName: basename(o.file).replace(/\.ya?ml$/, '') }, assets, o.host),
        o.host,
        o.port,
      );
    } catch (e) {
      liveHub.close();
      await sim.dispose();
      throw e;
    }

    probe.start();
    const done: Promise<ServeOutcome> = sim.run().then(
      (result): ServeOutcome => ({
        result,
        info: {
          exitCode: result.exitCode,
          failures: result.failures.map((f) => `${f.pos.file}:${f.pos.line}:${f.pos.col}: ${f.message}`),
          violations: result.violations,
        },
      }),
      async (e: unknown): Promise<ServeOutcome> => {
        const error = e instanceof Error ? e : new Error(String(e));
        await sim.dispose();
        return { error, info: { exitCode: 1, failures: [`internal error: ${error.message}`], violations: 0 } };
      },
    );
    const settled = done.then((out) => {
      finished = out.info;
      probe.stop();
      liveHub.statusChanged();
      return out;
    });
    return new ServeSession(urlOf(server, o.host), liveHub, settled, server, async () => {
      probe.stop();
      // A run still going stops at its next step boundary; dispose() stops the CPUs (terminates the workers).
      gate.halt();
      await sim.dispose();
    });
  }

  /** Serves a recorded ndjson stream. Throws ReplayError for a bad file, ListenError if it cannot listen. */
  static async replay(o: ReplayServeOptions): Promise<ServeSession> {
    const assets = o.assets ?? loadWebAssets();
    const rec = readRecording(o.replay);
    const violations = rec.events.filter((e) => e.type === 'violation' || e.type === 'fault').length;
    const info: FinishedInfo = { exitCode: null, failures: [], violations };
    const session = randomUUID();
    const status = (): ServeStatus => ({
      session,
      mode: 'replay',
      title: basename(o.replay),
      source: o.replay,
      cpus: rec.cpus,
      deterministic: false,
      canPause: false,
      pauseNote: 'a replay shows a recorded run: nothing to pause',
      paused: false,
      held: false,
      step: null,
      finished: info,
      items: hub.history.length,
    });
    const hub = new StreamHub(status, o.hub);
    for (const ev of rec.events) hub.history.add(ev);
    const control = (): ControlResult => ({ ok: false, message: 'a replay has nothing to pause' });
    let server: Server;
    try {
      server = await listen(
        createServeServer({ hub, status, control, downloadName: basename(o.replay).replace(/\.ndjson$/, '') }, assets, o.host),
        o.host,
        o.port,
      );
    } catch (e) {
      hub.close();
      throw e;
    }
    return new ServeSession(urlOf(server, o.host), hub, Promise.resolve({ info }), server, async () => {});
  }

  /** Stops serving: closes every connection, stops the run if it is still going. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.close();
    const closing = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections();
    await Promise.all([closing, this.stop()]);
  }
}

function listen(server: Server, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EADDRNOTAVAIL' ? 'address not available' : e.message;
      reject(new ListenError(`cannot listen on ${host}:${port}: ${why}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

function urlOf(server: Server, host: string): string {
  const port = (server.address() as AddressInfo).port;
  const h = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/`;
}
