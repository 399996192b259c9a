/**
 * The daemon's build slots (`--max-jobs`): however many clients ask, at most this many
 * builds run at once. Waiters are served first come, first served; a waiter whose
 * signal aborts leaves the queue.
 */
export class JobSlots {
  readonly size: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`the number of build slots must be at least 1, not ${size}`);
    }
    this.size = size;
  }

  get busy(): number {
    return this.#busy;
  }

  /** Resolves with the function that frees the slot. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    const release = () => {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy--;
    };
    if (this.#busy < this.size) {
      this.#busy++;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(once(release));
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(grant);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}
