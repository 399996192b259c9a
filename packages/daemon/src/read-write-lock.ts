/**
 * A readers–writer lock inside the daemon: operations that add to the store or build
 * hold it shared, a garbage collection holds it exclusively, so a collection never sees
 * a path half-way into the store. Writers are preferred: once a collection waits, new
 * readers queue behind it, so a stream of adds cannot starve it.
 */
export class ReadWriteLock {
  #readers = 0;
  #writer = false;
  readonly #waitingWriters: (() => void)[] = [];
  readonly #waitingReaders: (() => void)[] = [];

  /** Takes the lock shared; resolves with its release. */
  async shared(): Promise<() => void> {
    if (this.#writer || this.#waitingWriters.length > 0) {
      await new Promise<void>((resolve) => this.#waitingReaders.push(resolve));
    } else {
      this.#readers++;
    }
    return once(() => {
      this.#readers--;
      this.#wake();
    });
  }

  /** Takes the lock exclusively; resolves with its release. */
  async exclusive(): Promise<() => void> {
    if (this.#writer || this.#readers > 0) {
      await new Promise<void>((resolve) => this.#waitingWriters.push(resolve));
    } else {
      this.#writer = true;
    }
    return once(() => {
      this.#writer = false;
      this.#wake();
    });
  }

  /** Runs `body` holding the lock shared. */
  async withShared<T>(body: () => Promise<T> | T): Promise<T> {
    const release = await this.shared();
    try {
      return await body();
    } finally {
      release();
    }
  }

  #wake(): void {
    if (this.#writer || this.#readers > 0) return;
    const writer = this.#waitingWriters.shift();
    if (writer !== undefined) {
      this.#writer = true;
      writer();
      return;
    }
    const readers = this.#waitingReaders.splice(0);
    this.#readers += readers.length;
    for (const reader of readers) reader();
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
