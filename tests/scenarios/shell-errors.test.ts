/**
 * The shell's file errors, each as bash or coreutils prints it: a failed open(2) of a redirection is bash's
 * `-bash: FILE: …` (EACCES for a sysfs attribute without a write bit or a name a sysfs directory lacks,
 * EISDIR, ENOENT), a failed write(2) is `-bash: echo: write error: …`; cat and grep name the file.
 */
import { resolve } from 'path';
import { runScenario } from './helpers';

it('file errors are reported as the real shell and tools report them', async () => {
  const r = await runScenario(resolve(__dirname, 'fixtures', 'shell-errors.yaml'));
  expect(r.result.failures.map((f) => f.message)).toEqual([]);
  expect(r.log.filter((l) => l.includes('write error: Permission denied'))).toEqual([]);
});
