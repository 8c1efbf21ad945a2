/** Runs the klpsim command in-process with stdout/stderr captured (and, optionally, stdout a TTY). */
import { main } from '../../src/cli/main';

export async function runCli(args: string[], isTTY?: boolean): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const had = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
  if (isTTY !== undefined) Object.defineProperty(process.stdout, 'isTTY', { value: isTTY, configurable: true, writable: true });
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    if (isTTY !== undefined) {
      if (had) Object.defineProperty(process.stdout, 'isTTY', had);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
  }
}
