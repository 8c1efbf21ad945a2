/**
 * Entry point of a CPU worker thread. Thin by design: all logic is in src/kernel/cpu-thread.ts, which
 * deterministic mode runs on the main thread too. The control plane is comlink over the parent port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { CpuThread, CpuThreadInit } from '../src/kernel/cpu-thread';

if (!parentPort) throw new Error('workers/cpu: must run as a worker thread');
Comlink.expose(new CpuThread(workerData as CpuThreadInit), nodeEndpoint(parentPort));
