/** Bounded concurrency: at most `limit` tasks at a time, started in the order they were queued. */

/** Runs `task` once a slot is free; the slot is released when it settles. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * A limiter with `limit` slots.
 * @example const limit = createLimiter(4); await Promise.all(urls.map((u) => limit(() => get(u))));
 */
export function createLimiter(limit: number): Limiter {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`a concurrency limit must be a positive integer, got ${limit}`);
  }
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) {
      running++;
      next();
    }
  };
  return async (task) => {
    if (running < limit) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      release();
    }
  };
}
