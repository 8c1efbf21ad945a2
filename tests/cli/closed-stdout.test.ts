/**
 * `klpsim run X | head -1` (issue 11, item 8): when the reader of stdout goes away, klpsim ends at once,
 * quietly, with the status of a SIGPIPE death (141), its CPU workers stopped with it. A real child process
 * and a real pipe, closed by the parent after the first chunk of output.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { EXIT_SIGPIPE } from '../../src/cli/closed-output';

const ROOT = resolve(__dirname, '../..');

function runUntilFirstOutput(args: string[]): Promise<{ code: number | null; signal: string | null; err: string; msAfterClose: number }> {
  // From source through tsx, so the test covers this tree's code, not a stale dist/.
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', resolve(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let closedAt = 0;
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  child.stdout.once('data', () => {
    closedAt = Date.now();
    child.stdout.destroy();
  });
  return new Promise((resolveRun, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`klpsim ${args.join(' ')} did not end within 60 s of its stdout closing:\n${err}`));
    }, 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, err, msAfterClose: Date.now() - closedAt });
    });
  });
}

describe('a closed stdout', () => {
  it.each([
    ['worker CPUs', ['run', 'scenarios/atomic-replace-nops.yaml']],
    ['lockstep CPUs', ['run', 'scenarios/atomic-replace-nops.yaml', '--deterministic', '--format', 'ndjson']],
    ['watch', ['watch', 'scenarios/atomic-replace-nops.yaml']],
  ])(
    'ends %s quietly with the SIGPIPE status',
    async (_what, args) => {
      const r = await runUntilFirstOutput(args);
      expect(r.err).toBe('');
      expect(r.code).toBe(EXIT_SIGPIPE);
      // The flagship runs for many seconds; ending well before that means the run stopped with the pipe.
      expect(r.msAfterClose).toBeLessThan(15_000);
    },
    70_000,
  );
});
