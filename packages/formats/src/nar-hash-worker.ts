/**
 * `NarHashWorker`: hashes NARs on a second thread while this one walks the file system.
 *
 * Why: for a large tree the walk (~50 ms per 100 MiB of small files here) and SHA-256
 * (~60 ms per 100 MiB) take about as long as each other, so doing them on two cores nearly
 * halves the time. The walk writes straight into the slots of a shared ring buffer (no
 * copies, no messages per chunk); the worker hashes each slot and hands it back.
 *
 * A worker takes ~30 ms to boot, so start it early (`NarHashWorker.start()` before loading
 * the rest of a command). If a small tree has been walked before the worker is up, this
 * thread hashes the ring itself and the worker is never used: no job waits for a boot.
 */
import { createHash } from "node:crypto";
import type { Hash, HashAlgorithm } from "./hash.ts";
import { hashPath } from "./hash-path.ts";
import { narChunks } from "./nar-chunks.ts";
import {
  ALGORITHM,
  CONSUMED,
  DONE,
  JOB,
  LENGTHS,
  NAR_HASH_ALGORITHMS,
  type NarHashThread,
  type NarHashThreadOptions,
  PRODUCED,
  STATE,
  startNarHashThread,
} from "./nar-hash-thread.ts";

/** How long the walk waits for a free ring slot before deciding the worker is stuck. */
const STALL_MS = 30_000;

export type NarHashWorkerOptions = NarHashThreadOptions;

export class NarHashWorker {
  readonly #slots: number;
  readonly #slotSize: number;
  readonly #control: Int32Array;
  readonly #data: SharedArrayBuffer;
  readonly #worker: NarHashThread["worker"];
  #busy = false;

  /** Wraps a thread from `startNarHashThread` (started early, elsewhere). */
  constructor(thread: NarHashThread) {
    this.#slots = thread.slots;
    this.#slotSize = thread.slotSize;
    this.#control = thread.control;
    this.#data = thread.data;
    this.#worker = thread.worker;
  }

  /** Starts the worker booting now; use it later with `hashPath`. */
  static start(options: NarHashWorkerOptions = {}): NarHashWorker {
    return new NarHashWorker(startNarHashThread(options));
  }

  /**
   * The NAR hash and size of `path`, exactly as `hashPath` computes them.
   * @example const worker = NarHashWorker.start(); const { hash } = await worker.hashPath(dir);
   */
  async hashPath(
    path: string,
    algorithm: HashAlgorithm = "sha256",
  ): Promise<{ hash: Hash; narSize: number }> {
    if (this.#busy) throw new Error("NarHashWorker runs one job at a time");
    this.#busy = true;
    try {
      return await this.#run(path, algorithm);
    } finally {
      this.#busy = false;
    }
  }

  async #run(path: string, algorithm: HashAlgorithm): Promise<{ hash: Hash; narSize: number }> {
    const c = this.#control;
    // An earlier small job made this thread do the hashing: the worker is gone.
    if (Atomics.load(c, STATE) === 2) return hashPath(path, algorithm);
    Atomics.store(c, PRODUCED, 0);
    Atomics.store(c, CONSUMED, 0);
    Atomics.store(c, DONE, 0);
    c[ALGORITHM] = NAR_HASH_ALGORITHMS.indexOf(algorithm);
    const digest = new Promise<Buffer>((resolve, reject) => {
      this.#worker.once("message", resolve);
      this.#worker.once("error", reject);
    });
    Atomics.add(c, JOB, 1);
    Atomics.notify(c, JOB);

    let produced = 0;
    // Slots handed to the walk so far; runs one ahead of `produced` (the walk asks for the
    // next buffer before it yields the current one).
    let allocated = 0;
    const nextBuffer = () => {
      // Wait until the worker has hashed the slot we are about to overwrite.
      const since = Date.now();
      for (;;) {
        const consumed = Atomics.load(c, CONSUMED);
        if (allocated - consumed < this.#slots) break;
        // This thread is blocked, so a crashed worker's error event cannot reach us: time out.
        if (Date.now() - since > STALL_MS)
          throw new Error("the NAR hash worker stopped making progress");
        Atomics.wait(c, CONSUMED, consumed, 50);
      }
      const slot = allocated++ % this.#slots;
      return new Uint8Array(this.#data, slot * this.#slotSize, this.#slotSize);
    };
    let narSize = 0;
    for (const chunk of narChunks(path, { bufferSize: this.#slotSize, nextBuffer })) {
      c[LENGTHS + (produced % this.#slots)] = chunk.length;
      narSize += chunk.length;
      produced++;
      Atomics.store(c, PRODUCED, produced);
      Atomics.notify(c, PRODUCED);
    }
    // Small tree, worker still booting: hash the ring here rather than wait for it.
    if (produced <= this.#slots && Atomics.compareExchange(c, STATE, 0, 2) === 0) {
      const hash = createHash(algorithm);
      for (let i = 0; i < produced; i++)
        hash.update(new Uint8Array(this.#data, i * this.#slotSize, c[LENGTHS + i]));
      return { hash: { algorithm, digest: new Uint8Array(hash.digest()) }, narSize };
    }
    Atomics.store(c, DONE, 1);
    Atomics.notify(c, PRODUCED);
    return { hash: { algorithm, digest: new Uint8Array(await digest) }, narSize };
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    Atomics.store(this.#control, JOB, -1);
    Atomics.notify(this.#control, JOB);
    await this.#worker.terminate();
  }
}
