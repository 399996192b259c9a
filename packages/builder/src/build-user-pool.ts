/**
 * Hands out build users so that concurrent builds get distinct uids. It only
 * coordinates builds within one process: two daemons sharing a pool would need a lock
 * per uid (Nix and Guix take a lock file per user), which is not done here.
 */

import type { BuildUser } from "./build-users.ts";
import { BuilderError } from "./builder-error.ts";

export class BuildUserPool {
  readonly #free: BuildUser[];
  readonly #busy = new Set<number>();
  readonly #waiting: { resolve: (user: BuildUser) => void }[] = [];
  readonly #size: number;

  /** Throws when `users` is empty or lists a uid twice. */
  constructor(users: readonly BuildUser[]) {
    if (users.length === 0) {
      throw new BuilderError("ERR_NO_BUILD_USERS", "the build users pool is empty", {
        hint: "create build users (see `createBuildUsersCommand`) or run without root",
      });
    }
    if (new Set(users.map((user) => user.uid)).size !== users.length) {
      throw new BuilderError("ERR_NO_BUILD_USERS", "two build users share a uid");
    }
    this.#free = [...users];
    this.#size = users.length;
  }

  get size(): number {
    return this.#size;
  }

  get available(): number {
    return this.#free.length;
  }

  /** A free build user, or undefined when all are busy. */
  tryAcquire(): BuildUser | undefined {
    const user = this.#free.shift();
    if (user !== undefined) this.#busy.add(user.uid);
    return user;
  }

  /**
   * A free build user; when all are busy, waits (first come, first served) until one is
   * released, or rejects when `signal` aborts. The daemon normally keeps max-jobs at or
   * below the pool size, so waiting is the exception.
   */
  acquire(options: { signal?: AbortSignal } = {}): Promise<BuildUser> {
    const { signal } = options;
    signal?.throwIfAborted();
    const user = this.tryAcquire();
    if (user !== undefined) return Promise.resolve(user);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (acquired: BuildUser) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(acquired);
        },
      };
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** Gives a user back; throws when it was not acquired from this pool. */
  release(user: BuildUser): void {
    if (!this.#busy.delete(user.uid)) {
      throw new BuilderError("ERR_BUILD_USER_NOT_BUSY", `build user ${user.name} was not acquired`);
    }
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) {
      this.#busy.add(user.uid);
      waiter.resolve(user);
    } else {
      this.#free.push(user);
    }
  }
}
