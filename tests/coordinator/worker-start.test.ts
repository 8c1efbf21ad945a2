/**
 * A CPU thread that dies before it answers its start call (its entry point or hooks module fails to
 * load) makes Machine.create() reject with a message that names the thread — it used to leave the call
 * unanswered, and Node then exited 0 with no output at all.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/coordinator/machine';

describe('CPU threads that fail to start', () => {
  it('a hooks module that throws when loaded: create() rejects, naming the thread and the error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'klpsim-hooks-'));
    const hooks = join(dir, 'broken-hooks.js');
    writeFileSync(hooks, "throw new Error('broken on purpose');\n");
    await expect(Machine.create({ cpus: 2, cpuThreads: 2, hooksModule: hooks })).rejects.toThrow(
      /^CPU thread \d \(CPUs \d\) failed to start: broken on purpose$/,
    );
  });
});
