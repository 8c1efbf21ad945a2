/**
 * `klpsim serve` in a real headless Chromium: the flagship scenario held and stepped from the page until
 * the cumulative patch's NOP funcs are in the patch stack, then resumed until they are gone; the timeline
 * has one lane per CPU; a recorded ndjson stream replays to the same final state. Screenshots go to
 * $KLPSIM_E2E_SCREENSHOTS (default: a temporary directory); `docs/serve.png` in the README is the first.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { ROOT, ServeProcess, startServe } from './serve-process';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.KLPSIM_E2E_SCREENSHOTS ?? join(tmpdir(), 'klpsim-e2e');
const FLAGSHIP = 'scenarios/atomic-replace-nops.yaml';
const WAIT = { timeout: 60_000 };

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
});

/** A page that records console errors (a CSP violation, a failed request, an exception in the page). */
async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1250 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  await page.goto(url);
  return { page, errors };
}

/** Polls `read` until `ok` (the page's own script may not be evaluated from strings: its CSP forbids eval). */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = WAIT.timeout): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(v)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const nopFuncs = (page: Page) => page.locator('#patches .patch:not(.freed) .func.nop');

describe('klpsim serve in the browser', () => {
  let serve: ServeProcess | null = null;

  afterEach(async () => {
    await serve?.interrupt().catch(() => undefined);
    serve = null;
  });

  it('steps the flagship until its NOP funcs appear, resumes until they are freed; one lane per CPU', async () => {
    const cpus = 3; // not the scenario's 4: the lanes must follow the machine
    serve = await startServe([FLAGSHIP, '--deterministic', '--paused', '--cpus', String(cpus)]);
    const { page, errors } = await openPage(serve.url);

    // Held before the first step: pause is offered, resume and step are enabled.
    await page.locator('#run-state[data-state="held"]').waitFor(WAIT);
    await expect(page.locator('#step-line').textContent()).resolves.toContain('step 1/');
    expect(await page.locator('#btn-step').isEnabled()).toBe(true);
    // The timeline redraws on the next animation frame after the status that gave the CPU count.
    await page
      .locator('#timeline .lane[data-kind="cpu"]')
      .nth(cpus - 1)
      .waitFor(WAIT);
    expect(await page.locator('#timeline .lane[data-kind="cpu"]').count()).toBe(cpus);

    // One scenario step per click, until `modprobe klp_patch_c` has added its NOPs.
    let step = 0;
    while ((await nopFuncs(page).count()) === 0) {
      expect(step).toBeLessThan(30);
      await page.locator('#btn-step').click();
      step++;
      await page.locator(`#step-line[data-step="${step}"]`).waitFor(WAIT);
      await page.locator('#run-state[data-state="held"]').waitFor(WAIT);
      // The views redraw at most every 150 ms.
      await page.waitForTimeout(300);
    }
    expect(await page.locator('#step-line').textContent()).toContain('expect: nops: 3');

    // The NOPs: three, one of them in the dynamic object for the module function; the transition is open,
    // held by demo_worker sleeping in klp_patch_b's version of demo_target_show.
    await expect(nopFuncs(page).count()).resolves.toBe(3);
    const dynamic = page.locator(
      '#patches .patch[data-patch="klp_patch_c"] .object.dynamic[data-object="klp_demo_target"] .func.nop[data-func="demo_target_show"]',
    );
    await expect(dynamic.count()).resolves.toBe(1);
    await expect(page.locator('#patches .patch[data-patch="klp_patch_c"] .func.nop').allTextContents()).resolves.toEqual(
      expect.arrayContaining([expect.stringContaining('NOP for klp_patch_a'), expect.stringContaining('NOP for klp_patch_b')]),
    );
    await expect(page.locator('#transition').getAttribute('data-state')).resolves.toBe('running');
    await page.locator('#transition .blocking-task', { hasText: 'demo_worker' }).waitFor(WAIT);
    await page.locator('#transition .blocking-task .stack-frames', { hasText: 'livepatch_demo_target_show' }).waitFor(WAIT);
    const stack = await page.locator('#sites .site[data-func="cmdline_proc_show"] .stack').textContent();
    expect(stack).toMatch(/klp_patch_c \(NOP\).*klp_patch_a/);
    await page.screenshot({ path: join(SHOTS, 'serve.png') });

    // Resume: the transition completes, the NOPs are discarded and freed, the sites go back to NOPs.
    await page.locator('#btn-resume').click();
    await page.locator('#run-state[data-state="finished"]').waitFor(WAIT);
    await page.locator('#counts:not(:has-text("loading"))').waitFor(WAIT);
    await page.waitForTimeout(400);
    await expect(nopFuncs(page).count()).resolves.toBe(0);
    await expect(page.locator('#transition').getAttribute('data-state')).resolves.toBe('idle');
    await expect(page.locator('#transition tr[data-patch="klp_patch_c"][data-outcome="complete"]').count()).resolves.toBe(2);
    const freed = await page.locator('#patches .patch[data-patch="klp_patch_c"] .freed-list').textContent();
    expect(freed).toContain('freed NOP func cmdline_proc_show (vmlinux)');
    expect(freed).toContain('freed NOP func demo_target_show (klp_demo_target)');
    expect(freed).toContain('freed dynamic object klp_demo_target');
    await expect(page.locator('#sites .site[data-func="cmdline_proc_show"]').getAttribute('data-bytes')).resolves.toBe('0f 1f 44 00 00');
    await expect(page.locator('#step-line').textContent()).resolves.toContain('exit 0');
    expect(await page.locator('#timeline .lane[data-kind="cpu"]').count()).toBe(cpus);
    expect(await page.locator('#btn-pause').isEnabled()).toBe(false);

    // The download link: the Chrome trace, one thread per CPU.
    const trace = (await (await page.request.get(new URL('/trace.json', serve.url).href)).json()) as {
      traceEvents: { ph: string; pid: number; tid: number; name: string }[];
    };
    const cpuTracks = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === 1);
    expect(cpuTracks).toHaveLength(cpus);
    await page.screenshot({ path: join(SHOTS, 'serve-finished.png'), fullPage: true });

    expect(errors).toEqual([]);
    await page.close();
    await expect(serve.interrupt()).resolves.toBe(0);
    serve = null;
  });

  it('replays a recorded ndjson stream: the final state, the log filter', async () => {
    const rec = spawnSync(
      process.execPath,
      [join(ROOT, 'dist/src/cli/main.js'), 'run', FLAGSHIP, '--deterministic', '--format', 'ndjson'],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    expect(rec.status).toBe(0);
    const file = join(SHOTS, 'flagship.ndjson');
    writeFileSync(file, rec.stdout);
    serve = await startServe(['--replay', file]);
    const { page, errors } = await openPage(serve.url);
    await page.locator('#run-state[data-state="replay"]').waitFor(WAIT);
    await page.locator('#counts:not(:has-text("loading"))').waitFor(WAIT);
    // Every line of the recording is one event, and the page counts each (en-US grouping, as it prints them).
    const events = rec.stdout.split('\n').filter((l) => l.trim() !== '').length;
    await page.locator('#counts', { hasText: `${events.toLocaleString('en-US')} events` }).waitFor(WAIT);
    expect(await page.locator('#timeline .lane[data-kind="cpu"]').count()).toBe(4);
    await expect(nopFuncs(page).count()).resolves.toBe(0);
    await expect(page.locator('#patches .patch.freed').count()).resolves.toBe(3);
    expect(await page.locator('#btn-pause').isEnabled()).toBe(false);
    await expect(page.locator('#pause-note').textContent()).resolves.toContain('replay');

    // A substring (case-insensitive), then a /regex/: the log shows only the matching lines.
    const logLines = async (): Promise<string[]> => ((await page.locator('#log').textContent()) ?? '').split('\n').filter(Boolean);
    await page.locator('#log-filter').fill("': PATCHING complete");
    const complete = await until(logLines, (l) => l.length === 3);
    expect(complete.every((l) => l.includes("': patching complete"))).toBe(true);
    await page.locator('#log-filter').fill('/% (modprobe|rmmod) /');
    await until(logLines, (l) => l.length === 8);
    const logEvents = rec.stdout.split('\n').filter((l) => l.includes('"type":"log"')).length;
    await expect(page.locator('#log-count').textContent()).resolves.toBe(`8 of ${logEvents} lines`);

    expect(errors).toEqual([]);
    await page.close();
    await expect(serve.interrupt()).resolves.toBe(0);
    serve = null;
  });
});
