#!/usr/bin/env node
/* global console, __filename, performance */
/**
 * A/B benchmark of the CPU platforms (issue #13): worker threads (M:N groups) against lockstep for one
 * busy CPU of 4, all 4 busy, one CPU calling a tiny traced function back to back, and 64 CPUs running
 * call + msleep(1) loops. Prints, per case and platform, the median real time over the repetitions, the
 * busiest threads' CPU time (from /proc, Linux only) and the wake protocol's counters, which do not depend
 * on the machine's load. Needs a build (`npm run build`).
 *
 *   node scripts/bench-parallel.js [reps] [dist root]
 */
const { readdirSync, readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const { fork } = require('node:child_process');

const CASES = {
  'one-busy': { cpus: 4, busy: 1, simMs: 60, func: 'busy_loop' },
  'all-busy': { cpus: 4, busy: 4, simMs: 30, func: 'busy_loop' },
  'tiny-calls': { cpus: 4, busy: 1, simMs: 15, func: 'tinyloop' },
  'cpus-64': { cpus: 64, busy: 64, simMs: 30, func: 'tinyloop', sleepMs: 1 },
};
const TINY = {
  tiny: 'push rbp\nmov rbp, rsp\npop rbp\nret',
  tinyloop: 'push rbp\nmov rbp, rsp\npush rbx\nmov ebx, 200\nagain:\ncall tiny\ndec ebx\njnz again\npop rbx\npop rbp\nret',
};

/** CPU time (ms) of each thread of this process. */
function threadTimes() {
  const out = {};
  try {
    for (const t of readdirSync('/proc/self/task')) {
      const f = readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1].split(' ');
      out[t] = (Number(f[11]) + Number(f[12])) * 10;
    }
  } catch {
    // not Linux: no per-thread figures
  }
  return out;
}

async function one(root, name, lockstep) {
  const { Machine } = require(resolve(root, 'src/coordinator/machine.js'));
  const { BUSY_KERNEL } = require(resolve(root, 'src/bench/machine-throughput.js'));
  const c = CASES[name];
  const m = await Machine.create({ cpus: c.cpus, deterministic: lockstep, seed: 1 });
  m.loader.load(
    'vmlinux',
    Object.entries({ ...BUSY_KERNEL, ...TINY }).map(([n, source]) => ({ name: n, source })),
  );
  for (let i = 0; i < c.busy; i++) {
    const run = [{ kind: 'call', func: c.func, args: [] }];
    if (c.sleepMs) run.push({ kind: 'sleep', ms: c.sleepMs });
    await m.spawn({ name: `busy/${i}`, cpu: i, run });
  }
  const k0 = threadTimes();
  const t0 = performance.now();
  await m.sleep(c.simMs);
  const ms = performance.now() - t0;
  const k1 = threadTimes();
  const stats = m.workers ? await m.workers.threadStats() : [];
  await m.dispose();
  const sum = (k) => stats.reduce((s, x) => s + x[k], 0);
  return {
    ms,
    threadCpuMs: Object.keys(k1)
      .map((t) => k1[t] - (k0[t] ?? 0))
      .sort((a, b) => b - a)
      .slice(0, 3),
    threads: stats.length,
    slices: sum('slices'),
    sleeps: sum('sleeps'),
    wakes: sum('wakes'),
    uselessWakes: sum('uselessWakes'),
    lateWakes: sum('lateWakes'),
  };
}

if (process.argv[2] === '--child') {
  one(process.argv[3], process.argv[4], process.argv[5] === 'lockstep').then(
    (r) => process.send(r, () => process.exit(0)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  const reps = Number(process.argv[2] ?? 3);
  const root = resolve(process.argv[3] ?? resolve(__dirname, '../dist'));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const child = (name, platform) =>
    new Promise((res, rej) => {
      const p = fork(__filename, ['--child', root, name, platform], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      p.on('message', res);
      p.on('exit', (code) => code !== 0 && rej(new Error(`${name} ${platform}: exit ${code}`)));
    });
  (async () => {
    for (const name of Object.keys(CASES)) {
      const runs = { workers: [], lockstep: [] };
      // Back to back, alternating, so a change of the machine's load hits both platforms alike.
      for (let i = 0; i < reps; i++) for (const p of ['workers', 'lockstep']) runs[p].push(await child(name, p));
      const w = median(runs.workers.map((r) => r.ms));
      const l = median(runs.lockstep.map((r) => r.ms));
      const last = runs.workers[runs.workers.length - 1];
      console.log(
        `${name.padEnd(11)} workers ${w.toFixed(0).padStart(6)} ms  lockstep ${l.toFixed(0).padStart(6)} ms  speed-up ${(l / w).toFixed(2)}x  ` +
          `busiest thread CPU ${last.threadCpuMs[0]} ms  threads ${last.threads}  slices ${last.slices}  sleeps ${last.sleeps}  ` +
          `wakes ${last.wakes} (useless ${last.uselessWakes}, late ${last.lateWakes})`,
      );
    }
  })();
}
