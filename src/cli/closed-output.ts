/**
 * What the klpsim command does when its output goes away (`klpsim run X | head -1`): it ends at once and
 * quietly, as a Unix filter killed by SIGPIPE does, with the status a shell reports for that death
 * (128 + SIGPIPE = 141), so `set -o pipefail` scripts see what they would see from `cat` or `grep`.
 *
 * Node ignores SIGPIPE and reports the failed write as an 'error' event on the stream instead; with no
 * listener that event is thrown, and the user got a 25-line stack trace and exit 1. process.exit() also
 * ends the CPU worker threads, so nothing keeps running for output nobody reads.
 */

/** 128 + SIGPIPE (13): the status a shell gives a process SIGPIPE ended. */
export const EXIT_SIGPIPE = 141;

/** Errors that mean the reader is gone: EPIPE from the write, then writes to the destroyed stream. */
const CLOSED = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ECONNRESET']);

export function exitQuietlyOnClosedOutput(exit: (code: number) => void = (code) => process.exit(code)): void {
  let done = false;
  const onError =
    (stream: NodeJS.WriteStream) =>
    (e: NodeJS.ErrnoException): void => {
      if (done) return;
      done = true;
      if (!CLOSED.has(e.code ?? '') && stream !== process.stderr) {
        // Some other failure to write (a full disk, an I/O error): say so once, where it can still be read.
        try {
          process.stderr.write(`klpsim: cannot write output: ${e.message}\n`);
        } catch {
          // stderr is gone too: the exit status is all that is left.
        }
        exit(1);
        return;
      }
      exit(CLOSED.has(e.code ?? '') ? EXIT_SIGPIPE : 1);
    };
  process.stdout.on('error', onError(process.stdout));
  process.stderr.on('error', onError(process.stderr));
}
