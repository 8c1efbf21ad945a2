/**
 * `klpsim serve`: prints where the page is, serves until Ctrl-C (SIGINT) or SIGTERM, then closes every
 * connection and stops the run's CPUs. Exit codes: 2 bad input (a scenario or a recording, as
 * `FILE:LINE:COL: message`, or a port that cannot be had); after Ctrl-C the run's own code (0 or 1, as
 * `klpsim run`), 0 for a replay, 130 if the run had not finished.
 */
import { reportFailures } from './run-command';
import { ScenarioError } from '../scenario/scenario-error';
import { ReplayError } from '../serve/replay-reader';
import { ListenError, LiveServeOptions, ServeSession } from '../serve/session';
import { WebAssetsError } from '../serve/web-assets';

/** The command line's options: a live run's (without its file, given apart) or a recording to replay. */
export type ServeCliOptions = Omit<LiveServeOptions, 'file' | 'assets' | 'hub'> & { replay?: string };

const out = (s: string): boolean => process.stdout.write(s);
const err = (s: string): boolean => process.stderr.write(s);

/** Exit code after Ctrl-C while the run was still going (128 + SIGINT, as a shell reports it). */
const INTERRUPTED = 130;

/**
 * Serves until `stop` aborts. Without `stop`, SIGINT and SIGTERM stop it, and the process is made to exit
 * soon after (a --deterministic run interrupted mid-step keeps the event loop busy until its step ends).
 */
export async function serveCommand(file: string | undefined, o: ServeCliOptions, stop?: AbortSignal): Promise<number> {
  let session: ServeSession;
  try {
    session =
      o.replay !== undefined
        ? await ServeSession.replay({ replay: o.replay, host: o.host, port: o.port })
        : await ServeSession.live({ ...o, file: file as string });
  } catch (e) {
    if (e instanceof ScenarioError || e instanceof ReplayError) {
      err(e.message + '\n');
      return 2;
    }
    if (e instanceof ListenError) {
      err(`klpsim: ${e.message}\n`);
      return 2;
    }
    if (e instanceof WebAssetsError) {
      err(`klpsim: ${e.message}\n`);
      return 1;
    }
    throw e;
  }

  const signals = stop ? null : new AbortController();
  const onSignal = (): void => signals?.abort();
  if (signals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  const stopSignal = stop ?? (signals as AbortController).signal;

  out(`klpsim serve: ${o.replay ?? file} at ${session.url}  (Ctrl-C to stop)\n`);
  let code: number | null = null;
  const finished = session.done.then((outcome) => {
    if (outcome.result) reportFailures(outcome.result);
    if (outcome.error) err(`klpsim: internal error: ${outcome.error.message}\n`);
    code = outcome.info.exitCode ?? 0;
    if (o.replay === undefined) out(`klpsim serve: the run finished (exit ${code}); the page stays at ${session.url} until Ctrl-C\n`);
  });
  await new Promise<void>((resolve) => {
    if (stopSignal.aborted) resolve();
    else stopSignal.addEventListener('abort', () => resolve(), { once: true });
  });
  await session.close();
  if (signals) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // The run may have finished while closing; its report is printed before we return.
  await Promise.race([finished, new Promise<void>((r) => setImmediate(r))]);
  const exit = code ?? INTERRUPTED;
  if (signals) setTimeout(() => process.exit(exit), 1000).unref();
  return exit;
}
