/**
 * Writing a big restore back to disk while it is still going on: every `every` bytes, one
 * syncfs(2) of the store's file system (through `sync -f`) starts in the background, at
 * most one at a time. The disk is otherwise idle while a restore runs (it is bound by
 * syscalls), so the flush before registration then finds little left to write.
 */
import { execFile } from "node:child_process";

export class BackgroundSync {
  readonly #directory: string;
  readonly #every: number;
  #unsynced = 0;
  #inFlight: Promise<void> | undefined;

  constructor(directory: string, every: number) {
    this.#directory = directory;
    this.#every = every;
  }

  /** Passes `chunks` through, counting their bytes. */
  async *watch(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      this.#unsynced += chunk.length;
      if (this.#unsynced >= this.#every && this.#inFlight === undefined) {
        this.#unsynced = 0;
        this.#inFlight = new Promise<void>((resolve) => {
          // A failure here only means less was written ahead; the final flush decides.
          execFile("sync", ["-f", this.#directory], () => {
            this.#inFlight = undefined;
            resolve();
          });
        });
      }
      yield chunk;
    }
  }

  /** Resolves when no sync started here is still running. */
  async settled(): Promise<void> {
    await this.#inFlight;
  }
}
