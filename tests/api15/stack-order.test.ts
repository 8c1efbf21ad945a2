/**
 * /sys/kernel/livepatch/P/stack_order exists from 6.13 ("livepatch: Add stack_order sysfs attribute"),
 * read-only, and reads the patch's place on klp_patches.
 */
import { KernelVersion, SUPPORTED_KERNEL_VERSIONS } from '../../src/kernel/kernel-version';
import { runScenario } from '../scenarios/helpers';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';

/** The shipped scenario on another release: same steps, `kernel_version` replaced. */
function onRelease(version: string): string {
  const text = readFileSync(resolve(__dirname, '../../scenarios/test-sysfs-stack-order.yaml'), 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'klpsim-stack-order-'));
  const file = join(dir, 'stack-order.yaml');
  writeFileSync(file, text.replace('kernel_version: "6.13"', `kernel_version: "${version}"`));
  return file;
}

describe('sysfs stack_order', () => {
  it('6.13 is a supported release, the first with stack_order', () => {
    expect(SUPPORTED_KERNEL_VERSIONS).toContain('6.13');
    expect(KernelVersion.of('6.13').hasStackOrderAttr).toBe(true);
    expect(KernelVersion.of('6.12').hasStackOrderAttr).toBe(false);
  });

  it('6.12 has no stack_order: the reads fail as for any missing attribute', async () => {
    const r = await runScenario(onRelease('6.12'));
    const msgs = r.result.failures.map((f) => f.message).join('\n');
    expect(msgs).toContain('stack_order');
    expect(msgs).toContain('No such file or directory');
    // The rest of the run (patching, unpatching) is the same on 6.12.
    expect(r.result.violations).toBe(0);
  });
});
