/**
 * The thread behind `NarHashWorker`, split out so it can be started with nothing else
 * loaded: a CLI starts it first thing (a worker takes ~30 ms to boot) and only then loads
 * the code that will use it. No imports but node:worker_threads, on purpose.
 */
import { Worker } from "node:worker_threads";

export const NAR_HASH_ALGORITHMS = ["sha256", "sha512", "sha1", "md5"] as const;
// Control words (Int32): counters and flags shared by both threads.
export const PRODUCED = 0; // slots filled by the walker in this job
export const CONSUMED = 1; // slots hashed by the worker in this job
export const DONE = 2; // 1 once the walker has filled its last slot
export const STATE = 3; // 0 booting, 1 worker running, 2 worker not wanted (this thread hashes)
export const JOB = 4; // incremented to start a job
export const ALGORITHM = 5; // index into ALGORITHMS
export const LENGTHS = 8; // then one length per slot

// Plain JavaScript, evaluated in the worker: it must not need the TypeScript loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { control, data, slots, slotSize, algorithms } = workerData;
const c = new Int32Array(control);
if (Atomics.compareExchange(c, ${STATE}, 0, 1) === 0) {
  let job = 0;
  for (;;) {
    while (Atomics.load(c, ${JOB}) === job) Atomics.wait(c, ${JOB}, job);
    job = Atomics.load(c, ${JOB});
    if (job < 0) break;
    const hash = createHash(algorithms[c[${ALGORITHM}]]);
    let consumed = 0;
    for (;;) {
      const produced = Atomics.load(c, ${PRODUCED});
      if (produced === consumed) {
        if (Atomics.load(c, ${DONE}) === 1 && Atomics.load(c, ${PRODUCED}) === consumed) break;
        Atomics.wait(c, ${PRODUCED}, produced, 50);
        continue;
      }
      const slot = consumed % slots;
      hash.update(new Uint8Array(data, slot * slotSize, c[${LENGTHS} + slot]));
      consumed++;
      Atomics.store(c, ${CONSUMED}, consumed);
      Atomics.notify(c, ${CONSUMED});
    }
    parentPort.postMessage(hash.digest());
  }
}
`;

export interface NarHashThreadOptions {
  /** Number of ring slots (default 16). */
  readonly slots?: number;
  /** Bytes per slot, also the walk's chunk size (default 1 MiB). */
  readonly slotSize?: number;
}

/** A booting (or booted) hash thread and the ring it shares with this one. */
export interface NarHashThread {
  readonly slots: number;
  readonly slotSize: number;
  readonly control: Int32Array;
  readonly data: SharedArrayBuffer;
  readonly worker: Worker;
}

/** Starts the hash thread booting now. */
export function startNarHashThread(options: NarHashThreadOptions = {}): NarHashThread {
  const slots = options.slots ?? 16;
  const slotSize = options.slotSize ?? 1 << 20;
  const controlBuffer = new SharedArrayBuffer(4 * (LENGTHS + slots));
  const data = new SharedArrayBuffer(slots * slotSize);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { control: controlBuffer, data, slots, slotSize, algorithms: NAR_HASH_ALGORITHMS },
  });
  // The thread must never keep the process alive on its own.
  worker.unref();
  return { slots, slotSize, control: new Int32Array(controlBuffer), data, worker };
}
