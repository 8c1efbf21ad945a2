/**
 * The differential oracle's sample for `npm test` (the full run of 1 000 programs is `npm run test:oracle`):
 * a few generated programs, plus every seed that once found a bug (kept as regression tests), each run
 * natively and on klpsim's interpreter and block compiler. Skipped, saying why, without gcc.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gccUnavailable } from './gcc';
import { check, describeFailure } from './oracle';

/** Seeds that found bugs: each is named with what it found. */
const REGRESSIONS: Array<[number, string]> = [[1, 'rol/ror decoded but executed as shr']];
const SAMPLE = [101, 202, 303, 404];

const why = gccUnavailable();
(why === undefined ? describe : describe.skip)('differential oracle (sample)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'klpsim-oracle-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each(REGRESSIONS)('regression seed %i (%s)', async (seed) => {
    const v = await check(seed, dir);
    if (!v.ok) throw new Error(describeFailure(v));
  });
  test.each(SAMPLE)('generated program %i: native = interpreter = block compiler', async (seed) => {
    const v = await check(seed, dir);
    if (!v.ok) throw new Error(describeFailure(v));
    expect(v.interp.instructions).toBeGreaterThan(100);
  });
});
if (why !== undefined) {
  test.skip(`differential oracle: ${why}`, () => undefined);
}
