/**
 * Group commit of build outputs. A build's outputs are first staged: canonicalised,
 * hashed, scanned and renamed into their final place in the store, where they are not
 * valid yet and stay locked by their build. The builds that depend on them may start at
 * once (for them a staged path counts as valid, with the references found by the scan),
 * while the queue flushes staged outputs to disk and registers them in groups, so a
 * chain of quick builds pays for one round of fsync and one SQLite transaction per
 * group, not per build. A group is committed once no build of the queue is under way
 * (`building`), or `maxDelayMs` after its first member was staged, whichever is first:
 * flushing while builds run would only slow them down (their own files wait behind the
 * journal), and an output waits at most that long to become valid.
 *
 * What stays true: a path becomes valid only together with its references, after its
 * files are complete and synced (the flush comes before the transaction, and a path is
 * committed in the same transaction as, or after, every staged path it refers to, since
 * groups are committed in order). A crash leaves staged paths unregistered, which
 * `kiln store verify` and the collector remove once their locks are stale.
 */
import { flushTree } from "@kiln/store/flush-tree";
import type { NewPathInfo } from "@kiln/store/path-info";
import type { StoreDatabase } from "@kiln/store/store-database";

interface Pending {
  readonly infos: readonly NewPathInfo[];
  /** Where the staged files are on disk: flushed before registration. */
  readonly realPaths: readonly string[];
  resolve(): void;
  reject(error: unknown): void;
}

export class CommitQueue {
  readonly #db: Pick<StoreDatabase, "isValidPath" | "references" | "registerValidPaths">;
  readonly #staged = new Map<string, NewPathInfo>();
  readonly #references = new Map<string, string[]>();
  #waiting: Pending[] = [];
  #committing = false;
  #active = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #maxDelayMs: number;

  constructor(
    db: Pick<StoreDatabase, "isValidPath" | "references" | "registerValidPaths">,
    options: { maxDelayMs?: number } = {},
  ) {
    this.#db = db;
    this.#maxDelayMs = options.maxDelayMs ?? 100;
  }

  /**
   * Says that a build that will stage outputs is under way; call the returned function
   * once it has staged them (or given up). While any is, groups wait (see the header).
   */
  building(): () => void {
    this.#active++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#active--;
      this.#next();
    };
  }

  /** Valid, or staged by a build of this process (and so as good as valid for its dependents). */
  isValidPath(path: string): boolean {
    return this.#staged.has(path) || this.#db.isValidPath(path);
  }

  /**
   * The references of a valid or staged path. Those of valid paths are remembered: they
   * cannot change while valid, and the builds of a chain ask for the same ones again.
   */
  references(path: string): string[] {
    const staged = this.#staged.get(path);
    if (staged !== undefined) return [...staged.references].sort();
    let references = this.#references.get(path);
    if (references === undefined) {
      references = this.#db.references(path);
      this.#references.set(path, references);
    }
    return [...references];
  }

  /**
   * Queues staged outputs (`infos`, whose files are at `realPaths`) for flushing and
   * registration; resolves once they are valid. Rejects if they cannot be flushed or
   * registered (then they are not valid; removing their files is the caller's part).
   * @example
   * const staged = await stageOutputs(store, options);
   * letDependentsStart();
   * await queue.commit(staged.infos, staged.realPaths);
   */
  commit(infos: readonly NewPathInfo[], realPaths: readonly string[]): Promise<void> {
    for (const info of infos) this.#staged.set(info.path, info);
    const committed = new Promise<void>((resolve, reject) => {
      this.#waiting.push({ infos, realPaths, resolve, reject });
    });
    this.#next();
    return committed;
  }

  #next(): void {
    if (this.#committing || this.#waiting.length === 0) return;
    if (this.#active > 0) {
      // Builds are running: let the group grow, up to the delay.
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#commitNow();
      }, this.#maxDelayMs);
      return;
    }
    this.#commitNow();
  }

  #commitNow(): void {
    if (this.#committing || this.#waiting.length === 0) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const group = this.#waiting;
    this.#waiting = [];
    this.#committing = true;
    this.#commitGroup(group).finally(() => {
      this.#committing = false;
      this.#next();
    });
  }

  async #commitGroup(group: readonly Pending[]): Promise<void> {
    const flushed = await Promise.allSettled(
      group.map((pending) => Promise.all(pending.realPaths.map((path) => flushTree(path)))),
    );
    const ready: Pending[] = [];
    for (const [i, pending] of group.entries()) {
      const outcome = flushed[i];
      if (outcome.status === "fulfilled") ready.push(pending);
      else this.#settle(pending, outcome.reason);
    }
    if (ready.length === 0) return;
    try {
      this.#db.registerValidPaths(
        ready.flatMap((pending) => pending.infos.map((info) => ({ info }))),
      );
      for (const pending of ready) this.#settle(pending);
    } catch {
      // One bad member (say, one whose staged reference failed) must not fail the group:
      // register one build at a time, in staging order, so references come first.
      for (const pending of ready) {
        try {
          this.#db.registerValidPaths(pending.infos.map((info) => ({ info })));
          this.#settle(pending);
        } catch (error) {
          this.#settle(pending, error);
        }
      }
    }
  }

  #settle(pending: Pending, error?: unknown): void {
    for (const info of pending.infos) this.#staged.delete(info.path);
    if (error === undefined) pending.resolve();
    else pending.reject(error);
  }
}
