/** Starts `klpsim serve` from dist/ as a child process, as a user would, and stops it with SIGINT. */
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
const CLI = resolve(ROOT, 'dist/src/cli/main.js');

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Ctrl-C; resolves with the exit code (rejects if it takes longer than `ms`). */
  interrupt(ms?: number): Promise<number | null>;
}

export function startServe(args: string[], startMs = 30_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const interrupt = async (ms = 10_000): Promise<number | null> => {
    if (child.exitCode !== null) return child.exitCode;
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        exited,
        new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`serve did not exit within ${ms} ms of SIGINT`)), ms))),
      ]);
    } finally {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  };
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve printed no URL within ${startMs} ms:\n${out}`));
    }, startMs);
    const check = (): void => {
      const m = /at (http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolveStart({ url: m[1], child, output: () => out, interrupt });
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before serving:\n${out}`));
    });
  });
}
