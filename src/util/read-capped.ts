/**
 * Reads a text file the user named, refusing one larger than a limit. `readFileSync` reads to the end,
 * so `/dev/zero`, an endless pipe or a huge file would grow without bound before any check could say
 * a word; here a regular file is refused by its size before anything is read, and anything else
 * (devices, pipes, /proc files, whose size says nothing) is read in chunks and refused as soon as it
 * passes the limit.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The file could not be read, or is over the limit: `message` is in the user's terms, without the path. */
export class ReadCappedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReadCappedError';
  }
}

/** "16 MiB", "512 KiB", "100 bytes": how a limit is shown to the user. */
export function formatBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KiB`;
  return `${n} bytes`;
}

const CHUNK = 1 << 16;

/** fs errors may come from another realm (e.g. under jest): not `instanceof Error`. */
function errorMessage(e: unknown): string {
  return typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : String(e);
}

export function readTextCapped(path: string, limit: number, what = 'file'): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new ReadCappedError(`cannot read file: ${errorMessage(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new ReadCappedError(`cannot read file: it is a directory`);
    const tooLarge = (): ReadCappedError =>
      new ReadCappedError(`${what} too large: more than ${formatBytes(limit)} (the most klpsim reads)`);
    if (st.isFile() && st.size > limit) throw tooLarge();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (e) {
        // A non-blocking descriptor (a terminal or pipe left O_NONBLOCK by a parent): wait, then retry.
        if ((e as { code?: string }).code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        throw new ReadCappedError(`cannot read file: ${errorMessage(e)}`);
      }
      if (n === 0) break;
      total += n;
      if (total > limit) throw tooLarge();
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
