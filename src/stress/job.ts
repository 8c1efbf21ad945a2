/**
 * One stress run as a piscina task (--jobs): runs in a pool thread, with its own simulated machine (and
 * its own CPU worker threads), and reports progress on the MessagePort it was given — nothing is shared
 * with other jobs but that port. Progress is throttled to a few messages a second.
 */
import type { MessagePort } from 'node:worker_threads';
import { runStress, StressOptions, StressProgress, StressResult } from './stress-run';

export interface StressJob {
  options: Omit<StressOptions, 'onProgress'>;
  port: MessagePort;
}

const PROGRESS_MS = 200;

export default async function stressJob({ options, port }: StressJob): Promise<StressResult> {
  let sent = 0;
  const post = (p: StressProgress): void => port.postMessage(p);
  try {
    return await runStress({
      ...options,
      onProgress: (p) => {
        const now = performance.now();
        if (now - sent < PROGRESS_MS) return;
        sent = now;
        post(p);
      },
    });
  } finally {
    port.close();
  }
}
